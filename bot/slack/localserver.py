"""A small threaded HTTP server for the bot, in-process: for `samen demo` and the tests.

Production uses gunicorn (bot/server.py); this exists so that the demo and the tests still send real
signed HTTP requests through the same WSGI app, without starting another process.
"""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App

from bot.runtime import Services
from bot.slack.wsgi import SLACK_PATH, create_wsgi_app


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Requests are not logged here: their bodies may hold what people typed."""


@dataclass
class LocalServer:
    server: _ThreadingWSGIServer

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{SLACK_PATH}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_in_thread(app: App, services: Services) -> LocalServer:
    server = make_server(
        "127.0.0.1",
        0,
        create_wsgi_app(app, services),
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    # A short poll interval: stop() (shutdown) waits for the loop to notice, 0.5 s by default.
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="samen-local-http", daemon=True
    ).start()
    return LocalServer(server)
