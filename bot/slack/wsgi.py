"""The HTTP face of Samen: Slack's requests at POST /slack/events; health, readiness and metrics."""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot import metrics
from bot.logs import bound
from bot.probes import operations_answer
from bot.runtime import Services

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
    slack = SlackRequestHandler(app, path=SLACK_PATH)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer = operations_answer(environ, services, start_response)
        if answer is not None:
            return answer
        return _slack(slack, environ, start_response)

    return wsgi


def _slack(
    slack: SlackRequestHandler, environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    holder = {"kind": "unknown"}
    token = REQUEST_KIND.set(holder)
    started = time.perf_counter()
    try:
        with bound():
            answer = slack(environ, start_response)
    finally:
        REQUEST_KIND.reset(token)
    elapsed = time.perf_counter() - started
    metrics.SLACK_REQUEST_SECONDS.labels(holder["kind"]).observe(elapsed)
    if elapsed > metrics.SLOW_ACK_SECONDS:
        metrics.SLOW_ACKS.labels(holder["kind"]).inc()
    return answer
