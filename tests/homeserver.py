"""A real Synapse homeserver for the suite (issue 18), and a small client that acts as the people in tests.

One Synapse per pytest (xdist worker) process, started on first use by the session-scoped `homeserver`
fixture: SQLite in a temporary directory, one plain-HTTP client listener on loopback, no federation,
registration only through the shared-secret admin API. People are registered with `Homeserver.register`
and act through `MatrixUser` (client-server API v3 over urllib: the tests need no Matrix library, so they
check the bot from the outside exactly as Element would see it).

Not named `synapse*`: `tests/` is on sys.path and that would shadow the synapse package itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

IN_CI = os.environ.get("CI") == "true"
SERVER_NAME = "localhost"
START_TIMEOUT = 90.0  # seconds; a cold start on a busy 2-core CI runner is far below this
CHECKMARK = "\u2705"

# People in tests act faster than any person: every per-user limit far above what a test does. The bot's own
# account gets Synapse's per-user override instead (`Homeserver.bot`), as docs/matrix.md tells operators.
_GENEROUS = {"per_second": 1000, "burst_count": 10000}
_RATE_LIMITS: dict[str, Any] = {
    "rc_message": _GENEROUS,
    "rc_registration": _GENEROUS,
    "rc_login": {"address": _GENEROUS, "account": _GENEROUS, "failed_attempts": _GENEROUS},
    "rc_joins": {"local": _GENEROUS, "remote": _GENEROUS},
    "rc_joins_per_room": _GENEROUS,
    "rc_invites": {"per_room": _GENEROUS, "per_user": _GENEROUS, "per_issuer": _GENEROUS},
    "rc_admin_redaction": _GENEROUS,
    "rc_3pid_validation": _GENEROUS,
    "rc_room_creation": _GENEROUS,
    "rc_presence": {"per_user": _GENEROUS},
    "rc_delayed_event_mgmt": _GENEROUS,
    "rc_profile": _GENEROUS,
    "rc_reports": _GENEROUS,
    "rc_user_directory": _GENEROUS,
    "rc_key_requests": _GENEROUS,
}


class MatrixError(Exception):
    """A client-server API call answered with an error: `status`, Matrix `errcode` and the body."""

    def __init__(self, method: str, path: str, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.errcode = str(body.get("errcode", ""))
        self.body = body
        super().__init__(f"{method} {path}: HTTP {status} {self.errcode} {body.get('error', '')}".strip())


def _call(
    base_url: str,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    query: dict[str, str] | None = None,
    timeout: float = 30,
    retry: bool = True,
) -> dict[str, Any]:
    """One JSON request; waits out M_LIMIT_EXCEEDED as a client should (a few times), raises MatrixError."""
    url = base_url + path + ("?" + urllib.parse.urlencode(query) if query else "")
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    for _attempt in range(10):
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
                return json.loads(raw) if raw else {}
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                answer = json.loads(raw) if raw else {}
            except ValueError:
                answer = {"error": raw[:200].decode(errors="replace")}
            if retry and exc.code == 429 and answer.get("errcode") == "M_LIMIT_EXCEEDED":
                time.sleep(min(float(answer.get("retry_after_ms", 200)) / 1000, 5.0))
                continue
            raise MatrixError(method, path, exc.code, answer) from None
    raise MatrixError(method, path, 429, {"errcode": "M_LIMIT_EXCEEDED", "error": "still limited"})


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


@dataclass
class Homeserver:
    url: str  # http://127.0.0.1:<port>
    server_name: str  # the part after ':' in user ids
    shared_secret: str = field(repr=False, default="")
    directory: Path | None = None
    started_in: float = 0.0  # seconds from spawning Synapse to its first answer
    _bots: dict[str, MatrixUser] = field(default_factory=dict, repr=False)
    _admin: MatrixUser | None = field(default=None, repr=False)

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        query: dict[str, str] | None = None,
        retry: bool = True,
    ) -> dict[str, Any]:
        """One client-server or admin API call; `retry=False` raises M_LIMIT_EXCEEDED instead of waiting."""
        return _call(self.url, method, path, body, token=token, query=query, retry=retry)

    def user_id(self, localpart: str) -> str:
        return f"@{localpart}:{self.server_name}"

    def register(self, localpart: str, *, admin: bool = False, displayname: str | None = None) -> MatrixUser:
        """A new account via the shared-secret admin API, logged in; unique localparts: the caller's job."""
        nonce = self.call("GET", "/_synapse/admin/v1/register")["nonce"]
        password = secrets.token_urlsafe(16)
        mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode()]))
        mac.update(b"\x00" + (b"admin" if admin else b"notadmin"))
        body: dict[str, Any] = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": mac.hexdigest(),
        }
        if displayname is not None:
            body["displayname"] = displayname
        answer = self.call("POST", "/_synapse/admin/v1/register", body)
        return MatrixUser(user_id=answer["user_id"], access_token=answer["access_token"], homeserver=self)

    def admin(self) -> MatrixUser:
        """The server admin account of this homeserver (for admin API calls such as rate-limit overrides)."""
        if self._admin is None:
            self._admin = self.register(f"admin-{uuid.uuid4().hex[:8]}", admin=True)
        return self._admin

    def rate_limit(self, user_id: str, *, messages_per_second: int = 0, burst_count: int = 0) -> None:
        """Synapse's per-user message limit (admin API override_ratelimit); 0 and 0: unlimited. The suite's
        config is generous to everyone, so a test that needs M_LIMIT_EXCEEDED sets a tight one here."""
        self.call(
            "POST",
            f"/_synapse/admin/v1/users/{_q(user_id)}/override_ratelimit",
            {"messages_per_second": messages_per_second, "burst_count": burst_count},
            token=self.admin().access_token,
        )

    def bot(self, localpart: str = "samen") -> MatrixUser:
        """The bot's account (registered once per name) with its rate limits lifted, as operators do it."""
        if localpart not in self._bots:
            user = self.register(localpart, displayname="Samen")
            self.rate_limit(user.user_id)  # unlimited, as docs/matrix.md tells operators
            self._bots[localpart] = user
        return self._bots[localpart]


@dataclass
class MatrixUser:
    user_id: str
    access_token: str = field(repr=False)
    homeserver: Homeserver = field(repr=False)

    # -- plumbing --------------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        query: dict[str, str] | None = None,
        *,
        retry: bool = True,
    ) -> dict[str, Any]:
        return self.homeserver.call(method, path, body, token=self.access_token, query=query, retry=retry)

    def send(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        """Any room event; its event id."""
        path = f"/_matrix/client/v3/rooms/{_q(room_id)}/send/{_q(event_type)}/{uuid.uuid4().hex}"
        return str(self.call("PUT", path, content)["event_id"])

    def sync(self) -> dict[str, Any]:
        """One full sync without waiting (a handful of recent events per room)."""
        sync_filter = {"room": {"timeline": {"limit": 5}, "state": {"lazy_load_members": True}}}
        return self.call(
            "GET", "/_matrix/client/v3/sync", query={"timeout": "0", "filter": json.dumps(sync_filter)}
        )

    # -- rooms -----------------------------------------------------------------------------------------

    def create_room(
        self,
        *,
        name: str | None = None,
        invite: Sequence[str] = (),
        direct: bool = False,
        encrypted: bool = False,
    ) -> str:
        body: dict[str, Any] = {
            "preset": "trusted_private_chat" if direct else "private_chat",
            "invite": list(invite),
            "is_direct": direct,
        }
        if name is not None:
            body["name"] = name
        if encrypted:
            body["initial_state"] = [
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            ]
        room_id = str(self.call("POST", "/_matrix/client/v3/createRoom", body)["room_id"])
        if direct:
            for other in invite:
                self._mark_direct(other, room_id)
        return room_id

    def invite(self, room_id: str, user_id: str) -> None:
        self.call("POST", f"/_matrix/client/v3/rooms/{_q(room_id)}/invite", {"user_id": user_id})

    def join(self, room_id: str) -> None:
        self.call("POST", f"/_matrix/client/v3/join/{_q(room_id)}", {})

    def leave(self, room_id: str) -> None:
        self.call("POST", f"/_matrix/client/v3/rooms/{_q(room_id)}/leave", {})

    def rooms(self) -> list[str]:
        return list(self.call("GET", "/_matrix/client/v3/joined_rooms")["joined_rooms"])

    def invites(self) -> list[str]:
        return list(self.sync().get("rooms", {}).get("invite", {}))

    def state(self, room_id: str, event_type: str, state_key: str = "") -> dict[str, Any] | None:
        """The content of one state event, or None when the room has none."""
        path = f"/_matrix/client/v3/rooms/{_q(room_id)}/state/{_q(event_type)}/{_q(state_key)}"
        try:
            return self.call("GET", path)
        except MatrixError as exc:
            if exc.status == 404:
                return None
            raise

    def members(self, room_id: str) -> dict[str, str]:
        """user id -> membership (join, invite, leave, …)."""
        chunk = self.call("GET", f"/_matrix/client/v3/rooms/{_q(room_id)}/members")["chunk"]
        return {event["state_key"]: event["content"].get("membership", "") for event in chunk}

    # -- direct rooms ----------------------------------------------------------------------------------

    def _direct(self) -> dict[str, list[str]]:
        path = f"/_matrix/client/v3/user/{_q(self.user_id)}/account_data/m.direct"
        try:
            return self.call("GET", path)
        except MatrixError as exc:
            if exc.status == 404:
                return {}
            raise

    def _mark_direct(self, other: str, room_id: str) -> None:
        """Record the DM in m.direct, as Element does; Synapse keeps no other record of which room is a DM."""
        direct = self._direct()
        rooms = direct.setdefault(other, [])
        if room_id not in rooms:
            rooms.append(room_id)
            self.call("PUT", f"/_matrix/client/v3/user/{_q(self.user_id)}/account_data/m.direct", direct)

    def dm_with(self, user_id: str, *, timeout: float = 15) -> str:
        """The direct room with user_id, joined: a known one, or the first is_direct invite from them."""
        deadline = time.monotonic() + timeout
        while True:
            joined = set(self.rooms())
            for room_id in self._direct().get(user_id, []):
                if room_id in joined:
                    return room_id
            for room_id, room in self.sync().get("rooms", {}).get("invite", {}).items():
                for event in room.get("invite_state", {}).get("events", []):
                    if (
                        event.get("type") == "m.room.member"
                        and event.get("state_key") == self.user_id
                        and event.get("sender") == user_id
                        and event.get("content", {}).get("is_direct")
                    ):
                        self.join(room_id)
                        self._mark_direct(user_id, room_id)
                        return room_id
            if time.monotonic() > deadline:
                raise AssertionError(f"no direct room from {user_id} for {self.user_id} within {timeout} s")
            time.sleep(0.1)

    # -- events ----------------------------------------------------------------------------------------

    def say(self, room_id: str, text: str, *, reply_to: str | None = None, thread: str | None = None) -> str:
        """A plain-text message; `reply_to` quotes an event, `thread` posts in the thread of that root."""
        content: dict[str, Any] = {"msgtype": "m.text", "body": text}
        if thread is not None:
            content["m.relates_to"] = {
                "rel_type": "m.thread",
                "event_id": thread,
                "is_falling_back": reply_to is None,
                "m.in_reply_to": {"event_id": reply_to or thread},
            }
        elif reply_to is not None:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        return self.send(room_id, "m.room.message", content)

    def react(self, room_id: str, event_id: str, key: str = CHECKMARK) -> str:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        return self.send(room_id, "m.reaction", content)

    def messages(self, room_id: str, *, limit: int = 50) -> list[dict[str, Any]]:
        """The room's latest events as the server sends them, newest first."""
        answer = self.call(
            "GET", f"/_matrix/client/v3/rooms/{_q(room_id)}/messages", query={"dir": "b", "limit": str(limit)}
        )
        return list(answer.get("chunk", []))

    def event(self, room_id: str, event_id: str) -> dict[str, Any]:
        return self.call("GET", f"/_matrix/client/v3/rooms/{_q(room_id)}/event/{_q(event_id)}")

    def current_content(self, room_id: str, event_id: str) -> dict[str, Any]:
        """An event's content as Element shows it: that of its latest edit (m.replace) by the same sender."""
        original = self.event(room_id, event_id)
        edits = self.call(
            "GET",
            f"/_matrix/client/v1/rooms/{_q(room_id)}/relations/{_q(event_id)}/m.replace",
            query={"limit": "100"},
        )["chunk"]
        by_sender = [edit for edit in edits if edit["sender"] == original["sender"]]
        if not by_sender:
            return dict(original.get("content", {}))
        latest = max(by_sender, key=lambda edit: (edit["origin_server_ts"], edit["event_id"]))
        return dict(latest["content"].get("m.new_content", {}))

    def thread(self, room_id: str, root: str) -> list[dict[str, Any]]:
        """The replies in the thread of `root`, newest first (the root itself not included)."""
        return list(
            self.call(
                "GET",
                f"/_matrix/client/v1/rooms/{_q(room_id)}/relations/{_q(root)}/m.thread",
                query={"limit": "100", "dir": "b"},
            )["chunk"]
        )

    def edit(self, room_id: str, event_id: str, text: str) -> str:
        """Replace the text of one's own message (m.replace), as Element does."""
        return self.send(
            room_id,
            "m.room.message",
            {
                "msgtype": "m.text",
                "body": f"* {text}",
                "m.new_content": {"msgtype": "m.text", "body": text},
                "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
            },
        )

    def wait_for(
        self, room_id: str, predicate: Callable[[dict[str, Any]], bool], *, timeout: float = 15
    ) -> dict[str, Any]:
        """The oldest of the room's latest 200 events that matches (any type, anyone's), polling."""
        deadline = time.monotonic() + timeout
        seen: list[dict[str, Any]] = []
        while True:
            seen = self.messages(room_id, limit=200)
            for event in reversed(seen):
                if predicate(event):
                    return event
            if time.monotonic() > deadline:
                shown = "\n".join(_summary(event) for event in reversed(seen[:40]))
                raise AssertionError(
                    f"no matching event in {room_id} within {timeout} s; latest events:\n{shown}"
                )
            time.sleep(0.1)


def _summary(event: dict[str, Any]) -> str:
    content = event.get("content", {})
    text = (
        content.get("body") or content.get("membership") or content.get("m.relates_to", {}).get("key") or ""
    )
    return f"  {event.get('type')} from {event.get('sender')}: {str(text)[:160]!r}"


# -- the process ---------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_config(directory: Path, database: Path, port: int, shared_secret: str) -> Path:
    from signedjson.key import generate_signing_key, write_signing_keys  # Synapse's own dependency

    # Our own key file: `--generate-keys` would cost a second Synapse start-up (seconds of imports).
    with open(directory / "signing.key", "w") as key_file:
        write_signing_keys(key_file, [generate_signing_key("a_test")])
    log_config = {
        "version": 1,
        "formatters": {"precise": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "formatter": "precise",
                "filename": str(directory / "homeserver.log"),
            }
        },
        "root": {"level": "INFO", "handlers": ["file"]},
        "loggers": {"synapse.storage.SQL": {"level": "WARNING"}},
        "disable_existing_loggers": False,
    }
    (directory / "log.config").write_text(json.dumps(log_config))  # JSON is YAML
    config: dict[str, Any] = {
        "server_name": SERVER_NAME,
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "pid_file": str(directory / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(database)}},
        "log_config": str(directory / "log.config"),
        "media_store_path": str(directory / "media"),
        "signing_key_path": str(directory / "signing.key"),
        "registration_shared_secret": shared_secret,
        "macaroon_secret_key": secrets.token_hex(32),
        "form_secret": secrets.token_hex(32),
        "report_stats": False,
        "enable_registration": False,
        "bcrypt_rounds": 4,  # registering people in tests: Synapse's default of 12 costs ~0.3 s per password
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "use_presence": False,
        "url_preview_enabled": False,
        "enable_metrics": False,
        # Synapse answers an identical /sync (same person, token and filter) from a cache for two minutes by
        # default: people in tests poll with full syncs and must see an invitation the moment it exists.
        "caches": {"sync_response_cache_duration": 0},
        **_RATE_LIMITS,
    }
    path = directory / "homeserver.yaml"
    path.write_text(json.dumps(config, indent=1))
    return path


def _parent_death_signal() -> Callable[[], None] | None:
    """Synapse gets SIGTERM when the thread that started it ends, even by SIGKILL of the pytest worker, so no
    homeserver outlives a run (Linux; start it from a thread that lives as long as it should)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: the child only calls it
    except (OSError, AttributeError):
        return None

    def in_child() -> None:  # pragma: no cover - runs in the child between fork and exec
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return in_child


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _memory_dir() -> str | None:
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


class HomeserverFailed(RuntimeError):
    pass


@contextlib.contextmanager
def running_homeserver(directory: Path | None = None) -> Iterator[Homeserver]:
    """Start a Synapse in `directory` (a new temporary one by default), yield it, stop it."""
    owned = directory is None
    workdir = Path(tempfile.mkdtemp(prefix="homeserver-")) if directory is None else directory
    workdir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    shared_secret = secrets.token_hex(24)
    # Every event Synapse stores is a SQLite commit, fsynced: in memory (tmpfs) where the machine has one.
    database_dir = Path(tempfile.mkdtemp(prefix="samen-homeserver-", dir=_memory_dir()))
    config = _write_config(workdir, database_dir / "homeserver.db", port, shared_secret)
    url = f"http://127.0.0.1:{port}"
    output = open(workdir / "stderr.log", "wb")  # noqa: SIM115 - open for the life of the process
    # Synapse and Twisted are ~1,500 modules: compiled afresh on every start they cost seconds. Their bytecode
    # goes to a cache of our own (the venv stays untouched), kept between runs, even where the environment
    # says PYTHONDONTWRITEBYTECODE (as this machine's does).
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    environment.setdefault(
        "PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "samen-homeserver-pycache")
    )
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "synapse.app.homeserver", "-c", str(config)],
        stdout=output,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=workdir,
        env=environment,
        preexec_fn=_parent_death_signal(),
    )
    try:
        while True:
            if process.poll() is not None:
                raise HomeserverFailed(
                    f"Synapse exited with {process.returncode} while starting:\n"
                    f"{_tail(workdir / 'stderr.log')}\n{_tail(workdir / 'homeserver.log')}"
                )
            try:
                _call(url, "GET", "/_matrix/client/versions", timeout=2)
                break
            except (OSError, MatrixError):
                pass
            if time.monotonic() - started > START_TIMEOUT:
                raise HomeserverFailed(
                    f"Synapse did not answer in {START_TIMEOUT:.0f} s:\n{_tail(workdir / 'homeserver.log')}"
                )
            time.sleep(0.05)
        yield Homeserver(
            url=url,
            server_name=SERVER_NAME,
            shared_secret=shared_secret,
            directory=workdir,
            started_in=time.monotonic() - started,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        output.close()
        shutil.rmtree(database_dir, ignore_errors=True)
        if owned:
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def homeserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Homeserver]:
    """One Synapse for this pytest process, started when a test first asks for it."""
    try:
        context = running_homeserver(tmp_path_factory.mktemp("homeserver"))
        server = context.__enter__()
    except HomeserverFailed as exc:
        if IN_CI:
            pytest.fail(f"Synapse did not start: {exc}", pytrace=False)
        pytest.skip(f"Synapse did not start: {exc}")
    print(f"\nSynapse {server.url} started in {server.started_in:.1f} s")
    # CI prints these (.ci/run): under xdist each worker that needs Synapse starts its own.
    record = os.environ.get("SAMEN_SYNAPSE_STARTS")
    if record:
        with open(record, "a", encoding="utf-8") as starts:
            starts.write(f"Synapse started in {server.started_in:.1f} s\n")
    try:
        yield server
    finally:
        context.__exit__(None, None, None)
