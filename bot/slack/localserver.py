"""A small threaded HTTP server for the bot, in-process: for `samen demo` and the tests.

Production uses gunicorn (bot/server.py); this exists so that the demo and the tests still send real
signed HTTP requests through the same WSGI app, without starting another process.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt import App

from bot import httpserver as http
from bot.httpserver import ThreadingWSGIServer
from bot.runtime import Services
from bot.slack.wsgi import SLACK_PATH, create_wsgi_app


@dataclass
class LocalServer:
    server: ThreadingWSGIServer

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{SLACK_PATH}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_in_thread(app: App, services: Services) -> LocalServer:
    wsgi = create_wsgi_app(app, services)
    return LocalServer(http.serve_in_thread(wsgi, host="127.0.0.1", port=0, name="samen-local-http"))
