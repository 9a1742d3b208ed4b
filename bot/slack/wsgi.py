"""The HTTP face of Samen: Slack's requests at POST /slack/events, and /healthz for the platform."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.db import database_state
from bot.runtime import Services

SLACK_PATH = "/slack/events"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def create_wsgi_app(app: App, services: Services) -> WSGIApp:
    slack = SlackRequestHandler(app, path=SLACK_PATH)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return _healthz(services, start_response)
        return slack(environ, start_response)

    return wsgi


def _healthz(services: Services, start_response: Callable[..., Any]) -> Iterable[bytes]:
    state = database_state(services.engine)
    status = "200 OK" if state["reachable"] else "503 Service Unavailable"
    body = json.dumps({"status": "ok" if state["reachable"] else "unavailable", "database": state}).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
