"""The partnership the check-in and alignment tests play in.

Five partners: the RIEC (Ruud, coordinator), the gemeente (Fatima; Marleen its lead), the politie (Jan),
the Belastingdienst (Ilse) and the Douane (Dirk, who has nothing on any subject). The check-in channel
#afstemming has Samen in it; #stil does not. Subjects, signals and cases (issue 4's tables) are made
directly with the models where a test needs them: their commands are not what these tests are about.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import harness
from harness import start
from sqlalchemy import text
from sqlmodel import select

from bot.checkins.models import CheckinMoment, CheckinSchedule
from bot.jobs import all_jobs
from bot.partners import service as partners
from bot.partners.models import PersonRef
from bot.scheduler import ScheduledJob, run_once
from slackdouble import SlackDouble, visible_text

TEAM = "T0SAMEN"
CHANNEL = "C0AFSTEM1"  # #afstemming: Samen is in it
QUIET = "C0STIL0001"  # #stil: Samen is not
FATIMA = PersonRef(TEAM, "U0GEM00001")  # gemeente
MARLEEN = PersonRef(TEAM, "U0GEM00002")  # gemeente, its lead
JAN = PersonRef(TEAM, "U0POL00001")  # politie
ILSE = PersonRef(TEAM, "U0BD000001")  # Belastingdienst
RUUD = PersonRef(TEAM, "U0RIEC0001")  # RIEC coordinator
DIRK = PersonRef(TEAM, "U0DOU00001")  # Douane
KEES = PersonRef(TEAM, "U0STRANGE1")  # not a member

PARTNERSHIP = f"""\
team: {TEAM}
partners:
  - name: RIEC Rotterdam
    type: RIEC
    members:
      - {{user: {RUUD.user_id}, role: coordinator, name: Ruud}}
  - name: Gemeente Rotterdam
    type: GEMEENTE
    capacity: 3
    lead: {MARLEEN.user_id}
    members:
      - {{user: {FATIMA.user_id}, name: Fatima}}
      - {{user: {MARLEEN.user_id}, name: Marleen}}
  - name: Politie Rotterdam
    type: POLITIE
    capacity: 3
    members:
      - {{user: {JAN.user_id}, name: Jan}}
  - name: Belastingdienst
    type: BELASTINGDIENST
    members:
      - {{user: {ILSE.user_id}, name: Ilse}}
  - name: Douane
    type: DOUANE
    members:
      - {{user: {DIRK.user_id}, name: Dirk}}
"""

CHECKIN_JOB: ScheduledJob = next(job for job in all_jobs() if job.name == "checkins")


@dataclass
class World(harness.World):
    partner: dict[str, int]  # short name → id

    def tick(self, now: datetime, worker: str = "worker-1") -> bool:
        """The every-minute job, as a worker's scheduler would fire it at `now`."""
        return run_once(self.services, CHECKIN_JOB, worker=worker, now=now)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self.services.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]

    def schedule(self, number: int = 1) -> CheckinSchedule:
        with self.services.session() as session:
            found = session.get(CheckinSchedule, number)
            assert found is not None
            return found

    def moments(self) -> list[CheckinMoment]:
        with self.services.session() as session:
            return list(session.exec(select(CheckinMoment).order_by(CheckinMoment.id)).all())  # type: ignore[arg-type]

    # -- what people do ----------------------------------------------------------------------------

    def command(
        self, person: PersonRef, words: str, channel: str = CHANNEL, locale: str | None = None
    ) -> dict[str, Any]:
        return self.bot.person(person, locale=locale).say(words, channel=channel)

    def said(self, answer: dict[str, Any]) -> str:
        return visible_text(answer.get("blocks") or []) or str(answer.get("text", ""))

    def open_plan(self, person: PersonRef = RUUD, channel: str = CHANNEL) -> dict[str, Any]:
        before = len(self.double.calls_to("views.open"))
        answer = self.command(person, "afstemming plan", channel=channel)
        assert not answer.get("blocks"), answer
        opened = self.double.wait_for("views.open", count=before + 1)[-1]
        return dict(opened.args["view"])

    def submit(
        self, person: PersonRef, callback_id: str, values: dict[str, Any], view: dict[str, Any], view_id: str
    ) -> dict[str, Any]:
        """Fill in a modal the bot opened (block id → value, dressed as the element asks) and submit it."""
        stored = {**view, "id": view_id, "root_view_id": view_id}
        return self.bot.person(person).submit(callback_id, values, view=stored)

    def plan(
        self,
        *,
        days: list[str] | None = None,
        time: str = "09:00",
        zone: str = "Europe/Amsterdam",
        questions: str | None = None,
        partner_question: bool = True,
        partners_: list[str] | None = None,
        people: list[PersonRef] | None = None,
        window: str = "120",
        holidays: bool = False,
        view_id: str = "V0PLAN0001",
        person: PersonRef = RUUD,
    ) -> dict[str, Any]:
        view = self.open_plan(person)
        values: dict[str, Any] = {
            "days": days if days is not None else ["0", "1", "2", "3", "4"],
            "time": time,
            "zone": zone,
            "window": window,
            "partners": [
                str(self.partner[p]) for p in (partners_ if partners_ is not None else ["gemeente"])
            ],
            "people": [p.user_id for p in people or []],
            "partner_question": ["yes"] if partner_question else [],
            "holidays": ["yes"] if holidays else [],
        }
        if questions is not None:
            values["questions"] = questions
        else:
            block = next(b for b in view["blocks"] if b.get("block_id") == "questions")
            values["questions"] = block["element"]["initial_value"]
        return self.submit(person, "checkin_plan", values, view, view_id)

    def open_answer(self, person: PersonRef, *, in_dm: bool = False) -> dict[str, Any]:
        """Click "Answer" where the bot showed it (the prompt in the channel, or the reminder in a DM)."""
        before = len(self.double.calls_to("views.open"))
        channel = person.user_id if in_dm else CHANNEL
        self.bot.person(person).click("checkin_answer", channel=channel)
        opened = self.double.wait_for("views.open", count=before + 1)[-1]
        return dict(opened.args["view"])

    def answer(
        self, person: PersonRef, values: dict[str, Any], view_id: str, view: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        view = view or self.open_answer(person)
        return self.submit(person, "checkin_answer_form", values, view, view_id)

    def close_now(self, person: PersonRef, moment_id: int | None = None) -> dict[str, Any]:
        """Press "Nu afsluiten" on the prompt (after a close the button is gone: pass the moment's id, as
        a click on a copy of the old prompt would); what the person was told, only to them."""
        before = len(self.double.calls_to("response_url"))
        value = None if moment_id is None else str(moment_id)
        self.bot.person(person).click("checkin_close", value, channel=CHANNEL)
        return dict(self.double.wait_for("response_url", count=before + 1)[-1].args)

    def summaries(self) -> list[str]:
        """The summaries posted in the prompt's thread, as people read them."""
        return [
            visible_text(m.get("blocks") or [])
            for m in self.thread_replies()
            if "Samenvatting" in visible_text(m.get("blocks") or [])
        ]

    def thread_replies(self) -> list[dict[str, Any]]:
        messages = self.double.messages_in(CHANNEL)
        return [m for m in messages if m.get("thread_ts") and m.get("thread_ts") != m.get("ts")]

    def prompts(self) -> list[dict[str, Any]]:
        return [m for m in self.double.messages_in(CHANNEL) if not m.get("thread_ts")]


def build_world(database_url: str, double: SlackDouble, **settings: object) -> Iterator[World]:
    double.add_channel(CHANNEL, "afstemming")
    double.add_channel(QUIET, "stil", bot_is_member=False)
    people = (FATIMA, MARLEEN, JAN, ILSE, RUUD, DIRK, KEES)
    for bot in start(database_url, double, people=people, **settings):
        bot.join(PARTNERSHIP)
        with bot.services.session() as session:
            partner = {
                short: partners.require_partner(session, name=name).id or 0
                for short, name in (
                    ("riec", "RIEC Rotterdam"),
                    ("gemeente", "Gemeente Rotterdam"),
                    ("politie", "Politie Rotterdam"),
                    ("belastingdienst", "Belastingdienst"),
                    ("douane", "Douane"),
                )
            }
        yield World(bot=bot, partner=partner)


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)
