"""A periodic job runs once per time slot, however many workers fire it at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from conftest import make_settings
from sqlmodel import Session, select

from bot.db import make_engine, upgrade
from bot.jobs import all_jobs
from bot.jobs.housekeeping import purge_processed_events
from bot.outbox import post_message
from bot.outbox.models import OutboxMessage, ProcessedEvent
from bot.runtime import Services
from bot.scheduler import JobRun, ScheduledJob, run_once, slot_for

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def morning_notice(session: Session, _services: Services, now: datetime) -> None:
    post_message(session, key=f"notice:{now:%Y-%m-%d}", channel="C0NOTICE", message={"text": "goedemorgen"})


DAILY = ScheduledJob(
    name="morning_notice",
    trigger=lambda zone: CronTrigger(hour=9, timezone=zone),
    run=morning_notice,
    slot_format="%Y-%m-%d",
)


@pytest.fixture
def scheduled(database_url: str) -> Iterator[Services]:
    upgrade(database_url)
    services = Services.build(make_settings(database_url), engine=make_engine(database_url))
    yield services
    services.engine.dispose()


def test_two_workers_firing_together_run_the_job_once(scheduled: Services) -> None:
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Amsterdam
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def fire(worker: str) -> None:
        barrier.wait()
        results.append(run_once(scheduled, DAILY, worker=worker, now=now))

    threads = [threading.Thread(target=fire, args=(f"worker-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    with scheduled.session() as session:
        assert len(session.exec(select(OutboxMessage)).all()) == 1
        assert len(session.exec(select(JobRun)).all()) == 1


def test_the_next_day_is_a_new_slot(scheduled: Services) -> None:
    monday = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert run_once(scheduled, DAILY, worker="a", now=monday)
    assert not run_once(scheduled, DAILY, worker="b", now=monday + timedelta(minutes=3))
    assert run_once(scheduled, DAILY, worker="b", now=monday + timedelta(days=1))


def test_a_run_that_fails_leaves_its_slot_for_another_try(scheduled: Services) -> None:
    def broken(_session: Session, _services: Services, _now: datetime) -> None:
        raise RuntimeError("database went away mid-job")

    failing = ScheduledJob(name="flaky", trigger=DAILY.trigger, run=broken, slot_format="%Y-%m-%d")
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    with pytest.raises(RuntimeError):
        run_once(scheduled, failing, worker="a", now=now)
    repaired = ScheduledJob(name="flaky", trigger=DAILY.trigger, run=morning_notice, slot_format="%Y-%m-%d")
    assert run_once(scheduled, repaired, worker="b", now=now)


def test_slots_are_counted_in_amsterdam_time_across_daylight_saving() -> None:
    # 23:30 UTC on the last Saturday of March is already Sunday in Amsterdam; 22:30 UTC a day later
    # is Monday 00:30 (summer time): each is its own local day.
    assert slot_for(DAILY, datetime(2026, 3, 28, 23, 30, tzinfo=UTC), AMSTERDAM) == "2026-03-29"
    assert slot_for(DAILY, datetime(2026, 3, 29, 22, 30, tzinfo=UTC), AMSTERDAM) == "2026-03-30"


def test_old_event_ids_are_forgotten(scheduled: Services) -> None:
    now = datetime(2026, 11, 30, 2, 30, tzinfo=UTC)
    with scheduled.session() as session:
        session.add(ProcessedEvent(event_id="Ev-old", received_at=now - timedelta(days=2)))
        session.add(ProcessedEvent(event_id="Ev-new", received_at=now - timedelta(hours=2)))
    with scheduled.session() as session:
        purge_processed_events(session, scheduled, now)
    with scheduled.session() as session:
        assert [e.event_id for e in session.exec(select(ProcessedEvent)).all()] == ["Ev-new"]


def test_every_job_has_a_unique_name() -> None:
    names = [job.name for job in all_jobs()]
    assert len(names) == len(set(names))
