"""SlackDouble: a Slack Web API over real HTTP, strict about what it accepts.

The bot under test talks to this server through its ordinary `slack_sdk.WebClient` (pointed at
`double.base_url`), so everything between the bot's code and the network is the real thing: the
SDK's argument handling, its encodings, its retry handlers. The double

* answers the methods the bot uses with responses shaped like Slack's,
* records every call, parsed, for tests to read,
* rejects what Slack would reject (unknown arguments and methods, invalid Block Kit, limits), and
  also records each rejection as a *violation*, so that a test fails even when the bot swallows
  the error,
* misbehaves on demand: latency, 429 with Retry-After, 5xx, dropped connections, per-channel rate
  limits.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qsl, unquote, urlsplit

from . import blockkit
from .faults import RESPONSE_URL, UPLOAD_URL, Answer, Faults, failure, ok, ok_false
from .ids import (
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    CHANNEL_PREFIXES,
    DEFAULT_APP_ID,
    DEFAULT_TEAM_DOMAIN,
    DEFAULT_TEAM_ID,
    DEFAULT_TEAM_NAME,
    DM_PREFIXES,
    USER_PREFIXES,
    Sequence,
)
from .ids import trigger_id as new_trigger_id
from .records import Call, Channel, UploadedFile, User
from .socket_mode import SocketModeDouble
from .spec import SlackSpec, check_response_url_fields, load_spec

# Arguments that slack_sdk sends as JSON text inside a form-encoded body (and that a bot may also
# pass as JSON strings in a JSON body). They are decoded so tests and checks see Python objects.
JSON_TEXT_ARGS: Final = frozenset({"blocks", "view", "attachments", "metadata", "files"})

TRIGGER_TTL_SECONDS: Final = 3.0

# Methods called with the app's client id and secret (HTTP Basic auth, as slack_sdk sends them), not a
# token (issue 9: installation in several workspaces).
CLIENT_CREDENTIAL_METHODS: Final = frozenset({"oauth.v2.access"})

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # A burst of calls (a backup alert's fan-out) must queue, not be refused and retried.
    request_queue_size = 128
    # Threads of unfinished requests (a test's latency) must not delay stop().
    block_on_close = False

    def __init__(self, double: SlackDouble) -> None:
        super().__init__(("127.0.0.1", 0), _RequestHandler)
        self.double = double


class _RequestHandler(BaseHTTPRequestHandler):
    server: _HTTPServer

    def do_POST(self) -> None:
        self.server.double._handle(self)

    def do_GET(self) -> None:
        self.server.double._handle(self)

    def log_message(self, format: str, *args: Any) -> None:
        # Keep test output clean; every request is in double.calls anyway.
        pass


def _decode_json_text(args: dict[str, Any]) -> dict[str, Any]:
    for name in JSON_TEXT_ARGS & args.keys():
        value = args[name]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            # Undecodable text is left as it is: the block checks will report it.
            with contextlib.suppress(ValueError):
                args[name] = json.loads(value)
    return args


class SlackDouble:
    """A Slack Web API test double over real HTTP. See the module docstring."""

    def __init__(
        self,
        *,
        team_id: str = DEFAULT_TEAM_ID,
        team_name: str = DEFAULT_TEAM_NAME,
        app_id: str = DEFAULT_APP_ID,
        spec: SlackSpec | None = None,
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.app_id = app_id
        self.bot_user_id = BOT_USER_ID
        self.bot_id = BOT_ID
        self.spec = spec if spec is not None else load_spec()
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._ids = Sequence()
        self._last_ts = 0  # microseconds of the newest message ts handed out
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.socket = SocketModeDouble(app_id=app_id, on_violation=self._add_violation)
        self._handlers: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.scheduleMessage": self._chat_schedule_message,
            "chat.deleteScheduledMessage": self._chat_delete_scheduled_message,
            "chat.scheduledMessages.list": self._chat_scheduled_messages_list,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.join": self._conversations_join,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "team.info": self._team_info,
            "reactions.add": self._reactions_add,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "apps.connections.open": self._apps_connections_open,
            # -- installation in several workspaces (issue 9): Slack's OAuth code exchange --------
            "oauth.v2.access": self._oauth_v2_access,
        }
        self._init_state()

    def _init_state(self) -> None:
        """Everything reset() forgets. Called with the lock held (or before any thread exists)."""
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.strict_channels = False
        self.strict_users = False
        self.strict_messages = False
        self.users: dict[str, User] = {}
        self.teams: dict[str, dict[str, Any]] = {
            self.team_id: {"id": self.team_id, "name": self.team_name, "domain": DEFAULT_TEAM_DOMAIN}
        }
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.ephemeral: list[dict[str, Any]] = []
        self.scheduled: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, str] = {}
        self.files: dict[str, UploadedFile] = {}
        self.reactions: set[tuple[str, str, str]] = set()
        self._dms: dict[frozenset[str], str] = {}
        self._triggers: dict[str, float] = {}
        self._used_triggers: set[str] = set()
        self._overrides: dict[str, Handler] = {}
        self.faults = Faults()
        # -- installation in several workspaces (issue 9) -----------------------------------------
        self.oauth_client: tuple[str, str] | None = None  # (client_id, client_secret) of the app
        self._oauth_codes: dict[str, dict[str, str]] = {}  # code → the team and installer it installs
        self.bot_tokens: dict[str, str] = {}  # bot token issued by oauth.v2.access → its team id

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> SlackDouble:
        if self._server is None:
            self._server = _HTTPServer(self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="slackdouble-http",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        self.socket.stop()
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> SlackDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Back to a fresh double on the same port: calls, state, faults and violations all go."""
        with self._lock:
            self._init_state()
        self.socket.reset()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the Slack double is not started")
        return self._server.server_address[1]

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """Pass as `WebClient(base_url=...)`: slack_sdk appends the method name."""
        return f"{self.root_url}/api/"

    def response_url(self, tag: str) -> str:
        """A response_url for a payload; POSTs to it are recorded as method "response_url"."""
        return f"{self.root_url}/response/{tag}"

    # -- test set-up -----------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        team_id: str | None = None,
        locale: str = "nl-NL",
        tz: str = "Europe/Amsterdam",
        name: str | None = None,
        real_name: str | None = None,
        email: str | None = None,
        is_bot: bool = False,
        deleted: bool = False,
    ) -> User:
        user = User(
            id=user_id,
            team_id=team_id or self.team_id,
            name=name or user_id.lower(),
            real_name=real_name or name or user_id,
            locale=locale,
            tz=tz,
            is_bot=is_bot,
            deleted=deleted,
            email=email,
        )
        with self._lock:
            self.users[user_id] = user
        return user

    def add_team(self, team_id: str, name: str, domain: str | None = None) -> None:
        """Another organisation, for Slack Connect users (add_user(..., team_id=...))."""
        with self._lock:
            self.teams[team_id] = {"id": team_id, "name": name, "domain": domain or team_id.lower()}

    def add_channel(
        self,
        channel_id: str,
        name: str,
        members: Iterable[str] | None = None,
        bot_is_member: bool = True,
        is_private: bool = False,
    ) -> Channel:
        channel = Channel(
            id=channel_id,
            name=name.lstrip("#"),
            members=set(members) if members is not None else None,
            bot_is_member=bot_is_member,
            is_private=is_private,
        )
        with self._lock:
            self.channels[channel_id] = channel
        return channel

    def on(self, method: str, handler: Handler) -> None:
        """Answer `method` with `handler(args)` (after validation); "ok": true is added if absent.

        For methods the double does not implement, or for answers a test needs to control.
        """
        with self._lock:
            self._overrides[method] = handler

    def issue_trigger_id(self, trigger_id: str | None = None, *, seconds_ago: float = 0.0) -> str:
        """Register a trigger id as Slack issues them: valid for 3 seconds, usable once.

        `seconds_ago` back-dates it, to test what the bot does with a stale one.
        """
        value = trigger_id or new_trigger_id()
        with self._lock:
            self._triggers[value] = time.monotonic() - seconds_ago
        return value

    # -- installation in several workspaces (issue 9) ----------------------------------------------

    def set_oauth_client(self, client_id: str, client_secret: str) -> None:
        """The app's credentials, as Slack knows them: oauth.v2.access accepts only these."""
        with self._lock:
            self.oauth_client = (client_id, client_secret)

    def issue_oauth_code(self, team_id: str, team_name: str, installer: str) -> str:
        """What Slack does when an administrator of `team_id` approves the app on its consent page:
        a one-time code, which the browser brings to the app's redirect URL."""
        code = f"{team_id}.{self._ids.next('oauth_code')}.{uuid.uuid4().hex[:12]}"
        with self._lock:
            self.teams.setdefault(team_id, {"id": team_id, "name": team_name, "domain": team_id.lower()})
            self._oauth_codes[code] = {"team_id": team_id, "installer": installer}
        return code

    def team_of_token(self, token: str) -> str:
        """The workspace a bot token belongs to (the double's own team for tokens it did not issue)."""
        with self._lock:
            return self.bot_tokens.get(token, self.team_id)

    # -- faults on demand ------------------------------------------------------------------------

    def set_latency(self, seconds: float, method: str | None = None) -> None:
        """Delay answers (to `method`, or to all calls); 0 removes the delay."""
        self.faults.set_latency(seconds, method)

    def fail_next(
        self,
        count: int = 1,
        status: int = 429,
        retry_after: int = 1,
        method: str | None = None,
        channel: str | None = None,
        error: str | None = None,
    ) -> None:
        """Fail the next `count` matching calls.

        status 429 answers `ratelimited` with a Retry-After header; 5xx answers a server error;
        status 200 with `error` answers `{"ok": false, "error": error}` (e.g. "account_inactive").
        `method=None` matches every Web API method, but not the response_url and upload endpoints:
        name those explicitly ("response_url", "upload_url"). `channel` matches the call's
        `channel` (or `channel_id`) argument.
        """
        self.faults.fail_next(count, status, retry_after, method, channel, error)

    def drop_next(self, count: int = 1, method: str | None = None, channel: str | None = None) -> None:
        """Close the connection of the next `count` matching calls without answering."""
        self.faults.drop_next(count, method, channel)

    def fail_rate(
        self,
        p: float,
        statuses: tuple[int, ...] = (429, 500),
        retry_after: int = 1,
        seed: int | None = 0,
        method: str | None = None,
        channel: str | None = None,
    ) -> None:
        """Fail a fraction `p` of matching calls with one of `statuses`; deterministic for a seed.

        The draws happen in the order calls arrive, so the outcome is reproducible for a given
        sequence of calls. `fail_rate(0)` switches it off.
        """
        self.faults.fail_rate(p, statuses, retry_after, seed, method, channel)

    def enforce_channel_rate(self, per_second: float | None = 1.0, burst: int = 1) -> None:
        """Answer 429 to chat.postMessage faster than `per_second` per channel (None: off).

        Slack allows about one message per second per channel, with short bursts; a token bucket
        of `burst` messages refilled at `per_second` models that.
        """
        self.faults.enforce_channel_rate(per_second, burst)

    # -- reading what happened -------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def delivered(self, method: str) -> list[Call]:
        """The calls to `method` that Slack would have carried out (answered ok)."""
        return [call for call in self.calls_to(method) if call.ok]

    def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[Call]:
        """Wait until `count` calls to `method` (matching `predicate`) were received; return them all.

        Failed attempts count too: pass `predicate=lambda c: c.ok` to wait for deliveries.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                matching = [
                    call
                    for call in self.calls
                    if call.method == method and (predicate is None or predicate(call))
                ]
                if len(matching) >= count:
                    return matching
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} call(s) to {method}"
                        + (" matching the predicate" if predicate else "")
                        + f" within {timeout}s, got {len(matching)}.\n"
                        + self._describe_calls()
                    )
                self._changed.wait(remaining)

    def _describe_calls(self) -> str:
        if not self.calls:
            return "The double received no calls."
        lines = [f"  {index}. {call}" for index, call in enumerate(self.calls, 1)]
        return "Calls received:\n" + "\n".join(lines)

    def assert_no_violations(self) -> None:
        with self._lock:
            violations = list(self.violations)
        if violations:
            listing = "\n".join(f"  - {violation}" for violation in violations)
            raise AssertionError(f"the bot sent Slack {len(violations)} thing(s) it would reject:\n{listing}")

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        """The messages now in a channel (after updates and deletes), oldest first."""
        with self._lock:
            return copy.deepcopy(self.messages.get(self._dm_for(channel) or channel, []))

    def messages_to(self, user_id: str) -> list[dict[str, Any]]:
        """The messages in the bot's direct-message channel with one person."""
        return self.messages_in(user_id)

    def dm_channel(self, user_id: str) -> str:
        """The id of the bot's direct-message channel with one person (opened if need be)."""
        with self._lock:
            dm = self._dm_for(user_id)
        if dm is None:
            raise ValueError(f"{user_id} is not a user id")
        return dm

    def someone_posts(self, channel: str, text: str, **fields: Any) -> dict[str, Any]:
        """A message posted by someone else (a person, another app) into a channel, as Slack keeps it;
        `fields` adds e.g. `bot_id` or `metadata`. Returns the stored message."""
        with self._lock:
            message: dict[str, Any] = {"type": "message", "ts": self._message_ts(), "text": text, **fields}
            self.messages.setdefault(self._dm_for(channel) or channel, []).append(message)
            return copy.deepcopy(message)

    def last_view(self, callback_id: str | None = None) -> dict[str, Any]:
        """The most recently opened, pushed or updated modal (optionally with this callback_id)."""
        with self._lock:
            for view in reversed(list(self.views.values())):
                if view.get("type") == "modal" and callback_id in (None, view.get("callback_id")):
                    return copy.deepcopy(view)
        raise AssertionError(
            f"no modal{' ' + callback_id if callback_id else ''} was opened.\n" + self._describe_calls()
        )

    def view(self, view_id: str) -> dict[str, Any] | None:
        with self._lock:
            return copy.deepcopy(self.views.get(view_id))

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            view_id = self.home_views.get(user_id)
            return copy.deepcopy(self.views.get(view_id)) if view_id else None

    def file_bytes(self, file_id: str) -> bytes | None:
        with self._lock:
            uploaded = self.files.get(file_id)
            return uploaded.data if uploaded else None

    def locate_action(self, action_id: str, channel: str | None = None) -> dict[str, Any] | None:
        """Find where the bot showed an element with this action_id: the newest message or view.

        Returns {"message": ..., "channel": ...} or {"view": ...}, plus "block_id" and "element";
        used by the driver to build a block_actions payload as Slack would.
        """
        with self._lock:
            places: list[dict[str, Any]] = []
            for channel_id, messages in self.messages.items():
                if channel is None or channel_id in (channel, self._dm_for(channel)):
                    places += [{"message": m, "channel": channel_id} for m in messages]
            places.sort(key=lambda place: float(place["message"]["ts"]))
            places += [{"view": view} for view in self.views.values()]
            for place in reversed(places):
                holder = place.get("message") or place.get("view") or {}
                for block in holder.get("blocks") or []:
                    for element in _elements_of(block):
                        if element.get("action_id") == action_id:
                            return {**place, "block_id": block.get("block_id"), "element": element}
        return None

    # -- the HTTP side -----------------------------------------------------------------------------

    def _add_violation(self, text: str) -> None:
        with self._changed:
            self.violations.append(text)
            self._changed.notify_all()

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        arrived = time.time()
        parts = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        headers = dict(request.headers.items())
        tag: str | None = None
        if parts.path.startswith("/api/"):
            method = parts.path[len("/api/") :]
            try:
                args = self._parse_args(raw, request.headers.get("Content-Type", ""), parts.query)
            except ValueError as error:
                args = {"__raw__": raw.decode("utf-8", "replace")}
                answer = self._reject(method, "invalid_json", [f"the body is not valid JSON: {error}"])
            else:
                answer = self._answer_api(method, args, request.headers.get("Authorization", ""))
        elif parts.path.startswith("/response/"):
            method, tag = RESPONSE_URL, unquote(parts.path[len("/response/") :])
            args, answer = self._answer_response_url(raw)
        elif parts.path.startswith("/upload/"):
            method, tag = UPLOAD_URL, unquote(parts.path[len("/upload/") :])
            args, answer = {"file_id": tag, "size": len(raw)}, self._answer_upload(tag, raw)
        else:
            method, args = f"HTTP {request.command} {parts.path}", {}
            answer = Answer(status=404, text="not_found")
            self._add_violation(
                f"request to an address the double does not serve: {request.command} {request.path}"
            )
        delay = self.faults.latency_for(method)
        if delay:
            time.sleep(delay)
        call = Call(
            method=method,
            args=args,
            headers=headers,
            at=arrived,
            status=0 if answer.drop else answer.status,
            error=answer.error,
            response=answer.body,
            tag=tag,
        )
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        self._send(request, answer)

    @staticmethod
    def _parse_args(raw: bytes, content_type: str, query: str) -> dict[str, Any]:
        args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        if raw:
            kind = content_type.split(";")[0].strip().lower()
            if kind == "application/json":
                body = json.loads(raw.decode("utf-8"))
                if isinstance(body, dict):
                    args.update(body)
                else:
                    args["__body__"] = body
            else:
                # slack_sdk sends params= calls form-encoded; that is also the default for others.
                args.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        return _decode_json_text(args)

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, answer: Answer) -> None:
        if answer.drop:
            # Close without a byte of answer: the client sees "Remote end closed connection".
            request.close_connection = True
            with contextlib.suppress(OSError):
                request.connection.shutdown(socket.SHUT_RDWR)
            return
        if answer.body is not None:
            payload = json.dumps(answer.body).encode("utf-8")
            content_type = "application/json; charset=utf-8"
        else:
            payload = (answer.text or "").encode("utf-8")
            content_type = "text/plain; charset=utf-8"
        request.send_response(answer.status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(payload)))
        for name, value in answer.headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(payload)

    # -- the Web API -----------------------------------------------------------------------------

    def _answer_api(self, method: str, args: dict[str, Any], authorization: str) -> Answer:
        with self._lock:
            fault = self.faults.answer_for(method, args.get("channel") or args.get("channel_id"))
            if fault is not None:
                return fault
            token = authorization.removeprefix("Bearer ").strip() or str(args.get("token") or "")
            problem = (
                self._client_credentials_problem(method, authorization, args)
                if method in CLIENT_CREDENTIAL_METHODS
                else self._token_problem(method, token)
            )
            if problem is not None:
                return problem
            if method not in self.spec.methods:
                return self._reject(
                    method, "unknown_method", [f"{method}: no such method in Slack's Web API"]
                )
            problems = self.spec.check_arguments(method, args)
            if problems:
                return self._reject(method, "invalid_arguments", problems)
            rejection = self._check_content(method, args)
            if rejection is not None:
                return rejection
            if method == "chat.postMessage" and isinstance(args.get("channel"), str):
                limited = self.faults.channel_rate_answer(self._dm_for(args["channel"]) or args["channel"])
                if limited is not None:
                    return limited
            override = self._overrides.get(method)
            handler = self._handlers.get(method)
            try:
                if override is not None:
                    body = override(args)
                elif handler is not None:
                    body = handler(args, token)
                else:
                    return self._reject(
                        method,
                        "not_implemented_by_double",
                        [
                            f"{method} is a Slack method the double does not implement; add it, or "
                            "answer it in the test with double.on(method, handler)"
                        ],
                    )
            except Exception as error:
                # A bug in the double (or in a test's handler) must not look like a network fault.
                self._add_violation(f"{method}: the double failed to answer: {type(error).__name__}: {error}")
                return failure(500, 0, "double_failed")
            # A copy: what the double keeps must not change what a recorded call received.
            return ok(copy.deepcopy(body))

    def _token_problem(self, method: str, token: str) -> Answer | None:
        """Slack's token checks: present, the right kind for the method."""
        if not token:
            return self._reject(method, "not_authed", [f"{method}: no token (Authorization: Bearer ...)"])
        app_level = token.startswith("xapp-")
        if method == "apps.connections.open" and not app_level:
            return self._reject(
                method, "not_allowed_token_type", [f"{method} needs the app-level token (xapp-)"]
            )
        if method != "apps.connections.open" and app_level:
            return self._reject(
                method, "not_allowed_token_type", [f"{method} called with the app-level token"]
            )
        if not app_level and not token.startswith(("xoxb-", "xoxp-")):
            return ok_false("invalid_auth")
        return None

    def _reject(self, method: str, error: str, problems: list[str]) -> Answer:
        """An answer Slack would give to a call it refuses, also recorded as a violation."""
        for problem in problems:
            self._add_violation(problem if problem.startswith(method) else f"{method}: {problem}")
        body: dict[str, Any] = {
            "ok": False,
            "error": error,
            "response_metadata": {"messages": [f"[ERROR] {problem}" for problem in problems]},
        }
        if error == "invalid_blocks":
            body["errors"] = problems
        return Answer(body=body)

    def _check_content(self, method: str, args: dict[str, Any]) -> Answer | None:
        """Block Kit and size checks for the methods that carry messages or views."""
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage"):
            problems = blockkit.check_message_blocks(args.get("blocks"))
            if problems:
                return self._reject(method, "invalid_blocks", problems)
            too_long = blockkit.check_message_text(args.get("text"))
            if too_long:
                return self._reject(method, "msg_too_long", too_long)
            if method != "chat.update" and not any(
                args.get(name) for name in ("text", "blocks", "attachments", "markdown_text")
            ):
                return self._reject(method, "no_text", ["a message needs text, blocks or attachments"])
        elif method.startswith("views.") and "view" in args:
            problems = blockkit.check_view(args["view"], method)
            if problems:
                # Slack reports an invalid view as invalid_arguments, with the details in
                # response_metadata.messages (a message with invalid blocks gets invalid_blocks).
                return self._reject(method, "invalid_arguments", problems)
        if method in ("views.open", "views.push"):
            return self._use_trigger(method, args.get("trigger_id"))
        return None

    def _use_trigger(self, method: str, trigger: Any) -> Answer | None:
        """Triggers the driver issued are valid for 3 seconds and once; unknown ones are accepted."""
        if not isinstance(trigger, str) or trigger not in self._triggers:
            return None
        if trigger in self._used_triggers:
            return self._reject(method, "exchanged_trigger_id", [f"trigger_id {trigger} was already used"])
        age = time.monotonic() - self._triggers[trigger]
        if age > TRIGGER_TTL_SECONDS:
            return self._reject(
                method, "expired_trigger_id", [f"trigger_id used after {age:.1f}s; Slack allows 3s"]
            )
        self._used_triggers.add(trigger)
        return None

    # -- conversations -----------------------------------------------------------------------------

    def _dm_for(self, target: str) -> str | None:
        """The DM channel id for a user id (opened on first use), or None for other ids."""
        if not target.startswith(USER_PREFIXES):
            return None
        return self._open_dm((target,))

    def _open_dm(self, users: tuple[str, ...]) -> str:
        key = frozenset(users)
        if key not in self._dms:
            prefix = "D" if len(key) == 1 else "G"
            dm_id = self._ids.id(prefix)
            self._dms[key] = dm_id
            self.channels[dm_id] = Channel(
                id=dm_id,
                name=f"mpdm-{'--'.join(sorted(key))}" if len(key) > 1 else dm_id,
                members=set(key) | {self.bot_user_id},
                is_im=len(key) == 1,
                is_mpim=len(key) > 1,
                dm_users=tuple(sorted(key)),
            )
        return self._dms[key]

    def _resolve_channel(self, target: Any, *, allow_user: bool) -> tuple[Channel | None, str | None]:
        """(channel, None) or (None, Slack error) for a channel argument."""
        if not isinstance(target, str) or not target:
            return None, "channel_not_found"
        if target.startswith(USER_PREFIXES):
            if not allow_user:
                return None, "channel_not_found"
            return self.channels[self._open_dm((target,))], None
        if target in self.channels:
            return self.channels[target], None
        by_name = [c for c in self.channels.values() if c.name == target.lstrip("#") and not c.is_im]
        if by_name:
            return by_name[0], None
        if self.strict_channels:
            return None, "channel_not_found"
        if target.startswith(CHANNEL_PREFIXES):
            # Permissive default: an unregistered channel id exists and the bot is in it.
            channel = Channel(id=target, name=f"channel-{target.lower()}", members=None)
            self.channels[target] = channel
            return channel, None
        if target.startswith(DM_PREFIXES):
            channel = Channel(id=target, name=target, members=None, is_im=True)
            self.channels[target] = channel
            return channel, None
        return None, "channel_not_found"

    def _postable(
        self, target: Any, *, allow_user: bool = True
    ) -> tuple[Channel | None, dict[str, Any] | None]:
        channel, error = self._resolve_channel(target, allow_user=allow_user)
        if channel is None:
            return None, {"ok": False, "error": error}
        if not channel.is_im and not channel.is_mpim and not channel.bot_is_member:
            return None, {"ok": False, "error": "not_in_channel"}
        return channel, None

    def _find_message(self, channel_id: str, ts: Any) -> dict[str, Any] | None:
        for message in self.messages.get(channel_id, []):
            if message["ts"] == ts:
                return message
        return None

    def _message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "bot_message",
            "ts": ts,
            "text": args.get("text") or args.get("markdown_text") or "",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
        }
        for name in ("blocks", "attachments", "metadata", "thread_ts"):
            if args.get(name):
                message[name] = self._stored(name, args[name])
        return message

    def _stored(self, name: str, value: Any) -> Any:
        """A value as Slack keeps it: a copy (never shared with the recorded call), with ids filled in."""
        if name == "blocks" and isinstance(value, list):
            return self._with_generated_ids(value)
        return copy.deepcopy(value)

    def _with_generated_ids(self, blocks: list[Any]) -> list[Any]:
        """Slack gives every block without a block_id (and every element without an action_id)
        a random one when it stores a message or view; handlers that match on them see those."""
        stored = copy.deepcopy(blocks)
        for block in stored:
            if not isinstance(block, dict):
                continue
            block.setdefault("block_id", f"b{self._ids.next('block_id'):05d}")
            for element in _elements_of(block):
                element.setdefault("action_id", f"a{self._ids.next('action_id'):05d}")
        return stored

    # -- method handlers: each returns the body of an ok answer (or an ok: false body) -------------

    def _auth_test(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        # A token issued by oauth.v2.access belongs to the workspace that installed the app (issue 9).
        team = self.teams.get(self.bot_tokens.get(token, self.team_id)) or {}
        return {
            "url": f"https://{team.get('domain', DEFAULT_TEAM_DOMAIN)}.slack.com/",
            "team": team.get("name", self.team_name),
            "user": BOT_NAME,
            "team_id": team.get("id", self.team_id),
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        channel, error = self._postable(args.get("channel"))
        if channel is None:
            return error or {}
        ts = self._message_ts()
        message = self._message(args, ts)
        self.messages.setdefault(channel.id, []).append(message)
        return {"channel": channel.id, "ts": ts, "message": message}

    def _chat_post_ephemeral(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        channel, error = self._postable(args.get("channel"))
        if channel is None:
            return error or {}
        user = args.get("user")
        if channel.members is not None and user not in channel.members:
            return {"ok": False, "error": "user_not_in_channel"}
        ts = self._message_ts()
        self.ephemeral.append({"channel": channel.id, "user": user, "message": self._message(args, ts)})
        return {"message_ts": ts}

    def _chat_update(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        channel, error = self._postable(args.get("channel"), allow_user=False)
        if channel is None:
            return error or {}
        message = self._find_message(channel.id, args.get("ts"))
        if message is None:
            if self.strict_messages:
                return {"ok": False, "error": "message_not_found"}
            message = self._message({}, str(args.get("ts")))
            self.messages.setdefault(channel.id, []).append(message)
        for name in ("text", "blocks", "attachments", "metadata"):
            if name in args:
                message[name] = self._stored(name, args[name])
        message["edited"] = {"user": self.bot_user_id, "ts": self._message_ts()}
        return {
            "channel": channel.id,
            "ts": message["ts"],
            "text": message.get("text", ""),
            "message": message,
        }

    def _chat_delete(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        channel, error = self._postable(args.get("channel"), allow_user=False)
        if channel is None:
            return error or {}
        message = self._find_message(channel.id, args.get("ts"))
        if message is None and self.strict_messages:
            return {"ok": False, "error": "message_not_found"}
        if message is not None:
            self.messages[channel.id].remove(message)
        return {"channel": channel.id, "ts": args.get("ts")}

    def _chat_get_permalink(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        channel, error = self._resolve_channel(args.get("channel"), allow_user=False)
        if channel is None:
            return {"ok": False, "error": error}
        ts = str(args.get("message_ts", "")).replace(".", "")
        return {
            "channel": channel.id,
            "permalink": f"https://{DEFAULT_TEAM_DOMAIN}.slack.com/archives/{channel.id}/p{ts}",
        }

    def _chat_schedule_message(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        channel, error = self._postable(args.get("channel"))
        if channel is None:
            return error or {}
        try:
            post_at = int(args.get("post_at", 0))
        except (TypeError, ValueError):
            return {"ok": False, "error": "invalid_time"}
        if post_at <= time.time():
            return {"ok": False, "error": "time_in_past"}
        scheduled = {
            "id": self._ids.id("Q"),
            "channel_id": channel.id,
            "post_at": post_at,
            "date_created": int(time.time()),
            "text": args.get("text", ""),
            "message": self._message(args, self._message_ts()),
        }
        self.scheduled.append(scheduled)
        return {
            "channel": channel.id,
            "scheduled_message_id": scheduled["id"],
            "post_at": post_at,
            "message": scheduled["message"],
        }

    def _chat_delete_scheduled_message(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        for scheduled in self.scheduled:
            if scheduled["id"] == args.get("scheduled_message_id"):
                self.scheduled.remove(scheduled)
                return {}
        return {"ok": False, "error": "invalid_scheduled_message_id"}

    def _chat_scheduled_messages_list(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        channel = args.get("channel")
        listed = [
            {key: value for key, value in scheduled.items() if key != "message"}
            for scheduled in self.scheduled
            if channel in (None, "", scheduled["channel_id"])
        ]
        return {"scheduled_messages": listed, "response_metadata": {"next_cursor": ""}}

    def _conversations_open(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        if args.get("channel"):
            channel, error = self._resolve_channel(args["channel"], allow_user=False)
            if channel is None:
                return {"ok": False, "error": error}
            return {"channel": {"id": channel.id}, "no_op": True, "already_open": True}
        users = tuple(sorted({u.strip() for u in str(args.get("users") or "").split(",") if u.strip()}))
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        if len(users) > 8:
            return {"ok": False, "error": "too_many_users"}
        if self.strict_users and any(user not in self.users for user in users):
            return {"ok": False, "error": "user_not_found"}
        existed = frozenset(users) in self._dms
        dm_id = self._open_dm(users)
        channel_body = self.channels[dm_id].as_slack() if args.get("return_im") else {"id": dm_id}
        answer: dict[str, Any] = {"channel": channel_body}
        if existed:
            answer.update({"no_op": True, "already_open": True})
        return answer

    def _conversations_info(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        channel, error = self._resolve_channel(args.get("channel"), allow_user=False)
        if channel is None:
            return {"ok": False, "error": error}
        return {"channel": channel.as_slack()}

    def _conversations_members(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        channel, error = self._resolve_channel(args.get("channel"), allow_user=False)
        if channel is None:
            return {"ok": False, "error": error}
        members = set(channel.members or set())
        if channel.bot_is_member:
            members.add(self.bot_user_id)
        return {"members": sorted(members), "response_metadata": {"next_cursor": ""}}

    def _conversations_join(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        channel, error = self._resolve_channel(args.get("channel"), allow_user=False)
        if channel is None:
            return {"ok": False, "error": error}
        if channel.is_private or channel.is_im or channel.is_mpim:
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        answer: dict[str, Any] = {"channel": channel.as_slack()}
        if channel.bot_is_member:
            answer["warning"] = "already_in_channel"
        channel.bot_is_member = True
        answer["channel"]["is_member"] = True
        return answer

    def _conversations_history(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        channel, error = self._postable(args.get("channel"), allow_user=False)
        if channel is None:
            return error or {}
        top_level = [m for m in self.messages.get(channel.id, []) if m.get("thread_ts") in (None, m["ts"])]
        return {
            **self._page_of(top_level, args),
            # Legacy fields the spec still lists as required in this answer.
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
        }

    def _conversations_replies(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        """A thread: its parent first, then the replies, oldest first (as Slack orders them)."""
        channel, error = self._postable(args.get("channel"), allow_user=False)
        if channel is None:
            return error or {}
        parent = self._find_message(channel.id, args.get("ts"))
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        thread = [parent] + [
            m
            for m in self.messages.get(channel.id, [])
            if m.get("thread_ts") == parent["ts"] and m is not parent
        ]
        return self._page_of(thread, args, newest_first=False)

    def _page_of(
        self, messages: list[dict[str, Any]], args: dict[str, Any], *, newest_first: bool = True
    ) -> dict[str, Any]:
        """One page of a history: `oldest`/`latest` (exclusive unless `inclusive`), `limit`, `cursor`;
        message metadata only with `include_all_metadata`, as Slack does."""
        inclusive = _truthy(args.get("inclusive"))
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")

        def within(ts: float) -> bool:
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        chosen = [m for m in messages if within(float(m["ts"]))]
        if newest_first:
            chosen.reverse()
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        page = copy.deepcopy(chosen[start : start + limit])
        if not _truthy(args.get("include_all_metadata")):
            for message in page:
                message.pop("metadata", None)
        more = start + limit < len(chosen)
        return {
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _message_ts(self) -> str:
        """A message's ts as Slack makes it: the posting time in microseconds, unique and increasing,
        so that `oldest`/`latest` in a history read compare with the clock as they do in Slack."""
        self._last_ts = max(int(time.time() * 1_000_000), self._last_ts + 1)
        return f"{self._last_ts // 1_000_000}.{self._last_ts % 1_000_000:06d}"

    def _store_view(
        self, view: dict[str, Any], *, view_id: str | None = None, user: str | None = None
    ) -> dict[str, Any]:
        view_id = view_id or self._ids.id("V")
        previous = self.views.get(view_id, {})
        stored: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
            "app_installed_team_id": self.team_id,
            "root_view_id": previous.get("root_view_id", view_id),
            "previous_view_id": None,
            "external_id": "",
            "private_metadata": "",
            "callback_id": "",
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{self._ids.next('hash'):08d}",
            "clear_on_close": False,
            "notify_on_close": False,
            **view,
        }
        if isinstance(stored.get("blocks"), list):
            stored["blocks"] = self._with_generated_ids(stored["blocks"])
        if user is not None:
            stored["user_id"] = user
        # Re-insert so that dict order is "most recently shown last" (last_view relies on it).
        self.views.pop(view_id, None)
        self.views[view_id] = stored
        return stored

    def _views_open(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        return {"view": self._store_view(args["view"])}

    def _views_push(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        return {"view": self._store_view(args["view"])}

    def _views_update(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            view_id = next(
                (v["id"] for v in self.views.values() if v.get("external_id") == args["external_id"]), None
            )
        if not view_id or view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        if args.get("hash") and args["hash"] != self.views[view_id]["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        return {"view": self._store_view(args["view"], view_id=view_id)}

    def _views_publish(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        user = str(args.get("user_id"))
        if self.strict_users and user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        current = self.home_views.get(user)
        if current and args.get("hash") and args["hash"] != self.views[current]["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        stored = self._store_view(args["view"], view_id=current, user=user)
        self.home_views[user] = stored["id"]
        return {"view": stored}

    def _users_info(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        user_id = args.get("user")
        if not isinstance(user_id, str) or not user_id.startswith(USER_PREFIXES):
            return {"ok": False, "error": "user_not_found"}
        user = self.users.get(user_id)
        if user is None:
            if self.strict_users:
                return {"ok": False, "error": "user_not_found"}
            # Permissive default: an unregistered but well-formed id is a person with Slack's
            # default locale. Register users (add_user) for anything locale- or team-specific.
            user = User(
                id=user_id,
                team_id=self.team_id,
                name=user_id.lower(),
                real_name=user_id,
                locale="en-US",
                tz="Europe/Amsterdam",
            )
        include_locale = str(args.get("include_locale", "")).lower() in ("true", "1")
        return {"user": user.as_slack(include_locale=include_locale)}

    def _team_info(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        team = self.teams.get(str(args.get("team") or self.team_id))
        if team is None:
            return {"ok": False, "error": "team_not_found"}
        return {
            "team": {
                **team,
                "email_domain": "",
                "icon": {"image_default": True},
                "enterprise_id": None,
            }
        }

    def _reactions_add(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        channel, error = self._postable(args.get("channel"), allow_user=False)
        if channel is None:
            return error or {}
        key = (channel.id, str(args.get("timestamp")), str(args.get("name")))
        if key in self.reactions:
            return {"ok": False, "error": "already_reacted"}
        self.reactions.add(key)
        return {}

    def _files_get_upload_url_external(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        try:
            length = int(args["length"])
        except (KeyError, TypeError, ValueError):
            return {"ok": False, "error": "invalid_arguments"}
        file_id = self._ids.id("F")
        self.files[file_id] = UploadedFile(
            id=file_id, filename=str(args.get("filename")), length=length, alt_txt=args.get("alt_txt")
        )
        return {"upload_url": f"{self.root_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        entries = args.get("files")
        if not isinstance(entries, list) or not entries:
            return {"ok": False, "error": "invalid_arguments"}
        completed: list[dict[str, Any]] = []
        for entry in entries:
            uploaded = self.files.get(str(entry.get("id"))) if isinstance(entry, dict) else None
            if uploaded is None or uploaded.data is None:
                return {"ok": False, "error": "file_not_found"}
            uploaded.title = entry.get("title") or uploaded.filename
            uploaded.channel = args.get("channel_id")
            uploaded.initial_comment = args.get("initial_comment")
            uploaded.completed = True
            completed.append(
                {
                    "id": uploaded.id,
                    "name": uploaded.filename,
                    "title": uploaded.title,
                    "size": len(uploaded.data),
                    "user": self.bot_user_id,
                    "created": int(time.time()),
                }
            )
        return {"files": completed}

    def _apps_connections_open(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        return {"url": self.socket.issue_url()}

    # -- installation in several workspaces (issue 9) ----------------------------------------------

    def _client_credentials_problem(
        self, method: str, authorization: str, args: dict[str, Any]
    ) -> Answer | None:
        """oauth.v2.access: the app's client id and secret, in Basic auth or as arguments."""
        client_id, client_secret = args.get("client_id"), args.get("client_secret")
        if authorization.startswith("Basic "):
            with contextlib.suppress(ValueError, UnicodeDecodeError):
                decoded = base64.b64decode(authorization.removeprefix("Basic ").strip()).decode("utf-8")
                client_id, _, client_secret = decoded.partition(":")
        if not client_id:
            return ok_false("invalid_client_id")
        if self.oauth_client is None:
            return self._reject(
                method, "invalid_client_id", [f"{method}: call double.set_oauth_client(...) first"]
            )
        if client_id != self.oauth_client[0]:
            return ok_false("invalid_client_id")
        if client_secret != self.oauth_client[1]:
            return ok_false("bad_client_secret")
        return None

    def _oauth_v2_access(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        issued = self._oauth_codes.pop(str(args.get("code")), None)  # a code is valid once
        if issued is None:
            return {"ok": False, "error": "invalid_code"}
        team = self.teams[issued["team_id"]]
        bot_token = f"xoxb-{team['id']}-{self._ids.next('bot_token')}-{uuid.uuid4().hex[:16]}"
        self.bot_tokens[bot_token] = team["id"]
        return {
            "access_token": bot_token,
            "token_type": "bot",
            "scope": "commands,chat:write,im:write,users:read",
            "bot_user_id": self.bot_user_id,
            "app_id": self.app_id,
            "team": {"id": team["id"], "name": team["name"]},
            "enterprise": None,
            "authed_user": {"id": issued["installer"]},
            "is_enterprise_install": False,
        }

    # -- the two non-API endpoints -----------------------------------------------------------------

    def _answer_response_url(self, raw: bytes) -> tuple[dict[str, Any], Answer]:
        """Bolt's respond() POSTs JSON here; Slack answers 200 "ok" or a 4xx with the error."""
        try:
            body = json.loads(raw.decode("utf-8") or "{}")
        except ValueError:
            self._add_violation("response_url: body is not JSON")
            return {"__raw__": raw.decode("utf-8", "replace")}, Answer(status=400, text="invalid_payload")
        args = body if isinstance(body, dict) else {"__body__": body}
        with self._lock:
            fault = self.faults.answer_for(RESPONSE_URL, None)
        if fault is not None:
            return args, fault
        for checks, error in (
            (check_response_url_fields(args), "invalid_arguments"),
            (
                blockkit.check_message_blocks(args.get("blocks"))
                + blockkit.check_message_text(args.get("text")),
                "invalid_blocks",
            ),
        ):
            if checks:
                for problem in checks:
                    self._add_violation(f"response_url: {problem}")
                return args, Answer(status=400, text=error)
        return args, Answer(status=200, text="ok")

    def _answer_upload(self, file_id: str, raw: bytes) -> Answer:
        """Step 2 of files_upload_v2: the bytes, POSTed to the URL step 1 handed out."""
        with self._lock:
            fault = self.faults.answer_for(UPLOAD_URL, None)
            if fault is not None:
                return fault
            uploaded = self.files.get(file_id)
            if uploaded is None:
                self._add_violation(f"upload to an unknown file id {file_id}")
                return Answer(status=404, text="not_found")
            if len(raw) != uploaded.length:
                self._add_violation(
                    f"upload of {file_id}: {len(raw)} bytes sent, {uploaded.length} announced as length"
                )
            uploaded.data = raw
        return Answer(status=200, text=f"OK - {len(raw)}")


def _elements_of(block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The interactive elements of a block, wherever Block Kit puts them."""
    for key in ("accessory", "element"):
        element = block.get(key)
        if isinstance(element, dict):
            yield element
    elements = block.get("elements")
    if isinstance(elements, list) and block.get("type") == "actions":
        yield from (element for element in elements if isinstance(element, dict))


def _truthy(value: Any) -> bool:
    """A boolean argument as slack_sdk sends it ("1"/"0", "true"/"false") or as JSON."""
    return value is True or str(value).lower() in ("1", "true")
