"""Scheduled jobs: plain functions that read the database and queue outbox rows.

Features add their jobs to `all_jobs()`; the worker schedules each of them.
"""

from __future__ import annotations

from bot import metrics
from bot.checkins import jobs as checkin_jobs
from bot.config import Settings
from bot.digest import job as digest_job
from bot.interventions import reminders as intervention_reminders
from bot.jobs import housekeeping
from bot.privacy import jobs as privacy_jobs
from bot.scheduler import ScheduledJob
from bot.slack.workspaces import jobs as workspace_jobs


def all_jobs(settings: Settings | None = None) -> list[ScheduledJob]:
    """Every job; `settings` for those whose timing is configured (without: their defaults)."""
    digest = digest_job.job(settings.samen_digest_at) if settings else digest_job.job()
    return [
        *housekeeping.JOBS,
        digest,
        *intervention_reminders.JOBS,
        *workspace_jobs.JOBS,
        *checkin_jobs.JOBS,
        *privacy_jobs.JOBS,
    ]


# Every process's /metrics reports each job's period and last success: bot.metrics sits below the features
# and reads what it is handed here (every process that serves /metrics imports this module).
metrics.report_jobs_from(all_jobs)
