"""Periodic jobs that run once per time slot, however many workers run them.

Every worker schedules every job (APScheduler). When a job fires, its run is claimed by inserting
(job, slot) under a unique key in the same transaction as the job's own work: one worker wins, the
others find the slot taken and do nothing. A worker that dies mid-run rolls back its claim with its
work, so the slot is not lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import func, select
from sqlmodel import Field, Session, SQLModel, col

from bot import clock
from bot.clock import utcnow
from bot.db import insert_for
from bot.logs import bound
from bot.runtime import Services

logger = logging.getLogger(__name__)
UTC = ZoneInfo("UTC")


class JobRun(SQLModel, table=True):
    """A periodic job's run for one time slot; the unique key makes it happen once across workers."""

    __tablename__ = "job_run"

    job: str = Field(primary_key=True, max_length=64)
    slot: str = Field(primary_key=True, max_length=64)
    worker: str = Field(max_length=64)
    started_at: datetime = Field(default_factory=utcnow)


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    trigger: Callable[[ZoneInfo], BaseTrigger]  # built with the partnership's time zone
    run: Callable[[Session, Services, datetime], None]  # (session, services, now in UTC)
    slot_format: str  # strftime in the partnership's zone: one run per distinct value


def slot_for(job: ScheduledJob, now_utc: datetime, zone: ZoneInfo) -> str:
    local = now_utc.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
    return local.strftime(job.slot_format)


def claim(session: Session, *, job: str, slot: str, worker: str) -> bool:
    """Claim (job, slot) inside the caller's transaction; False when another worker already has it.

    On PostgreSQL a concurrent claimer waits for the first transaction: if that commits, this one
    finds the row and does nothing; if it rolls back, this one gets the slot.
    """
    insert = insert_for(session.get_bind().dialect.name)
    result = session.execute(
        insert(JobRun)
        .values(job=job, slot=slot, worker=worker, started_at=clock.now(session))
        .on_conflict_do_nothing(index_elements=["job", "slot"])
        .returning(col(JobRun.job))
    )
    return result.first() is not None


def run_once(services: Services, job: ScheduledJob, *, worker: str, now: datetime | None = None) -> bool:
    """Run the job for the slot `now` falls in, unless another worker did; True if this one ran it."""
    now = now or services.clock.now()
    slot = slot_for(job, now, services.settings.timezone)
    with bound(job=job.name, slot=slot), services.session() as session:
        if not claim(session, job=job.name, slot=slot, worker=worker):
            return False
        job.run(session, services, now)
        logger.info("job %s ran for slot %s", job.name, slot)
    return True


# -- when each job last succeeded, for the metrics (bot/metrics.py) -------------------------------------
# A job's claim commits only together with its work, so a row in `job_run` is a run that succeeded;
# reading them at scrape time gives every process the same, partnership-wide answer, whichever
# worker won the slot.


def period_of(job: ScheduledJob) -> timedelta:
    """The time between two consecutive runs of the job (its trigger's next two fire times)."""
    trigger = job.trigger(UTC)
    now = utcnow()
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    return second - first


def last_successes(session: Session, jobs: list[ScheduledJob]) -> dict[str, datetime]:
    """The start of each job's last successful run; jobs that never succeeded are left out."""
    found: dict[str, datetime] = {}
    for job in jobs:
        last = _last_success(session, job)
        if last is not None:
            found[job.name] = last
    return found


def _last_success(session: Session, job: ScheduledJob) -> datetime | None:
    # `job_run` keeps every run; its key (job, slot) makes a range of recent slots cheap to read,
    # whereas the newest `started_at` of all of a minute job's runs would read them all. Slots sort
    # by time (same format, local time first); a day of margin covers any time zone.
    since = slot_for(job, clock.now(session) - 3 * period_of(job) - timedelta(days=1), UTC)
    recent = session.execute(
        select(func.max(col(JobRun.started_at))).where(col(JobRun.job) == job.name, col(JobRun.slot) >= since)
    ).scalar()
    if recent is not None:
        return recent
    # Nothing recent (the job has been failing for a while): its newest slot says since when.
    return session.execute(
        select(col(JobRun.started_at))
        .where(col(JobRun.job) == job.name)
        .order_by(col(JobRun.slot).desc())
        .limit(1)
    ).scalar()
