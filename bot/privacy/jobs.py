"""The nightly retention run (bot/privacy/retention.py), once across all workers."""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session

from bot.privacy import retention
from bot.runtime import Services
from bot.scheduler import ScheduledJob


def run_retention(session: Session, services: Services, now: datetime) -> None:
    retention.apply(session, periods=services.settings.samen_retention, now=now)


JOBS = [
    ScheduledJob(
        name="retention",
        # At night: after the day's work, before the morning's reminders and check-ins.
        trigger=lambda zone: CronTrigger(hour=2, minute=15, timezone=zone),
        run=run_retention,
        slot_format="%Y-%m-%d",
    ),
]
