"""Housekeeping: forget Slack event ids once Slack can no longer retry them."""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session, col, delete

from bot.outbox.models import ProcessedEvent
from bot.runtime import Services
from bot.scheduler import ScheduledJob

# Slack retries an event three times within about an hour; a day is ample.
KEEP_EVENT_IDS = timedelta(days=1)


def purge_processed_events(session: Session, _services: Services, now: datetime) -> None:
    session.execute(delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < now - KEEP_EVENT_IDS))


JOBS = [
    ScheduledJob(
        name="purge_processed_events",
        trigger=lambda zone: CronTrigger(hour=3, minute=30, timezone=zone),
        run=purge_processed_events,
        slot_format="%Y-%m-%d",
    ),
]
