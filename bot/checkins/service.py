"""Scheduled check-ins: plan, pause, resume, delete; answer (and edit the answer); the App Home's view.

Nothing here knows Slack. Every change is authorised (bot.authz) and audited (bot.audit) in the caller's
transaction, and every message it causes is queued in the outbox in that same transaction: a refused or
failed change leaves nothing behind. What people type for the channel (questions, answers, what they need
a partner for) is checked for personal data first (bot.pii) and refused if it holds any.

The moments themselves, their reminders and their summaries are queued by the job (bot/checkins/jobs.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlmodel import Session, col, select

from bot import audit, cldr, pii
from bot.authz import Action, NotAllowed, Principal, authorize
from bot.checkins import timing
from bot.checkins.models import (
    CheckinAnswer,
    CheckinMoment,
    CheckinSchedule,
    MomentStatus,
    ScheduleStatus,
)
from bot.clock import utcnow
from bot.config import Settings
from bot.i18n import N_, t
from bot.outbox import enqueue, ts_of
from bot.partners import service as partners
from bot.partners.models import Member, Partner, PersonRef

MAX_QUESTIONS: Final = 5
MAX_QUESTION: Final = 150
MAX_ANSWER: Final = 1000
MAX_NEED: Final = 500
MAX_INTERVENTIONS_SHOWN: Final = 10
HOME_LIMIT: Final = 5
PURPOSE_PLAN: Final = "arranging a recurring alignment moment in a channel (/samen afstemming)"
PURPOSE_ANSWER: Final = "answering an alignment moment"

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


class CheckinError(Exception):
    """A problem the person can fix. `message` is a message id, `values` fill it, `field` is the modal
    block it is about. A value that is a PersonRef is a person; a tuple of pii.Kind is kinds of data."""

    def __init__(self, message: str, *, field: str | None = None, **values: object) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.values = values


class Problems(Exception):
    """Several problems at once, for a form: each names its field."""

    def __init__(self, problems: Sequence[CheckinError]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)


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
    now = now or utcnow()
    authorize(actor, Action.PLAN_CHECKIN)
    if data.submission_key:
        existing = session.exec(
            select(CheckinSchedule).where(CheckinSchedule.submission_key == data.submission_key)
        ).first()
        if existing is not None:
            return Planned(existing, created=False)
    problems: list[CheckinError] = []
    if not partners.CHANNEL_ID.match(data.channel_id or ""):
        problems.append(CheckinError(N_("Plan a check-in from the channel where it should take place.")))
    weekdays = frozenset(d for d in data.weekdays if 0 <= d < 7)
    if not weekdays:
        problems.append(CheckinError(N_("Choose at least one day."), field="days"))
    clock = timing.parse_clock(data.clock)
    if clock is None:
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
    assert clock is not None and zone is not None and window is not None
    next_at = timing.next_occurrence(
        after=now, weekdays=weekdays, clock=clock, zone=zone, include_holidays=data.include_holidays
    )
    if next_at is None:
        raise Problems([CheckinError(N_("These days never come within a year."), field="days")])
    schedule = CheckinSchedule(
        channel_id=data.channel_id,
        team_id=data.team_id,
        weekdays=",".join(str(d) for d in sorted(weekdays)),
        clock=clock.strftime("%H:%M"),
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


def _questions(text: str, problems: list[CheckinError]) -> list[str]:
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
    _refuse_personal_data(" ".join(questions), "questions", problems)
    return questions[:MAX_QUESTIONS]


def _existing_partners(session: Session, ids: Sequence[int], problems: list[CheckinError]) -> list[int]:
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


def _members(session: Session, people: Sequence[PersonRef], problems: list[CheckinError]) -> list[PersonRef]:
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


def _refuse_personal_data(text: str, field_name: str, problems: list[CheckinError]) -> None:
    findings = pii.find(text)
    if findings:
        problems.append(
            CheckinError(
                N_(
                    "This is shown to the others taking part: take out the personal data (%(kinds)s) "
                    "and use subject codes."
                ),
                field=field_name,
                kinds=tuple(pii.counts(findings)),
            )
        )


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
    next_at = next_moment(schedule, after=now or utcnow())
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
    schedule.updated_at = utcnow()
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


def shown_time(moment: datetime, zone: ZoneInfo, language: str, fmt: str = "EEEE d MMMM HH:mm") -> str:
    """A moment as people in `zone` read it, in their language (e.g. "maandag 30 november 09:00")."""
    return format_datetime(moment.astimezone(zone), fmt, tzinfo=zone, locale=cldr.locale(language))


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


# --- answering --------------------------------------------------------------------------------------


@dataclass
class InterventionChoice:
    id: int
    code: str
    instrument: str
    case_id: int | None  # None: an independent intervention, on no case
    status: str  # the current status value
    options: list[str]  # the current status and those it can move to from the check-in


@dataclass
class AnswerForm:
    moment_id: int
    channel_id: str
    closes_at: str  # formatted
    questions: list[str]
    answers: list[str]
    ask_partner_need: bool
    partners: list[tuple[int, str]]  # the partners one may need (all but one's own)
    need_partner_ids: list[int]
    need_text: str
    interventions: list[InterventionChoice] = field(default_factory=list)
    answered: bool = False


@dataclass(frozen=True)
class AnswerInput:
    answers: tuple[str, ...]
    need_partner_ids: tuple[int, ...] = ()
    need_text: str = ""
    statuses: dict[int, str] = field(default_factory=dict)  # intervention id → the status chosen
    view_id: str | None = None


@dataclass(frozen=True)
class Answered:
    version: int
    changed: bool
    moment: CheckinMoment
    closed: bool = False  # this answer was the last one expected: the moment closed with it


def get_moment(session: Session, moment_id: int) -> CheckinMoment:
    moment = session.get(CheckinMoment, moment_id)
    if moment is None:
        raise CheckinError(N_("This check-in does not exist (any more)."))
    return moment


def _open_moment(session: Session, moment_id: int, *, lock: bool = False) -> CheckinMoment:
    """The moment, if still open. `lock`: hold its row until commit (FOR UPDATE on PostgreSQL; SQLite's
    BEGIN IMMEDIATE already serialises writers), so answers that may close it count one after another."""
    moment = session.get(CheckinMoment, moment_id, with_for_update=True) if lock else None
    moment = moment or get_moment(session, moment_id)
    if moment.status is not MomentStatus.OPEN:
        raise CheckinError(N_("This check-in is closed; the summary is in its thread."))
    return moment


def answer_form(
    session: Session, *, actor: Member, moment_id: int, settings: Settings, language: str
) -> AnswerForm:
    """What the answer modal shows: the questions, the person's earlier answer, their open interventions."""
    authorize(actor, Action.ANSWER_CHECKIN)
    moment = _open_moment(session, moment_id)
    questions: list[str] = json.loads(moment.questions)
    answer = session.get(CheckinAnswer, (moment_id, actor.team_id, actor.user_id))
    earlier: list[str] = json.loads(answer.answers) if answer and answer.answers else []
    schedule = session.get(CheckinSchedule, moment.schedule_id)
    zone = ZoneInfo(schedule.timezone) if schedule else settings.timezone
    return AnswerForm(
        moment_id=moment_id,
        channel_id=moment.channel_id,
        closes_at=shown_time(moment.closes_at, zone, language, "HH:mm"),
        questions=questions,
        answers=[earlier[i] if i < len(earlier) else "" for i in range(len(questions))],
        ask_partner_need=moment.ask_partner_need,
        partners=[(_pid(p), p.name) for p in partners.list_partners(session) if p.id != actor.partner_id],
        need_partner_ids=json.loads(answer.need_partner_ids) if answer and answer.need_partner_ids else [],
        need_text=(answer.need_text or "") if answer else "",
        interventions=_open_interventions(session, actor),
        answered=bool(answer and answer.version),
    )


def _open_interventions(session: Session, actor: Member) -> list[InterventionChoice]:
    """The person's unfinished interventions (issue 5), each with the statuses a check-in can move it to.

    Finishing and calling off need a result or a reason: those stay with `/samen interventie`.
    """
    from bot.interventions import service as interventions
    from bot.interventions.models import OPEN_STATUSES, next_steps

    choices = []
    for iv in interventions.my_work(session, actor=actor).mine[:MAX_INTERVENTIONS_SHOWN]:
        steps = [s.value for s in next_steps(iv) if s in OPEN_STATUSES]
        choices.append(
            InterventionChoice(
                id=iv.id or 0,
                code=iv.code,
                instrument=iv.instrument,
                case_id=iv.case_id,
                status=iv.status.value,
                options=[iv.status.value, *steps],
            )
        )
    return choices


def answer(
    session: Session,
    *,
    actor: Member,
    moment_id: int,
    data: AnswerInput,
    settings: Settings,
    now: datetime | None = None,
) -> Answered:
    """Record a person's answer and post it in the prompt's thread; a second answer edits that post.

    Status changes of the person's interventions chosen in the same form go through the interventions'
    own rules (capacity, second round, window) in this transaction: if one is refused, nothing is saved.
    """
    now = now or utcnow()
    authorize(actor, Action.ANSWER_CHECKIN)
    moment = _open_moment(session, moment_id, lock=True)
    row = session.get(CheckinAnswer, (moment_id, actor.team_id, actor.user_id))
    if row is not None and data.view_id and row.last_view_id == data.view_id:
        return Answered(row.version, changed=False, moment=moment)  # the same modal submitted twice
    questions: list[str] = json.loads(moment.questions)
    texts = [(data.answers[i] if i < len(data.answers) else "").strip() for i in range(len(questions))]
    need_text = " ".join((data.need_text or "").split())
    need_ids = [p for p in dict.fromkeys(data.need_partner_ids) if p != actor.partner_id]
    problems: list[CheckinError] = []
    for index, text in enumerate(texts):
        if len(text) > MAX_ANSWER:
            problems.append(
                CheckinError(
                    N_("Keep each answer to %(limit)s characters."), field=f"q{index}", limit=MAX_ANSWER
                )
            )
        _refuse_personal_data(text, f"q{index}", problems)
    if len(need_text) > MAX_NEED:
        problems.append(
            CheckinError(N_("Keep it to %(limit)s characters."), field="need_text", limit=MAX_NEED)
        )
    _refuse_personal_data(need_text, "need_text", problems)
    if need_text and not need_ids:
        problems.append(CheckinError(N_("Choose the partner you need."), field="need_partners"))
    for partner_id in need_ids:
        if session.get(Partner, partner_id) is None:
            problems.append(
                CheckinError(
                    N_("There is no partner with number %(number)s."),
                    field="need_partners",
                    number=partner_id,
                )
            )
    if problems:
        raise Problems(problems)
    status_changes = _change_statuses(session, actor, data.statuses, settings, now)
    if not any(texts) and not need_ids and not status_changes and not (row and row.version):
        raise Problems(
            [CheckinError(N_("Answer at least one question."), field="q0" if questions else "need_partners")]
        )
    if row is None:
        row = CheckinAnswer(
            moment_id=moment_id,
            team_id=actor.team_id,
            user_id=actor.user_id,
            partner_id=actor.partner_id,
            expected=False,
        )
    answers_json = json.dumps(texts, ensure_ascii=False)
    needs_json = json.dumps(need_ids)
    same = (
        row.version > 0
        and row.answers == answers_json
        and (row.need_partner_ids or "[]") == needs_json
        and (row.need_text or "") == need_text
    )
    if same and not status_changes:
        row.last_view_id = data.view_id or row.last_view_id
        session.add(row)
        return Answered(row.version, changed=False, moment=moment)
    row.version += 1
    row.answers = answers_json
    row.need_partner_ids = needs_json
    row.need_text = need_text or None
    row.partner_id = actor.partner_id
    row.last_view_id = data.view_id
    row.answered_at = now
    session.add(row)
    session.flush()
    _queue_answer(session, moment, row, questions, texts, need_ids, need_text, actor)
    audit.record(
        session,
        actor=actor,
        action="checkin.answered",
        object_type="checkin_moment",
        object_id=moment_id,
        purpose=PURPOSE_ANSWER,
        details={"version": row.version, "needs": need_ids, "interventions": sorted(status_changes)},
    )
    return Answered(
        row.version, changed=True, moment=moment, closed=_close_if_done(session, moment, row, actor)
    )


def _close_if_done(session: Session, moment: CheckinMoment, row: CheckinAnswer, actor: Member) -> bool:
    """A first answer from someone expected may be the last one missing: then the moment closes now,
    with its summary, instead of waiting for the end of its window."""
    from bot.checkins import closing

    if not (row.expected and row.version == 1):
        return False
    if not closing.everyone_answered(session, _mid(moment)):
        return False
    return closing.close(session, moment, reason=closing.CloseReason.ALL_ANSWERED, actor=actor)


def _change_statuses(
    session: Session, actor: Member, wanted: dict[int, str], settings: Settings, now: datetime
) -> list[int]:
    """Move the person's interventions to the statuses chosen in the form; the ids that changed."""
    if not wanted:
        return []
    from bot.interventions import service as interventions
    from bot.interventions.models import OPEN_STATUSES, InterventionStatus

    changed = []
    for intervention_id, value in sorted(wanted.items()):
        try:
            to = InterventionStatus(value)
            current = interventions.get(session, intervention_id=intervention_id)
            if current.status is to:
                continue
            if to not in OPEN_STATUSES:
                raise CheckinError(
                    N_("Finish or call it off with `/samen interventie %(code)s`."), code=current.code
                )
            outcome = interventions.advance(
                session, actor=actor, intervention_id=intervention_id, to=to, settings=settings, now=now
            )
        except (interventions.InterventionError, NotAllowed, CheckinError) as problem:
            raise Problems(
                [
                    CheckinError(
                        problem.message, field=f"iv_{intervention_id}", **getattr(problem, "values", {})
                    )
                ]
            ) from problem
        except ValueError as problem:
            raise Problems(
                [CheckinError(N_("Choose a status from the list."), field=f"iv_{intervention_id}")]
            ) from problem
        if outcome.changed:
            changed.append(intervention_id)
    return changed


def prompt_key(moment: CheckinMoment) -> str:
    return f"checkin:{moment.schedule_id}:{moment.local_date.isoformat()}"


def answer_key(moment_id: int, user_id: str, version: int) -> str:
    return f"checkin-answer:{moment_id}:{user_id}:v{version}"


def _queue_answer(
    session: Session,
    moment: CheckinMoment,
    row: CheckinAnswer,
    questions: list[str],
    texts: list[str],
    need_ids: list[int],
    need_text: str,
    actor: Member,
) -> None:
    from bot.interventions import service as interventions
    from bot.interventions.models import STATUS_LABELS as INTERVENTION_STATUS

    names = {p.id: p.name for p in partners.list_partners(session)}
    context: dict[str, Any] = {
        "person": actor.user_id,
        "partner": names.get(actor.partner_id, "?"),
        "items": [{"q": q, "a": a} for q, a in zip(questions, texts, strict=True) if a],
        "needs": [names.get(p, "?") for p in need_ids],
        "need_text": need_text,
        "interventions": [
            {"code": iv.code, "status": INTERVENTION_STATUS[iv.status]}
            for iv in interventions.my_work(session, actor=actor).mine[:MAX_INTERVENTIONS_SHOWN]
        ],
        "edited": row.version > 1,
    }
    channel = moment.channel_id
    first = answer_key(_mid(moment), row.user_id, 1)
    if row.version == 1:
        args: dict[str, Any] = {"channel": channel, "thread_ts": ts_of(prompt_key(moment))}
        method = "chat.postMessage"
    else:
        args = {"channel": channel, "ts": ts_of(first)}
        method = "chat.update"
    enqueue(
        session,
        key=answer_key(_mid(moment), row.user_id, row.version),
        method=method,
        lane=channel,
        args=args,
        template="checkin_answer.json.j2",
        language=moment.language,
        context=context,
        ref=f"checkin-moment:{_mid(moment)}",
    )


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
                _mid(moment),
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


def _mid(moment: CheckinMoment) -> int:
    assert moment.id is not None
    return moment.id


def _pid(partner: Partner) -> int:
    assert partner.id is not None
    return partner.id
