"""One clock per Services (bot/clock.py) and the harness that moves it (tests/harness.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from harness import Partnership
from sqlmodel import Session, select

from bot import clock
from bot.clock import SYSTEM, SettableClock
from bot.people import Person, remember_profile
from bot.runtime import Services
from bot.scheduler import JobRun, ScheduledJob

MONDAY_9 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # 09:00 in Amsterdam


def test_a_settable_clock_stands_where_it_is_set_and_moves_when_told() -> None:
    fixed = SettableClock(MONDAY_9)
    assert fixed.now() == MONDAY_9
    assert fixed.advance(minutes=90) == MONDAY_9 + timedelta(minutes=90) == fixed.now()
    with pytest.raises(ValueError, match="zone"):
        fixed.set(datetime(2026, 12, 7, 9, 0))
    ticking = SettableClock(MONDAY_9, tick=True)
    assert MONDAY_9 <= ticking.now() < MONDAY_9 + timedelta(seconds=5)


def test_domain_code_and_rows_read_the_clock_of_their_services(services: Services) -> None:
    services.clock = SettableClock(MONDAY_9)
    with services.session() as session:
        assert clock.now(session) == MONDAY_9
        remember_profile(
            session, team_id="T0SAMEN", user_id="U0GEM00001", locale="nl-NL", tz="Europe/Amsterdam"
        )
        session.add(JobRun(job="test", slot="1", worker="w"))  # its started_at: the default factory
    with services.session() as session:
        person = session.get(Person, ("T0SAMEN", "U0GEM00001"))
        run = session.get(JobRun, ("test", "1"))
        assert person is not None and person.updated_at == MONDAY_9
        assert run is not None and run.started_at == MONDAY_9
    outside = Session(services.engine)
    assert clock.now(outside) - SYSTEM.now() < timedelta(seconds=5)  # no clock of its own: the system's
    outside.close()


def test_later_moves_the_clock_and_runs_each_job_when_it_fell_due(partnership: Partnership) -> None:
    ran: list[tuple[datetime, datetime, str]] = []

    def record(session: Session, services: Services, now: datetime) -> None:
        slot = session.exec(select(JobRun.slot).where(JobRun.job == "every_quarter")).all()
        ran.append((now, clock.now(session), max(slot)))

    every_quarter = ScheduledJob(
        name="every_quarter",
        trigger=lambda zone: CronTrigger(minute="0,15,30,45", timezone=zone),
        run=record,
        slot_format="%Y-%m-%dT%H:%M",
    )
    partnership.clock.set(MONDAY_9 + timedelta(minutes=1))
    arrived = partnership.later(minutes=50, jobs=[every_quarter])
    assert [now for now, _, _ in ran] == [MONDAY_9 + timedelta(minutes=m) for m in (15, 30, 45)]
    assert [slot for _, _, slot in ran] == ["2026-12-07T09:15", "2026-12-07T09:30", "2026-12-07T09:45"]
    assert all(now <= seen < now + timedelta(seconds=5) for now, seen, _ in ran)  # on the moved clock
    assert timedelta(0) <= arrived - (MONDAY_9 + timedelta(minutes=51)) < timedelta(seconds=5)
    partnership.later(minutes=10, jobs=[every_quarter])  # 09:51 -> 10:01 local: 10:00 falls due
    assert len(ran) == 4 and ran[-1][2] == "2026-12-07T10:00"


def test_people_say_through_slack(partnership: Partnership) -> None:
    answer = partnership.person("U0STRANGE1").say("help")
    assert answer["response_type"] == "ephemeral"
    assert partnership.deliver() == 0
