"""Prometheus metrics: how fast Slack gets its answer, how the outbox flows, how fast partners acknowledge.

Under gunicorn several worker processes serve /metrics; `samen serve` sets PROMETHEUS_MULTIPROC_DIR so
that every process writes its samples there and any of them can answer a scrape with the sum.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.scheduler import ScheduledJob

SLOW_ACK_SECONDS = 2.5  # Slack gives up at 3 s; over 2.5 s is a warning sign

SLACK_REQUEST_SECONDS = Histogram(
    "samen_slack_request_seconds",
    "Time from receiving a Slack request to answering it (the ack), by kind.",
    ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 3.0, 5.0),
)
SLOW_ACKS = Counter(
    "samen_slack_slow_acks_total", "Slack requests answered after more than 2.5 seconds.", ["kind"]
)
OUTBOX_DELIVERIES = Counter("samen_outbox_deliveries_total", "Messages delivered to Slack.", ["method"])
OUTBOX_FAILURES = Counter(
    "samen_outbox_failures_total", "Failed delivery attempts, by outcome kind and reason.", ["kind", "reason"]
)
BACKUP_ALERT_ACK_SECONDS = Histogram(
    "samen_backup_alert_ack_seconds",
    "Time from raising a backup alert to a partner's acknowledgement (drills included, labelled).",
    ["drill"],
    buckets=(5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600),
)


# Every scheduled job, by name and period, also in a process that runs none: bot.jobs hands its
# `all_jobs` at import (`report_jobs_from`); every process that serves /metrics imports it (bot.worker
# does). The metrics sit in the core, below the features, and import none of them.
_all_jobs: Callable[[], list[ScheduledJob]] | None = None


def report_jobs_from(all_jobs: Callable[[], list[ScheduledJob]]) -> None:
    global _all_jobs
    _all_jobs = all_jobs


class OutboxCollector(Collector):
    """Backlog and the age of the oldest due message, read from the database at scrape time with the
    outbox's own report (bot/outbox/status.py, handed in by bot/probes.py)."""

    def __init__(self, engine: Engine, report: Callable[[Session], Any]) -> None:
        self.engine = engine
        self.report = report

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from bot.db import session_scope

        backlog = GaugeMetricFamily("samen_outbox_backlog", "Messages due now and not yet sent.")
        age = GaugeMetricFamily("samen_outbox_oldest_due_age_seconds", "Age of the oldest due message.")
        failed = GaugeMetricFamily(
            "samen_outbox_failed", "Messages that failed for good, by reason.", labels=["reason"]
        )
        try:
            with session_scope(self.engine) as session:
                current = self.report(session)
        except Exception:
            return  # an unreachable database shows in /readyz; the scrape still answers
        backlog.add_metric([], current.due)
        age.add_metric([], current.oldest_due_age_seconds or 0.0)
        for reason, count in current.failed_by_reason.items():
            failed.add_metric([reason], count)
        yield backlog
        yield age
        yield failed


class ScheduleCollector(Collector):
    """When each scheduled job last succeeded and how often it runs, read from `job_run` at scrape time.

    Only one worker wins a job's slot, so a gauge set by the winner would leave the others wrong: every
    process reads the partnership-wide truth instead (bot/scheduler.py: `last_successes`). The label is
    `scheduled_job`, not `job`, which Prometheus gives its own meaning (the scrape job).
    """

    def __init__(self, engine: Engine, jobs: list[ScheduledJob] | None = None) -> None:
        self.engine = engine
        self.jobs = jobs

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from bot.db import session_scope
        from bot.scheduler import last_successes, period_of

        jobs = self.jobs
        if jobs is None:  # every job: names and periods need no settings
            jobs = _all_jobs() if _all_jobs is not None else []
        period = GaugeMetricFamily(
            "samen_job_period_seconds", "Time between two runs of a scheduled job.", labels=["scheduled_job"]
        )
        last = GaugeMetricFamily(
            "samen_job_last_success_timestamp_seconds",
            "Start of the last successful run of a scheduled job (Unix time); absent if it never succeeded.",
            labels=["scheduled_job"],
        )
        try:
            with session_scope(self.engine, read_only=True) as session:
                succeeded = last_successes(session, jobs)
        except Exception:
            return  # like the outbox gauges: silence here is the alert SamenDatabaseUnreachable
        for job in jobs:
            period.add_metric([job.name], period_of(job).total_seconds())
        for name, moment in succeeded.items():
            last.add_metric([name], moment.timestamp())
        yield period
        yield last


class BuildInfoCollector(Collector):
    """`samen_build_info{version, python} 1`: which release runs where, for dashboards and upgrades."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from bot import __version__

        info = GaugeMetricFamily(
            "samen_build_info", "The running Samen release and Python version.", labels=["version", "python"]
        )
        info.add_metric([__version__, platform.python_version()], 1)
        yield info


def render(
    engine: Engine | None, *, outbox_report: Callable[[Session], Any] | None = None
) -> tuple[bytes, str]:
    """The exposition text for /metrics: this process's (or all processes') samples plus the gauges read
    from the database: the jobs' and, given its report, the outbox's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        process_samples = CollectorRegistry()
        multiprocess.MultiProcessCollector(process_samples)
    else:
        process_samples = REGISTRY
    text = generate_latest(process_samples)
    scrape_time_samples = CollectorRegistry()
    scrape_time_samples.register(BuildInfoCollector())
    if engine is not None:
        if outbox_report is not None:
            scrape_time_samples.register(OutboxCollector(engine, outbox_report))
        scrape_time_samples.register(ScheduleCollector(engine))
    text += generate_latest(scrape_time_samples)
    return text, CONTENT_TYPE_LATEST
