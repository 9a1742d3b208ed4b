"""Running the bot in Socket Mode: an outbound websocket to Slack, for installations behind a firewall.

Apart from bot/server.py so that a Socket Mode process does not import gunicorn (memory: bench/memory.py).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from bot.chat import Chat
from bot.config import HOW_TO_OBTAIN, Settings
from bot.runtime import Services
from bot.slack.app import Features, create_app
from bot.slack.chat import SlackChat
from bot.slack.edge import MAX_DEPTH
from bot.slack.sanitize import TooDeep, clean_payload
from bot.startup import Deadline, StartupFailed, Unreachable, retry_until, slack_where

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_bolt.adapter.socket_mode import SocketModeHandler

logger = logging.getLogger(__name__)


class Running(Protocol):
    """What runs beside the connection: the worker (bot/worker.py), handed in by the entry point."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def serve_socket_mode(
    settings: Settings,
    *,
    features: Features,
    worker: Callable[[Services, Chat], Running],
    metrics: tuple[str, int] | None = None,
) -> None:
    """Socket Mode: no inbound traffic at all, for installations behind a firewall. `worker` builds the
    process's worker (`bot.worker.Worker`) on its services and Slack."""
    services = Services.build(settings)
    if metrics is not None:
        from bot.probes import serve_operations

        serve_operations(services, host=metrics[0], port=metrics[1])
    app = create_app(settings, features=features, services=services)
    handler = socket_mode_handler(app, settings.slack_app_token)
    # Connected before the worker starts: when Slack stays away, StartupFailed leaves nothing running.
    connect_socket_mode(handler.client, Deadline(settings.startup_timeout), settings.slack_api_url)
    running = worker(services, SlackChat.for_services(services))
    running.start()
    stopped = threading.Event()

    def stop(_signum: int, _frame: Any) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("connected to Slack in Socket Mode")
    stopped.wait()
    handler.close()
    running.stop()


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


def connect_socket_mode(client: Any, deadline: Deadline, api_url: str) -> None:
    """Open the Socket Mode connection (the SDK's SocketModeClient), waiting for Slack like the other
    start-up checks (bot/startup.py); an app-level token Slack refuses is one line naming SLACK_APP_TOKEN."""
    from slack_sdk.errors import SlackApiError

    def attempt() -> None:
        client.wss_uri = None  # a fresh address each time: one from a failed attempt may have expired
        try:
            client.connect()
        except SlackApiError as error:
            status = error.response.status_code
            if status == 429 or status >= 500:
                raise Unreachable(f"HTTP {status}") from None
            raise StartupFailed(
                f"SLACK_APP_TOKEN was refused by Slack ({error.response.get('error')}): set it to "
                f"{HOW_TO_OBTAIN['SLACK_APP_TOKEN']}"
            ) from None
        except OSError as error:
            raise Unreachable(type(error).__name__) from None

    retry_until(deadline, "Slack (Socket Mode)", slack_where(api_url), attempt)
