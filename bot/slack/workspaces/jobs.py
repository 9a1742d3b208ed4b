"""Housekeeping for installations: install attempts never completed leave a state row; forget them."""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session

from bot.runtime import Services
from bot.scheduler import ScheduledJob
from bot.slack.workspaces.service import forget_expired_states


def purge_oauth_states(session: Session, _services: Services, now: datetime) -> None:
    forget_expired_states(session, now=now)


JOBS = [
    ScheduledJob(
        name="purge_oauth_states",
        trigger=lambda zone: CronTrigger(hour=3, minute=40, timezone=zone),
        run=purge_oauth_states,
        slot_format="%Y-%m-%d",
    ),
]
