"""Goal progress (/samen doelen) counted in one grouped query equals the per-goal count it replaced.

`goals.progress` counts every goal of the year at once (own work UNION ALL named under the goal); here
random partnerships, with interventions on the year's edges, named under goals of other years and
matching a goal both ways, are counted both ways on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.db import make_engine, upgrade
from bot.interventions import goals as goal_service
from bot.interventions.models import Goal, Intervention, InterventionStatus
from bot.partners.models import Partner, PartnerType
from bot.vocabulary import FocusElement, InstrumentType

YEAR = 2026
START = datetime(YEAR, 1, 1, tzinfo=UTC)
END = datetime(YEAR + 1, 1, 1, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    upgrade(database_url)
    built = make_engine(database_url)
    yield built
    built.dispose()


def reference(session: Session, goal: Goal, year: int) -> int:
    """The count as it was: one query per goal, own work OR named under it."""
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    own_work = sa.and_(
        col(Intervention.owner_partner_id) == goal.partner_id,
        col(Intervention.focus_element) == goal.focus_element,
    )
    if goal.instrument_type is not None:
        own_work = sa.and_(own_work, col(Intervention.instrument_type) == goal.instrument_type)
    query = (
        select(func.count())
        .select_from(Intervention)
        .where(
            sa.or_(own_work, col(Intervention.goal_id) == goal.id),
            Intervention.status == InterventionStatus.UITGEVOERD,
            col(Intervention.done_at) >= start,
            col(Intervention.done_at) < end,
        )
    )
    return int(session.exec(query).one())


def fill(session: Session, rng: random.Random) -> None:
    """A few partners (few focus elements, so rules match often), goals of three years, interventions."""
    now = datetime(YEAR, 6, 1, tzinfo=UTC)
    partners = [
        Partner(name=f"Partner {n}", type=rng.choice(list(PartnerType)), created_at=now, updated_at=now)
        for n in range(rng.randint(2, 5))
    ]
    session.add_all(partners)
    session.flush()
    focus = rng.sample(list(FocusElement), 2)
    types = rng.sample(list(InstrumentType), 2)
    goals = [
        Goal(
            partner_id=rng.choice(partners).id or 0,
            focus_element=rng.choice(focus),
            instrument_type=rng.choice([None, *types]),
            description="doel",
            target=rng.randint(1, 20),
            year=rng.choice([YEAR - 1, YEAR, YEAR, YEAR + 1]),
            created_by_team_id="T1",
            created_by_user_id="U1",
            created_at=now,
        )
        for _ in range(rng.randint(3, 15))
    ]
    session.add_all(goals)
    session.flush()
    edges = [
        START,
        START - timedelta(microseconds=1),
        END,
        END - timedelta(microseconds=1),
        START - timedelta(days=3),
        END + timedelta(days=3),
    ]
    for _ in range(rng.randint(50, 250)):
        status = rng.choice([InterventionStatus.UITGEVOERD] * 3 + list(InterventionStatus))
        owner = rng.choice(partners)
        named = rng.choice(goals) if rng.random() < 0.3 else None
        if named is not None and rng.random() < 0.5:  # named under a goal it matches by rule too
            owner = next(p for p in partners if p.id == named.partner_id)
        if rng.random() < 0.15:
            done_at: datetime | None = rng.choice(edges)
        elif rng.random() < 0.1:
            done_at = None
        else:
            done_at = START + timedelta(seconds=rng.randint(-40_000_000, 40_000_000))
        session.add(
            Intervention(
                instrument_type=named.instrument_type
                if named is not None and named.instrument_type and rng.random() < 0.5
                else rng.choice(types),
                instrument="x",
                focus_element=named.focus_element
                if named is not None and rng.random() < 0.5
                else rng.choice(focus),
                owner_partner_id=owner.id or 0,
                owner_team_id="T1",
                owner_user_id="U1",
                status=status,
                goal_id=named.id if named is not None else None,
                created_by_team_id="T1",
                created_by_user_id="U1",
                created_at=now,
                updated_at=now,
                done_at=done_at,
            )
        )
    session.flush()


@pytest.mark.parametrize("seed", range(6))
def test_grouped_progress_equals_the_per_goal_count(engine: Engine, seed: int) -> None:
    rng = random.Random(seed)
    with Session(engine) as session:
        fill(session, rng)
        session.commit()
        for year in (YEAR - 1, YEAR, YEAR + 1):
            found = goal_service.progress(session, year=year)
            goals = session.exec(select(Goal).where(Goal.year == year)).all()
            assert sorted(p.goal.id or 0 for p in found) == sorted(g.id or 0 for g in goals)
            assert {p.goal.id: p.done for p in found} == {g.id: reference(session, g, year) for g in goals}
        # The data did exercise what the grouped query must get right.
        this_year = goal_service.progress(session, year=YEAR)
        assert sum(p.done for p in this_year) > 0 or not this_year


def test_an_intervention_matching_a_goal_both_ways_counts_once(engine: Engine) -> None:
    now = datetime(YEAR, 6, 1, tzinfo=UTC)
    with Session(engine) as session:
        partner = Partner(name="Gemeente", type=PartnerType.GEMEENTE, created_at=now, updated_at=now)
        session.add(partner)
        session.flush()
        goal = Goal(
            partner_id=partner.id or 0,
            focus_element=FocusElement.AFPAKKEN,
            description="doel",
            target=4,
            year=YEAR,
            created_by_team_id="T1",
            created_by_user_id="U1",
            created_at=now,
        )
        empty = Goal(**{**goal.model_dump(exclude={"id"}), "focus_element": FocusElement.OPROLLEN})
        session.add_all([goal, empty])
        session.flush()
        session.add(
            Intervention(
                instrument_type=InstrumentType.FISCAAL,
                instrument="x",
                focus_element=FocusElement.AFPAKKEN,
                owner_partner_id=partner.id or 0,
                owner_team_id="T1",
                owner_user_id="U1",
                status=InterventionStatus.UITGEVOERD,
                goal_id=goal.id,
                created_by_team_id="T1",
                created_by_user_id="U1",
                done_at=now,
            )
        )
        session.commit()
        found = {p.goal.id: (p.done, p.percent) for p in goal_service.progress(session, year=YEAR)}
        assert found == {goal.id: (1, 25), empty.id: (0, 0)}
        assert goal_service.progress(session, year=YEAR - 1) == []
