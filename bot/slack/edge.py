"""What a request to Slack's path must be before anything reads it.

In this order, each step refusing with its own status and nothing read beyond it:
1. a body of a stated, sane size (413 over `MAX_BODY_BYTES`, decided on Content-Length before reading);
2. Slack's signature over exactly those bytes (401): well-formed headers, a timestamp within five
   minutes, the HMAC-SHA256 of `v0:{timestamp}:{body}` compared in constant time. Computed here over
   the bytes: slack_sdk's `SignatureVerifier` decodes the body as UTF-8 first, and raises on one
   that is not;
3. only then the body is decoded (400 when it is not UTF-8) and parsed the way Bolt would (400 when a
   JSON body or `payload=` is not a JSON object), and every string in it is cleaned
   (bot/slack/sanitize.py).

An unverified request is never parsed, so nothing it names (a `response_url`, a team, a user) can
reach Bolt, a listener, the error handler's apology or the log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

from bot.slack.sanitize import TooDeep, clean_payload

# Slack's requests are a few kilobytes; a view submission with ten fields of 3,000 four-byte characters,
# percent-encoded, is under 400 kB.
MAX_BODY_BYTES: Final = 1_000_000
STALE_AFTER_SECONDS: Final = 5 * 60  # Slack's advice: refuse replays older than five minutes
MAX_DEPTH: Final = 64  # Slack's payloads nest about ten deep
MAX_FORM_FIELDS: Final = 200  # a slash command has about fifteen

_TIMESTAMP: Final = re.compile(r"[0-9]{1,12}")  # whole seconds, ASCII digits only (not "1e3", not " 1")
_SIGNATURE: Final = re.compile(r"v0=[0-9a-f]{64}")


class Refused(Exception):
    """A request answered with `status` before anything acted on it; `reason` is for the log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class SlackRequest:
    """A verified request: its payload parsed and cleaned, the headers Bolt needs."""

    payload: dict[str, Any]
    headers: dict[str, str]
    query: str


def read_body(environ: dict[str, Any]) -> bytes:
    """The body, read only when its stated length is within the cap."""
    stated = environ.get("CONTENT_LENGTH") or ""
    if not stated:
        raise Refused(411, "no Content-Length")
    if not stated.isascii() or not stated.isdigit():
        raise Refused(400, "malformed Content-Length")
    length = int(stated)
    if length > MAX_BODY_BYTES:
        raise Refused(413, "body over the size cap")
    body: bytes = environ["wsgi.input"].read(length)
    if len(body) != length:
        raise Refused(400, "body shorter than its Content-Length")
    return body


def verify(signing_secret: bytes, body: bytes, headers: dict[str, str], now: float) -> None:
    """Slack's signature over the body, or `Refused(401)`."""
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not timestamp or not signature:
        raise Refused(401, "no signature")
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        raise Refused(401, "malformed signature headers")
    if abs(now - int(timestamp)) > STALE_AFTER_SECONDS:
        raise Refused(401, "stale or future timestamp")
    signed = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(signing_secret, signed, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise Refused(401, "bad signature")


def parse(body: bytes, content_type: str) -> dict[str, Any]:
    """The payload, read the way Bolt reads it (slack_bolt.request.internals.parse_body), and cleaned."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "body is not UTF-8") from None
    if not text:
        raise Refused(400, "empty body")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json" or text.startswith("{"):
        payload = _json_object(text, "JSON body")
    else:
        payload = _form(text)
    try:
        cleaned: dict[str, Any] = clean_payload(payload, max_depth=MAX_DEPTH)
        return cleaned
    except TooDeep:
        raise Refused(400, "payload nested too deep") from None


def _form(text: str) -> dict[str, Any]:
    try:
        fields = dict(
            parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=MAX_FORM_FIELDS)
        )
    except UnicodeDecodeError:
        raise Refused(400, "form field is not UTF-8") from None
    except ValueError:
        raise Refused(400, "too many form fields") from None
    if "payload" in fields:  # an interaction: the whole of it is JSON in this one field
        return _json_object(fields["payload"], "payload field")
    return fields


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Refused(400, f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Refused(400, f"{what} is not a JSON object")
    return value


def headers_of(environ: dict[str, Any]) -> dict[str, str]:
    """The request's headers, lower-case, as Bolt names them."""
    headers = {
        key[5:].lower().replace("_", "-"): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = str(environ["CONTENT_TYPE"])
    return headers


def verified_request(environ: dict[str, Any], signing_secret: bytes) -> SlackRequest:
    """Read, verify, parse and clean one request to Slack's path, or raise `Refused`."""
    body = read_body(environ)
    headers = headers_of(environ)
    verify(signing_secret, body, headers, time.time())
    payload = parse(body, headers.get("content-type", ""))
    return SlackRequest(payload=payload, headers=headers, query=str(environ.get("QUERY_STRING") or ""))


def bolt_body(request: SlackRequest) -> tuple[str, dict[str, str | Sequence[str]]]:
    """The cleaned payload as the body and headers Bolt is handed: JSON, which Bolt parses back to
    exactly this dict (for a form it would have built the same dict from the fields)."""
    headers: dict[str, str | Sequence[str]] = {
        name: value
        for name, value in request.headers.items()
        # x-slack-bolt-*: Bolt's own headers for re-running lazy listeners, never a caller's to set.
        if name != "content-length" and not name.startswith("x-slack-bolt-")
    }
    headers["content-type"] = "application/json"
    return json.dumps(request.payload, ensure_ascii=False), headers
