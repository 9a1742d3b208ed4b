"""Reminders arrive once: the working day before, on the day and every working day while overdue, at 09:00
in the owner's zone, skipping weekends and Dutch holidays (Koningsdag), unmoved by daylight saving; stale
interventions go to the owner, then to the partner's lead; two workers over a week send each reminder once.

The sweep is the scheduled job (bot.scheduler.run_once) driven with explicit `now` values; what it queues is
sent by the real dispatcher to the Slack double, and the buttons on a reminder are clicked through it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from interventions_support import FATIMA, ILSE, JAN, MARLEEN, World, build_world, texts
from sqlalchemy import text

from bot.authz import CLI_ACTOR
from bot.calendar import holiday_name, is_holiday, is_working_day, next_working_day
from bot.interventions import planning, progress, reminders
from bot.interventions.dates import Window
from bot.interventions.models import InterventionStatus
from bot.partners import service as partners
from bot.partners.models import PersonRef
from bot.people import remember_profile
from bot.scheduler import run_once
from bot.vocabulary import FocusElement, InstrumentType
from slackdouble import SlackDouble, visible_text

S = InterventionStatus
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
JOB = reminders.JOBS[0]


@pytest.fixture
def world(sqlite_url: str, slack_double: SlackDouble) -> Iterator[World]:
    yield from build_world(sqlite_url, slack_double)


@pytest.fixture
def world_on(database_url: str, slack_double: SlackDouble) -> Iterator[World]:
    yield from build_world(database_url, slack_double)


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, zone: ZoneInfo = AMSTERDAM
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(UTC)


def planned(
    world: World,
    *,
    owner: PersonRef,
    partner: str,
    start: datetime,
    end: datetime | None = None,
    now: datetime,
    what: str = "Controle",
    status: S = S.GEPLAND,
) -> int:
    """An intervention the owner committed to and planned, as if on `now` (through the domain)."""
    settings = world.services.settings
    with world.services.session() as session:
        for name in world.partner:
            partners.set_capacity(
                session, actor=CLI_ACTOR, partner_id=world.partner[name], capacity=50, purpose="test: room"
            )
        actor = partners.require_member(session, team_id=owner.team_id, user_id=owner.user_id)
        draft = planning.Draft(
            case_id=world.case["loods"],
            instrument_type=InstrumentType.BESTUURSRECHTELIJK,
            instrument=what,
            focus_element=FocusElement.VERDIENMODEL_VERSTOREN,
            owner_partner_id=world.partner[partner],
            owner=owner,
            window=Window(start=start, end=end, has_time=True),
        )
        made = planning.create(session, actor=actor, draft=draft, settings=settings, now=now).intervention
        assert made.id is not None
        for to in (S.TOEGEZEGD, S.GEPLAND, S.IN_UITVOERING):
            if list(S).index(to) <= list(S).index(status):
                progress.advance(
                    session, actor=actor, intervention_id=made.id, to=to, settings=settings, now=now
                )
        return made.id


def sweep_over(
    world: World, start: datetime, end: datetime, step: timedelta = timedelta(minutes=30)
) -> dict[str, datetime]:
    """Fire the reminder job at every step from start to end; the moment each reminder was queued, by key."""
    queued: dict[str, datetime] = {}
    moment = start
    while moment <= end:
        run_once(world.services, JOB, worker="worker-a", now=moment)
        for key in _reminder_keys(world):
            queued.setdefault(key, moment)
        moment += step
    return queued


def _reminder_keys(world: World) -> list[str]:
    with world.services.engine.connect() as connection:
        return [
            row[0] for row in connection.execute(text("SELECT key FROM outbox WHERE key LIKE 'reminder:%'"))
        ]


def days_of(queued: dict[str, datetime], number: int) -> list[date]:
    return sorted(
        date.fromisoformat(key.rsplit(":", 1)[1]) for key in queued if key.split(":")[1] == str(number)
    )


def reminder_texts(world: World, person: PersonRef) -> list[str]:
    return [t for t in texts(world.double.messages_to(person.user_id)) if "\U0001f514" in t or ":bell:" in t]


# --- the rules, day by day ------------------------------------------------------------------------------


def test_koningsdag_and_the_weekend_are_skipped_and_each_reminder_comes_at_nine(world: World) -> None:
    assert holiday_name(date(2027, 4, 27)) and not is_working_day(date(2027, 4, 27))  # Koningsdag, a Tuesday
    number = planned(
        world,
        owner=FATIMA,
        partner="gemeente",
        start=local(2027, 4, 28, 10),
        end=local(2027, 4, 28, 11),
        now=local(2027, 4, 19, 10),
    )
    queued = sweep_over(world, local(2027, 4, 23), local(2027, 5, 4, 23, 30))
    assert days_of(queued, number) == [
        date(2027, 4, 26),  # the working day before: Tuesday 27 is Koningsdag
        date(2027, 4, 28),  # on the day
        date(2027, 4, 29),  # overdue, every working day…
        date(2027, 4, 30),
        date(2027, 5, 3),  # …the weekend skipped
        date(2027, 5, 4),
    ]
    assert {moment.astimezone(AMSTERDAM).strftime("%H:%M") for moment in queued.values()} == {"09:00"}
    world.dispatch()
    shown = reminder_texts(world, FATIMA)
    assert len(shown) == 6
    assert "staat de volgende werkdag gepland: woensdag 28 april, 10:00–11:00" in shown[0]
    assert "staat vandaag gepland" in shown[1]
    assert "is 1 werkdag over tijd" in shown[2] and "is 4 werkdagen over tijd" in shown[5]
    assert "Onafgemaakte interventies bevestigen criminelen in hun status" in shown[5]


def test_koningsdag_is_on_saturday_26_april_when_the_27th_is_a_sunday(world: World) -> None:
    assert date(2031, 4, 27).weekday() == 6
    assert is_holiday(date(2031, 4, 26)) and not is_holiday(date(2031, 4, 27))
    assert is_holiday(date(2025, 4, 26)) and is_holiday(date(2026, 4, 27))
    number = planned(
        world, owner=JAN, partner="politie", start=local(2031, 4, 28, 9, 30), now=local(2031, 4, 14, 10)
    )
    queued = sweep_over(world, local(2031, 4, 24), local(2031, 4, 28, 12))
    assert days_of(queued, number) == [date(2031, 4, 25), date(2031, 4, 28)]


@pytest.mark.parametrize(
    ("window_day", "start", "end", "expected"),
    [
        # Last Sunday of March 2026 (in 2027 it is Easter, with Good Friday and Easter Monday off):
        # clocks go forward; 09:00 is 08:00 UTC before, 07:00 UTC after.
        (
            date(2026, 3, 26),
            local(2026, 3, 26),
            local(2026, 3, 31, 23),
            {
                date(2026, 3, 26): "08:00",
                date(2026, 3, 27): "08:00",
                date(2026, 3, 30): "07:00",
                date(2026, 3, 31): "07:00",
            },
        ),
        # Last Sunday of October 2027: clocks go back; 07:00 UTC before, 08:00 UTC after.
        (
            date(2027, 10, 28),
            local(2027, 10, 28),
            local(2027, 11, 2, 23),
            {
                date(2027, 10, 28): "07:00",
                date(2027, 10, 29): "07:00",
                date(2027, 11, 1): "08:00",
                date(2027, 11, 2): "08:00",
            },
        ),
    ],
)
def test_daylight_saving_changes_move_nothing(
    world: World, window_day: date, start: datetime, end: datetime, expected: dict[date, str]
) -> None:
    number = planned(
        world,
        owner=FATIMA,
        partner="gemeente",
        start=local(window_day.year, window_day.month, window_day.day, 10),
        now=local(window_day.year, window_day.month, window_day.day - 10, 10),
    )
    queued = sweep_over(world, start, end)
    got = {
        date.fromisoformat(k.rsplit(":", 1)[1]): v.strftime("%H:%M")
        for k, v in queued.items()
        if k.split(":")[1] == str(number)
    }
    assert got == expected
    assert {v.astimezone(AMSTERDAM).strftime("%H:%M") for v in queued.values()} == {"09:00"}


def test_reminders_come_at_nine_in_the_owners_own_time_zone(world: World) -> None:
    with world.services.session() as session:
        remember_profile(
            session, team_id=ILSE.team_id, user_id=ILSE.user_id, locale="nl-NL", tz="Europe/London"
        )
    number = planned(
        world, owner=ILSE, partner="belastingdienst", start=local(2027, 1, 13, 14), now=local(2027, 1, 4, 10)
    )
    queued = sweep_over(world, local(2027, 1, 11), local(2027, 1, 13, 23))
    assert days_of(queued, number) == [date(2027, 1, 12), date(2027, 1, 13)]
    assert {v.strftime("%H:%M") for v in queued.values()} == {
        "09:00"
    }  # 09:00 in London is 09:00 UTC in winter


def test_an_intervention_without_updates_goes_to_its_owner_then_to_the_partners_lead(world: World) -> None:
    settings = world.services.settings
    with world.services.session() as session:
        actor = partners.require_member(session, team_id=FATIMA.team_id, user_id=FATIMA.user_id)
        made = planning.create(
            session,
            actor=actor,
            draft=planning.Draft(
                case_id=world.case["loods"],
                instrument_type=InstrumentType.PREVENTIEF,
                instrument="Voorlichting ondernemers",
                focus_element=FocusElement.WEERBAARHEID,
                owner_partner_id=world.partner["gemeente"],
                owner=FATIMA,
            ),
            settings=settings,
            now=local(2027, 2, 1, 11),
        ).intervention
        assert made.id is not None
        number = made.id
        progress.advance(
            session,
            actor=actor,
            intervention_id=number,
            to=S.TOEGEZEGD,
            settings=settings,
            now=local(2027, 2, 1, 11),
        )
    queued = sweep_over(world, local(2027, 2, 14), local(2027, 3, 3, 12), step=timedelta(hours=1))
    assert days_of(queued, number) == [date(2027, 2, 15), date(2027, 3, 1)]  # 14 days, then 28: once each
    world.dispatch()
    assert any("is al 14 dagen niet bijgewerkt" in t for t in reminder_texts(world, FATIMA))
    to_lead = reminder_texts(world, MARLEEN)
    assert len(to_lead) == 1 and "Zorg als trekker" in to_lead[0] and "<@U0GEM00001>" in to_lead[0]


# --- two workers, a week --------------------------------------------------------------------------------


def test_two_workers_over_a_week_send_every_reminder_exactly_once(world_on: World) -> None:
    world = world_on
    with world.services.session() as session:
        remember_profile(
            session, team_id=ILSE.team_id, user_id=ILSE.user_id, locale="nl-NL", tz="Europe/London"
        )
    created = local(2027, 4, 19, 10)
    closure = planned(world, owner=FATIMA, partner="gemeente", start=local(2027, 4, 28, 10), now=created)
    equipment = planned(world, owner=JAN, partner="politie", start=local(2027, 4, 26, 8), now=created)
    assessment = planned(
        world,
        owner=ILSE,
        partner="belastingdienst",
        start=local(2027, 4, 29, 14, zone=ZoneInfo("Europe/London")),
        now=created,
    )
    on_koningsdag = planned(
        world, owner=FATIMA, partner="gemeente", start=local(2027, 4, 27, 10), now=created
    )
    finished = planned(
        world, owner=JAN, partner="politie", start=local(2027, 4, 26, 10), now=created, status=S.IN_UITVOERING
    )
    snoozed = planned(world, owner=MARLEEN, partner="gemeente", start=local(2027, 4, 23, 10), now=created)
    settings = world.services.settings
    with world.services.session() as session:
        jan = partners.require_member(session, team_id=JAN.team_id, user_id=JAN.user_id)
        progress.finish(
            session, actor=jan, intervention_id=finished, result="klaar", settings=settings, now=created
        )
        marleen = partners.require_member(session, team_id=MARLEEN.team_id, user_id=MARLEEN.user_id)
        progress.snooze(
            session,
            actor=marleen,
            intervention_id=snoozed,
            span="week",
            settings=settings,
            now=local(2027, 4, 23, 8),
        )

    start, end, step = local(2027, 4, 23), local(2027, 4, 29, 23, 45), timedelta(minutes=15)
    moments = []
    moment = start
    while moment <= end:
        moments.append(moment)
        moment += step
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(name: str, direct: bool) -> None:
        try:
            for now in moments:
                barrier.wait(timeout=30)
                if direct:
                    # A second worker that sweeps whatever the scheduler's claim says.
                    with world.services.session() as session:
                        reminders.sweep(session, world.services, now)
                else:
                    run_once(world.services, JOB, worker=name, now=now)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            barrier.abort()

    threads = [
        threading.Thread(target=worker, args=("worker-a", False)),
        threading.Thread(target=worker, args=("worker-b", True)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors

    sent = world.dispatch()
    assert sent >= 12
    with world.services.engine.connect() as connection:
        rows = connection.execute(text("SELECT key, status FROM outbox WHERE key LIKE 'reminder:%'")).all()
    per_day = Counter((key.split(":")[1], key.split(":")[2]) for key, _status in rows)
    assert set(per_day.values()) == {1}
    assert {status for _key, status in rows} == {"sent"}
    expected = {
        (closure, "2027-04-26"),
        (closure, "2027-04-28"),
        (closure, "2027-04-29"),
        (equipment, "2027-04-23"),
        (equipment, "2027-04-26"),
        (equipment, "2027-04-28"),
        (equipment, "2027-04-29"),
        (assessment, "2027-04-28"),
        (assessment, "2027-04-29"),
        (on_koningsdag, "2027-04-26"),
        (on_koningsdag, "2027-04-28"),
        (on_koningsdag, "2027-04-29"),
    }
    assert set(per_day) == {(str(n), d) for n, d in expected}
    # And Slack received exactly those: one delivery per reminder.
    delivered = [
        c
        for c in world.double.delivered("chat.postMessage")
        if "\U0001f514" in c.args.get("text", "") or ":bell:" in str(c.args.get("blocks"))
    ]
    assert len(delivered) == len(expected)


# --- the buttons on a reminder ---------------------------------------------------------------------------


def test_snooze_done_and_hand_over_from_a_reminder_are_safe_to_click_twice(world: World) -> None:
    today = datetime.now(AMSTERDAM).date()
    # The reminder comes at nine on the working day before the start: both days after today, or on a
    # Friday after nine (or before a long weekend) the reminder's moment would already have passed.
    before = next_working_day(today)
    day = next_working_day(before)
    now = datetime.now(UTC)
    number = planned(
        world, owner=FATIMA, partner="gemeente", start=local(day.year, day.month, day.day, 10), now=now
    )
    run_once(world.services, JOB, worker="w", now=local(before.year, before.month, before.day, 9, 5))
    world.dispatch()
    assert len(reminder_texts(world, FATIMA)) == 1

    # Snooze a day, twice: one change. Then a week, twice: one more; no reminder on the day itself.
    world.click(FATIMA, "intervention_snooze_day", str(number), in_dm_of=FATIMA)
    world.click(FATIMA, "intervention_snooze_day", str(number), in_dm_of=FATIMA)
    assert "Er is niets veranderd" in visible_text(world.responses()[-1]["blocks"])
    assert world.count("SELECT count(*) FROM audit_entry WHERE action = 'intervention.snoozed'") == 1
    world.click(FATIMA, "intervention_snooze_week", str(number), in_dm_of=FATIMA)
    world.click(FATIMA, "intervention_snooze_week", str(number), in_dm_of=FATIMA)
    assert "Geen herinneringen over *I-1* tot" in visible_text(world.responses()[-1]["blocks"])
    assert world.count("SELECT count(*) FROM audit_entry WHERE action = 'intervention.snoozed'") == 2
    run_once(world.services, JOB, worker="w", now=local(day.year, day.month, day.day, 9, 5))
    assert days_of({k: now for k in _reminder_keys(world)}, number) == [before]
    snoozed_until = world.intervention(number).snoozed_until
    assert snoozed_until is not None and snoozed_until >= today + timedelta(days=7)

    # Hand over, from the reminder: a modal, then the politie owns it.
    world.click(FATIMA, "intervention_handover", str(number), in_dm_of=FATIMA)
    view = world.double.last_view("intervention_handover")
    world.submit_view(FATIMA, "intervention_handover", {"owner": JAN.user_id}, view)
    world.submit_view(FATIMA, "intervention_handover", {"owner": JAN.user_id}, view)
    assert world.count("SELECT count(*) FROM audit_entry WHERE action = 'intervention.handed_over'") == 1
    assert world.intervention(number).owner_user_id == JAN.user_id

    # Done, from Jan's side now: the form asks for the result; twice is once.
    world.click(JAN, "intervention_done", str(number))
    view = world.double.last_view("intervention_finish")
    world.submit_view(JAN, "intervention_finish", {"result": "Pand gesloten"}, view)
    world.submit_view(JAN, "intervention_finish", {"result": "Pand gesloten"}, view)
    assert world.intervention(number).status is S.UITGEVOERD
    assert world.intervention(number).next_reminder_at is None
    finishing = (
        "SELECT count(*) FROM audit_entry "
        "WHERE action = 'intervention.status_changed' AND details LIKE '%UITGEVOERD%'"
    )
    assert world.count(finishing) == 1
    # A finished intervention is not reminded of again.
    run_once(
        world.services, JOB, worker="w", now=local(day.year, day.month, day.day, 9, 5) + timedelta(days=9)
    )
    assert days_of({k: now for k in _reminder_keys(world)}, number) == [before]
    # The click on "done" in an old reminder now says so instead of opening the form.
    world.click(FATIMA, "intervention_done", str(number), in_dm_of=FATIMA)
    assert "is al uitgevoerd" in visible_text(world.responses()[-1]["blocks"])


def test_the_sweep_reads_only_what_is_due(world: World) -> None:
    """The sweep's own query goes through the index on next_reminder_at (SQLite's plan says so)."""
    query = reminders.due_query(local(2027, 1, 1))
    compiled = query.compile(world.services.engine, compile_kwargs={"literal_binds": True})
    with world.services.engine.connect() as connection:
        plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
    assert "ix_intervention_next_reminder" in plan and "SCAN intervention" not in plan
