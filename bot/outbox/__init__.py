"""Queueing messages that must arrive: one row per message, in the caller's transaction.

Only the immediate answer to the person who acted is sent directly; every alert, reminder, prompt
and digest goes through here, so that a crash, a 429 or a second worker never loses or doubles it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import event, text, update
from sqlmodel import Session, col

from bot import clock
from bot.db import insert_for
from bot.outbox.models import KEY_LENGTH, OutboxLane, OutboxMessage, OutboxStatus, Priority

NOTIFY_CHANNEL = "samen_outbox"
WAKE_KEY = "wake_outbox"  # session.info key: a callable that wakes this process's dispatcher

__all__ = [
    "EMAIL_METHOD",
    "OUTSIDE_METHODS",
    "SMS_METHOD",
    "OutboxMessage",
    "OutboxStatus",
    "Priority",
    "cancel",
    "enqueue",
    "enqueue_many",
    "post_message",
    "send_dm",
    "ts_of",
    "upload_file",
]

# The outbox method of a file upload: sent by the dispatcher through `client.files_upload_v2` (the three
# steps files.getUploadURLExternal, the upload, files.completeUploadExternal), not as one Web API call.
UPLOAD_METHOD = "files.upload_v2"

# Messages that leave chat (issue 19, bot/reach): an SMS and an e-mail are rows like any other, on a lane
# of their own per recipient (a keyed hash of the number or address, never the number or address), sent
# by a `Courier` the entry point hands the dispatcher. Their `args` name who, which way and about what;
# the address and the text are composed at send time.
SMS_METHOD = "sms.send"
EMAIL_METHOD = "email.send"
OUTSIDE_METHODS = (SMS_METHOD, EMAIL_METHOD)


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
    team_id: str | None = None,
) -> bool:
    """Queue one message; False when a message with this key was queued before (nothing changes).

    `team_id`: the workspace whose installation sends it, when Samen is installed in several
    (bot/slack/workspaces/); leave it None for the person's own workspace (DMs) or the home workspace.
    """
    values = _row(
        now=clock.now(session),
        key=key,
        method=method,
        lane=lane,
        args=args,
        priority=priority,
        not_before=not_before,
        template=template,
        language=language,
        context=context,
        ref=ref,
        team_id=team_id,
    )
    insert = insert_for(session.get_bind().dialect.name)
    result = session.execute(
        insert(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(OutboxMessage.id)
    )
    if result.first() is None:
        return False
    session.execute(
        insert(OutboxLane)
        .values(lane=lane, next_at=clock.now(session))
        .on_conflict_do_nothing(index_elements=["lane"])
    )
    if priority <= Priority.URGENT:
        _wake_on_commit(session)
    return True


def enqueue_many(session: Session, messages: Iterable[dict[str, Any]]) -> int:
    """Queue many messages in a few statements instead of two per message (a backup alert queues
    hundreds: its fan-out and every escalation). Each item holds `enqueue`'s keyword arguments; a key
    queued before is skipped, as by `enqueue`. Returns how many were queued."""
    now = clock.now(session)
    rows: dict[str, dict[str, Any]] = {}
    for message in messages:
        row = _row(now=now, **message)
        rows.setdefault(row["key"], row)
    if not rows:
        return 0
    insert = insert_for(session.get_bind().dialect.name)
    messages_table, lanes_table = OutboxMessage.__table__, OutboxLane.__table__  # type: ignore[attr-defined]
    # One statement executed for many rows: compiled once, sent as multi-row INSERTs by SQLAlchemy.
    connection = session.connection()
    inserted = {
        found[0]
        for found in connection.execute(
            insert(messages_table)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(messages_table.c.key),
            list(rows.values()),
        ).all()
    }
    queued = [row for row in rows.values() if row["key"] in inserted]
    if not queued:
        return 0
    connection.execute(
        insert(lanes_table).on_conflict_do_nothing(index_elements=["lane"]),
        [{"lane": lane, "next_at": now} for lane in sorted({row["lane"] for row in queued})],
    )
    if any(row["priority"] <= Priority.URGENT for row in queued):
        _wake_on_commit(session)
    return len(queued)


def _row(
    *,
    now: datetime,
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
    team_id: str | None = None,
) -> dict[str, Any]:
    """The outbox row `enqueue` writes for these arguments."""
    return {
        "key": key[:KEY_LENGTH],
        "priority": int(priority),
        "method": method,
        "lane": lane,
        "team_id": team_id,
        "args": json.dumps(args, ensure_ascii=False),
        "template": template,
        "language": language,
        "context": json.dumps(context, ensure_ascii=False, default=str) if context is not None else None,
        "not_before": not_before or now,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "ref": ref,
        "created_at": now,
    }


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
    team_id: str | None = None,
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
        team_id=team_id,
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
    team_id: str | None = None,
) -> bool:
    """Queue a direct message: posting to a user id opens the bot's DM with that person.

    `team_id` is the person's workspace (their `(team_id, user_id)`); without it the dispatcher looks
    the person up among the members and known people.
    """
    return post_message(
        session,
        key=key,
        channel=user_id,
        message=message,
        priority=priority,
        not_before=not_before,
        ref=ref,
        team_id=team_id,
    )


def upload_file(
    session: Session,
    *,
    key: str,
    channel: str,
    filename: str,
    title: str,
    content: bytes,
    alt_text: str | None = None,
    priority: int = Priority.NORMAL,
    not_before: datetime | None = None,
    ref: str | None = None,
    team_id: str | None = None,
) -> bool:
    """Queue a file (e.g. a chart) for a channel; the bytes travel in the row, base64-encoded.

    Keep files small (a chart is tens of kilobytes): the row holds them until it is sent. It shares the
    channel's lane, so it arrives after the messages queued before it for that channel.
    """
    args: dict[str, Any] = {
        "channel": channel,
        "filename": filename,
        "title": title,
        "content_base64": base64.b64encode(content).decode("ascii"),
    }
    if alt_text:
        args["alt_txt"] = alt_text
    return enqueue(
        session,
        key=key,
        method=UPLOAD_METHOD,
        lane=channel,
        args=args,
        priority=priority,
        not_before=not_before,
        ref=ref,
        team_id=team_id,
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
