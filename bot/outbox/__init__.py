"""Queueing messages that must arrive: one row per message, in the caller's transaction.

Only the immediate answer to the person who acted is sent directly; every alert, reminder, prompt
and digest goes through here, so that a crash, a 429 or a second worker never loses or doubles it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import event, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from bot.clock import utcnow
from bot.outbox.models import OutboxLane, OutboxMessage, OutboxStatus, Priority

NOTIFY_CHANNEL = "samen_outbox"
WAKE_KEY = "wake_outbox"  # session.info key: a callable that wakes this process's dispatcher

__all__ = [
    "OutboxMessage",
    "OutboxStatus",
    "Priority",
    "cancel",
    "enqueue",
    "post_message",
    "send_dm",
    "ts_of",
]


def enqueue(
    session: Session,
    *,
    key: str,
    method: str,
    lane: str,
    args: dict[str, Any],
    priority: int = Priority.NORMAL,
    not_before: datetime | None = None,
    template: str | None = None,
    language: str | None = None,
    context: dict[str, Any] | None = None,
    ref: str | None = None,
) -> bool:
    """Queue one message; False when a message with this key was queued before (nothing changes)."""
    values = {
        "key": key[:255],
        "priority": int(priority),
        "method": method,
        "lane": lane,
        "args": json.dumps(args, ensure_ascii=False),
        "template": template,
        "language": language,
        "context": json.dumps(context, ensure_ascii=False, default=str) if context is not None else None,
        "not_before": not_before or utcnow(),
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "ref": ref,
        "created_at": utcnow(),
    }
    insert = _insert_for(session)
    result = session.execute(
        insert(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(OutboxMessage.id)
    )
    if result.first() is None:
        return False
    session.execute(
        insert(OutboxLane).values(lane=lane, next_at=utcnow()).on_conflict_do_nothing(index_elements=["lane"])
    )
    if priority <= Priority.URGENT:
        _wake_on_commit(session)
    return True


def post_message(
    session: Session,
    *,
    key: str,
    channel: str,
    message: dict[str, Any],
    thread_ts: str | None = None,
    priority: int = Priority.NORMAL,
    not_before: datetime | None = None,
    ref: str | None = None,
) -> bool:
    """Queue a chat.postMessage of a rendered message (`{"text": …, "blocks": […]}`) to a channel."""
    args = {"channel": channel, **message}
    if thread_ts:
        args["thread_ts"] = thread_ts
    return enqueue(
        session,
        key=key,
        method="chat.postMessage",
        lane=channel,
        args=args,
        priority=priority,
        not_before=not_before,
        ref=ref,
    )


def send_dm(
    session: Session,
    *,
    key: str,
    user_id: str,
    message: dict[str, Any],
    priority: int = Priority.NORMAL,
    not_before: datetime | None = None,
    ref: str | None = None,
) -> bool:
    """Queue a direct message: posting to a user id opens the bot's DM with that person."""
    return post_message(
        session,
        key=key,
        channel=user_id,
        message=message,
        priority=priority,
        not_before=not_before,
        ref=ref,
    )


def ts_of(key: str) -> dict[str, str]:
    """An argument filled in at send time with the `ts` of the message queued under `key`.

    For `chat.update` of a message posted through the outbox (a live board) and for replies in the
    thread of one (`thread_ts`). Queue it on the same lane after the message it refers to: lanes keep
    their order, so the referred message has been posted by then.
    """
    return {"$ts_of": key}


def cancel(session: Session, *, ref: str) -> int:
    """Cancel every pending message about `ref`; returns how many. Sent messages stay as they are."""
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.ref) == ref, col(OutboxMessage.status) == OutboxStatus.PENDING)
        .values(status=OutboxStatus.CANCELLED)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _insert_for(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _wake_on_commit(session: Session) -> None:
    """Urgent rows leave at once: wake this process's dispatcher, and others' through NOTIFY."""
    if session.get_bind().dialect.name == "postgresql":
        # NOTIFY is transactional: listeners hear it only when (and if) this transaction commits.
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
    wake = session.info.get(WAKE_KEY)
    if wake is not None and not session.info.get("wake_registered"):
        session.info["wake_registered"] = True

        def after_commit(committed: Session) -> None:
            committed.info.pop("wake_registered", None)
            wake()

        event.listen(session, "after_commit", after_commit, once=True)
