"""The work queue ranked, counted and paged in SQL (issue 21) ranks exactly as it did in Python.

Highest total first, the older case first on a tie; the total is Σ weight × score/scale over Σ weight of
the active criteria, 0–100 to one decimal, an unscored criterion counting 0. Random criteria and scores
on both databases, against a reference computed here with exact fractions and against the old float
computation wherever the two cannot differ (no total exactly halfway between two tenths).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from fractions import Fraction

import pytest
from conftest import ENCRYPTION_KEY
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cases import queue as cases
from bot.cases.models import Case, CaseScore, CaseStatus, SelectionCriterion
from bot.clock import utcnow
from bot.crypto import keyring
from bot.db import make_engine, upgrade
from bot.partners.models import Partner, PartnerType
from bot.vocabulary import FocusElement

CASES = 60


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    keyring.configure(ENCRYPTION_KEY)
    upgrade(database_url)
    made = make_engine(database_url)
    yield made
    made.dispose()


def fill(engine: Engine, seed: int) -> None:
    rng = random.Random(seed)
    now = utcnow()
    with Session(engine) as session:
        session.add(Partner(name="Politie", type=PartnerType.POLITIE))
        criteria = [
            SelectionCriterion(
                name=f"criterium {i}", weight=rng.randint(1, 10), scale_max=rng.randint(1, 10), active=i != 0
            )
            for i in range(rng.randint(1, 5))
        ]
        session.add_all(criteria)
        session.flush()
        for n in range(CASES):
            case = Case(
                title=f"Casus {n}",
                lead_partner_id=1,
                focus_element=FocusElement.OPROLLEN,
                status=CaseStatus.GESLOTEN if n % 7 == 3 else CaseStatus.OPEN,
                created_by_team_id="T0",
                created_by_user_id="U0",
                # ties on created_at too, so the id decides
                created_at=now - timedelta(minutes=rng.choice([0, 5, 5, 10, 20])),
            )
            session.add(case)
            session.flush()
            for criterion in criteria:
                if rng.random() < 0.7:
                    session.add(
                        CaseScore(
                            case_id=case.id or 0,
                            criterion_id=criterion.id or 0,
                            score=rng.randint(0, criterion.scale_max),
                            reason="Omdat",
                            by_team_id="T0",
                            by_user_id="U0",
                        )
                    )
        session.commit()


def reference(engine: Engine) -> list[tuple[int, Fraction]]:
    """(case id, exact total) in queue order, computed the long way."""
    with Session(engine) as session:
        active = session.exec(select(SelectionCriterion).where(SelectionCriterion.active)).all()
        possible = sum(c.weight for c in active)
        ranked = []
        for case in session.exec(select(Case).where(Case.status == CaseStatus.OPEN)).all():
            given = {
                s.criterion_id: s.score
                for s in session.exec(select(CaseScore).where(CaseScore.case_id == case.id))
            }
            earned = sum(Fraction(c.weight * given.get(c.id or 0, 0), c.scale_max) for c in active)
            total = 100 * earned / possible if possible else Fraction(0)
            ranked.append((half_up_tenths(total), case.created_at, case.id or 0, total))
    ranked.sort(key=lambda r: (-r[0], r[1], r[2]))
    return [(case_id, total) for _t, _at, case_id, total in ranked]


def half_up_tenths(total: Fraction) -> int:
    return int((total * 10 + Fraction(1, 2)) // 1)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_queue_ranks_and_pages_as_before(engine: Engine, seed: int) -> None:
    fill(engine, seed)
    expected = reference(engine)
    with Session(engine) as session:
        whole, count = cases.work_queue(session, limit=1000)
        pages = [cases.work_queue(session, limit=7, offset=offset)[0] for offset in range(0, count, 7)]
        places = {case_id: cases.queue_place(session, case_id) for case_id, _total in expected}
        closed = session.exec(select(Case.id).where(Case.status == CaseStatus.GESLOTEN)).first()
        assert closed is not None and cases.queue_place(session, closed) is None
    assert count == len(expected) == sum(1 for n in range(CASES) if n % 7 != 3)
    assert [e.case.id for e in whole] == [case_id for case_id, _total in expected]
    assert [e.rank for e in whole] == list(range(1, count + 1))
    assert [e for page in pages for e in page] == whole  # paging in SQL: the same queue, in pieces
    for entry, (case_id, total) in zip(whole, expected, strict=True):
        assert entry.total == half_up_tenths(total) / 10
        assert places[case_id] == (entry.rank, entry.total)
        possible = sum(line.weight for line in entry.lines)
        if possible and (total * 100) % 10 != 5:  # not exactly halfway: the old float rounding agrees
            assert entry.total == round(100 * sum_of(entry.lines) / possible, 1)


def sum_of(lines: list[cases.ScoreLine]) -> float:
    return sum(line.weight * (line.score or 0) / line.scale_max for line in lines)


def test_without_criteria_the_oldest_case_comes_first(engine: Engine) -> None:
    fill(engine, 4)
    with Session(engine) as session:
        for criterion in session.exec(select(SelectionCriterion)).all():
            criterion.active = False
            session.add(criterion)
        session.commit()
        entries, count = cases.work_queue(session, limit=1000)
        oldest = session.exec(
            select(Case.id).where(Case.status == CaseStatus.OPEN).order_by(Case.created_at, Case.id)  # type: ignore[arg-type]
        ).all()
    assert [e.case.id for e in entries] == list(oldest) and count == len(oldest)
    assert {e.total for e in entries} == {0.0}
