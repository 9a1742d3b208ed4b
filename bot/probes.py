"""Health, readiness and metrics over HTTP, for every Samen process.

The web process answers them beside Slack's requests (bot/slack/wsgi.py); processes that serve no Slack
traffic — `samen worker`, and `samen run` in Socket Mode — answer them on `--metrics-port` with
`serve_operations`, so that Kubernetes can probe them and Prometheus scrape them alike:

- GET /livez: the process answers (liveness: restart it when it does not);
- GET /healthz: the process answers and the database is reachable (503 when it is not);
- GET /readyz: the database is reachable, its migrations are current and the chat has not refused
  Samen's token (readiness; under the chat's name: "slack" or "matrix");
- GET /metrics: Prometheus' exposition format (bot/metrics.py).

Kept free of Bolt and gunicorn: a worker imports this and nothing heavier.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIServer

from bot import metrics
from bot.db import database_state
from bot.httpserver import serve_in_thread
from bot.outbox.status import report as outbox_report
from bot.runtime import Services


def operations_answer(
    environ: dict[str, Any], services: Services, start_response: Callable[..., Any]
) -> Iterable[bytes] | None:
    """GET /livez, /healthz, /readyz and /metrics; None for anything else. Also served by `samen worker
    --metrics-port` (`serve_operations` below), so that every process can be probed and scraped alike."""
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        return None
    path = environ.get("PATH_INFO", "")
    if path == "/livez":
        return _json(start_response, "200 OK", {"status": "ok"})
    if path == "/healthz":
        return _healthz(services, start_response)
    if path == "/readyz":
        return _readyz(services, start_response)
    if path == "/metrics":
        text, content_type = metrics.render(services.engine, outbox_report=outbox_report)
        start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(text)))])
        return [text]
    return None


def _json(start_response: Callable[..., Any], status: str, payload: dict[str, Any]) -> Iterable[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _healthz(services: Services, start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The process answers and the database is reachable (503 when it is not)."""
    state = database_state(services.engine)
    status = "200 OK" if state["reachable"] else "503 Service Unavailable"
    return _json(
        start_response, status, {"status": "ok" if state["reachable"] else "unavailable", "database": state}
    )


def _readyz(services: Services, start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Ready for traffic: the database is reachable, its migrations are current, and the chat has not
    refused Samen's token (bot/startup.py: SLACK_BOT_TOKEN or MATRIX_ACCESS_TOKEN) nor told that the app
    was uninstalled. The refusal is kept in `services.slack` on either chat; the answer names the chat in
    use, so that an operator on Matrix is not sent looking at Slack (on Slack it reads as before)."""
    state = database_state(services.engine)
    refused = services.slack.refused
    ready = bool(state["reachable"] and state.get("current")) and refused is None
    return _json(
        start_response,
        "200 OK" if ready else "503 Service Unavailable",
        {
            "status": "ready" if ready else "not ready",
            "database": state,
            services.settings.chat: {"refused": refused},
        },
    )


def serve_operations(services: Services, *, host: str, port: int) -> WSGIServer:
    """Answer the four paths on host:port from a daemon thread; returns the server (port 0: any free
    port, read it from `server.server_address`)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer = operations_answer(environ, services, start_response)
        if answer is not None:
            return answer
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
        return [b"not found"]

    return serve_in_thread(app, host=host, port=port, name="samen-operations-http")
