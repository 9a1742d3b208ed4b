"""The weekly digest as a scheduled job: every worker schedules it, one posts it per ISO week."""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session

from bot.config_values import DEFAULT_DIGEST_AT, DigestAt, parse_digest_at
from bot.digest import service
from bot.runtime import Services
from bot.scheduler import ScheduledJob


def run(session: Session, services: Services, now: datetime) -> None:
    service.post_weekly(session, services, now)


def job(at: DigestAt | None = None) -> ScheduledJob:
    """The job at `at` (the setting SAMEN_DIGEST_AT, parsed); without it, at the default day and time."""
    at = at or parse_digest_at(DEFAULT_DIGEST_AT)
    return ScheduledJob(
        name="weekly_digest",
        trigger=lambda zone: CronTrigger(
            day_of_week=at.weekday, hour=at.clock.hour, minute=at.clock.minute, timezone=zone
        ),
        run=run,
        slot_format="%G-W%V",  # once per ISO week, however many workers fire
    )
