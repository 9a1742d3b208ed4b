"""The dispatcher: sends due outbox rows through the chat seam (`bot.chat.Chat`), exactly once where it can.

Work is divided by *lane* (a channel, or a person's DM). A worker claims a lane with a lease, sends
the lane's first due row, and releases the lane with the time it may next be sent to. So:
- per-lane order holds (one sender per lane, rows in (priority, id) order);
- the platform's pace (Slack: ~1 message/second/channel) is kept per lane without holding a thread
  while waiting;
- a busy or rate-limited channel never holds up the others;
- a crashed worker's lanes come back when their lease expires; a post that was in flight then (sent to
  the platform, not yet marked sent) is looked for in the conversation before it is sent again
  (`Chat.find_posted`, by the outbox id every post carries), so that people see one copy and later
  updates reach it;
- a worker that is asked to stop finishes its sends and releases its lanes at once;
- an SMS or an e-mail (`sms.send`, `email.send`) goes to the `Courier` the worker was handed for it
  (bot/reach/outbox.py), on the recipient's own lane, with the same outcomes, retries and failures.
Claims use `FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite every transaction is BEGIN IMMEDIATE.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import threading
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import bindparam, func, text
from sqlalchemy.engine import Connection
from sqlmodel import Session, select
from sqlmodel.sql.sqltypes import UTCDateTime

from bot import metrics
from bot.chat import NETWORK_ERRORS, PERMANENT, TRANSIENT, Chat, ChatFailure, Outcome, Sent
from bot.logs import bound
from bot.outbox import OUTSIDE_METHODS, UPLOAD_METHOD
from bot.outbox.models import OutboxLane, OutboxMessage, OutboxStatus
from bot.runtime import Services

logger = logging.getLogger(__name__)

# The platform's clock and ours differ a little: look this much further back than the send began.
RECONCILE_MARGIN = timedelta(seconds=60)


@dataclass(frozen=True)
class DispatcherConfig:
    concurrency: int = 16  # lanes sent to at once by one worker
    lease_seconds: float = 30.0  # a crashed worker's lanes are free again after this
    lane_interval: float = 1.0  # seconds between two messages to one lane (Slack: ~1/s/channel)
    # seconds between two SMS, or two e-mails, to one person (their lane): the per-recipient rate limit
    recipient_interval: float = 1.0
    poll_seconds: float = 1.0  # how often to look for due rows when nothing wakes us
    backoff_base: float = 1.0
    backoff_max: float = 300.0
    give_up_after: timedelta = timedelta(hours=24)  # transient failures for this long: failed, "expired"


# The lanes with something due, not leased by anyone, allowed to be sent to now; urgent ones first.
_CLAIM_SQL = """
UPDATE outbox_lane SET owner = :owner, lease_until = :lease_until
WHERE lane IN (
    SELECT l.lane FROM outbox_lane l
    WHERE (l.lease_until IS NULL OR l.lease_until < :now) AND l.next_at <= :now
      AND l.lane IN (SELECT o.lane FROM outbox o WHERE o.status = 'pending' AND o.not_before <= :now)
    ORDER BY (SELECT MIN(o2.priority) FROM outbox o2
              WHERE o2.lane = l.lane AND o2.status = 'pending' AND o2.not_before <= :now), l.next_at
    LIMIT :limit {lock}
)
RETURNING lane
"""


# The per-message statements, built once: one round trip each, no ORM unit of work. The lane's owner
# is part of every WHERE, so a worker whose lease expired (and whose lane someone else took) finds
# and changes nothing.
_OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]
_LANES = OutboxLane.__table__  # type: ignore[attr-defined]
_FIRST_DUE = (
    select(_OUTBOX)
    .join(_LANES, _LANES.c.lane == _OUTBOX.c.lane)
    .where(
        _OUTBOX.c.lane == bindparam("p_lane"),
        _LANES.c.owner == bindparam("p_owner"),
        _OUTBOX.c.status == OutboxStatus.PENDING,
        _OUTBOX.c.not_before <= bindparam("p_now"),
    )
    .order_by(_OUTBOX.c.priority, _OUTBOX.c.id)
    .limit(1)
)
# `sending_since` keeps the start of the first attempt whose outcome is unknown (a crash, a dropped
# connection): the look-up before the next attempt reaches back to it.
_MARK_SENDING = (
    _OUTBOX.update()
    .where(_OUTBOX.c.id == bindparam("p_id"))
    .values(
        sending_since=func.coalesce(_OUTBOX.c.sending_since, bindparam("p_now")),
        attempts=_OUTBOX.c.attempts + 1,
    )
)
_MARK_SENT = (
    _OUTBOX.update()
    .where(_OUTBOX.c.id == bindparam("p_id"))
    .values(
        status=OutboxStatus.SENT,
        sent_at=bindparam("p_now"),
        sending_since=None,
        last_error=None,
        result_channel=bindparam("p_channel"),
        result_ts=bindparam("p_ts"),
    )
)
_RELEASE = (
    _LANES.update()
    .where(_LANES.c.lane == bindparam("p_lane"), _LANES.c.owner == bindparam("p_owner"))
    .values(owner=None, lease_until=None, next_at=bindparam("p_next_at"))
)
# A stopping worker gives back every lane it still holds, keeping each lane's next_at (Slack's pace).
_RELEASE_ALL = (
    _LANES.update().where(_LANES.c.owner == bindparam("p_owner")).values(owner=None, lease_until=None)
)


class Courier(Protocol):
    """Sends a row that leaves chat (an SMS, an e-mail; bot/reach/outbox.py): composes it at send time
    and raises `ChatFailure` with an `Outcome` in the outbox's terms when it did not go."""

    def deliver(self, row: OutboxMessage) -> Sent: ...


class ReferenceNotReady(Exception):
    """The message this one refers to ($ts_of) is not posted yet: wait, as for a 5xx."""


class ReferenceFailed(Exception):
    """The message this one refers to failed or was cancelled: this one can never be sent."""


class Dispatcher:
    def __init__(
        self,
        services: Services,
        chat: Chat,
        *,
        config: DispatcherConfig | None = None,
        worker_id: str | None = None,
        on_permanent_failure: Any = None,
        couriers: Mapping[str, Courier] | None = None,
    ) -> None:
        self.services = services
        self.chat = chat  # the platform (bot/slack/chat.py); it picks an installation per row's team_id
        # The ways out of chat this worker has, by method (sms.send, email.send); a row of a way it does
        # not have fails as `not_configured`.
        self.couriers: Mapping[str, Courier] = couriers or {}
        self.config = config or DispatcherConfig()
        self.worker_id = worker_id or f"w-{uuid.uuid4().hex[:10]}"
        self.on_permanent_failure = on_permanent_failure
        self._wakeup = services.outbox_wakeup
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="outbox")
        self._busy = 0
        self._busy_lock = threading.Lock()
        self._loop: threading.Thread | None = None
        self._listener: threading.Thread | None = None

    # -- running ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._loop = threading.Thread(target=self._run, name="outbox-dispatcher", daemon=True)
        self._loop.start()
        if self.services.engine.dialect.name == "postgresql":
            self._listener = threading.Thread(target=self._listen, name="outbox-listen", daemon=True)
            self._listener.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Claim nothing more, finish the sends under way, and give back every lane still held, so
        another worker takes them at once rather than after the lease."""
        self._stop.set()
        self._wakeup.set()
        if self._loop:
            self._loop.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=False)
        try:
            self.release_all()
        except Exception:
            logger.warning("could not release the lanes on stopping; their leases will free them")
        if self._listener:
            self._listener.join(timeout)

    def release_all(self) -> int:
        """Release every lane this worker holds; returns how many."""
        with self.services.session() as session:
            result = session.execute(_RELEASE_ALL, {"p_owner": self.worker_id})
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def wake(self) -> None:
        self._wakeup.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wakeup.clear()
            try:
                claimed = self._claim_and_submit()
            except Exception:
                logger.exception("outbox claim failed; trying again")
                claimed = 0
            if claimed == 0 or self._free_slots() == 0:
                self._wakeup.wait(self.config.poll_seconds)

    def _free_slots(self) -> int:
        with self._busy_lock:
            return self.config.concurrency - self._busy

    def _claim_and_submit(self) -> int:
        free = self._free_slots()
        if free <= 0:
            return 0
        lanes = self.claim_lanes(free)
        for lane in lanes:
            with self._busy_lock:
                self._busy += 1
            self._pool.submit(self._send_lane_then_free, lane)
        return len(lanes)

    def _send_lane_then_free(self, lane: str) -> None:
        try:
            self.send_next(lane)
        except Exception:
            logger.exception("sending on lane failed; the lease will free it")
        finally:
            with self._busy_lock:
                self._busy -= 1
            self._wakeup.set()  # a slot is free: look for more work at once

    def run_until_idle(self, max_rounds: int = 10_000) -> int:
        """Send everything due now, in this thread (for tests, benchmarks and `samen outbox flush`)."""
        sent = 0
        for _ in range(max_rounds):
            lanes = self.claim_lanes(self.config.concurrency)
            if not lanes:
                break
            for lane in lanes:
                sent += self.send_next(lane)
        return sent

    # -- claiming --------------------------------------------------------------------------------
    def claim_lanes(self, limit: int) -> list[str]:
        now = self.services.clock.now()
        lock = "FOR UPDATE OF l SKIP LOCKED" if self.services.engine.dialect.name == "postgresql" else ""
        with self.services.session() as session:
            claim = text(_CLAIM_SQL.format(lock=lock)).bindparams(
                bindparam("now", type_=UTCDateTime()), bindparam("lease_until", type_=UTCDateTime())
            )
            rows = session.execute(
                claim,
                {
                    "owner": self.worker_id,
                    "lease_until": now + timedelta(seconds=self.config.lease_seconds),
                    "now": now,
                    "limit": limit,
                },
            ).all()
        return [row[0] for row in rows]

    # -- sending one row -------------------------------------------------------------------------
    def send_next(self, lane: str) -> int:
        """Send the lane's first due row, record the outcome, release the lane. 1 if delivered."""
        claimed = self._mark_sending(lane)
        if claimed is None:
            self._release(lane, next_at=self.services.clock.now())
            return 0
        row, unsure_since = claimed
        with bound(outbox_id=row.id, method=row.method):
            try:
                sent = self._posted_before(row, unsure_since) if unsure_since else None
                if sent is None:
                    sent = self._call(row)
            except Exception as error:
                outcome = classify(error)
                metrics.OUTBOX_FAILURES.labels(outcome.kind, outcome.reason[:60]).inc()
                # Still unsure whether the platform has it: look again before the next attempt.
                unsure = outcome.maybe_delivered or unsure_since is not None
                self._record_failure(row, outcome, unsure=unsure)
                return 0
            self._record_sent(row, sent)
            metrics.OUTBOX_DELIVERIES.labels(row.method).inc()
            return 1

    def _mark_sending(self, lane: str) -> tuple[OutboxMessage, datetime | None] | None:
        """The lane's first due row, marked as being sent, with the start of an earlier attempt whose
        outcome is unknown (a worker that died mid-call, a dropped connection), if there was one."""
        now = self.services.clock.now()
        with self.services.session() as session:
            found = session.execute(
                _FIRST_DUE, {"p_lane": lane, "p_owner": self.worker_id, "p_now": now}
            ).first()
            if found is None:
                return None  # nothing due, or our lease expired and someone else took the lane
            row = OutboxMessage(**found._mapping)
            unsure_since = row.sending_since
            session.execute(_MARK_SENDING, {"p_id": row.id, "p_now": now})
            row.sending_since = unsure_since or now
            row.attempts += 1
            return row, unsure_since

    def _call(self, row: OutboxMessage) -> Sent:
        """The row's call on the chat seam. The row names it as Slack's Web API method (`method`, kept
        as it was written), with its arguments; each maps onto one call of `Chat`. An SMS or an e-mail
        goes to its way's courier instead."""
        if row.method in OUTSIDE_METHODS:
            courier = self.couriers.get(row.method)
            if courier is None:
                raise ChatFailure(Outcome(PERMANENT, "not_configured"))
            return courier.deliver(row)
        args = self._resolve_references(json.loads(row.args))
        if row.template:
            context = json.loads(row.context) if row.context else {}
            rendered = self.services.renderer.render(
                row.template, row.language or self.services.settings.samen_language, **context
            )
            args = {**args, **rendered}
        team = row.team_id
        channel = str(args.pop("channel", "") or "")
        if row.method == "chat.postMessage":
            thread = args.pop("thread_ts", None)
            return self.chat.post(channel, args, thread=thread, outbox_id=row.id, team=team)
        if row.method == "chat.update":
            return self.chat.update(channel, str(args.pop("ts", "")), args, team=team)
        if row.method == UPLOAD_METHOD:  # a file (bot.outbox.upload_file)
            return self.chat.upload_file(
                channel,
                base64.b64decode(args["content_base64"]),
                filename=args["filename"],
                title=args["title"],
                alt_text=args.get("alt_txt"),
                thread=args.get("thread_ts"),
                team=team,
            )
        if row.method == "chat.delete":
            self.chat.delete(channel, str(args.get("ts", "")), team=team)
            return Sent(channel, None)
        raise ChatFailure(Outcome(PERMANENT, "unknown_method"))

    # -- a post that may have been made already ----------------------------------------------------
    def _posted_before(self, row: OutboxMessage, since: datetime) -> Sent | None:
        """The post the platform already has for this row, or None: send it.

        Asks the chat for a message of ours carrying this row's id, from shortly before the earlier
        attempt began. Where the platform cannot say (Slack without the history scopes) it answers
        None and the row is sent again, as before this look-up existed.
        """
        if row.method != "chat.postMessage" or row.id is None:
            return None  # updates are idempotent; a file in flight at a crash may arrive twice
        args = self._resolve_references(json.loads(row.args))
        found = self.chat.find_posted(
            str(args.get("channel") or ""),
            outbox_id=row.id,
            since=since - RECONCILE_MARGIN,
            thread=args.get("thread_ts"),
            team=row.team_id,
        )
        if found is None:
            logger.info("outbox row %s: not found after an unfinished attempt; sending it", row.id)
            return None
        logger.info(
            "outbox row %s was posted before the attempt was cut off; recorded, not sent again", row.id
        )
        return found

    def _resolve_references(self, args: dict[str, Any]) -> dict[str, Any]:
        """Fill `{"$ts_of": key}` arguments with the ts of the message queued under that key."""
        wanted = {
            name: value["$ts_of"]
            for name, value in args.items()
            if isinstance(value, dict) and "$ts_of" in value
        }
        if not wanted:
            return args
        with self.services.session() as session:
            for name, key in wanted.items():
                referred = session.exec(select(OutboxMessage).where(OutboxMessage.key == key)).first()
                if referred is None or referred.status in (OutboxStatus.FAILED, OutboxStatus.CANCELLED):
                    raise ReferenceFailed(f"reference_{'missing' if referred is None else referred.status}")
                if referred.status != OutboxStatus.SENT or not referred.result_ts:
                    raise ReferenceNotReady("reference_not_sent_yet")
                args[name] = referred.result_ts
        return args

    def _record_sent(self, row: OutboxMessage, sent: Sent) -> None:
        now = self.services.clock.now()
        with self.services.session() as session:
            session.execute(
                _MARK_SENT,
                {
                    "p_id": row.id,
                    "p_now": now,
                    "p_channel": sent.channel,
                    "p_ts": sent.message,
                },
            )
            # Slack paces chat.postMessage at ~1 a second per channel; a file (files_upload_v2, Tier 4 per
            # workspace) is not counted there, so what follows a file need not wait (a digest's charts).
            pause = 0.0 if row.method == UPLOAD_METHOD else self.config.lane_interval
            if row.method in OUTSIDE_METHODS:  # a person's own lane: their rate limit
                pause = self.config.recipient_interval
            self._release_in(session, row.lane, next_at=now + timedelta(seconds=pause))

    def _record_failure(self, row: OutboxMessage, outcome: Outcome, *, unsure: bool = False) -> None:
        now = self.services.clock.now()
        with self.services.session() as session:
            stored = session.get(OutboxMessage, row.id)
            if stored is None:
                return
            # Unsure whether the platform carried it out: keep when that attempt began, for the look-up.
            stored.sending_since = row.sending_since if unsure and outcome.kind != "permanent" else None
            stored.last_error = outcome.reason
            expired = now - stored.created_at > self.config.give_up_after
            if outcome.kind == "permanent" or expired:
                stored.status = OutboxStatus.FAILED
                if expired and outcome.kind != "permanent":
                    stored.last_error = f"expired: {outcome.reason}"[:255]
                session.add(stored)
                self._release_in(session, row.lane, next_at=now)
                logger.warning("outbox row %s failed for good: %s", stored.id, stored.last_error)
                if self.on_permanent_failure is not None:
                    self.on_permanent_failure(session, stored)
                return
            if outcome.kind == "retry_after":
                wait = outcome.retry_after or 1.0
            else:
                wait = min(self.config.backoff_max, self.config.backoff_base * 2 ** (stored.attempts - 1))
                wait = random.uniform(wait / 2, wait)  # noqa: S311  (jitter, not security)
            session.add(stored)
            # The lane waits, not the row: the rows behind it keep their order.
            self._release_in(session, row.lane, next_at=now + timedelta(seconds=wait))
            logger.info("outbox row %s: %s; lane waits %.1fs", stored.id, outcome.reason, wait)

    def _release(self, lane: str, *, next_at: datetime) -> None:
        with self.services.session() as session:
            self._release_in(session, lane, next_at=next_at)

    def _release_in(self, session: Session, lane: str, *, next_at: datetime) -> None:
        session.execute(_RELEASE, {"p_lane": lane, "p_owner": self.worker_id, "p_next_at": next_at})

    # -- PostgreSQL wake-ups -----------------------------------------------------------------------
    def _listen(self) -> None:
        """LISTEN for urgent rows committed by other processes (web servers), and wake at once."""
        from bot.outbox import NOTIFY_CHANNEL

        while not self._stop.is_set():
            try:
                with self.services.engine.connect() as connection:
                    self._listen_on(connection, NOTIFY_CHANNEL)
            except Exception:
                logger.warning("outbox LISTEN connection lost; reconnecting", exc_info=True)
                self._stop.wait(1.0)

    def _listen_on(self, connection: Connection, channel: str) -> None:
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.autocommit = True
        raw.execute(f"LISTEN {channel}")
        while not self._stop.is_set():
            for _notify in raw.notifies(timeout=1.0):
                self._wakeup.set()


def classify(error: BaseException) -> Outcome:
    """What a failed attempt means for its row: the chat's own outcome, or one of the outbox's."""
    if isinstance(error, ChatFailure):
        return error.outcome
    if isinstance(error, ReferenceNotReady):
        return Outcome(TRANSIENT, str(error))
    if isinstance(error, ReferenceFailed):
        return Outcome(PERMANENT, str(error))
    if isinstance(error, NETWORK_ERRORS):
        return Outcome(TRANSIENT, type(error).__name__, maybe_delivered=True)
    return Outcome(PERMANENT, type(error).__name__)
