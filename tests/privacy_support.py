"""What the privacy tests share: a partnership with signals, a case, an intervention and a backup alert,
made through Slack (signed requests to the bot, the Slack double) wherever a person would make them.

The partnership is the backup-alert tests' one (tests/rugdekking_support.py): Gemeente Breda (the
wethouder, Marleen), Politie (Hans, Ilse), RIEC (Fatima, coordinator), OM (Omar). Every restricted text
carries `SECRET` (which holds conftest's RESTRICTED_MARKER, so the suite-wide log scan also proves none of
it is ever logged) and a word of its own, to be looked for in the database files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from conftest import RESTRICTED_MARKER, BotUnderTest
from harness import Person
from rugdekking_support import (
    FATIMA,
    HANS,
    MARLEEN,
    OMAR,
    WETHOUDER,
    deliver,
    raise_with_form,
)
from rugdekking_support import (
    PARTNERSHIP as RUGDEKKING_PARTNERSHIP,
)
from sqlalchemy import func, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot import clock
from bot.alerts import service as alerts
from bot.alerts.models import SupportKind
from bot.cases.models import Case, CaseStatus
from bot.interventions import service as interventions
from bot.interventions.models import InterventionStatus
from bot.partners.models import PersonRef
from bot.partners.service import require_member, require_partner
from bot.signals.models import Signal, SignalSubject
from bot.subjects.models import Subject
from bot.vocabulary import FocusElement, InstrumentType
from slackdouble import visible_text

SECRET = f"{RESTRICTED_MARKER}-"
CHANNEL = "C0SAMEN"
# The backup-alert tests' partnership, with room for interventions at the politie and the gemeente.
PARTNERSHIP = RUGDEKKING_PARTNERSHIP.replace(
    "    type: POLITIE\n", "    type: POLITIE\n    capacity: 4\n"
).replace(
    "    type: GEMEENTE\n", "    type: GEMEENTE\n    capacity: 4\n"
)  # rugdekking_support.BOARD: the partnership channel, where signals are announced


def secret(word: str) -> str:
    return f"{SECRET}{word}"


@dataclass
class Registered:
    signal_id: int
    codes: list[str] = field(default_factory=list)


def register_signal(
    bot: BotUnderTest,
    who: PersonRef,
    summary: str,
    *,
    details: str | None = None,
    identity: str | None = None,
    kind: str = "PERSOON",
    codes: str = "",
    share: list[str] | None = None,
    coordinators: bool = True,
    category: str = "VASTGOED",
) -> Registered:
    """`/samen signaal`, fill in the modal, submit: the signal as registered."""
    before = len(bot.double.calls_to("views.open"))
    assert Person(bot, who).say("signaal") == {}
    bot.double.wait_for("views.open", count=before + 1)
    view = bot.double.last_view("signal_register")
    fields: dict[str, Any] = {"summary": summary, "category": category, "subject_codes": codes}
    if identity is not None:
        fields |= {"new_kind": kind, "new_identity": identity}
    if details is not None:
        fields["details"] = details
    if share:
        fields["share"] = share
    fields["coordinators"] = ["yes"] if coordinators else []
    answered = len(bot.double.calls_to("response_url"))
    assert Person(bot, who).submit("signal_register", fields, view_id=view["id"]) == {}
    bot.double.wait_for("response_url", count=answered + 1)
    with bot.services.session() as session:
        signal = session.exec(select(Signal).where(Signal.submission_key == view["id"])).one()
        found = session.exec(
            select(Subject.code)
            .join(SignalSubject, SignalSubject.subject_id == Subject.id)  # type: ignore[arg-type]
            .where(SignalSubject.signal_id == signal.id)
            .order_by(Subject.code)
        ).all()
        return Registered(int(signal.id or 0), list(found))


def weigh(
    bot: BotUnderTest, who: PersonRef, signal_id: int, outcome: str, *, task_partner: str = "2", **extra: str
) -> None:
    """The coordinator clicks the signal's weigh button and answers all three steps and the outcome."""
    deliver(bot)
    before = len(bot.double.calls_to("views.open"))
    Person(bot, who).click("signal_weigh", str(signal_id), channel=CHANNEL)
    bot.double.wait_for("views.open", count=before + 1)
    view = bot.double.last_view("signal_weigh")
    fields = {
        "verdict": "ja" if outcome == "CASUS" else "nee",
        "verdict_reason": "Patroon past",
        "task_partner": task_partner,
        "legal_basis": "art. 13b Opiumwet",
        "task_reason": "Opsporing eerst",
        "seriousness": "3",
        "recency": "MAAND",
        "seriousness_reason": "Recent",
        "outcome": outcome,
        "outcome_reason": "Besproken in het overleg",
        **({"case_focus": "OPROLLEN"} if outcome == "CASUS" else {}),
        **extra,
    }
    answer = Person(bot, who).submit("signal_weigh", fields, view_id=view["id"])
    assert answer.get("response_action") == "update", answer


def case_of(bot: BotUnderTest, signal_id: int) -> int:
    with bot.services.session() as session:
        row = session.exec(
            text("SELECT case_id FROM case_signal WHERE signal_id = :id"), params={"id": signal_id}
        ).one()
        return int(row[0])


def close_case(bot: BotUnderTest, case_id: int, *, days_ago: int = 0) -> None:
    """Samen has no command to close a case yet: the coordinators' decision, as the database records it."""
    with bot.services.session() as session:
        case = session.get(Case, case_id)
        assert case is not None
        case.status = CaseStatus.GESLOTEN
        case.closed_at = clock.now(session) - timedelta(days=days_ago)
        session.add(case)


def finish_intervention(bot: BotUnderTest, case_id: int, result: str, effect: str) -> int:
    """The politie closes a drugslab on the case and records the result (the domain, as the form does)."""
    settings = bot.services.settings
    with bot.services.session() as session:
        hans = require_member(session, team_id=HANS.team_id, user_id=HANS.user_id)
        politie = require_partner(session, name="Politie Zeeland-West-Brabant")
        draft = interventions.Draft(
            case_id=case_id,
            instrument_type=InstrumentType.STRAFRECHTELIJK,
            instrument="Ontmanteling drugslab",
            focus_element=FocusElement.OPROLLEN,
            owner_partner_id=int(politie.id or 0),
            owner=HANS,
        )
        made = interventions.create(session, actor=hans, draft=draft, settings=settings)
        intervention_id = int(made.intervention.id or 0)
        interventions.advance(
            session,
            actor=hans,
            intervention_id=intervention_id,
            to=InterventionStatus.TOEGEZEGD,
            settings=settings,
            second_round_override="test",
        )
        interventions.finish(
            session,
            actor=hans,
            intervention_id=intervention_id,
            settings=settings,
            result=result,
            effect=effect,
            success=True,
            lesson="Samen met de gemeente sluiten werkt",
            second_round_override="test",
        )
    return intervention_id


def raise_and_close_alert(bot: BotUnderTest, description: str, place: str, summary: str, note: str) -> int:
    """The wethouder asks for backup; every partner acknowledges; the RIEC records an action and closes."""
    answer = raise_with_form(bot, WETHOUDER, description=description, place=place)
    assert answer.get("response_action") == "update", answer
    deliver(bot)
    with bot.services.session() as session:
        alert_id = int(session.exec(text("SELECT max(id) FROM backup_alert")).one()[0])
        for person in (MARLEEN, HANS, FATIMA, OMAR):
            member = require_member(session, team_id=person.team_id, user_id=person.user_id)
            alerts.acknowledge(session, actor=member, alert_id=alert_id, settings=bot.services.settings)
        fatima = require_member(session, team_id=FATIMA.team_id, user_id=FATIMA.user_id)
        alerts.record_support_action(
            session,
            actor=fatima,
            alert_id=alert_id,
            kind=SupportKind.BESCHERMING,
            note=note,
            round=1,
            source_key=f"test:{alert_id}",
            settings=bot.services.settings,
        )
        alerts.close_alert(
            session,
            actor=fatima,
            alert_id=alert_id,
            summary=summary,
            lesson=None,
            settings=bot.services.settings,
        )
    return alert_id


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table: what "nothing was written" is checked against."""
    with engine.connect() as connection:
        return {
            table: int(connection.execute(select(func.count()).select_from(text(f'"{table}"'))).scalar_one())
            for table in sorted(inspect(connection).get_table_names())
            if table != "alembic_version"
        }


def shown(answer: dict[str, Any]) -> str:
    return visible_text(answer.get("blocks") or answer.get("view", {}).get("blocks") or [])


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
