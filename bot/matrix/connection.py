"""One connection to the homeserver per process: mautrix's client on an asyncio loop of its own thread.

Samen's outbox workers, jobs and listeners are threads that call synchronously; mautrix is asyncio. So
the connection owns one event loop in a daemon thread, the client (and its aiohttp session) lives on
that loop, and `run()` hands a coroutine to it from any other thread and waits for the answer. The sync
loop (bot/matrix/front.py) runs on the same loop through `client`'s syncer.

Errors: every call made through `run()` raises `ChatFailure` for what the homeserver or the network
answered (`outcome_of`, below, is the one mapping); anything else is a bug and goes through as it is.

Sending twice is prevented by Matrix itself: a message event is PUT under a transaction id, and the
homeserver answers a repeated PUT with the same access token and transaction id (within its transaction
cache's lifetime; Synapse keeps them for about 30 minutes) with the event it made the first time, instead
of a second event. `send(..., txn_id=...)` takes that id from the caller: MatrixChat derives it from the
outbox row's id and what is sent (`txn_id_for`), so the outbox's retry of the same row after a timeout or a
dropped connection cannot make a twin, even before `find_posted` is asked.

Never logged: the access token, and what a message says. mautrix logs each request's body at DEBUG on
the logger it is given; ours (`bot.matrix.http`) stays at WARNING whatever the root level is.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import json
import logging
import threading
import time
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

import aiohttp
from mautrix.api import HTTPAPI, MediaPath, Method, Path
from mautrix.client import Client
from mautrix.errors import (
    MatrixConnectionError,
    MatrixRequestError,
    MatrixResponseError,
    make_request_error,
)
from mautrix.util.logging import TraceLogger

from bot.chat import (
    MATRIX_ROOM_ID,
    MATRIX_USER_ID,
    NETWORK_ERRORS,
    PERMANENT,
    RETRY_AFTER,
    TRANSIENT,
    ChatFailure,
    Outcome,
)

if TYPE_CHECKING:
    from bot.config import Settings

T = TypeVar("T")

logger = logging.getLogger(__name__)

# mautrix logs request bodies (what people read) at DEBUG: its logger for us never goes below WARNING.
_HTTP_LOG: Final = cast(TraceLogger, logging.getLogger("bot.matrix.http"))
_HTTP_LOG.setLevel(logging.WARNING)

# A homeserver's 429 without a `retry_after_ms`: wait this long, as Slack's default.
DEFAULT_RETRY_AFTER: Final = 1.0
# How long a room found unencrypted stays so in the cache: encryption can be switched on later (never
# off), and the front may tell us sooner (`mark_encrypted`).
UNENCRYPTED_TTL: Final = 300.0
RECENT_PAGE: Final = 100  # events per /messages page


class _HTTP(HTTPAPI):
    """mautrix's HTTPAPI, keeping what a rate-limited answer asks: mautrix's own error classes drop the
    body's `retry_after_ms` (and the Retry-After header), which the outbox needs to wait as asked."""

    async def _send(
        self,
        method: Method,
        url: Any,
        content: Any,
        query_params: dict[str, str],
        headers: dict[str, str],
    ) -> tuple[Any, aiohttp.ClientResponse]:
        request = self.session.request(str(method), url, data=content, params=query_params, headers=headers)
        async with request as response:
            if 200 <= response.status < 300:
                return await response.json(), response
            text = await response.text()
            try:
                body = json.loads(text)
            except ValueError:
                body = None
            if not isinstance(body, dict):
                body = {}
            error = make_request_error(
                http_status=response.status,
                text=text,
                errcode=body.get("errcode"),
                message=body.get("error"),
                unstable_errcode=body.get("org.matrix.msc3848.unstable.errcode"),
            )
            error.retry_after = _retry_after(body, response.headers)  # type: ignore[attr-defined]
            raise error


def _retry_after(body: Mapping[str, Any], headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from a homeserver's answer: `retry_after_ms` in the body (the spec's), else the
    Retry-After header (newer spec versions and proxies)."""
    raw_ms = body.get("retry_after_ms")
    if isinstance(raw_ms, int | float) and not isinstance(raw_ms, bool):
        return max(0.0, raw_ms / 1000)
    header = headers.get("Retry-After")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            return None
    return None


# -- what a failure means ----------------------------------------------------------------------------

# Tokens an operator must replace: keep the message and back off, never lose it.
_REFUSED_CODES: Final = frozenset({"M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_USER_LOCKED", "M_USER_SUSPENDED"})


def outcome_of(error: BaseException) -> Outcome | None:
    """What a failed Matrix call means for the outbox; None when the error is neither the homeserver's
    nor the network's (a bug of ours: the caller lets it through).

    - 429 or `M_LIMIT_EXCEEDED`: RETRY_AFTER "rate_limited", waiting the `retry_after_ms` asked (else 1 s);
    - 401, `M_UNKNOWN_TOKEN`/`M_MISSING_TOKEN`: TRANSIENT with `refused` (an operator fixes the token);
    - 5xx, the network, a timeout, an answer we cannot read: TRANSIENT with `maybe_delivered` (a send may
      have been carried out: the outbox looks before it sends again);
    - any other 4xx: PERMANENT, the errcode as the reason without its `M_` ("forbidden": not in the room,
      "not_found", "invalid_param": a bad room id…), else "http_<status>". Never the server's message:
      the reason is stored and is a metric's label.
    """
    if isinstance(error, ChatFailure):
        return error.outcome
    if isinstance(error, MatrixRequestError):
        status = int(getattr(error, "http_status", 0) or 0)
        code = str(getattr(error, "errcode", None) or "")
        if status == 429 or code == "M_LIMIT_EXCEEDED":
            retry_after = getattr(error, "retry_after", None)
            wait = DEFAULT_RETRY_AFTER if retry_after is None else float(retry_after)
            return Outcome(RETRY_AFTER, "rate_limited", retry_after=wait)
        if code in _REFUSED_CODES or status == 401:
            return Outcome(TRANSIENT, _reason(code, status), refused=True)
        if status >= 500 or status == 0:
            return Outcome(TRANSIENT, f"http_{status}", maybe_delivered=True)
        return Outcome(PERMANENT, _reason(code, status))
    if isinstance(error, (MatrixConnectionError, MatrixResponseError, aiohttp.ClientError, *NETWORK_ERRORS)):
        return Outcome(TRANSIENT, type(error).__name__, maybe_delivered=True)
    return None


def _reason(code: str, status: int) -> str:
    """`M_FORBIDDEN` → "forbidden"; only the errcode's own characters, bounded."""
    cleaned = "".join(c for c in code.lower().removeprefix("m_") if c.isalnum() or c in "_.")[:60]
    return cleaned or f"http_{status}"


def txn_id_for(
    outbox_id: int, room_id: str, content: Mapping[str, Any], event_type: str = "m.room.message"
) -> str:
    """The transaction id of an outbox row's send: the same row sending the same content again gets the
    same id (the homeserver answers with its first event), while another database's row with the same
    number (a test run, a restored backup, within the homeserver's cache time) cannot be mistaken for it."""
    digest = hashlib.sha256(
        json.dumps([room_id, event_type, content], sort_keys=True, default=str).encode()
    ).hexdigest()[:24]
    return f"samen.{outbox_id}.{digest}"


# -- the connection ------------------------------------------------------------------------------------


class MatrixConnection:
    """The bot's account on its homeserver, callable from any thread."""

    def __init__(
        self, homeserver_url: str, user_id: str, access_token: str, *, timeout: float = 10.0
    ) -> None:
        self.homeserver_url = homeserver_url.rstrip("/")
        self.user_id = user_id
        self._token = access_token
        self.timeout = timeout
        self._lock = threading.Lock()  # start/close
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: Client | None = None
        self._direct: dict[str, str] = {}  # person → their DM room with the bot
        self._direct_lock = threading.Lock()  # guards `_direct_locks`
        self._direct_locks: dict[str, threading.Lock] = {}  # one DM room per person, however many threads ask
        self._m_direct_lock: asyncio.Lock | None = None  # made on the loop, where it is used
        # room → the monotonic time it was found unencrypted; inf: encrypted (for good)
        self._encrypted: dict[str, float] = {}

    def __repr__(self) -> str:  # never the token
        return f"MatrixConnection({self.homeserver_url!r}, {self.user_id!r})"

    @classmethod
    def from_settings(cls, settings: Settings) -> MatrixConnection:
        """The bot's account as configured (MATRIX_HOMESERVER_URL, MATRIX_USER_ID, MATRIX_ACCESS_TOKEN)."""
        url, user, token = (
            settings.matrix_homeserver_url,
            settings.matrix_user_id,
            settings.matrix_access_token,
        )
        if not (url and user and token):
            raise ValueError("Matrix needs MATRIX_HOMESERVER_URL, MATRIX_USER_ID and MATRIX_ACCESS_TOKEN")
        return cls(url, user, token)

    # -- the loop --------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the loop's thread and make the client on it (idempotent)."""
        with self._lock:
            if self._client is not None:
                return
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def serve() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            thread = threading.Thread(target=serve, name="matrix-loop", daemon=True)
            thread.start()
            ready.wait()
            # aiohttp's session must be made on the loop it serves.
            client = asyncio.run_coroutine_threadsafe(self._make_client(), loop).result()
            # Only now seen by other threads, all three at once: a thread that found the loop before the
            # client existed would hand it work that starts the connection again on the loop itself,
            # which then waits for this lock for good.
            self._loop, self._thread, self._client = loop, thread, client

    async def _make_client(self) -> Client:
        session = aiohttp.ClientSession(
            headers={"User-Agent": "Samen " + HTTPAPI.default_ua},
            # No total limit: the sync loop long-polls on this session. Each call is bounded by `run`.
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.timeout),
        )
        api = _HTTP(self.homeserver_url, self._token, client_session=session, log=_HTTP_LOG)
        return Client(mxid=self.user_id, api=api)

    @property
    def client(self) -> Client:
        """mautrix's client (the front runs its syncer); started on first use."""
        if self._client is None:
            self.start()
        assert self._client is not None
        return self._client

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self.start()
        assert self._loop is not None
        return self._loop

    def close(self) -> None:
        """Stop syncing, close the session, stop the loop's thread."""
        with self._lock:
            loop, thread, client = self._loop, self._thread, self._client
            self._loop = self._thread = self._client = None
        if loop is None or client is None:
            return

        async def shut() -> None:
            with contextlib.suppress(Exception):  # the syncer was never started
                client.stop()
            await client.api.session.close()

        try:
            asyncio.run_coroutine_threadsafe(shut(), loop).result(self.timeout)
        except Exception:
            logger.warning("the Matrix session did not close cleanly", exc_info=False)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(self.timeout)
        if not loop.is_running():
            loop.close()

    def run(self, coro: Coroutine[Any, Any, T], *, timeout: float | None = None) -> T:
        """Run `coro` on the connection's loop and wait for it (at most `timeout`, default the
        connection's); the homeserver's and the network's errors as `ChatFailure`. Not from the loop's own
        thread: it would wait on itself (code on the loop awaits the coroutine instead)."""
        loop = self.loop
        if self._thread is not None and threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("MatrixConnection.run() called on its own loop; await the coroutine instead")
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result(self.timeout if timeout is None else timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ChatFailure(Outcome(TRANSIENT, "timeout", maybe_delivered=True)) from None
        except Exception as error:
            outcome = outcome_of(error)
            if outcome is None:
                raise
            raise ChatFailure(outcome) from None

    async def request(
        self,
        method: Method,
        path: Any,
        content: Any = None,
        *,
        query: Mapping[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """A raw client-server API call on the loop (the answer's JSON as it came: Samen keeps raw events,
        which carry its own fields such as `nl.samen.outbox_id`, untouched by mautrix's types)."""
        return await self.client.api.request(method, path, content, query_params=query, headers=headers)

    def _call(self, method: Method, path: Any, content: Any = None, **kwargs: Any) -> Any:
        return self.run(self.request(method, path, content, **kwargs))

    # -- synchronous helpers -----------------------------------------------------------------------------
    def whoami(self) -> str:
        """The user id the access token belongs to (the start-up check that the token is taken)."""
        return str(self._call(Method.GET, Path.v3.account.whoami)["user_id"])

    def send(
        self,
        room_id: str,
        content: Mapping[str, Any],
        *,
        event_type: str = "m.room.message",
        txn_id: str | None = None,
    ) -> str:
        """Send an event; its id. `txn_id`: see the module's note (a retried send under the same id is one
        event); without one, a fresh id per call."""
        _check_room(room_id)
        path = Path.v3.rooms[room_id].send[event_type][txn_id or self.client.api.get_txn_id()]
        return str(self._call(Method.PUT, path, dict(content))["event_id"])

    def get_event(self, room_id: str, event_id: str) -> dict[str, Any]:
        """The raw event (sender, content, unsigned: its relations, such as the newest edit)."""
        _check_room(room_id)
        return dict(self._call(Method.GET, Path.v3.rooms[room_id].event[event_id]))

    def redact(self, room_id: str, event_id: str) -> None:
        """Redact an event; a retried redaction of the same event is one (a transaction id of its own)."""
        _check_room(room_id)
        txn = "samen.redact." + hashlib.sha256(f"{room_id}|{event_id}".encode()).hexdigest()[:24]
        self._call(Method.PUT, Path.v3.rooms[room_id].redact[event_id][txn], {})

    def direct_room(self, user_id: str) -> str:
        """The bot's 1:1 room with `user_id`: one listed for them in the bot's `m.direct` account data that
        both still belong to (the person joined or invited), else a new one (`is_direct`, the person
        invited) recorded in `m.direct`. Cached; a lock per person, so that two threads asking at once make
        one room, while rooms for different people are made side by side (the first alert after a start
        opens many at once; one after the other they took a second each on a busy homeserver). Several
        processes asking at the very same moment may each make one (then both are listed, and the newest
        is used from then on)."""
        if not MATRIX_USER_ID.match(user_id):
            raise ChatFailure(Outcome(PERMANENT, "bad_user_id"))
        found = self._direct.get(user_id)
        if found:
            return found
        with self._direct_lock:
            person_lock = self._direct_locks.setdefault(user_id, threading.Lock())
        with person_lock:
            found = self._direct.get(user_id)
            if found:
                return found
            room = self.run(self._find_or_make_direct(user_id), timeout=self.timeout * 3)
            self._direct[user_id] = room
            return room

    def forget_direct(self, user_id: str) -> None:
        """Forget a cached DM room (the person left it: the next message finds or makes another)."""
        self._direct.pop(user_id, None)

    async def _find_or_make_direct(self, user_id: str) -> str:
        direct = await self._direct_data()
        joined = set((await self.request(Method.GET, Path.v3.joined_rooms)).get("joined_rooms") or [])
        for room in reversed(direct.get(user_id) or []):
            if room in joined and await self._membership(room, user_id) in ("join", "invite"):
                return str(room)
        created = await self.request(
            Method.POST,
            Path.v3.createRoom,
            {"is_direct": True, "invite": [user_id], "preset": "trusted_private_chat"},
        )
        room = str(created["room_id"])
        # m.direct is one document for every person: read, change and write it one at a time (on the loop),
        # or two rooms made side by side would each write over the other's entry.
        if self._m_direct_lock is None:
            self._m_direct_lock = asyncio.Lock()
        async with self._m_direct_lock:
            direct = await self._direct_data()
            rooms = [r for r in direct.get(user_id) or [] if r != room]
            direct[user_id] = [*rooms, room]
            await self.request(Method.PUT, Path.v3.user[self.user_id].account_data["m.direct"], direct)
        return room

    async def _direct_data(self) -> dict[str, list[str]]:
        try:
            data = await self.request(Method.GET, Path.v3.user[self.user_id].account_data["m.direct"])
        except MatrixRequestError as error:
            if getattr(error, "errcode", None) == "M_NOT_FOUND":
                return {}
            raise
        return {k: list(v) for k, v in (data or {}).items() if isinstance(v, list)}

    async def _membership(self, room_id: str, user_id: str) -> str | None:
        try:
            state = await self.request(Method.GET, Path.v3.rooms[room_id].state["m.room.member"][user_id])
        except MatrixRequestError as error:
            if getattr(error, "errcode", None) in ("M_NOT_FOUND", "M_FORBIDDEN"):
                return None
            raise
        return str((state or {}).get("membership") or "") or None

    def join(self, room_id: str) -> None:
        _check_room(room_id)
        self._call(Method.POST, Path.v3.rooms[room_id].join, {})

    def leave(self, room_id: str, reason: str | None = None) -> None:
        _check_room(room_id)
        self._call(Method.POST, Path.v3.rooms[room_id].leave, {"reason": reason} if reason else {})

    def is_encrypted(self, room_id: str) -> bool:
        """Whether the room has `m.room.encryption` state. Cached: an encrypted room for good (it cannot be
        switched off), an unencrypted one for a few minutes (it can be switched on)."""
        _check_room(room_id)
        seen = self._encrypted.get(room_id)
        now = time.monotonic()
        if seen is not None and (seen == float("inf") or now - seen < UNENCRYPTED_TTL):
            return seen == float("inf")
        try:
            self._call(Method.GET, Path.v3.rooms[room_id].state["m.room.encryption"])
            encrypted = True
        except ChatFailure as failure:
            if failure.outcome.reason != "not_found":
                raise
            encrypted = False
        self._encrypted[room_id] = float("inf") if encrypted else now
        return encrypted

    def mark_encrypted(self, room_id: str) -> None:
        """The front saw `m.room.encryption` arrive in a room: so it is, from now on."""
        self._encrypted[room_id] = float("inf")

    def members(self, room_id: str) -> list[str]:
        """The room's joined members."""
        _check_room(room_id)
        data = self._call(Method.GET, Path.v3.rooms[room_id].joined_members)
        return [str(user) for user in (data.get("joined") or {})]

    def display_name(self, user_id: str) -> str | None:
        """The person's display name; None when they have none or nobody has that id."""
        try:
            data = self._call(Method.GET, Path.v3.profile[user_id].displayname)
        except ChatFailure as failure:
            if failure.outcome.reason == "not_found":
                return None
            raise
        name = (data or {}).get("displayname")
        return str(name) if name else None

    def profile(self, user_id: str) -> dict[str, Any] | None:
        """The person's public profile (`displayname`, `avatar_url`); None when nobody has that id."""
        try:
            return dict(self._call(Method.GET, Path.v3.profile[user_id]) or {})
        except ChatFailure as failure:
            if failure.outcome.reason == "not_found":
                return None
            raise

    def upload(self, data: bytes, *, mime: str, filename: str) -> str:
        """Upload a file to the media repository; its `mxc://` uri."""
        answer = self._call(
            Method.POST,
            MediaPath.v3.upload,
            data,
            query={"filename": filename},
            headers={"Content-Type": mime},
        )
        return str(answer["content_uri"])

    def recent(self, room_id: str, *, limit: int, senders: list[str] | None = None) -> list[dict[str, Any]]:
        """Up to `limit` of the room's latest message events, newest first, raw (for `find_posted`);
        `senders`: only theirs (the homeserver filters)."""
        _check_room(room_id)
        events: list[dict[str, Any]] = []
        token: str | None = None
        filter_ = {"types": ["m.room.message"], **({"senders": senders} if senders else {})}
        while len(events) < limit:
            query = {
                "dir": "b",
                "limit": str(min(RECENT_PAGE, limit - len(events))),
                "filter": json.dumps(filter_),
            }
            if token:
                query["from"] = token
            page = self._call(Method.GET, Path.v3.rooms[room_id].messages, query=query)
            chunk = page.get("chunk") or []
            events.extend(dict(event) for event in chunk)
            token = page.get("end")
            if not chunk or not token:
                break
        return events[:limit]


def _check_room(room_id: str) -> None:
    """A room id as the spec writes it, else a permanent failure (and no odd path reaches the server)."""
    if not MATRIX_ROOM_ID.match(room_id or ""):
        raise ChatFailure(Outcome(PERMANENT, "bad_room_id"))
