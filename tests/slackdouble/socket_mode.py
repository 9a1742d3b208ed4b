"""The Socket Mode side of the double: a WebSocket server that behaves like Slack's.

A Socket Mode app calls `apps.connections.open` with its app-level token, gets a one-time
`wss://` URL, connects, receives `{"type": "hello"}` and then envelopes; it must acknowledge each
envelope with `{"envelope_id": ...}` (optionally with a `payload`, which is how `ack(...)` text
reaches the user). This server hands out `ws://` URLs on 127.0.0.1 (slack_sdk's builtin client
speaks plain WebSocket to any port but 443), delivers envelopes a test asks for, and waits for
the acknowledgement exactly as Slack does.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

ENVELOPE_TYPES: Final = frozenset({"slash_commands", "interactive", "events_api"})

# Slack lets an app hold at most 10 Socket Mode connections at once.
MAX_CONNECTIONS: Final = 10

# The websockets library logs every handshake failure at ERROR level; tests that provoke them on
# purpose (a reused ticket) should not fill the output.
_quiet_logger = logging.getLogger("slackdouble.socket_mode")
_quiet_logger.addHandler(logging.NullHandler())
_quiet_logger.propagate = False


@dataclass
class Envelope:
    """One delivery to the app, and what came back."""

    envelope_id: str
    type: str
    payload: dict[str, Any]
    sent_at: float
    acked: threading.Event = field(default_factory=threading.Event)
    ack: dict[str, Any] | None = None

    @property
    def ack_payload(self) -> dict[str, Any] | None:
        if self.ack is None:
            return None
        payload = self.ack.get("payload")
        return payload if isinstance(payload, dict) else None


class SocketModeDouble:
    """Slack's Socket Mode endpoint, started on first use."""

    def __init__(self, *, app_id: str, on_violation: Callable[[str], None]) -> None:
        self._app_id = app_id
        self._on_violation = on_violation
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._tickets: set[str] = set()
        self._connections: list[ServerConnection] = []
        self._round_robin = itertools.count()
        self.envelopes: list[Envelope] = []
        # Every text frame an app sent that was not a valid acknowledgement, for debugging.
        self.unexpected_messages: list[str] = []
        self.connection_count_total = 0

    # -- lifecycle -----------------------------------------------------------------------------

    def _ensure_started(self) -> Server:
        with self._lock:
            if self._server is None:
                self._server = serve(
                    self._handle_connection,
                    "127.0.0.1",
                    0,
                    process_request=self._check_ticket,
                    compression=None,
                    # The builtin client pings us; the server need not ping back on its own.
                    ping_interval=None,
                    close_timeout=1,
                    logger=_quiet_logger,
                )
                self._thread = threading.Thread(
                    target=self._server.serve_forever, name="slackdouble-socket", daemon=True
                )
                self._thread.start()
            return self._server

    @property
    def port(self) -> int:
        port: int = self._ensure_started().socket.getsockname()[1]
        return port

    def stop(self) -> None:
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is not None:
            server.shutdown()
        if thread is not None:
            thread.join(timeout=5)

    def reset(self) -> None:
        """Forget envelopes and messages; live connections stay (the app under test keeps them)."""
        with self._lock:
            self.envelopes.clear()
            self.unexpected_messages.clear()

    # -- the Web API half: apps.connections.open ----------------------------------------------

    def issue_url(self) -> str:
        """A one-time connection URL, as apps.connections.open returns."""
        port = self.port
        ticket = uuid.uuid4().hex
        with self._lock:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{port}/link/?ticket={ticket}&app_id={self._app_id}"

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse a handshake without a fresh ticket, as Slack does: tickets are single-use."""
        parts = urlsplit(request.path)
        ticket = parse_qs(parts.query).get("ticket", [""])[0]
        with self._lock:
            if parts.path.rstrip("/") != "/link" or ticket not in self._tickets:
                reason = f"socket mode: connection refused (path {parts.path!r}, unknown or reused ticket)"
            elif len(self.connections) >= MAX_CONNECTIONS:
                reason = f"socket mode: more than {MAX_CONNECTIONS} connections"
            else:
                self._tickets.discard(ticket)
                return None
        self._on_violation(reason)
        return connection.respond(HTTPStatus.UNAUTHORIZED, reason + "\n")

    # -- connections -------------------------------------------------------------------------------

    @property
    def connections(self) -> list[ServerConnection]:
        return list(self._connections)

    def _handle_connection(self, connection: ServerConnection) -> None:
        with self._changed:
            self._connections.append(connection)
            self.connection_count_total += 1
            count = len(self._connections)
            self._changed.notify_all()
        try:
            connection.send(
                json.dumps(
                    {
                        "type": "hello",
                        "num_connections": count,
                        "debug_info": {
                            "host": "applink-slackdouble",
                            "build_number": 1,
                            "approximate_connection_time": 18060,
                        },
                        "connection_info": {"app_id": self._app_id},
                    }
                )
            )
            for message in connection:
                self._receive(message)
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                if connection in self._connections:
                    self._connections.remove(connection)
                self._changed.notify_all()

    def _receive(self, message: str | bytes) -> None:
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        envelope_id = data.get("envelope_id") if isinstance(data, dict) else None
        with self._changed:
            envelope = next((e for e in self.envelopes if e.envelope_id == envelope_id), None)
            if not isinstance(data, dict) or envelope is None:
                self.unexpected_messages.append(text)
                problem = f"socket mode: message that acknowledges no envelope: {text[:200]}"
            elif envelope.acked.is_set():
                problem = f"socket mode: envelope {envelope_id} acknowledged twice"
            else:
                envelope.ack = data
                envelope.acked.set()
                self._changed.notify_all()
                return
        self._on_violation(problem)

    def wait_connected(self, timeout: float = 5.0, count: int = 1) -> None:
        """Block until `count` apps are connected (hello sent)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._connections) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"socket mode: {len(self._connections)} connection(s) after {timeout}s, "
                        f"expected {count}"
                    )
                self._changed.wait(remaining)

    # -- deliveries --------------------------------------------------------------------------------

    def send(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        timeout: float = 5.0,
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> dict[str, Any] | None:
        """Deliver an envelope and wait for its acknowledgement; return the ack's payload (or None).

        Raises AssertionError when no app is connected or nothing acknowledges in time: in Slack
        the user would see "dispatch_failed" (or the event would be retried).
        """
        if envelope_type not in ENVELOPE_TYPES:
            raise ValueError(f"envelope type must be one of {sorted(ENVELOPE_TYPES)}")
        self.wait_connected(timeout=timeout)
        envelope = Envelope(
            envelope_id=str(uuid.uuid4()), type=envelope_type, payload=payload, sent_at=time.time()
        )
        frame: dict[str, Any] = {
            "envelope_id": envelope.envelope_id,
            "type": envelope_type,
            "payload": payload,
            # Slack lets only commands and interactions answer through the ack.
            "accepts_response_payload": envelope_type != "events_api",
        }
        if envelope_type == "events_api":
            frame["retry_attempt"] = retry_attempt
            frame["retry_reason"] = retry_reason
        with self._lock:
            self.envelopes.append(envelope)
            connections = list(self._connections)
        # Slack delivers each envelope to one of the app's connections; take them in turn.
        connection = connections[next(self._round_robin) % len(connections)]
        connection.send(json.dumps(frame))
        if not envelope.acked.wait(timeout):
            pending = ", ".join(f"{e.type}:{e.envelope_id}" for e in self.unacknowledged)
            raise AssertionError(
                f"socket mode: no acknowledgement for {envelope_type} envelope {envelope.envelope_id} "
                f"within {timeout}s (unacknowledged: {pending})"
            )
        return envelope.ack_payload

    @property
    def unacknowledged(self) -> list[Envelope]:
        with self._lock:
            return [e for e in self.envelopes if not e.acked.is_set()]

    def close_connections(self) -> None:
        """Close every connection from Slack's side (code 1001, going away).

        Useful at the end of a test: slack_sdk's builtin client reads with a 3-second socket
        timeout and holds its receive lock meanwhile, so its close() can take up to 3 s unless
        the server closes first. Turn the app's auto-reconnect off before, or it reconnects.
        """
        for connection in self.connections:
            connection.close()

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask every connected app to reconnect, as Slack does every few hours."""
        for connection in self.connections:
            try:
                connection.send(json.dumps({"type": "disconnect", "reason": reason}))
            except ConnectionClosed:
                continue
