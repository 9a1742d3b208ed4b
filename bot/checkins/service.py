"""Scheduled check-ins: plan, pause, resume, delete; who takes part; the App Home's view.

Nothing here knows Slack. Every change is authorised (bot.authz) and audited (bot.audit) in the caller's
transaction, and every message it causes is queued in the outbox in that same transaction: a refused or
failed change leaves nothing behind. What people type for the channel (questions, answers, what they need
a partner for) is checked for personal data first (bot.pii) and refused if it holds any.

Answering a moment is bot/checkins/answers.py; the moments themselves, their reminders and their summaries
are queued by the job (bot/checkins/jobs.py) and closed by bot/checkins/closing.py.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot import audit, clock
from bot.authz import Action, Principal, authorize
from bot.checkins import timing
from bot.checkins.models import (
    CheckinAnswer,
    CheckinMoment,
    CheckinSchedule,
    MomentStatus,
    ScheduleStatus,
)
from bot.checkins.problems import CheckinError, refuse_personal_data
from bot.checkins.timing import shown_time
from bot.i18n import N_, t
from bot.partners import service as partners
from bot.partners.models import Member, Partner, PersonRef
from bot.problems import Problem, Problems

MAX_QUESTIONS: Final = 5
MAX_QUESTION: Final = 150
HOME_LIMIT: Final = 5
PURPOSE_PLAN: Final = "arranging a recurring alignment moment in a channel (/samen afstemming)"
# Questions and answers are shown to everyone taking part: they hold no personal data (bot.pii).
PERSONAL_DATA: Final = N_(
    "This is shown to the others taking part: take out the personal data (%(kinds)s) and use subject codes."
)

# How long a moment stays open, in minutes → its label.
WINDOWS: Final[dict[int, str]] = {
    15: N_("15 minutes"),
    30: N_("30 minutes"),
    60: N_("1 hour"),
    120: N_("2 hours"),
    240: N_("4 hours"),
    480: N_("8 hours"),
    1440: N_("1 day"),
    2880: N_("2 days"),
}
DEFAULT_WINDOW: Final = 120
DEFAULT_WEEKDAYS: Final = frozenset(range(5))
DEFAULT_CLOCK: Final = "09:00"
WEEKDAY_LABELS: Final = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
DEFAULT_QUESTIONS: Final = (N_("What did you do since last time?"), N_("What will you do next?"))
PARTNER_QUESTION: Final = N_("Where do you need a partner?")
STATUS_LABELS: Final[dict[ScheduleStatus, str]] = {
    ScheduleStatus.ACTIEF: N_("active"),
    ScheduleStatus.GEPAUZEERD: N_("paused"),
    ScheduleStatus.VERWIJDERD: N_("deleted"),
}


# --- planning ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanInput:
    channel_id: str
    team_id: str
    weekdays: frozenset[int]
    clock: str
    timezone: str
    include_holidays: bool
    questions: str  # one per line
    ask_partner_need: bool
    partner_ids: tuple[int, ...]
    people: tuple[PersonRef, ...]
    window_minutes: int | None
    language: str
    submission_key: str | None = None


@dataclass(frozen=True)
class Planned:
    schedule: CheckinSchedule
    created: bool


def default_questions(language: str) -> list[str]:
    return [t(language, question) for question in DEFAULT_QUESTIONS]


def check_may_plan(actor: Principal) -> None:
    """Before the form opens: only those who may plan a check-in see it."""
    authorize(actor, Action.PLAN_CHECKIN)


def plan(session: Session, *, actor: Principal, data: PlanInput, now: datetime | None = None) -> Planned:
    """Plan a recurring check-in in a channel; the same modal submitted twice plans it once."""
    now = now or clock.now(session)
    authorize(actor, Action.PLAN_CHECKIN)
    if data.submission_key:
        existing = session.exec(
            select(CheckinSchedule).where(CheckinSchedule.submission_key == data.submission_key)
        ).first()
        if existing is not None:
            return Planned(existing, created=False)
    problems: list[Problem] = []
    if not partners.CHANNEL_ID.match(data.channel_id or ""):
        problems.append(CheckinError(N_("Plan a check-in from the channel where it should take place.")))
    weekdays = frozenset(d for d in data.weekdays if 0 <= d < 7)
    if not weekdays:
        problems.append(CheckinError(N_("Choose at least one day."), field="days"))
    at_hour = timing.parse_clock(data.clock)
    if at_hour is None:
        problems.append(
            CheckinError(
                N_("“%(value)s” is not a time of day: write it like 09:00."),
                field="time",
                value=(data.clock or "").strip()[:20],
            )
        )
    zone = timing.zone_of(data.timezone)
    if zone is None:
        problems.append(CheckinError(N_("Choose a time zone from the list."), field="zone"))
    questions = _questions(data.questions, problems)
    if not questions and not data.ask_partner_need:
        problems.append(CheckinError(N_("Ask at least one question: the list is empty."), field="questions"))
    partner_ids = _existing_partners(session, data.partner_ids, problems)
    people = _members(session, data.people, problems)
    if not partner_ids and not people:
        problems.append(
            CheckinError(N_("Choose who takes part: partners, people, or both."), field="partners")
        )
    window = data.window_minutes if data.window_minutes in WINDOWS else None
    if window is None:
        problems.append(CheckinError(N_("Choose how long the check-in stays open."), field="window"))
    elif weekdays and timedelta(minutes=window) >= timing.shortest_gap(weekdays):
        problems.append(
            CheckinError(
                N_(
                    "The check-in would still be open when the next one starts: choose a window "
                    "shorter than the time between two moments, or fewer days."
                ),
                field="window",
            )
        )
    if problems:
        raise Problems(problems)
    assert at_hour is not None and zone is not None and window is not None
    next_at = timing.next_occurrence(
        after=now, weekdays=weekdays, clock=at_hour, zone=zone, include_holidays=data.include_holidays
    )
    if next_at is None:
        raise Problems([CheckinError(N_("These days never come within a year."), field="days")])
    schedule = CheckinSchedule(
        channel_id=data.channel_id,
        team_id=data.team_id,
        weekdays=",".join(str(d) for d in sorted(weekdays)),
        clock=at_hour.strftime("%H:%M"),
        timezone=data.timezone,
        include_holidays=data.include_holidays,
        window_minutes=window,
        questions=json.dumps(questions, ensure_ascii=False),
        ask_partner_need=data.ask_partner_need,
        partner_ids=json.dumps(sorted(partner_ids)),
        people=json.dumps([[p.team_id, p.user_id] for p in people]),
        language=data.language,
        next_at=next_at,
        submission_key=data.submission_key,
        created_by_team_id=actor.team_id,
        created_by_user_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(schedule)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="checkin.planned",
        object_type="checkin_schedule",
        object_id=_id(schedule),
        purpose=PURPOSE_PLAN,
        details={
            "channel_id": schedule.channel_id,
            "weekdays": schedule.weekdays,
            "clock": schedule.clock,
            "timezone": schedule.timezone,
            "window_minutes": window,
            "partners": sorted(partner_ids),
            "people": len(people),
        },
    )
    return Planned(schedule, created=True)


def _questions(text: str, problems: list[Problem]) -> list[str]:
    questions = [" ".join(line.split()) for line in (text or "").splitlines()]
    questions = [q for q in questions if q]
    if len(questions) > MAX_QUESTIONS:
        problems.append(
            CheckinError(
                N_("Ask at most %(limit)s questions: short is the point."),
                field="questions",
                limit=MAX_QUESTIONS,
            )
        )
    if any(len(q) > MAX_QUESTION for q in questions):
        problems.append(
            CheckinError(
                N_("Keep each question to %(limit)s characters."), field="questions", limit=MAX_QUESTION
            )
        )
    refuse_personal_data(" ".join(questions), "questions", problems, PERSONAL_DATA)
    return questions[:MAX_QUESTIONS]


def _existing_partners(session: Session, ids: Sequence[int], problems: list[Problem]) -> list[int]:
    found = []
    for partner_id in dict.fromkeys(ids):
        if session.get(Partner, partner_id) is None:
            problems.append(
                CheckinError(
                    N_("There is no partner with number %(number)s."), field="partners", number=partner_id
                )
            )
        else:
            found.append(partner_id)
    return found


def _members(session: Session, people: Sequence[PersonRef], problems: list[Problem]) -> list[PersonRef]:
    found: list[PersonRef] = []
    for person in dict.fromkeys(people):
        member = partners.find_member(session, team_id=person.team_id, user_id=person.user_id)
        if member is None:
            member = partners.find_member_by_user(session, user_id=person.user_id)
        if member is None:
            problems.append(
                CheckinError(
                    N_(
                        "%(person)s is not a member of the partnership: ask a coordinator to add them, "
                        "or choose their partner."
                    ),
                    field="people",
                    person=person,
                )
            )
        else:
            found.append(member.person)
    return found


# --- pausing, resuming, deleting --------------------------------------------------------------------


def get_schedule(session: Session, schedule_id: int) -> CheckinSchedule:
    schedule = session.get(CheckinSchedule, schedule_id)
    if schedule is None or schedule.status is ScheduleStatus.VERWIJDERD:
        raise CheckinError(
            N_("There is no check-in %(number)s. `/samen afstemming lijst` shows them."), number=schedule_id
        )
    return schedule


def pause(session: Session, *, actor: Principal, schedule_id: int) -> bool:
    authorize(actor, Action.PLAN_CHECKIN)
    schedule = get_schedule(session, schedule_id)
    if schedule.status is ScheduleStatus.GEPAUZEERD:
        return False
    return _set_status(session, actor, schedule, ScheduleStatus.GEPAUZEERD, None, "checkin.paused")


def resume(session: Session, *, actor: Principal, schedule_id: int, now: datetime | None = None) -> bool:
    authorize(actor, Action.PLAN_CHECKIN)
    schedule = get_schedule(session, schedule_id)
    if schedule.status is ScheduleStatus.ACTIEF:
        return False
    next_at = next_moment(schedule, after=now or clock.now(session))
    return _set_status(session, actor, schedule, ScheduleStatus.ACTIEF, next_at, "checkin.resumed")


def delete(session: Session, *, actor: Principal, schedule_id: int) -> bool:
    authorize(actor, Action.PLAN_CHECKIN)
    schedule = get_schedule(session, schedule_id)
    return _set_status(session, actor, schedule, ScheduleStatus.VERWIJDERD, None, "checkin.deleted")


def _set_status(
    session: Session,
    actor: Principal,
    schedule: CheckinSchedule,
    status: ScheduleStatus,
    next_at: datetime | None,
    action: str,
) -> bool:
    previous = schedule.status
    schedule.status = status
    schedule.next_at = next_at
    schedule.updated_at = clock.now(session)
    session.add(schedule)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=action,
        object_type="checkin_schedule",
        object_id=_id(schedule),
        purpose=PURPOSE_PLAN,
        details={"from": previous.value, "to": status.value},
    )
    return True


def next_moment(schedule: CheckinSchedule, *, after: datetime) -> datetime | None:
    return timing.next_occurrence(
        after=after,
        weekdays=timing.weekdays_of(schedule.weekdays),
        clock=time.fromisoformat(schedule.clock),
        zone=ZoneInfo(schedule.timezone),
        include_holidays=schedule.include_holidays,
    )


# --- reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleView:
    id: int
    channel_id: str
    days: list[str]  # message ids of weekday labels
    clock: str
    timezone: str
    include_holidays: bool
    window: str  # message id
    status: str  # message id
    next_at: str | None  # formatted in the schedule's zone
    partners: list[str]
    people: list[str]  # user ids
    questions: list[str]


def schedules(session: Session, *, language: str, channel_id: str | None = None) -> list[ScheduleView]:
    query = select(CheckinSchedule).where(CheckinSchedule.status != ScheduleStatus.VERWIJDERD)
    if channel_id is not None:
        query = query.where(CheckinSchedule.channel_id == channel_id)
    return [
        view_of(session, s, language) for s in session.exec(query.order_by(col(CheckinSchedule.id))).all()
    ]


def view_of(session: Session, schedule: CheckinSchedule, language: str) -> ScheduleView:
    names = {p.id: p.name for p in partners.list_partners(session)}
    zone = ZoneInfo(schedule.timezone)
    return ScheduleView(
        id=_id(schedule),
        channel_id=schedule.channel_id,
        days=[WEEKDAY_LABELS[d] for d in sorted(timing.weekdays_of(schedule.weekdays))],
        clock=schedule.clock,
        timezone=schedule.timezone,
        include_holidays=schedule.include_holidays,
        window=WINDOWS.get(schedule.window_minutes, str(schedule.window_minutes)),
        status=STATUS_LABELS[schedule.status],
        next_at=shown_time(schedule.next_at, zone, language) if schedule.next_at else None,
        partners=[names.get(p, "?") for p in json.loads(schedule.partner_ids)],
        people=[user for _team, user in json.loads(schedule.people)],
        questions=json.loads(schedule.questions),
    )


def participants_of(session: Session, schedule: CheckinSchedule) -> list[Member]:
    """Who is expected to answer: the members of the chosen partners and the chosen people, once each."""
    found: dict[PersonRef, Member] = {}
    for partner_id in json.loads(schedule.partner_ids):
        for member in partners.members_of(session, partner_id=partner_id):
            found.setdefault(member.person, member)
    for team_id, user_id in json.loads(schedule.people):
        person = partners.find_member(session, team_id=team_id, user_id=user_id)
        if person is not None:
            found.setdefault(person.person, person)
    return list(found.values())


def takes_part(schedule: CheckinSchedule, member: Member) -> bool:
    return member.partner_id in json.loads(schedule.partner_ids) or [
        member.team_id,
        member.user_id,
    ] in json.loads(schedule.people)


# --- the App Home -----------------------------------------------------------------------------------


@dataclass
class HomeMoment:
    moment_id: int
    channel_id: str
    closes_at: str
    answered: bool


@dataclass
class HomeSchedule:
    channel_id: str
    next_at: str


@dataclass
class HomeOverview:
    open: list[HomeMoment] = field(default_factory=list)
    upcoming: list[HomeSchedule] = field(default_factory=list)


def home_overview(session: Session, *, actor: Member, language: str) -> HomeOverview:
    """The person's open check-ins (to answer, or to change an answer) and their next moments."""
    overview = HomeOverview()
    rows = session.exec(
        select(CheckinMoment, CheckinAnswer)
        .join(CheckinAnswer, col(CheckinAnswer.moment_id) == col(CheckinMoment.id))
        .where(
            CheckinMoment.status == MomentStatus.OPEN,
            CheckinAnswer.team_id == actor.team_id,
            CheckinAnswer.user_id == actor.user_id,
        )
        .order_by(col(CheckinMoment.closes_at))
        .limit(HOME_LIMIT)
    ).all()
    for moment, answer in rows:
        schedule = session.get(CheckinSchedule, moment.schedule_id)
        zone = ZoneInfo(schedule.timezone) if schedule else ZoneInfo("UTC")
        overview.open.append(
            HomeMoment(
                moment.id or 0,
                moment.channel_id,
                shown_time(moment.closes_at, zone, language),
                answer.version > 0,
            )
        )
    active = session.exec(
        select(CheckinSchedule)
        .where(CheckinSchedule.status == ScheduleStatus.ACTIEF, col(CheckinSchedule.next_at).is_not(None))
        .order_by(col(CheckinSchedule.next_at))
    ).all()
    for schedule in active:
        if takes_part(schedule, actor) and schedule.next_at is not None:
            zone = ZoneInfo(schedule.timezone)
            overview.upcoming.append(
                HomeSchedule(schedule.channel_id, shown_time(schedule.next_at, zone, language))
            )
        if len(overview.upcoming) >= HOME_LIMIT:
            break
    return overview


def _id(schedule: CheckinSchedule) -> int:
    assert schedule.id is not None
    return schedule.id
