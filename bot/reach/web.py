"""Ways in from outside chat, over HTTP, served by the web process beside Slack's path:

- `POST /sms/inbound`: the SMS gateway hands Samen a reply, `{"from": "+316…", "body": "OK RD-12"}`
  (JSON, or a form with `from`/`body`), with `Authorization: Bearer <SAMEN_SMS_INBOUND_SECRET, else
  SAMEN_SMS_TOKEN>`. Anything else is refused before the body is read (401), as is a body over 8 KB
  (413). The answer is 200 with `{"status": …, "reply": "…"}`: the text a gateway may send back.
- `GET /ack/<token>`: the e-mail's link shows a small page with one button, "Ontvangen"; a GET never
  acknowledges (mail scanners and link previews open links).
- `POST /ack/<token>`: the button. Acknowledges once (bot/reach/links.py), CSRF-safe: the form carries
  a token only Samen's own page for this link has, and a request another site caused (Origin,
  Sec-Fetch-Site) is refused. The page loads nothing, runs no script, cannot be framed, and tells the
  browser to send no Referer (the link is a secret) and to keep no copy.

Nothing here logs a token, a number or a text: only what happened and why not.
"""

from __future__ import annotations

import hmac
import html
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from bot.alerts.models import BackupAlert
from bot.i18n import N_, language_for, t
from bot.reach import links, texts
from bot.reach.acknowledging import Answer, acknowledge_for, answer_sms
from bot.reach.texts import AlertFacts
from bot.runtime import Services

logger = logging.getLogger(__name__)

SMS_PATH: Final = "/sms/inbound"
MAX_BODY: Final = 8192
StartResponse = Callable[..., Any]

_STYLE: Final = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}"
    "button{font-size:1.25rem;padding:.75rem 2rem;border-radius:.5rem;border:0;background:#1d6b38;color:#fff}"
)
_PAGE_HEADERS: Final = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'",
    ),
]


def reach_answer(
    environ: dict[str, Any], services: Services, start_response: StartResponse
) -> Iterable[bytes] | None:
    """The answer to a request for one of these paths; None for any other path."""
    path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
    if path == SMS_PATH:
        if method != "POST":
            return _status(start_response, "405 Method Not Allowed", [("Allow", "POST")])
        return _sms_inbound(environ, services, start_response)
    if path.startswith(links.PATH):
        token = path[len(links.PATH) :]
        if method in ("GET", "HEAD"):
            return _ack_page(environ, services, start_response, token, head=method == "HEAD")
        if method == "POST":
            return _ack_post(environ, services, start_response, token)
        return _status(start_response, "405 Method Not Allowed", [("Allow", "GET, HEAD, POST")])
    return None


# --- POST /sms/inbound ---------------------------------------------------------------------------------


def _sms_inbound(
    environ: dict[str, Any], services: Services, start_response: StartResponse
) -> Iterable[bytes]:
    settings = services.settings
    secret = settings.sms_inbound_secret or settings.sms_token
    if secret is None:
        return _status(start_response, "404 Not Found")  # SMS is off
    given = environ.get("HTTP_AUTHORIZATION", "")
    if not (given.isascii() and hmac.compare_digest(given.encode(), f"Bearer {secret}".encode())):
        logger.warning("refused an inbound SMS: not signed with the shared secret (HTTP 401)")
        return _status(start_response, "401 Unauthorized", [("WWW-Authenticate", "Bearer")])
    body = _body(environ)
    if body is None:
        return _status(start_response, "413 Content Too Large")
    message = _sms_fields(body, environ.get("CONTENT_TYPE", ""))
    if message is None:
        logger.warning("refused an inbound SMS: not a JSON object or form with from and body (HTTP 400)")
        return _status(start_response, "400 Bad Request")
    sender, text = message
    with services.session() as session:
        answer = answer_sms(session, sender=sender, text=text, settings=settings)
    logger.info("inbound SMS answered: %s", answer.status)
    reply = texts.reply(settings.samen_language, answer.status, code=answer.code, partner=answer.partner)
    payload = json.dumps({"status": answer.status, "reply": reply}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


def _sms_fields(body: bytes, content_type: str) -> tuple[str, str] | None:
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/x-www-form-urlencoded"):
            form = parse_qs(text, max_num_fields=20)
            fields: Any = {key: values[0] for key, values in form.items()}
        else:
            fields = json.loads(text)
    except ValueError:
        return None
    if not isinstance(fields, dict):
        return None
    sender, said = fields.get("from"), fields.get("body")
    if not isinstance(sender, str) or not isinstance(said, str) or len(said) > 1600:
        return None
    return sender, said


# --- the acknowledgement page ---------------------------------------------------------------------------


def _ack_page(
    environ: dict[str, Any], services: Services, start_response: StartResponse, token: str, *, head: bool
) -> Iterable[bytes]:
    language = _language(environ, services)
    with services.session(read_only=True) as session:
        try:
            link = links.read(session, token=token, settings=services.settings)
        except links.LinkRefused as refused:
            return _refused_page(start_response, language, refused.reason, head=head)
        alert = session.get(BackupAlert, link.alert_id)
        if alert is None:
            return _refused_page(start_response, language, "unknown", head=head)
        facts = AlertFacts.of(session, alert)
        if alert.closed_at is not None:
            return _refused_page(start_response, language, "closed", head=head)
    form = links.form_token(services.settings, link.jti)
    asked = t(
        language,
        "%(asking)s asks every partner for backup (%(code)s).",
        asking=facts.asking_partner,
        code=facts.code,
    )
    press = t(language, "Press the button to acknowledge for your partner. Nothing happens until you do.")
    content = f"""<p>{_e(asked)}</p>
<p>{_e(press)}</p>
<form method="post" action="{_e(links.PATH + token)}">
<input type="hidden" name="form" value="{_e(form)}">
<button type="submit" id="ontvangen">Ontvangen</button>
</form>"""
    title = (t(language, "DRILL") + " - " if facts.drill else "") + facts.code
    return _page(start_response, "200 OK", language, title, content, head=head)


def _ack_post(
    environ: dict[str, Any], services: Services, start_response: StartResponse, token: str
) -> Iterable[bytes]:
    language = _language(environ, services)
    if not _same_site(environ, services):
        logger.warning("refused an acknowledgement link: posted from another site (HTTP 403)")
        return _refused_page(start_response, language, "cross_site")
    body = _body(environ)
    form = parse_qs((body or b"").decode("utf-8", "replace"), max_num_fields=5)
    given = (form.get("form") or [""])[0]
    settings = services.settings
    try:
        jti = links.jti_of(token, settings, services.clock.now())
    except links.LinkRefused as refused:
        return _refused_page(start_response, language, refused.reason)
    if not (given.isascii() and links.form_token_holds(settings, jti, given)):
        logger.warning("refused an acknowledgement link: the form did not come from its page (HTTP 403)")
        return _refused_page(start_response, language, "cross_site")
    with services.session() as session:
        try:
            link = links.use(session, token=token, settings=settings)
        except links.LinkRefused as refused:
            answer: Answer | None = None
            reason = refused.reason
        else:
            answer = acknowledge_for(
                session, person=link.person, alert_id=link.alert_id, way="email", settings=settings
            )
    if answer is None:
        logger.info("acknowledgement link refused: %s", reason)
        return _refused_page(start_response, language, reason)
    logger.info("acknowledgement link used: %s", answer.status)
    said = texts.reply(language, answer.status, code=answer.code, partner=answer.partner)
    return _page(start_response, "200 OK", language, answer.code, f'<p id="answer">{_e(said)}</p>')


def _same_site(environ: dict[str, Any], services: Services) -> bool:
    """A browser says where a request comes from; another site's page may not press our button."""
    if environ.get("HTTP_SEC_FETCH_SITE", "same-origin") not in ("same-origin", "none"):
        return False
    origin = environ.get("HTTP_ORIGIN")
    if origin in (None, "null"):  # "null": the page's no-referrer policy hides its origin from itself
        return True
    allowed = {f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"}
    if services.settings.public_url:
        public = urlsplit(services.settings.public_url)
        allowed.add(f"{public.scheme}://{public.netloc}")
    return origin in allowed


_REFUSED: Final = {
    "forged": ("404 Not Found", N_("This link is not one of Samen's.")),
    "unknown": ("404 Not Found", N_("This link is not one of Samen's.")),
    "expired": ("410 Gone", N_("This link has expired. Acknowledge in Slack, or answer Samen's SMS.")),
    "used": ("410 Gone", N_("This link has been used already: it works once.")),
    "closed": ("410 Gone", N_("This backup alert has been closed already.")),
    "cross_site": ("403 Forbidden", N_("Open the link from the e-mail and press the button there.")),
}


def _refused_page(
    start_response: StartResponse, language: str, reason: str, *, head: bool = False
) -> Iterable[bytes]:
    status, text = _REFUSED.get(reason, _REFUSED["forged"])
    return _page(
        start_response, status, language, "Samen", f'<p id="answer">{_e(t(language, text))}</p>', head=head
    )


def _page(
    start_response: StartResponse, status: str, language: str, title: str, content: str, *, head: bool = False
) -> Iterable[bytes]:
    page = f"""<!doctype html>
<html lang="{language}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{_e(title)}</title>
<style>{_STYLE}</style>
</head><body><h1>{_e(title)}</h1>
{content}
</body></html>
""".encode()
    start_response(status, [*_PAGE_HEADERS, ("Content-Length", str(len(page)))])
    return [] if head else [page]


# --- small helpers --------------------------------------------------------------------------------------


def _body(environ: dict[str, Any]) -> bytes | None:
    """The request body, at most MAX_BODY bytes; None when it says (or turns out to be) larger."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length > MAX_BODY:
        return None
    data: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    return data


def _language(environ: dict[str, Any], services: Services) -> str:
    wanted = environ.get("HTTP_ACCEPT_LANGUAGE", "").split(",")[0].strip()
    return (
        language_for(wanted, services.settings.samen_language) if wanted else services.settings.samen_language
    )


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _status(
    start_response: StartResponse, status: str, extra: list[tuple[str, str]] | None = None
) -> Iterable[bytes]:
    body = status.split(" ", 1)[1].encode()
    start_response(
        status,
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))), *(extra or [])],
    )
    return [body]
