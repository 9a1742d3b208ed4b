"""One-time, expiring, signed acknowledgement links (the e-mail's "Ontvangen" page, bot/reach/web.py).

A link is `<SAMEN_PUBLIC_URL>/ack/<token>`, the token `<payload>.<signature>`: the payload (url-safe
base64 of JSON) holds the link's id (`jti`, random) and when it expires; the signature is HMAC-SHA256
over the payload with a key derived from `SAMEN_ENCRYPTION_KEY` (one key per configured key: signed with
the newest, checked against each, so a key rotation does not break links already sent). Whose link it
is and for which alert is kept in `reach_link` under the id, so the token names no person. One-time:
using it is one conditional UPDATE (`used_at IS NULL AND expires_at > now`), so a link clicked twice,
or by two browsers at once, acknowledges once. A GET never uses a link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import update
from sqlmodel import Session, col

from bot import clock
from bot.config import Settings
from bot.partners.models import PersonRef
from bot.reach.models import ReachLink

LINK_TTL: Final = timedelta(hours=24)
PATH: Final = "/ack/"
_PURPOSE: Final = b"samen:reach:ack-link:v1"
_CSRF: Final = b"samen:reach:ack-form:v1"


class LinkRefused(Exception):
    """A link that does not acknowledge: `reason` is forged, expired, used or unknown (never the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Link:
    """A link whose signature holds, with what its row says."""

    jti: str
    alert_id: int
    person: PersonRef
    expires_at: datetime
    used_at: datetime | None


def _keys(settings: Settings, purpose: bytes) -> list[bytes]:
    keys = [k.strip() for k in settings.samen_encryption_key.split(",") if k.strip()]
    return [hmac.new(base64.urlsafe_b64decode(k), purpose, hashlib.sha256).digest() for k in keys]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(
    session: Session,
    *,
    alert_id: int,
    person: PersonRef,
    settings: Settings,
    ttl: timedelta = LINK_TTL,
) -> tuple[str, datetime]:
    """A new link's token for `person` on alert `alert_id`, and until when it works; its row is added in
    the caller's transaction (the outbox row that carries it is written in the same one)."""
    jti = secrets.token_hex(16)
    expires_at = clock.now(session) + ttl
    session.add(
        ReachLink(
            jti=jti,
            alert_id=alert_id,
            team_id=person.team_id,
            user_id=person.user_id,
            expires_at=expires_at,
        )
    )
    payload = _b64(json.dumps({"j": jti, "e": int(expires_at.timestamp())}, separators=(",", ":")).encode())
    signature = hmac.new(_keys(settings, _PURPOSE)[0], payload.encode("ascii"), hashlib.sha256).digest()
    return f"{payload}.{_b64(signature)}", expires_at


def url_of(settings: Settings, token: str) -> str | None:
    """The link people click; None without SAMEN_PUBLIC_URL (the e-mail then says how else)."""
    if settings.public_url is None:
        return None
    return settings.public_url.rstrip("/") + PATH + token


def jti_of(token: str, settings: Settings, now: datetime) -> str:
    """The link's id when its signature holds and it has not expired; else LinkRefused."""
    payload, dot, signature = token.partition(".")
    if not dot or len(token) > 512:
        raise LinkRefused("forged")
    try:
        given = _unb64(signature)
        claims = json.loads(_unb64(payload))
    except ValueError:
        raise LinkRefused("forged") from None
    expected = [
        hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest() for key in _keys(settings, _PURPOSE)
    ]
    if not any(hmac.compare_digest(given, e) for e in expected):
        raise LinkRefused("forged")
    if (
        not isinstance(claims, dict)
        or not isinstance(claims.get("j"), str)
        or not isinstance(claims.get("e"), int)
    ):
        raise LinkRefused("forged")
    if now.timestamp() >= claims["e"]:
        raise LinkRefused("expired")
    return str(claims["j"])


def read(session: Session, *, token: str, settings: Settings) -> Link:
    """The link behind a token, for the page (GET): refused when forged, expired, unknown or used."""
    jti = jti_of(token, settings, clock.now(session))
    row = session.get(ReachLink, jti)
    if row is None:
        raise LinkRefused("unknown")
    if row.used_at is not None:
        raise LinkRefused("used")
    return Link(row.jti, row.alert_id, PersonRef(row.team_id, row.user_id), row.expires_at, row.used_at)


def use(session: Session, *, token: str, settings: Settings) -> Link:
    """Use the link once (POST): the one conditional UPDATE that decides; refused when it was used
    already (also by a click a moment ago in another window), expired, unknown or forged."""
    now = clock.now(session)
    jti = jti_of(token, settings, now)
    claimed = session.execute(
        update(ReachLink)
        .where(col(ReachLink.jti) == jti, col(ReachLink.used_at).is_(None), col(ReachLink.expires_at) > now)
        .values(used_at=now)
    )
    row = session.get(ReachLink, jti, populate_existing=True)
    if row is None:
        raise LinkRefused("unknown")
    if getattr(claimed, "rowcount", 0) != 1:
        raise LinkRefused("used" if row.used_at is not None else "expired")
    return Link(row.jti, row.alert_id, PersonRef(row.team_id, row.user_id), row.expires_at, row.used_at)


def form_token(settings: Settings, jti: str) -> str:
    """The page's form carries this (CSRF): only a page Samen served for this link can post it."""
    return _b64(hmac.new(_keys(settings, _CSRF)[0], jti.encode("ascii"), hashlib.sha256).digest())


def form_token_holds(settings: Settings, jti: str, given: str) -> bool:
    return any(
        hmac.compare_digest(_b64(hmac.new(key, jti.encode("ascii"), hashlib.sha256).digest()), given)
        for key in _keys(settings, _CSRF)
    )
