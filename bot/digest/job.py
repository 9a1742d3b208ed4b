"""The weekly digest as a scheduled job: every worker schedules it, one posts it per ISO week."""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session

from bot.digest import service
from bot.digest.timing import DEFAULT_DIGEST_AT, parse_digest_at
from bot.runtime import Services
from bot.scheduler import ScheduledJob


def run(session: Session, services: Services, now: datetime) -> None:
    service.post_weekly(session, services, now)


def job(digest_at: str = DEFAULT_DIGEST_AT) -> ScheduledJob:
    at = parse_digest_at(digest_at)
    return ScheduledJob(
        name="weekly_digest",
        trigger=lambda zone: CronTrigger(
            day_of_week=at.weekday, hour=at.clock.hour, minute=at.clock.minute, timezone=zone
        ),
        run=run,
        slot_format="%G-W%V",  # once per ISO week, however many workers fire
    )
