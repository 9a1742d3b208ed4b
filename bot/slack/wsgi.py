"""The HTTP face of Samen: Slack's requests at POST /slack/events; health, readiness and metrics.

Every request to Slack's path passes the edge (bot/slack/edge.py) before Bolt sees it: refused there
with one log line and no body when it is oversized, unsigned, stale, forged, not UTF-8 or not JSON where
JSON belongs. Bolt is handed the verified, cleaned payload (so it does not verify again: the bytes it
gets are no longer the ones Slack signed). Nothing here answers 5xx.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot import metrics
from bot.logs import bound
from bot.probes import operations_answer
from bot.reach.web import reach_answer
from bot.runtime import Services
from bot.slack.edge import Refused, bolt_body, verified_request

logger = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Filled by the Bolt middleware (which has the parsed body) and read here after the answer.
REQUEST_KIND: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("samen_request_kind")


def kind_of(body: dict[str, Any]) -> str:
    if body.get("command"):
        return "command"
    kind = str(body.get("type") or "other")
    return {
        "block_actions": "action",
        "event_callback": "event",
        "message_action": "shortcut",
        "shortcut": "shortcut",
        "view_submission": "view_submission",
        "view_closed": "view_closed",
        "block_suggestion": "options",
    }.get(kind, "other")


def note_request_kind(body: dict[str, Any]) -> None:
    holder = REQUEST_KIND.get(None)
    if holder is not None:
        holder["kind"] = kind_of(body)


def create_wsgi_app(app: App, services: Services) -> WSGIApp:
    signing_secret = services.settings.slack_signing_secret.encode()
    # Bolt's adapter serves only the OAuth pages (GET, no body): /slack/install, /slack/oauth_redirect.
    oauth = SlackRequestHandler(app, path=SLACK_PATH)
    oauth_pages = {app.oauth_flow.install_path, app.oauth_flow.redirect_uri_path} if app.oauth_flow else set()

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer = operations_answer(environ, services, start_response)
        if answer is not None:
            return answer
        # Ways in from outside chat: SMS replies and the e-mail's acknowledgement page (bot/reach/web.py).
        answer = reach_answer(environ, services, start_response)
        if answer is not None:
            return answer
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == SLACK_PATH:
            if method != "POST":
                return _plain(start_response, 405, [("Allow", "POST")])
            with bound():
                return _slack(app, signing_secret, environ, start_response)
        if method == "GET" and path in oauth_pages:
            return oauth({**environ, "CONTENT_LENGTH": "0"}, start_response)
        return _plain(start_response, 404)

    return wsgi


def _slack(
    app: App, signing_secret: bytes, environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    try:
        request = verified_request(environ, signing_secret)
    except Refused as refused:
        logger.warning("refused a request to Slack's path: %s (HTTP %d)", refused.reason, refused.status)
        return _plain(start_response, refused.status)
    except Exception as error:  # e.g. the connection dropped while the body was read
        logger.warning("could not read a request to Slack's path: %s", type(error).__name__)
        return _plain(start_response, 400)
    body, headers = bolt_body(request)
    try:
        response = _dispatch(app, BoltRequest(body=body, query=request.query, headers=headers))
    except Exception as error:
        # Bolt hands listener and middleware errors to the error handler (bot/slack/app.py); this is
        # for what escapes even that. Acknowledged, so that Slack does not show "trouble connecting".
        logger.error("unhandled error at the edge: %s", type(error).__name__)
        return _plain(start_response, 200, body="")
    return _bolt_answer(response, start_response)


def _dispatch(app: App, request: BoltRequest) -> BoltResponse:
    holder = {"kind": "unknown"}
    token = REQUEST_KIND.set(holder)
    started = time.perf_counter()
    try:
        response = app.dispatch(request)
    finally:
        REQUEST_KIND.reset(token)
    elapsed = time.perf_counter() - started
    metrics.SLACK_REQUEST_SECONDS.labels(holder["kind"]).observe(elapsed)
    if elapsed > metrics.SLOW_ACK_SECONDS:
        metrics.SLOW_ACKS.labels(holder["kind"]).inc()
    return response


def _bolt_answer(response: BoltResponse, start_response: Callable[..., Any]) -> Iterable[bytes]:
    if response.status >= 500:  # the error handler answers instead; should it not have, acknowledge
        logger.error("Bolt answered %d; acknowledged with 200 instead", response.status)
        return _plain(start_response, 200, body="")
    body = (response.body or "").encode("utf-8", "replace")
    headers = [
        (name, str(value))
        for name, values in response.headers.items()
        if name.lower() != "content-length"
        for value in values
    ]
    start_response(_status_line(response.status), [*headers, ("Content-Length", str(len(body)))])
    return [body]


def _plain(
    start_response: Callable[..., Any],
    status: int,
    extra: list[tuple[str, str]] | None = None,
    *,
    body: str | None = None,
) -> Iterable[bytes]:
    """A short text answer: the status's own phrase unless `body` is given."""
    text = (HTTPStatus(status).phrase if body is None else body).encode()
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(text)))]
    start_response(_status_line(status), [*headers, *(extra or [])])
    return [text]


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"
