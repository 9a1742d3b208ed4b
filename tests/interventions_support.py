"""The partnership the intervention and reminder tests play in: four partners, their people, three cases.

The gemeente closes a loods, the politie places equipment, the Belastingdienst collects an assessment,
the RIEC coordinates. Cases (issue 4's tables) are made directly with the models, as that feature's
commands are not what these tests are about.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import harness
from conftest import BOT_TOKEN
from harness import start
from slack_sdk import WebClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cases.models import Case, CasePartner, CaseSubject
from bot.interventions.dates import picked_for
from bot.interventions.models import Intervention
from bot.partners import service as partners
from bot.partners.models import PersonRef
from bot.subjects.models import Subject
from bot.vocabulary import Contribution, FocusElement, SubjectKind, SubjectRole
from slackdouble import SlackDouble

TEAM = "T0SAMEN"
CHANNEL = "C0SAMEN"  # the partnership channel
FATIMA = PersonRef(TEAM, "U0GEM00001")  # gemeente, owns the closure
MARLEEN = PersonRef(TEAM, "U0GEM00002")  # gemeente, its lead
JAN = PersonRef(TEAM, "U0POL00001")  # politie
ILSE = PersonRef(TEAM, "U0BD000001")  # Belastingdienst
RUUD = PersonRef(TEAM, "U0RIEC0001")  # RIEC coordinator
KOEN = PersonRef(TEAM, "U0WON00001")  # woningcorporatie: on none of the cases
KEES = PersonRef(TEAM, "U0STRANGE1")  # not a member

PARTNERSHIP = f"""\
team: {TEAM}
partners:
  - name: RIEC Rotterdam
    type: RIEC
    capacity: 5
    members:
      - {{user: {RUUD.user_id}, role: coordinator, name: Ruud}}
  - name: Gemeente Rotterdam
    type: GEMEENTE
    capacity: 2
    lead: {MARLEEN.user_id}
    members:
      - {{user: {FATIMA.user_id}, name: Fatima}}
      - {{user: {MARLEEN.user_id}, name: Marleen}}
  - name: Politie Rotterdam
    type: POLITIE
    capacity: 2
    members:
      - {{user: {JAN.user_id}, name: Jan}}
  - name: Belastingdienst
    type: BELASTINGDIENST
    capacity: 2
    members:
      - {{user: {ILSE.user_id}, name: Ilse}}
  - name: Havensteder
    type: WONINGCORPORATIE
    capacity: 1
    members:
      - {{user: {KOEN.user_id}, name: Koen}}
"""


@dataclass
class World(harness.World):
    partner: dict[str, int]  # short name → id
    case: dict[str, int]  # "loods", "untouchable", "strategic"
    thread_ts: str

    def intervention(self, number: int) -> Intervention:
        with self.services.session() as session:
            found = session.get(Intervention, number)
            assert found is not None
            return found

    # -- what people do ----------------------------------------------------------------------------

    def command(self, person: PersonRef, words: str, locale: str | None = None) -> dict[str, Any]:
        return self.bot.person(person, locale=locale).say(words)

    def open_form(self, person: PersonRef, words: str = "interventie") -> dict[str, Any]:
        before = len(self.double.calls_to("views.open"))
        answer = self.command(person, words)
        assert not answer.get("blocks"), answer
        opened = self.double.wait_for("views.open", count=before + 1)[-1]
        return dict(opened.args["view"])

    def picked(self, window: str) -> dict[str, str]:
        """The form's picker values for a window said as `window` ("volgende week dinsdag 08:15-08:45")."""
        return picked_for(window, now=self.services.clock.now(), zone=self.services.settings.timezone)

    def submit_form(self, person: PersonRef, values: dict[str, Any]) -> dict[str, Any]:
        """Fill in the new-intervention form (block id → value) and submit it: the answer (JSON)."""
        return self.bot.person(person).submit("intervention_new", values)

    def confirm(
        self, person: PersonRef, confirm_view: dict[str, Any], view_id: str = "V0CONFIRM1"
    ) -> dict[str, Any]:
        view = {**confirm_view, "id": view_id, "root_view_id": view_id}
        return self.bot.person(person).submit("intervention_confirm", {}, view=view)

    def plan(
        self,
        person: PersonRef,
        *,
        case: str = "loods",
        what: str = "Sluiting loods (art. 13b Opiumwet)",
        kind: str = "BESTUURSRECHTELIJK",
        owner_partner: str = "gemeente",
        owner: PersonRef = FATIMA,
        round_: int = 1,
        window: str | None = None,
        after: int | None = None,
        joining: dict[str, list[str]] | None = None,
    ) -> int:
        """Plan an intervention through the form and its confirmation; its number."""
        self.open_form(person, f"interventie {self.case[case]}")
        values: dict[str, Any] = {
            "case": str(self.case[case]),
            "instrument_type": kind,
            "instrument": what,
            "owner_partner": str(self.partner[owner_partner]),
            "owner": owner.user_id,
            "round": str(round_),
        }
        if window:  # typed here as people say it, picked in the form with the date and time pickers
            values.update(self.picked(window))
        if after:
            values["after"] = f"I-{after}"
        for contribution, names in (joining or {}).items():
            values[f"joining_{contribution}"] = [str(self.partner[n]) for n in names]
        answer = self.submit_form(person, values)
        assert answer.get("response_action") == "update", answer
        self._plans = getattr(self, "_plans", 0) + 1
        saved = self.confirm(person, answer["view"], view_id=f"V0PLAN{self._plans:04d}")
        assert saved.get("response_action") == "update", saved
        with self.services.session() as session:
            newest = session.exec(select(Intervention).order_by(Intervention.id.desc())).first()  # type: ignore[union-attr]
            assert newest is not None and newest.id is not None
            return newest.id

    def click(
        self,
        person: PersonRef,
        action_id: str,
        value: str,
        *,
        in_dm_of: PersonRef | None = None,
        view: dict[str, Any] | None = None,
        block_id: str | None = None,
    ) -> None:
        """Click a button: in a direct message the bot sent (found there), in a view, or in an answer."""
        message = None
        if in_dm_of is not None:
            message = self.message_with(in_dm_of, action_id, value)
        self._seen = len(self.double.calls_to("response_url"))
        if message is None and view is None:
            message = {"ts": "1.0", "text": "", "blocks": []}  # an answer the bot gave
        self.bot.person(person).click(action_id, value, message=message, view=view, block_id=block_id)

    def message_with(self, person: PersonRef, action_id: str, value: str) -> dict[str, Any]:
        for message in reversed(self.double.messages_to(person.user_id)):
            for block in message.get("blocks") or []:
                for element in block.get("elements") or []:
                    if element.get("action_id") == action_id and element.get("value") == value:
                        return message
        raise AssertionError(f"no message to {person.user_id} with a {action_id} button for {value}")

    def responses(self) -> list[dict[str, Any]]:
        """What the bot answered through response_urls (ephemeral answers to clicks), oldest first;
        waits for the answer to the last click (it is sent right after Slack's acknowledgement)."""
        calls = self.double.wait_for("response_url", count=getattr(self, "_seen", 0) + 1)
        return [dict(call.args) for call in calls]

    def submit_view(
        self, person: PersonRef, callback_id: str, values: dict[str, Any], view: dict[str, Any]
    ) -> dict[str, Any]:
        return self.bot.person(person).submit(callback_id, values, view=view)


def build_world(database_url: str, double: SlackDouble, **settings: object) -> Iterator[World]:
    double.add_channel(CHANNEL, "ondermijning")
    parent = WebClient(token=BOT_TOKEN, base_url=double.base_url).chat_postMessage(
        channel=CHANNEL, text="Casus loods"
    )
    thread_ts = str(parent["ts"])
    people = (FATIMA, MARLEEN, JAN, ILSE, RUUD, KOEN, KEES)
    for bot in start(database_url, double, people=people, SAMEN_PARTNERSHIP_CHANNEL=CHANNEL, **settings):
        bot.join(PARTNERSHIP)
        with bot.services.session() as session:
            partner = {
                short: _partner_id(session, name)
                for short, name in (
                    ("riec", "RIEC Rotterdam"),
                    ("gemeente", "Gemeente Rotterdam"),
                    ("politie", "Politie Rotterdam"),
                    ("belastingdienst", "Belastingdienst"),
                    ("woningcorporatie", "Havensteder"),
                )
            }
            case = make_cases(session, partner, thread_ts)
        yield World(bot=bot, partner=partner, case=case, thread_ts=thread_ts)


def _partner_id(session: Session, name: str) -> int:
    found = partners.require_partner(session, name=name)
    assert found.id is not None
    return found.id


def make_cases(session: Session, partner: dict[str, int], thread_ts: str) -> dict[str, int]:
    """Three open cases led by the gemeente: an ordinary one (with a thread), one about an untouchable,
    and a strategic one. The politie and the Belastingdienst joined each; the RIEC all but the second."""

    def case(title: str, *, strategic: bool = False, thread: bool = False, riec: bool = True) -> int:
        made = Case(
            title=title,
            lead_partner_id=partner["gemeente"],
            focus_element=FocusElement.VERDIENMODEL_VERSTOREN,
            strategic=strategic,
            thread_channel=CHANNEL if thread else None,
            thread_ts=thread_ts if thread else None,
            created_by_team_id=TEAM,
            created_by_user_id=FATIMA.user_id,
        )
        session.add(made)
        session.flush()
        assert made.id is not None
        session.add(
            CasePartner(case_id=made.id, partner_id=partner["politie"], contribution=Contribution.SLAGKRACHT)
        )
        session.add(
            CasePartner(
                case_id=made.id,
                partner_id=partner["belastingdienst"],
                contribution=Contribution.INFORMATIEPOSITIE,
            )
        )
        if riec:
            session.add(
                CasePartner(
                    case_id=made.id, partner_id=partner["riec"], contribution=Contribution.INFORMATIEPOSITIE
                )
            )
        return made.id

    loods = case("C-2026-0007 loods Waalhaven", thread=True)
    untouchable = case("C-2026-0008 S-2026-0042", riec=False)
    strategic = case("C-2026-0009 netwerk", strategic=True)
    subject = Subject(
        code="S-2026-0042",
        kind=SubjectKind.PERSOON,
        role=SubjectRole.ONAANTASTBARE,
        partner_id=partner["gemeente"],
        created_by_team_id=TEAM,
        created_by_user_id=FATIMA.user_id,
    )
    session.add(subject)
    session.flush()
    assert subject.id is not None
    session.add(CaseSubject(case_id=untouchable, subject_id=subject.id))
    session.flush()
    return {"loods": loods, "untouchable": untouchable, "strategic": strategic}


def texts(messages: list[dict[str, Any]]) -> list[str]:
    from slackdouble import visible_text

    return [visible_text(m.get("blocks") or []) or m.get("text", "") for m in messages]


def audit_actions(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT action FROM audit_entry ORDER BY seq"))]


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the feature writes, to compare before and after a refused change."""
    tables = {
        "intervention": "SELECT * FROM intervention ORDER BY id",
        "intervention_partner": "SELECT * FROM intervention_partner ORDER BY intervention_id, partner_id",
        "lesson": "SELECT id, intervention_id, text FROM lesson ORDER BY id",
        "goal": "SELECT * FROM goal ORDER BY id",
        "audit_entry": "SELECT seq, hash FROM audit_entry ORDER BY seq",
        "outbox": "SELECT key, status FROM outbox ORDER BY id",
    }
    with engine.connect() as connection:
        return {name: [tuple(row) for row in connection.execute(text(sql))] for name, sql in tables.items()}


def at(text_: str) -> datetime:
    return datetime.fromisoformat(text_)
