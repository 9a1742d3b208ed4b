"""What a failed Slack Web API call means, in the chat seam's terms (`bot.chat.Outcome`).

Slack answers an error as an HTTP status and an `error` code; the outbox needs to know only whether to
wait as Slack asked (429), back off (5xx, the network, a token an operator must replace) or give up with
the code as the reason. Apart from bot/slack/chat.py because the start-up check reads the same answers.
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.chat import NETWORK_ERRORS, PERMANENT, RETRY_AFTER, TRANSIENT, Outcome

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


def outcome_of(error: BaseException) -> Outcome | None:
    """The outcome of a Slack call that raised `error`; None when it is not Slack's or the network's
    (a bug of ours: the caller lets it through)."""
    if isinstance(error, SlackApiError):
        response = error.response
        status = response.status_code
        code = (
            str(response.get("error") or f"http_{status}")
            if isinstance(response.data, dict)
            else f"http_{status}"
        )
        if status == 429:
            return Outcome(RETRY_AFTER, "ratelimited", retry_after=_retry_after(response.headers))
        if status >= 500:
            return Outcome(TRANSIENT, f"http_{status}", maybe_delivered=True)
        if code in PERMANENT_ERRORS:
            return Outcome(PERMANENT, code)
        if code in OPERATOR_ERRORS:
            return Outcome(TRANSIENT, code, refused=True)
        if code in ("ratelimited", "rate_limited"):
            return Outcome(RETRY_AFTER, code, retry_after=_retry_after(response.headers))
        if code in ("internal_error", "fatal_error", "service_unavailable", "request_timeout"):
            return Outcome(TRANSIENT, code, maybe_delivered=True)
        return Outcome(PERMANENT, code[:200])
    if isinstance(error, (SlackRequestError, *NETWORK_ERRORS)):
        return Outcome(TRANSIENT, type(error).__name__, maybe_delivered=True)
    return None


def _retry_after(headers: dict[str, object] | None) -> float:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(str(raw)))
            except ValueError:
                break
    return 1.0
