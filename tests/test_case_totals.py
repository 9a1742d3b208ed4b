"""Each open case's stored total (`case.total_tenths`, issue 21) equals the total computed from its scores
after every kind of change that feeds it, in the same transaction, on both databases: a score given,
changed or removed, a criterion added, reweighed, rescaled or retired, a case closed and reopened; and
migration 0016 fills it for the cases already there. The work queue reads its page in that order.
"""

from __future__ import annotations

from conftest import ENCRYPTION_KEY
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from test_work_queue_sql import engine as engine  # the fixture: a migrated database on both kinds
from test_work_queue_sql import half_up_tenths, reference

from bot.authz import SystemActor
from bot.cases import queue, service
from bot.cases.models import Case, CaseScore, CaseStatus
from bot.crypto import keyring
from bot.db import downgrade, make_engine, upgrade
from bot.partners.models import Partner, PartnerType
from bot.vocabulary import FocusElement

ACTOR = SystemActor("samen:test")


def stored(session: Session) -> dict[int, int]:
    rows = session.exec(select(Case.id, Case.total_tenths).where(Case.status == CaseStatus.OPEN)).all()
    return {case_id or 0: tenths for case_id, tenths in rows}


def agree(session: Session) -> dict[int, int]:
    """The totals stored inside the transaction are those committed, and those computed the long way."""
    session.flush()
    inside = stored(session)
    session.commit()
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    expected = {case_id: half_up_tenths(total) for case_id, total in reference(engine)}
    assert inside == stored(session) == expected
    return inside


def make_cases(session: Session, count: int) -> list[int]:
    partner = Partner(name="Politie", type=PartnerType.POLITIE)
    session.add(partner)
    session.flush()
    cases = [
        Case(
            title=f"Casus {n}",
            lead_partner_id=partner.id or 0,
            focus_element=FocusElement.OPROLLEN,
            created_by_team_id="T0",
            created_by_user_id="U0",
        )
        for n in range(count)
    ]
    session.add_all(cases)
    session.flush()
    return [case.id or 0 for case in cases]


def test_the_stored_total_follows_every_change(engine: Engine) -> None:
    with Session(engine) as session:
        first, second, third = make_cases(session, 3)
        assert set(agree(session).values()) == {0}  # no criteria yet
        ernst, _ = service.set_criterion(session, actor=ACTOR, name="Ernst", weight=3, scale_max=5)
        impact, _ = service.set_criterion(session, actor=ACTOR, name="Impact", weight=1, scale_max=3)
        agree(session)
        assert ernst.id and impact.id
        # A score given, through the service and directly.
        service.score(
            session, actor=ACTOR, case_id=first, scores={ernst.id: (4, "Ernstig"), impact.id: (1, "Wat")}
        )
        session.add(
            CaseScore(
                case_id=second, criterion_id=ernst.id, score=2, reason="R", by_team_id="", by_user_id=""
            )
        )
        totals = agree(session)
        assert totals[first] > totals[second] > totals[third] == 0
        # A score changed.
        service.score(session, actor=ACTOR, case_id=second, scores={ernst.id: (5, "Nu ernstiger")})
        assert agree(session)[second] == 750
        # A weight changed, a scale changed, a criterion added, one retired.
        service.set_criterion(session, actor=ACTOR, name="Impact", weight=7, scale_max=3)
        agree(session)
        service.set_criterion(session, actor=ACTOR, name="Ernst", weight=3, scale_max=7)
        agree(session)
        service.set_criterion(session, actor=ACTOR, name="Kans", weight=2, scale_max=4)
        agree(session)
        service.retire_criterion(session, actor=ACTOR, name="Impact")
        agree(session)
        # A score removed.
        row = session.exec(select(CaseScore).where(CaseScore.case_id == second)).one()
        session.delete(row)
        assert agree(session)[second] == 0
        # A case closed, the criteria changed meanwhile, the case reopened.
        case = session.get(Case, first)
        assert case is not None
        case.status = CaseStatus.GESLOTEN
        session.add(case)
        agree(session)
        service.set_criterion(session, actor=ACTOR, name="Impact", weight=2, scale_max=3)
        agree(session)
        case.status = CaseStatus.OPEN
        session.add(case)
        totals = agree(session)
        assert totals[first] > 0
        # The queue and a case's place read the stored totals, in the same order.
        entries, count = queue.work_queue(session)
        assert count == 3 and [e.case.id for e in entries] == sorted(totals, key=lambda c: (-totals[c], c))
        assert [queue.queue_place(session, e.case.id) for e in entries] == [
            (e.rank, totals[e.case.id] / 10) for e in entries
        ]


def test_a_change_rolled_back_leaves_the_stored_total(engine: Engine) -> None:
    with Session(engine) as session:
        (case_id,) = make_cases(session, 1)
        ernst, _ = service.set_criterion(session, actor=ACTOR, name="Ernst", weight=1, scale_max=5)
        session.commit()
        service.score(session, actor=ACTOR, case_id=case_id, scores={ernst.id or 0: (5, "Ernstig")})
        session.flush()
        assert stored(session) == {case_id: 1000}
        session.rollback()
        assert stored(session) == {case_id: 0}


def test_migration_0016_fills_the_totals_of_the_open_cases(database_url: str) -> None:
    keyring.configure(ENCRYPTION_KEY)
    upgrade(database_url)
    made = make_engine(database_url)
    try:
        with Session(made) as session:
            ids = make_cases(session, 4)
            ernst, _ = service.set_criterion(session, actor=ACTOR, name="Ernst", weight=3, scale_max=4)
            kans, _ = service.set_criterion(session, actor=ACTOR, name="Kans", weight=2, scale_max=3)
            for n, case_id in enumerate(ids):
                service.score(
                    session,
                    actor=ACTOR,
                    case_id=case_id,
                    scores={ernst.id or 0: (n, "R"), kans.id or 0: (3 - n, "R")},
                )
            expected = agree(session)
        made.dispose()
        downgrade(database_url, "0015")
        upgrade(database_url)
        made = make_engine(database_url)
        with Session(made) as session:
            assert stored(session) == expected
            assert len(set(expected.values())) == 4
    finally:
        made.dispose()
