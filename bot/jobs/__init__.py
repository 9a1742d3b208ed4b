"""Scheduled jobs: plain functions that read the database and queue outbox rows.

Features add their jobs to `all_jobs()`; the worker schedules each of them.
"""

from __future__ import annotations

from bot.jobs import housekeeping
from bot.scheduler import ScheduledJob


def all_jobs() -> list[ScheduledJob]:
    return [*housekeeping.JOBS]
