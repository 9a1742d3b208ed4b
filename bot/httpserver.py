"""A small threaded HTTP server for a WSGI app, run from a daemon thread in this process.

For the operations port of `samen worker` / Socket Mode (bot/probes.py), and for the demo and the tests
(bot/slack/localserver.py). Production Slack traffic goes through gunicorn (bot/server.py). Free of
Bolt, so that a worker importing it carries nothing heavier.
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No access log: request bodies may hold what people typed, and probes every few seconds
        would drown the log (Prometheus counts what matters)."""


def serve_in_thread(app: WSGIApp, *, host: str, port: int, name: str) -> ThreadingWSGIServer:
    """Serve `app` on host:port (port 0: any free port, read it from `server.server_address`)."""
    server = make_server(host, port, app, server_class=ThreadingWSGIServer, handler_class=_Quiet)
    # A short poll interval: shutdown() waits for the loop to notice, 0.5 s by default.
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
    ).start()
    return server
