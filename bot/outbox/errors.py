"""What a failed Slack call means for an outbox row: wait and retry, or give up."""

from __future__ import annotations

import http.client
import socket
import urllib.error
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError, SlackRequestError

# Errors that will never succeed by trying again: mark the row failed and tell the coordinators.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "users_not_found",
        "user_not_visible",
        "cannot_dm_bot",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
        "invalid_arguments",
        "invalid_arg_name",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "restricted_action",
        "channel_is_archived",
        "team_access_not_granted",
        "ekm_access_denied",
        "invalid_metadata_format",
        "unknown_method",
        "method_deprecated",
        "missing_scope",
        "not_allowed_token_type",
        "invalid_charset",
    }
)
# Errors an operator fixes (a revoked token): keep the row and retry slowly, never lose it.
OPERATOR_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
)


class OperatorError(Exception):
    """Sending cannot work until an operator fixes something (e.g. no installation for a workspace).

    The message is the reason recorded on the row; the row waits with backoff, like a revoked token.
    """


@dataclass(frozen=True)
class Outcome:
    kind: str  # "retry_after" (429), "transient" (5xx, network), "permanent"
    reason: str
    retry_after: float | None = None
    # Slack may have carried the call out all the same (a 5xx, a dropped connection, a timeout): a
    # post is looked for in the channel before it is sent again (bot/outbox/dispatcher.py).
    maybe_delivered: bool = False


def classify(error: BaseException) -> Outcome:
    from bot.outbox.dispatcher import ReferenceFailed, ReferenceNotReady

    if isinstance(error, ReferenceNotReady):
        return Outcome("transient", str(error))
    if isinstance(error, ReferenceFailed):
        return Outcome("permanent", str(error))
    if isinstance(error, OperatorError):
        return Outcome("transient", str(error)[:200])
    if isinstance(error, SlackApiError):
        response = error.response
        status = response.status_code
        code = (
            str(response.get("error") or f"http_{status}")
            if isinstance(response.data, dict)
            else f"http_{status}"
        )
        if status == 429:
            return Outcome("retry_after", "ratelimited", retry_after=_retry_after(response.headers))
        if status >= 500:
            return Outcome("transient", f"http_{status}", maybe_delivered=True)
        if code in PERMANENT_ERRORS:
            return Outcome("permanent", code)
        if code in OPERATOR_ERRORS:
            return Outcome("transient", code)
        if code in ("ratelimited", "rate_limited"):
            return Outcome("retry_after", code, retry_after=_retry_after(response.headers))
        if code in ("internal_error", "fatal_error", "service_unavailable", "request_timeout"):
            return Outcome("transient", code, maybe_delivered=True)
        return Outcome("permanent", code[:200])
    if isinstance(
        error,
        (
            urllib.error.URLError,
            http.client.HTTPException,
            ConnectionError,
            socket.timeout,
            TimeoutError,
            SlackRequestError,
            OSError,
        ),
    ):
        return Outcome("transient", type(error).__name__, maybe_delivered=True)
    return Outcome("permanent", type(error).__name__)


def _retry_after(headers: dict[str, object] | None) -> float:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(str(raw)))
            except ValueError:
                break
    return 1.0
