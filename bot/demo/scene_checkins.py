"""Demo scene: "een kort afstemmingsmoment is vaak voldoende".

A Wednesday-morning check-in in #afstemming with three partners: the RIEC coordinator plans it on
Monday; on Wednesday at nine the bot posts the questions; the gemeente answers and asks for the
politie's help, the politie answers, the Belastingdienst is reminded and does not answer; at the close
the thread gets the summary, with the politie mentioned where it is needed. Then an ad-hoc alignment on
the subject of the signals scene: the politie calls it, the gemeente is asked privately, joins, and they
meet in a group conversation where they record who does what, by when.

The every-minute job is run as a worker's scheduler would fire it, at the moments that matter
(Wednesday 09:00, the reminder, the close), with the demo's clock set to each: the demo does not wait
for Wednesday.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from bot.authz import CLI_ACTOR
from bot.checkins.models import CheckinMoment, CheckinSchedule
from bot.jobs import all_jobs
from bot.partners import service as partners
from bot.partners.importer import import_partners
from bot.scheduler import run_once
from bot.signals.models import Signal, SignalSubject
from bot.subjects.models import Subject
from bot.vocabulary import SignalCategory, SubjectKind

if TYPE_CHECKING:
    from bot.demo import Stage
    from slackdouble import Call

TEAM = "T0SAMEN"
CHECKIN_CHANNEL = "C0AFSTEM1"  # #afstemming
JOB = next(job for job in all_jobs() if job.name == "checkins")


def _partnership(stage: Stage) -> str:
    """The partners this scene needs; importing adds and never removes, so other scenes' set-up stays."""
    kinds = {"fatima": "GEMEENTE", "jan": "POLITIE", "ilse": "BELASTINGDIENST", "ruud": "RIEC"}
    lines = [f"team: {TEAM}", "partners:"]
    for key, kind in kinds.items():
        person = stage.people[key]
        role = ", role: coordinator" if key == "ruud" else ""
        lines += [
            f"  - name: {person.partner}",
            f"    type: {kind}",
            "    members:",
            f"      - {{user: {person.user_id}, name: {person.name}{role}}}",
        ]
    return "\n".join(lines) + "\n"


def scene_checkins(stage: Stage) -> None:
    nl = stage.language == "nl"
    stage.title("Afstemmen: kort, vast en gericht" if nl else "Alignment: short, regular and focused")
    with stage.services.session() as session:
        import_partners(session, actor=CLI_ACTOR, source=_partnership(stage), purpose="demo: the partnership")
        ids = {
            key: partners.require_partner(session, name=stage.people[key].partner).id or 0
            for key in ("fatima", "jan", "ilse")
        }
    stage.double.add_channel(
        CHECKIN_CHANNEL, "afstemming", members=[p.user_id for p in stage.people.values()]
    )
    _weekly_check_in(stage, ids, nl)
    _ad_hoc_alignment(stage, nl)


def _weekly_check_in(stage: Stage, ids: dict[str, int], nl: bool) -> None:
    ruud, fatima, jan, ilse = (stage.people[k] for k in ("ruud", "fatima", "jan", "ilse"))
    where = "#afstemming"
    stage.at("2026-12-07 11:30")
    stage.narrate(
        f"Maandag 11:30. {ruud.name} (RIEC) plant in #afstemming een vast afstemmoment op woensdagochtend."
        if nl
        else f"Monday 11:30. {ruud.name} (RIEC) plans a Wednesday-morning check-in in #afstemming."
    )
    stage.says("ruud", "/samen afstemming plan", where=where)
    opened = len(stage.double.calls_to("views.open"))
    stage.driver.command("/samen", "afstemming plan", user=ruud.user_id, team=TEAM, channel=CHECKIN_CHANNEL)
    form = stage.double.wait_for("views.open", count=opened + 1)[-1].args["view"]
    stage.bot_says(form["blocks"][:1], to="ruud", where="formulier" if nl else "form")
    questions = next(b for b in form["blocks"] if b.get("block_id") == "questions")["element"][
        "initial_value"
    ]
    values = {
        "days": ["2"],  # Wednesday
        "time": "09:00",
        "zone": "Europe/Amsterdam",
        "questions": questions,
        "partner_question": ["yes"],
        "partners": [str(ids[k]) for k in ("fatima", "jan", "ilse")],
        "window": "120",
    }
    answer = stage.driver.view_submission(
        "checkin_plan",
        {k: {"value": v} for k, v in values.items()},
        user=ruud.user_id,
        view={**form, "id": "V0DEMOPLAN"},
    ).json()
    stage.bot_says(answer["view"]["blocks"], to="ruud", where="formulier" if nl else "form")

    with stage.services.session() as session:
        schedule = session.exec(select(CheckinSchedule).order_by(col(CheckinSchedule.id).desc())).first()
        assert schedule is not None and schedule.next_at is not None
        first = schedule.next_at
    stage.move_to(first)
    stage.narrate(
        f"Woensdag 9 december, {stage.local(first)}."
        if nl
        else f"Wednesday 9 December, {stage.local(first)}."
    )
    posted = len(_posts(stage, CHECKIN_CHANNEL))
    run_once(stage.services, JOB, worker="demo", now=first)
    prompt = _wait_posted(stage, lambda c: c.args.get("channel") == CHECKIN_CHANNEL, posted + 1)
    stage.bot_says(prompt.args["blocks"], where=where)
    with stage.services.session() as session:
        moment = session.exec(select(CheckinMoment).order_by(col(CheckinMoment.id).desc())).first()
        assert moment is not None

    stage.later(minutes=20)
    stage.narrate(
        f"{fatima.name} (gemeente) antwoordt en vraagt de politie om hulp; {jan.name} antwoordt ook."
        if nl
        else f"{fatima.name} (municipality) answers and asks the police for help; {jan.name} answers too."
    )
    _answer(
        stage,
        "fatima",
        {
            "q0": "Bibob-toets van de loods op De Hoogt afgerond."
            if nl
            else "Finished the Bibob check of the warehouse.",
            "q1": "Sluiting voorbereiden." if nl else "Prepare the closure.",
            "need_partners": [str(ids["jan"])],
            "need_text": "Observatie bij de loods vóór de sluiting."
            if nl
            else "Observation at the warehouse before the closure.",
        },
        "V0DEMOANS1",
    )
    stage.later(minutes=15)
    _answer(
        stage,
        "jan",
        {"q0": "Wijkagent heeft de loods in beeld." if nl else "Our officer keeps an eye on the warehouse."},
        "V0DEMOANS2",
    )
    # Each answer as it arrives in the thread: the worker sends them in their own time, in any order.
    for person in (fatima, jan):
        answer = _wait_posted(
            stage, lambda c, p=person: _in_thread(c) and f"*<@{p.user_id}>" in str(c.args), 1
        )
        stage.bot_says(answer.args["blocks"], where=f"{where} (draad)" if nl else f"{where} (thread)")

    reminded = stage.local(stage.move_to(moment.remind_at))
    stage.narrate(
        f"Om {reminded} heeft {ilse.name} (Belastingdienst) nog niet geantwoord: Samen herinnert haar eraan."
        if nl
        else f"At {reminded} {ilse.name} (Belastingdienst) has not answered yet: Samen reminds her."
    )
    before = len(_posts(stage, ilse.user_id))
    run_once(stage.services, JOB, worker="demo", now=moment.remind_at)
    # Her check-in reminder, not an earlier message to her (the backup alert's escalation, say).
    reminder = _wait_posted(
        stage, lambda c: c.args.get("channel") == ilse.user_id and "checkin_answer" in str(c.args), 1
    )
    assert len(_posts(stage, ilse.user_id)) == before + 1
    stage.bot_says(reminder.args["blocks"], to="ilse", where="DM")

    closes = stage.local(stage.move_to(moment.closes_at))
    stage.narrate(f"{closes}: het afstemmoment sluit." if nl else f"{closes}: the check-in closes.")
    in_thread = len([c for c in _posts(stage, CHECKIN_CHANNEL) if _in_thread(c)])
    run_once(stage.services, JOB, worker="demo", now=moment.closes_at)
    summary = _wait_posted(stage, _in_thread, in_thread + 1)
    stage.bot_says(summary.args["blocks"], where=f"{where} (draad)" if nl else f"{where} (thread)")


def _answer(stage: Stage, who: str, values: dict[str, Any], view_id: str) -> None:
    person = stage.people[who]
    opened = len(stage.double.calls_to("views.open"))
    stage.driver.action("checkin_answer", user=person.user_id, channel=CHECKIN_CHANNEL, team=TEAM)
    form = stage.double.wait_for("views.open", count=opened + 1)[-1].args["view"]
    stage.driver.view_submission(
        "checkin_answer_form",
        {k: {"value": v} for k, v in values.items()},
        user=person.user_id,
        view={**form, "id": view_id},
    )


def _ad_hoc_alignment(stage: Stage, nl: bool) -> None:
    jan, fatima = stage.people["jan"], stage.people["fatima"]
    code = _subject_of_the_signals_scene(stage)
    stage.at("2026-12-09 11:30")
    stage.narrate(
        f"11:30. {jan.name} wil over {code} kort afstemmen met wie er iets op heeft, zonder te weten wie "
        "dat zijn."
        if nl
        else f"11:30. {jan.name} wants a short alignment on {code} with whoever has something on it."
    )
    stage.command("jan", "/samen", f"afstemmen {code} {'loods De Hoogt' if nl else 'warehouse De Hoogt'}")
    invite = _wait_posted(
        stage, lambda c: c.args.get("channel") == fatima.user_id and "alignment_join" in str(c.args), 1
    )
    stage.bot_says(invite.args["blocks"], to="fatima", where="DM")
    stage.says("fatima", "[Meedoen]" if nl else "[Join]", where="DM")
    opened = len(stage.double.calls_to("conversations.open"))
    stage.driver.action("alignment_join", user=fatima.user_id, channel=fatima.user_id, team=TEAM)
    group = stage.double.wait_for("conversations.open", count=opened + 1)[-1]
    conversation = str((group.response or {}).get("channel", {}).get("id"))
    board = _wait_posted(stage, lambda c: c.args.get("channel") == conversation, 1)
    where = "groepsgesprek" if nl else "group conversation"
    stage.bot_says(board.args["blocks"], where=where)

    stage.later(minutes=20)
    stage.narrate(
        f"{fatima.name} legt vast wat ze afspreken: de sluiting morgenochtend."
        if nl
        else f"{fatima.name} records what they agree: the closure tomorrow morning."
    )
    opened = len(stage.double.calls_to("views.open"))
    stage.driver.action("alignment_agree", user=fatima.user_id, channel=conversation, team=TEAM)
    form = stage.double.wait_for("views.open", count=opened + 1)[-1].args["view"]
    updates = len(stage.double.delivered("chat.update"))
    stage.driver.view_submission(
        "alignment_agreement",
        {
            "what": {
                "value": f"Sluiting loods {code} (art. 13b Opiumwet); de politie staat klaar"
                if nl
                else f"Closure of warehouse {code} (art. 13b Opiumwet); the police stand ready"
            },
            "who": {"value": fatima.user_id},
            "when": {"value": (stage.now_local().date() + timedelta(days=1)).isoformat()},
        },
        user=fatima.user_id,
        view={**form, "id": "V0DEMOAGR1"},
    )
    stage.double.wait_for("chat.update", lambda c: c.ok, count=updates + 1, timeout=10)
    stage.bot_says(stage.double.messages_in(conversation)[-1]["blocks"], where=where)


def _subject_of_the_signals_scene(stage: Stage) -> str:
    """The subject the signals scene registered (signal 1's); made here when this scene plays alone."""
    with stage.services.session() as session:
        code = session.exec(
            select(Subject.code)
            .join(SignalSubject, col(SignalSubject.subject_id) == col(Subject.id))
            .where(SignalSubject.signal_id == 1)
        ).first()
        if code is not None:
            return str(code)
        gemeente = partners.require_partner(session, name=stage.people["fatima"].partner).id or 0
        politie = partners.require_partner(session, name=stage.people["jan"].partner).id or 0
        subject = Subject(
            code="S-2026-0042",
            kind=SubjectKind.LOCATIE,
            partner_id=gemeente,
            created_by_team_id=TEAM,
            created_by_user_id=stage.people["fatima"].user_id,
        )
        signal = Signal(
            summary="Veel verkeer bij de loods",
            category=SignalCategory.DRUGS,
            partner_id=politie,
            reporter_team_id=TEAM,
            reporter_user_id=stage.people["jan"].user_id,
        )
        session.add(subject)
        session.add(signal)
        session.flush()
        session.add(SignalSubject(signal_id=signal.id or 0, subject_id=subject.id or 0))
        return subject.code


def _in_thread(call: Call) -> bool:
    """A reply in the check-in's thread: an answer, or the summary."""
    return call.args.get("channel") == CHECKIN_CHANNEL and bool(call.args.get("thread_ts"))


def _posts(stage: Stage, channel: str) -> list[Call]:
    return [c for c in stage.double.delivered("chat.postMessage") if c.args.get("channel") == channel]


def _wait_posted(stage: Stage, matches: Any, count: int) -> Call:
    return stage.double.wait_for("chat.postMessage", lambda c: c.ok and matches(c), count=count, timeout=10)[
        -1
    ]
