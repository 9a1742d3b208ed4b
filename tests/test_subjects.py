"""bot/subjects: the one definition of a subject's holders reads the domains' tables by name."""

from __future__ import annotations

from sqlmodel import Session, SQLModel

import bot.models  # noqa: F401  (every table, so that the metadata knows them)
from bot.cases.models import Case, CasePartner, CaseSubject
from bot.db import make_engine, upgrade
from bot.interventions.models import Intervention, InterventionPartner
from bot.partners.models import Partner, PartnerType
from bot.signals.models import Signal, SignalSubject
from bot.subjects import codes
from bot.subjects.holders import TABLES, holders
from bot.subjects.models import Subject
from bot.vocabulary import Contribution, FocusElement, InstrumentType, SignalCategory, SubjectKind


def test_the_holders_query_names_only_tables_and_columns_the_models_define() -> None:
    for table in TABLES:
        assert table.name in SQLModel.metadata.tables, table.name
        defined = SQLModel.metadata.tables[table.name].columns
        for column in table.columns:
            assert column.name in defined, f"{table.name}.{column.name}"


def test_codes_are_normalised_and_recognised() -> None:
    assert codes.normalise(" s-2026-0042 ") == "S-2026-0042"
    assert codes.normalise("S-26-42") is None
    assert codes.CODE_IN_TEXT.findall("zie s-2026-0042, S-2025-0001") == ["s-2026-0042", "S-2025-0001"]


def test_holders_are_those_that_described_signalled_lead_joined_or_intervene(database_url: str) -> None:
    """The one definition, on SQLite and PostgreSQL: described it, a signal on it, a case on it (led or
    joined), an intervention on such a case (owned or joined); nobody else, and not another subject's."""
    upgrade(database_url)
    engine = make_engine(database_url)
    by = {"created_by_team_id": "T0", "created_by_user_id": "U0"}
    try:
        with Session(engine) as session:
            names = ("Describer", "Signaller", "Lead", "Joiner", "Owner", "Helper", "Bystander")
            ids = {}
            for name in names:
                partner = Partner(name=name, type=PartnerType.GEMEENTE)
                session.add(partner)
                session.flush()
                ids[name] = partner.id or 0
            subject = Subject(code="S-2026-0001", kind=SubjectKind.LOCATIE, partner_id=ids["Describer"], **by)
            other = Subject(code="S-2026-0002", kind=SubjectKind.LOCATIE, partner_id=ids["Bystander"], **by)
            session.add_all([subject, other])
            session.flush()
            signal = Signal(
                summary="s",
                category=SignalCategory.DRUGS,
                partner_id=ids["Signaller"],
                reporter_team_id="T0",
                reporter_user_id="U0",
            )
            case = Case(title="c", lead_partner_id=ids["Lead"], focus_element=FocusElement.OPROLLEN, **by)
            session.add_all([signal, case])
            session.flush()
            intervention = Intervention(
                case_id=case.id,
                instrument_type=InstrumentType.BESTUURSRECHTELIJK,
                instrument="i",
                focus_element=FocusElement.OPROLLEN,
                owner_partner_id=ids["Owner"],
                owner_team_id="T0",
                owner_user_id="U0",
                **by,
            )
            session.add(intervention)
            session.flush()
            joined = Contribution.SLAGKRACHT
            session.add_all(
                [
                    SignalSubject(signal_id=signal.id or 0, subject_id=subject.id or 0),
                    CaseSubject(case_id=case.id or 0, subject_id=subject.id or 0),
                    CasePartner(case_id=case.id or 0, partner_id=ids["Joiner"], contribution=joined),
                    InterventionPartner(
                        intervention_id=intervention.id or 0, partner_id=ids["Helper"], contribution=joined
                    ),
                ]
            )
            session.flush()
            assert holders(session, subject_id=subject.id or 0) == {ids[n] for n in names[:-1]}
            assert holders(session, subject_id=other.id or 0) == {ids["Bystander"]}
            assert holders(session, subject_id=999_999) == set()
    finally:
        engine.dispose()
