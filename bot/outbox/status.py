"""The outbox as an operator sees it: backlog, the oldest due row, failures by reason; retrying one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import clock
from bot.clock import utcnow
from bot.outbox.models import OutboxLane, OutboxMessage, OutboxStatus


@dataclass
class OutboxReport:
    pending: int
    due: int
    oldest_due: datetime | None
    failed_by_reason: dict[str, int] = field(default_factory=dict)
    sent: int = 0
    # failures by method: chat.postMessage, sms.send, email.send… (an SMS gateway down shows here)
    failed_by_method: dict[str, int] = field(default_factory=dict)
    measured_at: datetime | None = None  # on the clock of the session that counted

    @property
    def oldest_due_age_seconds(self) -> float | None:
        if self.oldest_due is None:
            return None
        return ((self.measured_at or utcnow()) - self.oldest_due).total_seconds()


def report(session: Session) -> OutboxReport:
    now = clock.now(session)
    counts = dict(
        session.exec(select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))).all()
    )
    due = select(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.not_before <= now
    )
    due_count = session.exec(select(func.count()).select_from(due.subquery())).one()
    oldest = session.exec(
        select(func.min(OutboxMessage.not_before)).where(
            OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.not_before <= now
        )
    ).one()
    failures = dict(
        session.exec(
            select(OutboxMessage.last_error, func.count())
            .where(OutboxMessage.status == OutboxStatus.FAILED)
            .group_by(col(OutboxMessage.last_error))
        ).all()
    )
    by_method = dict(
        session.exec(
            select(OutboxMessage.method, func.count())
            .where(OutboxMessage.status == OutboxStatus.FAILED)
            .group_by(col(OutboxMessage.method))
        ).all()
    )
    return OutboxReport(
        pending=counts.get(OutboxStatus.PENDING, 0),
        due=due_count,
        oldest_due=oldest,
        failed_by_reason={str(reason): n for reason, n in failures.items()},
        sent=counts.get(OutboxStatus.SENT, 0),
        failed_by_method={str(method): n for method, n in by_method.items()},
        measured_at=now,
    )


class NotRetryable(Exception):
    pass


def retry(session: Session, message_id: int) -> OutboxMessage:
    """Queue a failed row again, after its cause was fixed (a channel the bot was invited to, say)."""
    row = session.get(OutboxMessage, message_id)
    if row is None:
        raise NotRetryable(f"no outbox message {message_id}")
    if row.status != OutboxStatus.FAILED:
        raise NotRetryable(f"outbox message {message_id} is {row.status}, not failed")
    row.status = OutboxStatus.PENDING
    row.not_before = clock.now(session)
    row.attempts = 0
    row.created_at = clock.now(session)  # restart the give-up clock
    session.add(row)
    lane = session.get(OutboxLane, row.lane)
    if lane is not None:
        lane.next_at = clock.now(session)
        session.add(lane)
    return row
