"""Running the bot in Socket Mode: an outbound websocket to Slack, for installations behind a firewall.

Apart from bot/server.py so that a Socket Mode process does not import gunicorn (memory: bench/memory.py).
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.runtime import Services
from bot.slack.app import create_app
from bot.slack.edge import MAX_DEPTH
from bot.slack.sanitize import TooDeep, clean_payload
from bot.startup import Deadline, connect_socket_mode
from bot.worker import Worker

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_bolt.adapter.socket_mode import SocketModeHandler

logger = logging.getLogger(__name__)


def serve_socket_mode(settings: Settings, *, metrics: tuple[str, int] | None = None) -> None:
    """Socket Mode: no inbound traffic at all, for installations behind a firewall."""
    services = Services.build(settings)
    if metrics is not None:
        from bot.probes import serve_operations

        serve_operations(services, host=metrics[0], port=metrics[1])
    app = create_app(settings, services=services)
    handler = socket_mode_handler(app, settings.slack_app_token)
    # Connected before the worker starts: when Slack stays away, StartupFailed leaves nothing running.
    connect_socket_mode(handler.client, Deadline(settings.startup_timeout), settings.slack_api_url)
    worker = Worker(services)
    worker.start()
    stopped = threading.Event()

    def stop(_signum: int, _frame: Any) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("connected to Slack in Socket Mode")
    stopped.wait()
    handler.close()
    worker.stop()


def socket_mode_handler(app: App, app_token: str | None) -> SocketModeHandler:
    """Bolt's Socket Mode handler, with the edge's cleaning (bot/slack/sanitize.py) of every envelope
    before Bolt sees it. The connection is the app's own, so there is no signature to check; a JSON
    escape in a payload can still carry a lone surrogate, as over HTTP."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler as BoltHandler
    from slack_sdk.socket_mode.response import SocketModeResponse

    class CleaningSocketModeHandler(BoltHandler):
        def handle(self, client: Any, req: Any) -> None:
            try:
                req.payload = clean_payload(req.payload, max_depth=MAX_DEPTH)
            except TooDeep:
                logger.warning("refused a Socket Mode request: payload nested too deep")
                # Acknowledged, so that Slack does not deliver it again.
                client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
                return
            super().handle(client, req)

    return CleaningSocketModeHandler(app, app_token)
