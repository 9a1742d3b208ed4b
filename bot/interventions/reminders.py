"""Reminders for the owners of interventions, and the sweep that sends them.

Rules (all at 09:00 in the owner's time zone — Slack's `tz` when we know it, else the partnership's —
and only on working days: weekends and Dutch public holidays are skipped):
- one working day before the window's day ("tomorrow"), and on the day itself;
- every working day after the window's day while the intervention is not finished (overdue);
- an intervention with no change for `SAMEN_STALE_DAYS` days is brought to its owner once, and after
  as many days again to its partner's lead once (escalation);
- a snooze keeps every reminder back until the day it names;
- never more than one per intervention per day: the outbox key is `reminder:<id>:<local day>`, so any
  number of sweeps on any number of workers queue it once.

The moment of the next reminder is stored on the intervention (`next_reminder_at`, indexed) and kept
current on every change; the sweep reads `WHERE next_reminder_at <= now` through that index, so it
costs what is due, not what exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.calendar import at_local, is_working_day, local_date, previous_working_day
from bot.cases.models import Case
from bot.config import Settings
from bot.i18n import language_for
from bot.interventions import messages
from bot.interventions.models import ACTIVE_STATUSES, Intervention
from bot.partners.models import Partner, PersonRef
from bot.people import Person
from bot.runtime import Services
from bot.scheduler import ScheduledJob

REMINDER_CLOCK: Final = time(9, 0)
HORIZON_DAYS: Final = 800  # no reminder further ahead than this is planned (a window years away)
BATCH: Final = 500


class ReminderKind(StrEnum):
    BEFORE = "before"  # one working day before the window's day
    DUE = "due"  # on the window's day
    OVERDUE = "overdue"  # after it, every working day until finished
    STALE = "stale"  # no change for N days: to the owner
    ESCALATION = "escalation"  # no change for 2N days: to the partner's lead


class People:
    """Slack profiles (time zone, locale), partners and cases read once per sweep: most owners have many
    interventions, and the session keeps no object nobody holds on to."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._known: dict[tuple[str, str], Person | None] = {}
        self._partners: dict[int, Partner | None] = {}
        self._cases: dict[int, Case | None] = {}

    def partner(self, partner_id: int) -> Partner | None:
        if partner_id not in self._partners:
            self._partners[partner_id] = self.session.get(Partner, partner_id)
        return self._partners[partner_id]

    def case(self, case_id: int | None) -> Case | None:
        if case_id is None:  # an independent intervention
            return None
        if case_id not in self._cases:
            self._cases[case_id] = self.session.get(Case, case_id)
        return self._cases[case_id]

    def get(self, team_id: str, user_id: str) -> Person | None:
        key = (team_id, user_id)
        if key not in self._known:
            self._known[key] = self.session.get(Person, key)
        return self._known[key]

    def language(self, person: PersonRef, default: str) -> str:
        found = self.get(person.team_id, person.user_id)
        return language_for(found.locale if found else None, default)


@dataclass(frozen=True)
class Due:
    kind: ReminderKind
    day: date


def owner_zone(
    session: Session, intervention: Intervention, default: ZoneInfo, people: People | None = None
) -> ZoneInfo:
    person = (people or People(session)).get(intervention.owner_team_id, intervention.owner_user_id)
    if person is not None and person.tz:
        try:
            return ZoneInfo(person.tz)
        except (ZoneInfoNotFoundError, ValueError):
            return default
    return default


def reminder_on(
    intervention: Intervention, day: date, zone: ZoneInfo, stale_days: int
) -> ReminderKind | None:
    """What reminder, if any, this intervention gets on `day` (a day in the owner's zone)."""
    if intervention.status not in ACTIVE_STATUSES or not is_working_day(day):
        return None
    if intervention.snoozed_until is not None and day < intervention.snoozed_until:
        return None
    last_change = local_date(intervention.updated_at, zone)
    if intervention.stale_stage == 1 and day >= last_change + timedelta(days=2 * stale_days):
        return ReminderKind.ESCALATION
    if intervention.window_start is not None:
        window_day = local_date(intervention.window_start, zone)
        if day == window_day:
            return ReminderKind.DUE
        if day > window_day:
            return ReminderKind.OVERDUE
        if day == previous_working_day(window_day):
            return ReminderKind.BEFORE
    if intervention.stale_stage == 0 and day >= last_change + timedelta(days=stale_days):
        return ReminderKind.STALE
    return None


def next_reminder(intervention: Intervention, *, after: date, zone: ZoneInfo, stale_days: int) -> Due | None:
    """The first day on or after `after` with a reminder (not one already sent that day)."""
    if intervention.status not in ACTIVE_STATUSES:
        return None
    if intervention.window_start is None and intervention.stale_stage >= 2:
        return None  # nothing left to remind of until someone changes it
    day = after
    if intervention.last_reminded_on is not None and day <= intervention.last_reminded_on:
        day = intervention.last_reminded_on + timedelta(days=1)
    if intervention.snoozed_until is not None and day < intervention.snoozed_until:
        day = intervention.snoozed_until
    # Skip straight to the first day that can matter: the day before the window, or the stale day.
    candidates = []
    last_change = local_date(intervention.updated_at, zone)
    if intervention.window_start is not None:
        candidates.append(local_date(intervention.window_start, zone) - timedelta(days=7))
    if intervention.stale_stage < 2:
        candidates.append(last_change + timedelta(days=stale_days * (1 + intervention.stale_stage)))
    if candidates:
        day = max(day, min(candidates))
    for _ in range(HORIZON_DAYS):
        kind = reminder_on(intervention, day, zone, stale_days)
        if kind is not None:
            return Due(kind, day)
        day += timedelta(days=1)
    return None


def reschedule(
    session: Session,
    intervention: Intervention,
    *,
    settings: Settings,
    now: datetime,
    zone: ZoneInfo | None = None,
) -> None:
    """Set `next_reminder_at` from the intervention as it is now; call after every change."""
    zone = zone or owner_zone(session, intervention, settings.timezone)
    today = local_date(now, zone)
    # A reminder at 09:00 today is still to come before 09:00; after it, tomorrow is the first day.
    first = today if now < at_local(today, REMINDER_CLOCK, zone) else today + timedelta(days=1)
    if intervention.last_reminded_on == today:
        first = today + timedelta(days=1)
    due = next_reminder(intervention, after=first, zone=zone, stale_days=settings.samen_stale_days)
    intervention.next_reminder_at = at_local(due.day, REMINDER_CLOCK, zone) if due else None


def recipient(session: Session, intervention: Intervention, kind: ReminderKind) -> PersonRef:
    owner = PersonRef(intervention.owner_team_id, intervention.owner_user_id)
    if kind is ReminderKind.ESCALATION:
        partner = session.get(Partner, intervention.owner_partner_id)
        if partner is not None and partner.lead is not None:
            return partner.lead
    return owner


def due_query(now: datetime, limit: int = BATCH) -> SelectOfScalar[Intervention]:
    """The interventions whose reminder is due, through the index on next_reminder_at."""
    return (
        select(Intervention)
        .where(col(Intervention.next_reminder_at) <= now)
        .order_by(col(Intervention.next_reminder_at), col(Intervention.id))
        .limit(limit)
    )


def sweep(session: Session, services: Services, now: datetime) -> int:
    """Queue every reminder that is due at `now`; return how many were queued by this call.

    Reads only due rows (the index on next_reminder_at). On PostgreSQL a second worker sweeping at the
    same moment skips the rows this one holds; whatever it does, the outbox key lets a reminder be
    queued once per intervention per day.
    """
    settings = services.settings
    queued = 0
    done: set[int] = set()
    people = People(session)
    while True:
        query = due_query(now)
        if done:
            query = query.where(col(Intervention.id).not_in(done))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(session.exec(query).all())
        for intervention in rows:
            assert intervention.id is not None
            done.add(intervention.id)
            queued += _remind(session, intervention, settings=settings, now=now, people=people)
        if len(rows) < BATCH:
            return queued


def _remind(
    session: Session, intervention: Intervention, *, settings: Settings, now: datetime, people: People
) -> int:
    zone = owner_zone(session, intervention, settings.timezone, people)
    today = local_date(now, zone)
    kind = reminder_on(intervention, today, zone, settings.samen_stale_days)
    sent = 0
    if (
        kind is not None
        and intervention.last_reminded_on != today
        and now >= at_local(today, REMINDER_CLOCK, zone)
    ):
        assert intervention.id is not None
        person = recipient(session, intervention, kind)
        days_overdue = 0
        if intervention.window_start is not None:
            days_overdue = _working_days_between(local_date(intervention.window_start, zone), today)
        if messages.send_to_person(
            session,
            settings=settings,
            person=person,
            key=f"reminder:{intervention.id}:{today.isoformat()}",
            template="intervention_reminder.json.j2",
            context={
                "iv": messages.summary(
                    session,
                    intervention,
                    for_channel=False,
                    partner=people.partner(intervention.owner_partner_id),
                    case=people.case(intervention.case_id),
                ),
                "kind": kind.value,
                "days_overdue": days_overdue,
                "stale_days": settings.samen_stale_days,
                "to_lead": person.user_id != intervention.owner_user_id,
            },
            ref=messages.reminders_ref(intervention.id),
            language=people.language(person, settings.samen_language),
        ):
            sent = 1
        intervention.last_reminded_on = today
        if kind is ReminderKind.ESCALATION:
            intervention.stale_stage = 2
        elif intervention.stale_stage == 0:
            # The owner was reminded today anyway: that was the nudge for the stale clock too.
            last_change = local_date(intervention.updated_at, zone)
            if today >= last_change + timedelta(days=settings.samen_stale_days):
                intervention.stale_stage = 1
    reschedule(session, intervention, settings=settings, now=now, zone=zone)
    session.add(intervention)
    return sent


def _working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end`."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def run_sweep(session: Session, services: Services, now: datetime) -> None:
    sweep(session, services, now)


JOBS = [
    ScheduledJob(
        name="intervention_reminders",
        # Every five minutes: a reminder goes out within minutes of 09:00 in each owner's zone.
        trigger=lambda zone: CronTrigger(minute="*/5", timezone=zone),
        run=run_sweep,
        # The offset keeps the slots of the hour that repeats when the clocks go back apart.
        slot_format="%Y-%m-%dT%H:%M%z",
    ),
]
