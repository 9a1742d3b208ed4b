"""Running the bot in Socket Mode: an outbound websocket to Slack, for installations behind a firewall.

Apart from bot/server.py so that a Socket Mode process does not import gunicorn (memory: bench/memory.py).
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from bot.config import Settings
from bot.runtime import Services
from bot.slack.app import create_app
from bot.worker import Worker

logger = logging.getLogger(__name__)


def serve_socket_mode(settings: Settings, *, metrics: tuple[str, int] | None = None) -> None:
    """Socket Mode: no inbound traffic at all, for installations behind a firewall."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    services = Services.build(settings)
    if metrics is not None:
        from bot.probes import serve_operations

        serve_operations(services, host=metrics[0], port=metrics[1])
    app = create_app(settings, services=services)
    worker = Worker(services)
    worker.start()
    handler = SocketModeHandler(app, settings.slack_app_token)
    stopped = threading.Event()

    def stop(_signum: int, _frame: Any) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    handler.connect()
    logger.info("connected to Slack in Socket Mode")
    stopped.wait()
    handler.close()
    worker.stop()
