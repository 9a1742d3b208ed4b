"""Check-ins, read like the booklet: "a short alignment moment is often enough; avoid a talking shop".

The RIEC coordinator plans a Monday-morning check-in in #afstemming; at nine the bot posts the questions
with an Answer button; each answer lands in the thread, one message per person, edited when answered
again; at three quarters of the window whoever has not answered gets one reminder; at the close the
thread gets a summary: who answered and who did not, per partner, and every partner someone needs,
with that partner's contact people mentioned.

Every path goes through signed requests and the Slack double; the job runs as a worker's scheduler would
fire it (`run_once`), at simulated moments; the outbox is dispatched as the worker would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from checkins_support import (
    CHANNEL,
    DIRK,
    FATIMA,
    ILSE,
    JAN,
    KEES,
    MARLEEN,
    QUIET,
    RUUD,
    TEAM,
    World,
    block,
    build_world,
)
from sqlmodel import Session

from bot.calendar import is_holiday
from bot.checkins import answers, closing, timing
from bot.checkins.models import CheckinSchedule, MomentStatus, ScheduleStatus
from bot.checkins.problems import CheckinError
from bot.interventions.models import Intervention, InterventionStatus
from bot.partners import service as partners
from bot.partners.models import PersonRef
from bot.vocabulary import FocusElement, InstrumentType
from slackdouble import SlackDouble, visible_text

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def world(sqlite_url: str, slack_double: SlackDouble) -> Iterator[World]:
    yield from build_world(sqlite_url, slack_double)


@pytest.fixture
def world_on(database_url: str, slack_double: SlackDouble) -> Iterator[World]:
    """The same partnership on SQLite and on PostgreSQL."""
    yield from build_world(database_url, slack_double)


def local(moment: datetime) -> datetime:
    return moment.astimezone(AMSTERDAM)


def open_first_moment(world: World, **plan: object) -> datetime:
    """Plan a check-in, let the job post its first moment, and deliver it; the moment (UTC)."""
    answer = world.plan(**plan)  # type: ignore[arg-type]
    assert answer.get("response_action") == "update", answer
    first = world.schedule().next_at
    assert first is not None
    world.tick(first)
    world.dispatch()
    return first


# --- planning ---------------------------------------------------------------------------------------------


def test_the_riec_plans_a_monday_morning_check_in(world: World) -> None:
    view = world.open_plan()
    assert view["callback_id"] == "checkin_plan"
    shown = visible_text(view["blocks"])
    assert "Wat heb je gedaan sinds de vorige keer?" in block(view, "questions")["element"]["initial_value"]
    assert "Waar heb je een partner bij nodig?" in shown  # the partner question, on by default
    assert block(view, "zone")["element"]["initial_option"]["value"] == "Europe/Amsterdam"

    answer = world.plan(days=["0"], partners_=["gemeente", "politie", "belastingdienst"], people=[RUUD])
    assert answer["response_action"] == "update"
    done = visible_text(answer["view"]["blocks"])
    assert "Afstemmoment 1 is gepland in" in done and "maandag" in done and "09:00" in done

    schedule = world.schedule()
    assert schedule.channel_id == CHANNEL and schedule.weekdays == "0" and schedule.clock == "09:00"
    assert schedule.status is ScheduleStatus.ACTIEF and schedule.next_at is not None
    first = local(schedule.next_at)
    assert first.weekday() == 0 and (first.hour, first.minute) == (9, 0)
    assert first > datetime.now(AMSTERDAM)

    again = world.plan(days=["0"], view_id="V0PLAN0001")  # the same modal submitted twice
    assert again["response_action"] == "update"
    assert world.count("SELECT count(*) FROM checkin_schedule") == 1
    assert "checkin.planned" in [r[0] for r in world.rows("SELECT action FROM audit_entry")]


def test_the_time_is_picked_not_typed(world: World) -> None:
    """Slack's timepicker, 09:00 to start with; the time picked is the time on the clock in the zone."""
    view = world.open_plan()
    picker = block(view, "time")["element"]
    assert picker["type"] == "timepicker" and picker["initial_time"] == "09:00"
    assert "tijdzone hieronder" in block(view, "time")["hint"]["text"]
    assert "Uiterlijk dan sluit het" in block(view, "window")["hint"]["text"]
    answer = world.plan(time="07:45", zone="Europe/London")  # dressed as the picker sends it
    assert answer["response_action"] == "update", answer
    schedule = world.schedule()
    assert (schedule.clock, schedule.timezone) == ("07:45", "Europe/London")
    assert schedule.next_at is not None
    assert schedule.next_at.astimezone(ZoneInfo("Europe/London")).strftime("%H:%M") == "07:45"


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"time": "negen uur"}, "time", "“negen uur” is geen tijdstip: schrijf het als 09:00."),
        ({"time": "25:00"}, "time", "is geen tijdstip"),
        ({"window": "1440"}, "window", "zou nog openstaan als het volgende begint"),
        ({"questions": "", "partner_question": False}, "questions", "Stel minstens één vraag"),
        ({"partners_": [], "people": []}, "partners", "Kies wie meedoet"),
        ({"people": [KEES]}, "people", "is geen deelnemer van het samenwerkingsverband"),
        ({"days": []}, "days", "Kies minstens één dag."),
        (
            {"questions": "Bel 06-12345678 even?"},
            "questions",
            "haal de persoonsgegevens weg (telefoonnummer)",
        ),
    ],
)
def test_bad_input_gets_a_clear_answer_and_schedules_nothing(
    world: World, change: dict[str, object], field: str, says: str
) -> None:
    answer = world.plan(**change)  # type: ignore[arg-type]
    assert answer["response_action"] == "errors", answer
    assert says in answer["errors"][field]
    assert world.count("SELECT count(*) FROM checkin_schedule") == 0
    assert world.count("SELECT count(*) FROM audit_entry WHERE action LIKE 'checkin.%'") == 0


def test_a_window_that_fits_between_two_moments_is_fine(world: World) -> None:
    """Mondays only: a day's window fits in the week between two moments."""
    answer = world.plan(days=["0"], window="1440")
    assert answer["response_action"] == "update", answer


def test_a_channel_samen_is_not_in_is_refused_with_how_to_invite_it(world: World) -> None:
    answer = world.command(RUUD, "afstemming plan", channel=QUIET)
    said = world.said(answer)
    assert "Samen zit nog niet in <#C0STIL0001>" in said and "`/invite @Samen`" in said
    assert world.double.calls_to("views.open") == []
    direct = world.command(RUUD, "afstemming plan", channel="D0RUUD0001")
    assert "vanuit het kanaal waarin het moet plaatsvinden" in world.said(direct)
    assert world.count("SELECT count(*) FROM checkin_schedule") == 0


def test_only_coordinators_plan_and_strangers_are_told_whom_to_ask(world: World) -> None:
    answer = world.command(JAN, "afstemming plan")
    assert "coördinator" in world.said(answer)
    assert world.double.calls_to("views.open") == []
    stranger = world.command(KEES, "afstemming lijst")
    assert "geen deelnemer" in world.said(stranger) or "deelnemer" in world.said(stranger)


def test_list_pause_resume_and_delete(world: World) -> None:
    world.plan(days=["0", "3"], partners_=["gemeente", "politie"])
    listed = world.said(world.command(JAN, "afstemming lijst"))
    assert "Afstemmoment 1" in listed and "maandag, donderdag" in listed
    assert "om 09:00 (Europe/Amsterdam), 2 uur open" in listed
    assert "Gemeente Rotterdam, Politie Rotterdam" in listed

    refused = world.said(world.command(JAN, "afstemming pauzeer 1"))
    assert "Alleen een coördinator" in refused
    assert world.schedule().status is ScheduleStatus.ACTIEF

    assert "is gepauzeerd" in world.said(world.command(RUUD, "afstemming pauzeer 1"))
    assert world.schedule().next_at is None
    assert "was al zo" in world.said(world.command(RUUD, "afstemming pauzeer 1"))
    assert "Geen volgend moment" in world.said(world.command(RUUD, "afstemming lijst"))

    resumed = world.said(world.command(RUUD, "afstemming hervat 1"))
    assert "loopt weer: volgende moment" in resumed
    assert world.schedule().next_at is not None

    assert "is verwijderd" in world.said(world.command(RUUD, "afstemming verwijder 1"))
    assert world.schedule().status is ScheduleStatus.VERWIJDERD and world.schedule().next_at is None
    assert "Er is geen afstemmoment 1" in world.said(world.command(RUUD, "afstemming hervat 1"))
    assert "nog geen afstemmomenten gepland" in world.said(world.command(RUUD, "afstemming lijst"))
    assert "Noem het afstemmoment bij zijn nummer" in world.said(world.command(RUUD, "afstemming pauzeer"))
    assert "kan een afstemmoment niet" in world.said(world.command(RUUD, "afstemming dansen"))


# --- when the moments come --------------------------------------------------------------------------------


def test_moments_keep_their_time_across_daylight_saving_and_skip_public_holidays(world: World) -> None:
    """Mondays at 09:00: followed from now past the next clock change and past a Monday holiday."""
    world.plan(days=["0"], partners_=["politie"])
    first = world.schedule().next_at
    assert first is not None
    offsets: set[timedelta | None] = set()
    holidays_passed = 0
    now = first
    for _ in range(60):  # at most a year of Mondays
        world.tick(now)
        offsets.add(local(now).utcoffset())
        nxt = world.schedule().next_at
        assert nxt is not None
        day = local(now).date() + timedelta(days=7)
        while day < local(nxt).date():  # Mondays skipped: each must be a public holiday
            assert is_holiday(day), day
            holidays_passed += 1
            day += timedelta(days=7)
        now = nxt
        if len(offsets) == 2 and holidays_passed:
            break
    assert len(offsets) == 2, "the clocks changed while we followed"
    assert holidays_passed >= 1, "a Monday holiday was skipped"
    moments = world.moments()
    assert len(moments) >= 2
    for moment in moments:
        opens = local(moment.opens_at)
        assert (opens.weekday(), opens.hour, opens.minute) == (0, 9, 0)  # 09:00 summer and winter
        assert not is_holiday(opens.date())
        assert moment.closes_at - moment.opens_at == timedelta(hours=2)
        assert moment.remind_at - moment.opens_at == timedelta(minutes=90)
    world.dispatch()
    assert len(world.prompts()) == len(moments)  # one prompt per moment, none late, none twice


@pytest.mark.parametrize(
    ("after", "weekdays", "clock", "expected"),
    [
        # Friday before the clocks go forward (28 March 2027): 09:00 CET is 08:00 UTC ...
        ("2027-03-25T09:00:00+00:00", {4}, "09:00", "2027-03-26T08:00:00+00:00"),
        # ... the Monday after is Easter Monday (29 March): skipped; 5 April 09:00 CEST is 07:00 UTC.
        ("2027-03-26T09:00:00+00:00", {0}, "09:00", "2027-04-05T07:00:00+00:00"),
        # Back in winter time after 31 October 2027.
        ("2027-10-29T12:00:00+00:00", {0}, "09:00", "2027-11-01T08:00:00+00:00"),
        # Koningsdag (Tuesday 27 April 2027) and Christmas are skipped too.
        ("2027-04-26T12:00:00+00:00", {1}, "09:00", "2027-05-04T07:00:00+00:00"),
        ("2026-12-24T12:00:00+00:00", {4}, "09:00", "2027-01-08T08:00:00+00:00"),
        # 02:30 does not exist on 29 March 2026: read with the offset before the change (03:30 CEST).
        ("2026-03-28T12:00:00+00:00", {6}, "02:30", "2026-03-29T01:30:00+00:00"),
        # 28 March 2027 is Easter Sunday: a public holiday, skipped.
        ("2027-03-27T12:00:00+00:00", {6}, "02:30", "2027-04-04T00:30:00+00:00"),
    ],
)
def test_the_next_moment_in_the_schedules_zone(
    after: str, weekdays: set[int], clock: str, expected: str
) -> None:
    found = timing.next_occurrence(
        after=datetime.fromisoformat(after),
        weekdays=frozenset(weekdays),
        clock=timing.parse_clock(clock) or time(0),
        zone=AMSTERDAM,
        include_holidays=False,
    )
    assert found == datetime.fromisoformat(expected)


def test_public_holidays_count_when_chosen_and_other_zones_keep_their_own_clock() -> None:
    easter_monday = timing.next_occurrence(
        after=datetime.fromisoformat("2027-03-26T09:00:00+00:00"),
        weekdays=frozenset({0}),
        clock=time(9),
        zone=AMSTERDAM,
        include_holidays=True,
    )
    assert easter_monday == datetime.fromisoformat("2027-03-29T07:00:00+00:00")
    bonaire = timing.next_occurrence(
        after=datetime.fromisoformat("2027-03-26T09:00:00+00:00"),
        weekdays=frozenset({0}),
        clock=time(9),
        zone=ZoneInfo("America/Kralendijk"),
        include_holidays=True,
    )
    assert bonaire == datetime.fromisoformat("2027-03-29T13:00:00+00:00")  # no daylight saving there


def test_a_worker_that_was_down_does_not_post_a_moment_late(world: World) -> None:
    world.plan(days=["0", "1", "2", "3", "4"])
    first = world.schedule().next_at
    assert first is not None
    world.tick(first + timedelta(hours=3))  # the 2-hour window closed before anyone ran the job
    assert world.moments() == []
    nxt = world.schedule().next_at
    assert nxt is not None and nxt > first + timedelta(hours=3)
    world.tick(nxt + timedelta(minutes=5))  # five minutes late: still in its window
    assert len(world.moments()) == 1


# --- answering --------------------------------------------------------------------------------------------


def test_answers_go_in_the_thread_once_per_person_and_are_edited_not_duplicated(world: World) -> None:
    open_first_moment(world, partners_=["gemeente", "politie"])
    (prompt,) = world.prompts()
    text = visible_text(prompt["blocks"])
    assert "Wat heb je gedaan sinds de vorige keer?" in text and "Waar heb je een partner bij nodig?" in text
    assert "Antwoord vóór 11:00 (Europe/Amsterdam)" in text
    for person in (FATIMA, MARLEEN, JAN):
        assert f"<@{person.user_id}>" in text  # those expected are named
    assert f"<@{ILSE.user_id}>" not in text

    form = world.open_answer(FATIMA)
    assert form["callback_id"] == "checkin_answer_form"
    first = world.answer(
        FATIMA, {"q0": "Bibob-toets loods afgerond", "q1": "Sluiting voorbereiden"}, "V0ANSWER01", view=form
    )
    assert "Je antwoord staat in de draad" in visible_text(first["view"]["blocks"])
    world.dispatch()
    (reply,) = world.thread_replies()
    assert reply["thread_ts"] == prompt["ts"]
    assert "Bibob-toets loods afgerond" in visible_text(reply["blocks"])

    again = world.answer(
        FATIMA, {"q0": "Bibob-toets loods afgerond", "q1": "Sluiting voorbereiden"}, "V0ANSWER01"
    )
    assert "niets veranderd" in visible_text(again["view"]["blocks"])  # the same modal submitted twice

    form = world.open_answer(FATIMA)
    assert block(form, "q0")["element"]["initial_value"] == "Bibob-toets loods afgerond"  # filled in
    changed = world.answer(
        FATIMA, {"q0": "Bibob-toets loods afgerond", "q1": "Sluiting op 3 december"}, "V0ANSWER02", view=form
    )
    assert "aangepast" in visible_text(changed["view"]["blocks"])
    world.dispatch()
    (reply,) = world.thread_replies()  # still one message from Fatima: edited, not a second one
    shown = visible_text(reply["blocks"])
    assert "Sluiting op 3 december" in shown and "Sluiting voorbereiden" not in shown
    assert "(antwoord aangepast)" in shown and "edited" in reply
    assert len(world.double.delivered("chat.update")) == 1
    assert world.rows("SELECT version FROM checkin_answer WHERE user_id = 'U0GEM00001'") == [(2,)]

    world.answer(JAN, {"q0": "Observatie loods"}, "V0ANSWER03")
    world.dispatch()
    assert len(world.thread_replies()) == 2  # one per person


def test_an_answer_with_personal_data_is_refused_and_nothing_is_posted(world: World) -> None:
    open_first_moment(world)
    answer = world.answer(FATIMA, {"q0": "Gesproken met eigenaar, BSN 111222333"}, "V0ANSWER09")
    assert answer["response_action"] == "errors"
    assert "burgerservicenummer" in answer["errors"]["q0"]
    empty = world.answer(FATIMA, {}, "V0ANSWER10")
    assert "Beantwoord minstens één vraag" in empty["errors"]["q0"]
    world.dispatch()
    assert world.thread_replies() == []
    assert world.rows("SELECT version FROM checkin_answer WHERE user_id = 'U0GEM00001'") == [(0,)]


def test_the_answer_form_moves_the_persons_own_interventions_on(world: World) -> None:
    with world.services.session() as session:
        from bot.cases.models import Case

        case = Case(
            title="C-2026-0007 loods",
            lead_partner_id=world.partner["gemeente"],
            focus_element=FocusElement.VERDIENMODEL_VERSTOREN,
            created_by_team_id=FATIMA.team_id,
            created_by_user_id=FATIMA.user_id,
        )
        session.add(case)
        session.flush()
        for status in (InterventionStatus.TOEGEZEGD, InterventionStatus.VOORGESTELD):
            session.add(
                Intervention(
                    case_id=case.id or 0,
                    instrument_type=InstrumentType.BESTUURSRECHTELIJK,
                    instrument="Sluiting loods (art. 13b Opiumwet)",
                    focus_element=FocusElement.VERDIENMODEL_VERSTOREN,
                    owner_partner_id=world.partner["gemeente"],
                    owner_team_id=FATIMA.team_id,
                    owner_user_id=FATIMA.user_id,
                    status=status,
                    created_by_team_id=FATIMA.team_id,
                    created_by_user_id=FATIMA.user_id,
                )
            )
    open_first_moment(world)
    form = world.open_answer(FATIMA)
    one = block(form, "iv_1")
    assert block(form, "iv_2")["element"]["initial_option"]["value"] == "VOORGESTELD"
    assert one["element"]["initial_option"]["value"] == "TOEGEZEGD"
    assert [o["value"] for o in one["element"]["options"]] == ["TOEGEZEGD", "GEPLAND", "IN_UITVOERING"]
    assert "I-1" in one["label"]["text"]

    # Planned needs a time window first: refused under that intervention, and nothing at all is saved.
    refused = world.answer(
        FATIMA, {"q0": "Loods", "iv_1": "GEPLAND", "iv_2": "TOEGEZEGD"}, "V0ANSWER20", view=form
    )
    assert refused["response_action"] == "errors"
    assert "heeft nog geen tijdvak" in refused["errors"]["iv_1"]
    assert world.rows("SELECT status FROM intervention ORDER BY id") == [("TOEGEZEGD",), ("VOORGESTELD",)]
    assert world.rows("SELECT version FROM checkin_answer WHERE user_id = 'U0GEM00001'") == [(0,)]

    done = world.answer(
        FATIMA, {"q0": "Loods", "iv_1": "IN_UITVOERING", "iv_2": "TOEGEZEGD"}, "V0ANSWER21", view=form
    )
    assert done["response_action"] == "update", done
    assert world.rows("SELECT status FROM intervention ORDER BY id") == [("IN_UITVOERING",), ("TOEGEZEGD",)]
    world.dispatch()
    (reply,) = world.thread_replies()
    assert "I-1 in uitvoering" in visible_text(reply["blocks"])


def test_someone_not_in_the_partnership_cannot_answer(world: World) -> None:
    open_first_moment(world)
    opened = len(world.double.calls_to("views.open"))
    response = world.driver.action("checkin_answer", user=KEES.user_id, channel=CHANNEL, team=KEES.team_id)
    assert response.status == 200
    said = world.double.wait_for("response_url")[-1].args
    assert "(nog) geen deelnemer" in visible_text(said["blocks"])
    assert len(world.double.calls_to("views.open")) == opened


# --- the reminder and the summary -------------------------------------------------------------------------


def test_one_reminder_to_those_silent_and_a_summary_at_the_close(world: World) -> None:
    opened = open_first_moment(world, partners_=["gemeente", "politie"], people=[ILSE])
    moment = world.moments()[0]
    world.answer(
        FATIMA,
        {
            "q0": "Loods bekeken",
            "need_partners": [str(world.partner["politie"])],
            "need_text": "Observatie S-2026-0042",
        },
        "V0ANSWER30",
    )
    world.tick(moment.remind_at - timedelta(minutes=1))
    world.dispatch()
    assert world.double.messages_to(MARLEEN.user_id) == []  # not yet

    world.tick(moment.remind_at)
    world.tick(moment.remind_at + timedelta(minutes=1))  # the next minute: nobody reminded twice
    world.dispatch()
    for silent in (MARLEEN, JAN, ILSE):
        (reminder,) = world.double.messages_to(silent.user_id)
        assert "sluit om 11:00 en je antwoord is er nog niet" in visible_text(reminder["blocks"])
    assert world.double.messages_to(FATIMA.user_id) == []  # she answered
    assert world.double.messages_to(RUUD.user_id) == []  # not taking part

    form = world.open_answer(JAN, in_dm=True)  # the reminder's button opens the same form
    world.answer(JAN, {"q0": "Loods geobserveerd"}, "V0ANSWER31", view=form)
    world.tick(moment.closes_at - timedelta(minutes=1))
    world.tick(moment.closes_at)
    world.dispatch()

    summary = visible_text(world.thread_replies()[-1]["blocks"])
    assert "Samenvatting: 2 van 4 geantwoord" in summary
    gemeente = summary.split("Gemeente Rotterdam")[1].split("Politie Rotterdam")[0]
    assert (
        f"geantwoord: <@{FATIMA.user_id}>" in gemeente
        and f"niet geantwoord: <@{MARLEEN.user_id}>" in gemeente
    )
    assert f"geantwoord: <@{JAN.user_id}>" in summary.split("Politie Rotterdam")[1]
    assert f"niet geantwoord: <@{ILSE.user_id}>" in summary.split("Belastingdienst")[1]
    assert (
        f"<@{FATIMA.user_id}> (Gemeente Rotterdam) heeft Politie Rotterdam nodig <@{JAN.user_id}>" in summary
    )
    assert "Observatie S-2026-0042" in summary
    (prompt,) = world.prompts()
    closed = visible_text(prompt["blocks"])
    assert "Gesloten. 2 van 4 geantwoord" in closed
    assert not any(b.get("type") == "actions" for b in prompt["blocks"])  # no Answer button any more

    late = world.answer(MARLEEN, {"q0": "Te laat"}, "V0ANSWER32", view=form)
    assert "gesloten" in late["errors"]["q0"], late
    world.tick(moment.closes_at + timedelta(hours=1))
    world.dispatch()
    assert world.count("SELECT count(*) FROM outbox WHERE key LIKE 'checkin-summary:%'") == 1
    assert opened == moment.opens_at


def test_two_workers_post_each_moment_once_and_remind_once(world_on: World) -> None:
    world = world_on
    world.plan(partners_=["gemeente", "politie"])
    first = world.schedule().next_at
    assert first is not None

    def both(now: datetime) -> None:
        barrier = threading.Barrier(2)

        def fire(worker: str) -> None:
            barrier.wait()
            world.tick(now, worker=worker)

        threads = [threading.Thread(target=fire, args=(f"worker-{i}",)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    now = first
    for _ in range(3):  # three moments, each with its reminder and close, every minute fired twice
        for minute in range(0, 121, 15):
            both(now + timedelta(minutes=minute))
            world.tick(now + timedelta(minutes=minute, seconds=61), worker="worker-late")
        nxt = world.schedule().next_at
        assert nxt is not None
        now = nxt
    world.dispatch()
    prompts = [
        c
        for c in world.double.delivered("chat.postMessage")
        if c.args.get("channel") == CHANNEL and not c.args.get("thread_ts")
    ]
    assert len(prompts) == 3
    for person in (FATIMA, MARLEEN, JAN):
        assert len(world.double.messages_to(person.user_id)) == 3  # one reminder per moment
    summaries = [c for c in world.double.delivered("chat.postMessage") if c.args.get("thread_ts")]
    assert len(summaries) == 3
    assert world.count("SELECT count(*) FROM checkin_moment") == 3
    assert DIRK.user_id not in str([c.args for c in world.double.delivered("chat.postMessage")])


# --- closing early: everyone answered, or a coordinator closes it now -------------------------------------


def test_the_last_expected_answer_closes_it_at_once_and_nobody_is_reminded(world_on: World) -> None:
    """The window is the latest it closes: when everyone expected has answered, the summary comes at once,
    no reminder goes out at three quarters and the window's end adds nothing."""
    world = world_on
    open_first_moment(world, partners_=["gemeente"], people=[JAN])
    moment = world.moments()[0]
    (prompt,) = world.prompts()
    assert "Het sluit zodra iedereen heeft geantwoord." in visible_text(prompt["blocks"])

    world.answer(ILSE, {"q0": "Ik val in voor een collega"}, "V0EARLY001")  # not expected: changes nothing
    world.answer(FATIMA, {"q0": "Loods bekeken"}, "V0EARLY002")
    world.answer(MARLEEN, {"q0": "Vergunning nagekeken"}, "V0EARLY003")
    world.dispatch()
    assert world.summaries() == [] and world.moments()[0].status is MomentStatus.OPEN

    last = world.answer(JAN, {"q0": "Observatie gepland"}, "V0EARLY004")
    assert "Nu heeft iedereen geantwoord: de samenvatting volgt in de draad." in visible_text(
        last["view"]["blocks"]
    )
    world.dispatch()
    (summary,) = world.summaries()
    assert "Samenvatting: 3 van 3 geantwoord" in summary  # Ilse answered too, but was not asked
    assert "Iedereen heeft geantwoord, dus het afstemmoment is eerder gesloten." in summary
    assert world.thread_replies()[-1]["thread_ts"] == prompt["ts"]
    (prompt,) = world.prompts()
    assert "Gesloten." in visible_text(prompt["blocks"])
    assert not any(b.get("type") == "actions" for b in prompt["blocks"])  # no buttons any more
    closed = world.moments()[0]
    assert closed.status is MomentStatus.GESLOTEN and closed.next_step_at is None

    updates = len(world.double.delivered("chat.update"))
    for minute in (0, 1):  # the three-quarter mark and the window's end, each fired twice
        world.tick(moment.remind_at + timedelta(minutes=minute))
        world.tick(moment.closes_at + timedelta(minutes=minute))
    world.dispatch()
    for person in (FATIMA, MARLEEN, JAN, ILSE):
        assert world.double.messages_to(person.user_id) == []  # nobody reminded
    assert len(world.summaries()) == 1 and len(world.double.delivered("chat.update")) == updates
    assert world.count("SELECT count(*) FROM outbox WHERE key LIKE 'checkin-summary:%'") == 1
    assert world.rows("SELECT actor_user_id, details FROM audit_entry WHERE action = 'checkin.closed'") == [
        (JAN.user_id, '{"answered":3,"expected":3,"reason":"all_answered"}')
    ]


def test_a_coordinator_closes_it_now_and_a_member_is_told_whom_to_ask(world_on: World) -> None:
    world = world_on
    open_first_moment(world, partners_=["gemeente", "politie"])
    moment = world.moments()[0]
    (prompt,) = world.prompts()
    button = next(
        e
        for b in prompt["blocks"]
        if b.get("type") == "actions"
        for e in b["elements"]
        if e["action_id"] == "checkin_close"
    )
    assert button["text"]["text"] == "Nu afsluiten" and "Het afstemmoment nu afsluiten?" in str(
        button["confirm"]
    )
    world.answer(FATIMA, {"q0": "Loods bekeken"}, "V0CLOSE001")
    world.tick(moment.remind_at)  # reminders to Marleen and Jan queued, not yet sent

    refused = world.close_now(JAN)
    said = visible_text(refused["blocks"])
    assert refused["response_type"] == "ephemeral" and refused.get("replace_original") is False
    assert (
        f"Alleen een coördinator kan een afstemmoment eerder sluiten: vraag het aan <@{RUUD.user_id}>."
        in said
    )
    assert "Anders sluit het vanzelf om 11:00, of zodra iedereen heeft geantwoord." in said
    assert world.moments()[0].status is MomentStatus.OPEN
    assert world.count("SELECT count(*) FROM outbox WHERE key LIKE 'checkin-summary:%'") == 0

    marleens_form = world.open_answer(MARLEEN)  # open when the coordinator closes it
    done = world.close_now(RUUD)
    assert "Het afstemmoment is gesloten: de samenvatting volgt in de draad." in visible_text(done["blocks"])
    world.dispatch()
    (summary,) = world.summaries()
    assert "Samenvatting: 1 van 3 geantwoord" in summary
    assert f"Eerder gesloten door <@{RUUD.user_id}>." in summary
    assert f"niet geantwoord: <@{MARLEEN.user_id}>" in summary
    for silent in (MARLEEN, JAN):  # the reminders queued a moment ago were cancelled
        assert world.double.messages_to(silent.user_id) == []
    assert world.rows("SELECT DISTINCT status FROM outbox WHERE key LIKE 'checkin-reminder:%'") == [
        ("cancelled",)
    ]
    (prompt,) = world.prompts()
    assert "Gesloten. 1 van 3 geantwoord" in visible_text(prompt["blocks"])

    again = world.close_now(RUUD, moment_id=moment.id)  # a second click, or a colleague's
    assert "Dit afstemmoment is gesloten; de samenvatting staat in de draad." in visible_text(again["blocks"])
    late = world.answer(MARLEEN, {"q0": "Te laat"}, "V0CLOSE002", view=marleens_form)
    assert "gesloten" in late["errors"]["q0"]
    world.tick(moment.closes_at)
    world.tick(moment.closes_at + timedelta(hours=1))
    world.dispatch()
    assert len(world.summaries()) == 1  # the window's end posts nothing more
    assert world.count("SELECT count(*) FROM outbox WHERE key LIKE 'checkin-summary:%'") == 1
    assert world.rows("SELECT actor_user_id, details FROM audit_entry WHERE action = 'checkin.closed'") == [
        (RUUD.user_id, '{"answered":1,"expected":3,"reason":"coordinator"}')
    ]


def test_the_close_button_speaks_english_to_an_english_member(world: World) -> None:
    world.double.add_user(JAN.user_id, team_id=JAN.team_id, locale="en-GB")
    open_first_moment(world, partners_=["politie"])
    world.driver.event(  # opening the App Home is where Samen learns a person's Slack locale
        {"type": "app_home_opened", "user": JAN.user_id, "channel": "D0JAN", "tab": "home"}, team=TEAM
    )
    world.double.wait_for("views.publish")
    said = visible_text(world.close_now(JAN)["blocks"])
    assert f"Only a coordinator can close a check-in early: ask <@{RUUD.user_id}>." in said


def test_closers_racing_close_it_once(world_on: World) -> None:
    """A coordinator's click, two last answers at the same time, and the window's end job of two workers,
    all at once: one summary, one prompt edit, and the moment closed."""
    world = world_on
    open_first_moment(world, partners_=["gemeente"], people=[JAN])
    moment = world.moments()[0]
    world.answer(FATIMA, {"q0": "Loods bekeken"}, "V0RACE0001")
    barrier = threading.Barrier(5)
    failures: list[BaseException] = []

    def answer_last(person: PersonRef) -> None:
        barrier.wait()  # then begin: on SQLite a transaction holds the write lock from its start
        with world.services.session() as session:
            member = partners.find_member(session, team_id=person.team_id, user_id=person.user_id)
            assert member is not None
            answers.answer(
                session,
                actor=member,
                moment_id=moment.id or 0,
                data=answers.AnswerInput(answers=("Gedaan",)),
                settings=world.services.settings,
            )

    def coordinator() -> None:
        barrier.wait()
        with world.services.session() as session:
            member = partners.find_member(session, team_id=RUUD.team_id, user_id=RUUD.user_id)
            assert member is not None
            closing.close_now(session, actor=member, moment_id=moment.id or 0, language="nl")

    def job(worker: str) -> None:
        barrier.wait()
        world.tick(moment.closes_at, worker=worker)

    def guarded(run: Callable[[], None]) -> Callable[[], None]:
        def wrapped() -> None:
            try:
                run()
            except CheckinError:
                pass  # the moment was closed by someone else first: refused, nothing saved
            except BaseException as problem:
                failures.append(problem)

        return wrapped

    runs = [
        lambda: answer_last(MARLEEN),
        lambda: answer_last(JAN),
        coordinator,
        lambda: job("worker-1"),
        lambda: job("worker-2"),
    ]
    threads = [threading.Thread(target=guarded(run)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    world.dispatch()
    assert world.moments()[0].status is MomentStatus.GESLOTEN
    assert len(world.summaries()) == 1
    assert world.count("SELECT count(*) FROM outbox WHERE key LIKE 'checkin-summary:%'") == 1
    assert world.count("SELECT count(*) FROM outbox WHERE key LIKE 'checkin-closed:%'") == 1
    assert world.count("SELECT count(*) FROM audit_entry WHERE action = 'checkin.closed'") <= 1


def test_two_last_answers_at_once_still_close_it(world_on: World) -> None:
    """Each of the last two would see the other as silent if they counted at the same time: the second
    waits for the first to commit (an answer locks the moment's row on PostgreSQL, BEGIN IMMEDIATE on
    SQLite), then counts and closes."""
    world = world_on
    open_first_moment(world, partners_=["gemeente"], people=[JAN])
    moment_id = world.moments()[0].id or 0
    world.answer(FATIMA, {"q0": "Loods bekeken"}, "V0TWO00001")
    closed: list[bool] = []

    def answer(session: Session, person: PersonRef) -> bool:
        member = partners.find_member(session, team_id=person.team_id, user_id=person.user_id)
        assert member is not None
        data = answers.AnswerInput(answers=("Gedaan",))
        settings = world.services.settings
        return answers.answer(session, actor=member, moment_id=moment_id, data=data, settings=settings).closed

    def jan() -> None:
        with world.services.session() as session:
            closed.append(answer(session, JAN))

    with world.services.session() as first:
        closed.append(answer(first, MARLEEN))  # Jan is still silent for her
        second = threading.Thread(target=jan)
        second.start()
        second.join(timeout=1.0)
        assert second.is_alive(), "Jan's answer waits until Marleen's is committed"
    second.join()
    assert closed == [False, True]
    assert world.moments()[0].status is MomentStatus.GESLOTEN
    world.dispatch()
    (summary,) = world.summaries()
    assert "Samenvatting: 3 van 3 geantwoord" in summary


# --- help and the App Home --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("nl-NL", ["/samen afstemming", "Korte, vaste afstemmomenten", "/samen afstemmen", "privé gevraagd"]),
        ("en-GB", ["/samen afstemming", "Short, regular check-ins", "/samen afstemmen", "asked privately"]),
    ],
)
def test_help_shows_check_ins_and_alignment(world: World, locale: str, expected: list[str]) -> None:
    shown = world.said(world.command(JAN, "help", locale=locale))
    for text in expected:
        assert text in shown


@pytest.mark.parametrize("locale", ["nl-NL", "en-GB"])
def test_the_app_home_shows_the_next_moment_and_open_prompts(world: World, locale: str) -> None:
    world.double.add_user(FATIMA.user_id, team_id=FATIMA.team_id, locale=locale)
    open_first_moment(world)
    world.driver.event(
        {"type": "app_home_opened", "user": FATIMA.user_id, "channel": "D0FATIMA", "tab": "home"},
        team=FATIMA.team_id,
    )
    home = world.double.wait_for("views.publish")[-1].args["view"]
    shown = visible_text(home["blocks"])
    if locale == "nl-NL":
        assert (
            "Afstemmomenten" in shown
            and f"Open in <#{CHANNEL}> tot" in shown
            and f"Volgende in <#{CHANNEL}>" in shown
        )
    else:
        assert (
            "Check-ins" in shown
            and f"Open in <#{CHANNEL}> until" in shown
            and f"Next in <#{CHANNEL}>" in shown
        )
    button = next(
        e
        for b in home["blocks"]
        for e in [b.get("accessory") or {}]
        if e.get("action_id") == "checkin_answer"
    )
    assert button["value"] == str(world.moments()[0].id)


def test_the_plan_form_speaks_the_planners_language(world: World) -> None:
    before = len(world.double.calls_to("views.open"))
    world.driver.command(
        "/samen", "afstemming plan", user=RUUD.user_id, team=RUUD.team_id, channel=CHANNEL, locale="en-GB"
    )
    english = world.double.wait_for("views.open", count=before + 1)[-1].args["view"]
    assert "What did you do since last time?" in block(english, "questions")["element"]["initial_value"]
    with world.services.session() as session:
        assert session.get(CheckinSchedule, 1) is None
