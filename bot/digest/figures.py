"""The digest's figures: SQL over what the other features keep, for one period and one viewer.

`figures(session, period, viewer)` is a pure read (no changes, no restricted column is ever selected:
no intervention results or effects, no signal details, no alert descriptions, places, reporters or
notes). The viewer decides only what is *listed*: `None` is the partnership channel, which sees what
was already shared with every partner (successes as they were celebrated there, lessons, backup alerts
as they were broadcast); a member additionally sees the instruments of successes their own partner may
see, and the rest of other partners' items as counts (need to know, docs/digest.md).

Its cost follows what is shown, not what the partnership holds: counts and the weekly series are
GROUP BY / conditional aggregates, whether the viewer may see an item is decided in the same query
(`_visible`), and with `listed=` only the items a message lists are loaded (docs/digest.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bot import pii
from bot.alerts.models import AlertPartner, BackupAlert
from bot.authz import Principal, Role, SystemActor
from bot.cases.models import Case, CasePartner
from bot.digest.timing import Period, week_starts
from bot.interventions import goals as goal_service
from bot.interventions.models import (
    ACTIVE_STATUSES,
    OPEN_STATUSES,
    Intervention,
    InterventionPartner,
    InterventionStatus,
    Lesson,
)
from bot.partners.models import Partner
from bot.signals.models import Signal
from bot.vocabulary import FocusElement, SignalCategory

LIST_LIMIT = 10  # items listed per kind in a message; the export lists them all


@dataclass(frozen=True)
class PartnerLoad:
    partner: str
    open: int
    capacity: int
    overdue: int

    @property
    def over_capacity(self) -> bool:
        return self.open > self.capacity


@dataclass(frozen=True)
class FinishedItem:
    code: str
    case_id: int | None  # None: an independent intervention (issue 20)
    partner: str
    focus: FocusElement
    instrument_type: str
    instrument: str | None  # None: the viewer may not see it (another partner's, not shared)
    done_at: datetime
    success: bool | None


@dataclass(frozen=True)
class LessonItem:
    partner: str
    focus: FocusElement
    text: str
    at: datetime


@dataclass(frozen=True)
class AlertItem:
    code: str
    partner: str
    incident_type: str
    seriousness: str
    drill: bool
    raised_at: datetime
    acknowledged: int
    total: int
    first_ack_seconds: float | None
    all_ack_seconds: float | None  # None while a partner has not acknowledged


@dataclass(frozen=True)
class CheckinFigure:
    moments: int
    expected: int
    answered: int

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.expected) if self.expected else 0


@dataclass(frozen=True)
class GoalItem:
    partner: str
    focus: FocusElement
    description: str
    done: int
    target: int
    percent: int


@dataclass
class DigestFigures:
    period: Period
    signals_by_category: list[tuple[SignalCategory, int]]
    cases_started: int
    cases_closed: int
    finished: list[FinishedItem]  # every intervention carried out in the period, newest first
    partners: list[PartnerLoad]
    lessons: list[LessonItem]
    alerts: list[AlertItem]  # real alerts and drills, oldest first
    checkins: CheckinFigure | None  # None: alignment moments are not in this installation
    goals: list[GoalItem]
    # The charts: the ISO weeks up to the period's end, finished per focus element, open at each week's end.
    weeks: list[str] = field(default_factory=list)
    finished_per_week: dict[FocusElement, list[int]] = field(default_factory=dict)
    open_per_week: list[int] = field(default_factory=list)
    # Counts over the whole period, set by `figures()`: with `listed=` the lists above hold only what a
    # message lists (successes the viewer may see, the first lessons). None: count the lists.
    finished_by_focus: dict[FocusElement, int] | None = None
    successes_count: int | None = None
    lessons_count: int | None = None

    @property
    def finished_total(self) -> int:
        return sum(self.finished_per_focus().values())

    def finished_per_focus(self) -> dict[FocusElement, int]:
        if self.finished_by_focus is not None:
            return self.finished_by_focus
        counts: dict[FocusElement, int] = {}
        for item in self.finished:
            counts[item.focus] = counts.get(item.focus, 0) + 1
        return counts

    @property
    def successes_total(self) -> int:
        return len(self.successes) if self.successes_count is None else self.successes_count

    @property
    def lessons_total(self) -> int:
        return len(self.lessons) if self.lessons_count is None else self.lessons_count

    @property
    def signals_total(self) -> int:
        return sum(n for _, n in self.signals_by_category)

    @property
    def successes(self) -> list[FinishedItem]:
        return [item for item in self.finished if item.success]

    @property
    def real_alerts(self) -> list[AlertItem]:
        return [a for a in self.alerts if not a.drill]

    @property
    def drills(self) -> list[AlertItem]:
        return [a for a in self.alerts if a.drill]

    @property
    def overdue_total(self) -> int:
        return sum(p.overdue for p in self.partners)

    @property
    def quiet(self) -> bool:
        """Nothing happened in the period (open work and goals alone are no news)."""
        return not (
            self.signals_total
            or self.cases_started
            or self.cases_closed
            or self.finished_total
            or self.lessons_total
            or self.alerts
            or (self.checkins and self.checkins.moments)
        )

    @property
    def has_focus_chart(self) -> bool:
        return any(any(series) for series in self.finished_per_week.values())

    @property
    def has_open_chart(self) -> bool:
        return any(self.open_per_week) or any(sum(s) for s in self.finished_per_week.values())

    @property
    def chart_count(self) -> int:
        """How many charts the digest of this period has (none for a quiet one)."""
        return 0 if self.quiet else int(self.has_focus_chart) + int(self.has_open_chart)

    def finished_totals_per_week(self) -> list[int]:
        return [sum(values) for values in zip(*self.finished_per_week.values(), strict=True)] or [
            0 for _ in self.weeks
        ]


def figures(
    session: Session, period: Period, viewer: Principal | None = None, *, listed: int | None = None
) -> DigestFigures:
    """The period's figures for `viewer`. `listed`: load only the items a message lists (that many
    successes the viewer may see, that many lessons) and count the rest; None (the export): every item."""
    names = {p.id: p.name for p in session.exec(select(Partner)).all()}
    by_focus, successes = _finished_counts(session, period)
    result = DigestFigures(
        period=period,
        signals_by_category=_signals(session, period),
        cases_started=_count(session, Case, Case.created_at, period),
        cases_closed=_count(session, Case, Case.closed_at, period),
        finished=_finished(session, period, viewer, names, listed),
        partners=_loads(session, period),
        lessons=_lessons(session, period, names, listed),
        alerts=_alerts(session, period, names),
        checkins=_checkins(session, period),
        goals=_goals(session, period),
        finished_by_focus=by_focus,
        successes_count=successes,
        lessons_count=_count(session, Lesson, Lesson.created_at, period),
    )
    _series(session, period, result)
    return result


def _in(column: Any, period: Period) -> Any:
    return sa.and_(col(column) >= period.start, col(column) < period.end)


def _count(session: Session, table: Any, column: Any, period: Period) -> int:
    return int(session.exec(select(func.count()).select_from(table).where(_in(column, period))).one())


def _signals(session: Session, period: Period) -> list[tuple[SignalCategory, int]]:
    rows = session.exec(
        select(Signal.category, func.count()).where(_in(Signal.created_at, period)).group_by(Signal.category)
    ).all()
    return sorted(((SignalCategory(c), int(n)) for c, n in rows), key=lambda item: (-item[1], item[0].value))


def _done_in(period: Period) -> Any:
    return sa.and_(
        col(Intervention.status) == InterventionStatus.UITGEVOERD, _in(Intervention.done_at, period)
    )


def _finished_counts(session: Session, period: Period) -> tuple[dict[FocusElement, int], int]:
    """Carried out in the period per focus element, and how many of them were successes: one GROUP BY."""
    rows = session.exec(
        select(
            Intervention.focus_element,
            func.count(),
            func.coalesce(func.sum(sa.case((col(Intervention.success).is_(True), 1), else_=0)), 0),
        )
        .where(_done_in(period))
        .group_by(Intervention.focus_element)
    ).all()
    return {FocusElement(focus): int(n) for focus, n, _ in rows}, sum(int(s) for _, _, s in rows)


def _visible(viewer: Principal | None) -> Any:
    """SQL for `intervention_relation(session, viewer, row) is not Relation.OTHER`
    (bot/interventions/reading.py), so that need to know is decided in the query, not per row: the
    owner partner's, a partner joining it, or one that may see its case (the lead partner, a partner
    that joined the case, and coordinators and admins for every case). tests/test_digest.py checks the
    two agree for every intervention and member."""
    if viewer is None or isinstance(viewer, SystemActor):
        return sa.true()
    partner = viewer.partner_id
    joins = sa.exists().where(
        col(InterventionPartner.intervention_id) == col(Intervention.id),
        col(InterventionPartner.partner_id) == partner,
    )
    case_seen: Any = sa.true()
    managing = Role(viewer.role) in (Role.COORDINATOR, Role.ADMIN)
    if not managing:
        joined_case = sa.exists().where(
            col(CasePartner.case_id) == col(Case.id), col(CasePartner.partner_id) == partner
        )
        case_seen = sa.or_(col(Case.lead_partner_id) == partner, joined_case)
    sees_case = sa.exists().where(col(Case.id) == col(Intervention.case_id), case_seen)
    # An independent intervention (no case): the coordinators see it too (issue 20).
    independent = col(Intervention.case_id).is_(None) if managing else sa.false()
    return sa.or_(col(Intervention.owner_partner_id) == partner, joins, sees_case, independent)


def _finished(
    session: Session,
    period: Period,
    viewer: Principal | None,
    names: dict[int | None, str],
    listed: int | None,
) -> list[FinishedItem]:
    """Carried out in the period, newest first, with the instrument where the viewer may see it.

    The partnership channel (viewer None) saw a success celebrated with its instrument (personal data
    taken out); other finished work is counted, not described. With `listed`, only that many of the
    successes the viewer may see are loaded: what a message lists."""
    visible = (
        sa.and_(col(Intervention.success).is_(True), _visible(None)) if viewer is None else _visible(viewer)
    )
    query = select(  # type: ignore[call-overload]
        Intervention.id,
        Intervention.case_id,
        Intervention.owner_partner_id,
        Intervention.focus_element,
        Intervention.instrument_type,
        Intervention.instrument,
        Intervention.done_at,
        Intervention.success,
        sa.case((visible, True), else_=False),
    ).where(_done_in(period))
    if listed is not None:
        query = query.where(col(Intervention.success).is_(True), visible).limit(listed)
    rows = session.execute(
        query.order_by(col(Intervention.done_at).desc(), col(Intervention.id).desc())
    ).all()
    items = []
    for number, case_id, owner, focus, kind, instrument, done_at, success, shown in rows:
        if not shown:
            instrument = None
        elif viewer is None:
            instrument = pii.redact(instrument)
        items.append(
            FinishedItem(
                code=f"I-{number}",  # Intervention.code
                case_id=case_id,
                partner=names.get(owner, "?"),
                focus=FocusElement(focus),
                instrument_type=str(getattr(kind, "value", kind)),
                instrument=instrument,
                done_at=done_at,
                success=success,
            )
        )
    return items


def _loads(session: Session, period: Period) -> list[PartnerLoad]:
    """Open interventions per partner against its capacity, and how many are past their window."""
    now = period.end
    open_counts = dict(
        session.exec(
            select(Intervention.owner_partner_id, func.count())
            .where(col(Intervention.status).in_(OPEN_STATUSES))
            .group_by(col(Intervention.owner_partner_id))
        ).all()
    )
    window_over = sa.func.coalesce(Intervention.window_end, Intervention.window_start)
    overdue_counts = dict(
        session.exec(
            select(Intervention.owner_partner_id, func.count())
            .where(col(Intervention.status).in_(ACTIVE_STATUSES), window_over < now)
            .group_by(col(Intervention.owner_partner_id))
        ).all()
    )
    loads = [
        PartnerLoad(
            partner=partner.name,
            open=int(open_counts.get(partner.id or 0, 0)),
            capacity=partner.capacity,
            overdue=int(overdue_counts.get(partner.id or 0, 0)),
        )
        for partner in session.exec(select(Partner).order_by(col(Partner.name))).all()
    ]
    return [load for load in loads if load.open or load.overdue or load.capacity]


def _lessons(
    session: Session, period: Period, names: dict[int | None, str], listed: int | None
) -> list[LessonItem]:
    query = (
        select(Lesson).where(_in(Lesson.created_at, period)).order_by(col(Lesson.created_at), col(Lesson.id))
    )
    rows = session.exec(query if listed is None else query.limit(listed)).all()
    return [
        LessonItem(names.get(row.partner_id, "?"), row.focus_element, pii.redact(row.text), row.created_at)
        for row in rows
    ]


def _alerts(session: Session, period: Period, names: dict[int | None, str]) -> list[AlertItem]:
    """Only what the broadcast showed: code, partner, type, seriousness, and acknowledgement times.

    One query: each alert with its partners counted and their first and last acknowledgement (a
    moment before the alert counts as 0 seconds, as the broadcast showed it)."""
    acknowledged = col(AlertPartner.acknowledged_at)
    rows = session.execute(
        select(  # type: ignore[call-overload]
            BackupAlert.id,
            BackupAlert.drill,
            BackupAlert.reporter_partner_id,
            BackupAlert.incident_type,
            BackupAlert.seriousness,
            BackupAlert.raised_at,
            func.count(col(AlertPartner.alert_id)),
            func.count(acknowledged),
            func.min(acknowledged),
            func.max(acknowledged),
        )
        .select_from(BackupAlert)
        .outerjoin(AlertPartner, col(AlertPartner.alert_id) == col(BackupAlert.id))
        .where(_in(BackupAlert.raised_at, period))
        .group_by(col(BackupAlert.id))
        .order_by(col(BackupAlert.raised_at), col(BackupAlert.id))
    ).all()
    items = []
    for alert_id, drill, partner_id, incident_type, seriousness, raised_at, total, acked, first, last in rows:

        def seconds(at: datetime | None, raised: datetime = raised_at) -> float | None:
            return None if at is None else max(0.0, (at - raised).total_seconds())

        items.append(
            AlertItem(
                code=f"RD-{alert_id}",
                partner=names.get(partner_id, "?"),
                incident_type=str(incident_type.value if hasattr(incident_type, "value") else incident_type),
                seriousness=str(seriousness.value if hasattr(seriousness, "value") else seriousness),
                drill=bool(drill),
                raised_at=raised_at,
                acknowledged=int(acked),
                total=int(total),
                first_ack_seconds=seconds(first),
                all_ack_seconds=seconds(last) if acked and acked == total else None,
            )
        )
    return items


def _checkins(session: Session, period: Period) -> CheckinFigure | None:
    """Participation in the check-ins that opened in the period (when that feature is installed)."""
    if not sa.inspect(session.connection()).has_table("checkin_answer"):
        return None
    from bot.checkins.models import CheckinAnswer, CheckinMoment

    moments = _count(session, CheckinMoment, CheckinMoment.opens_at, period)
    expected, answered = session.exec(
        select(
            func.count(),
            func.coalesce(func.sum(sa.case((col(CheckinAnswer.version) > 0, 1), else_=0)), 0),
        )
        .select_from(CheckinAnswer)
        .join(CheckinMoment, col(CheckinMoment.id) == col(CheckinAnswer.moment_id))
        .where(col(CheckinAnswer.expected).is_(True), _in(CheckinMoment.opens_at, period))
    ).one()
    return CheckinFigure(moments=moments, expected=int(expected), answered=int(answered))


def _goals(session: Session, period: Period) -> list[GoalItem]:
    year = period.last_day.year
    return [
        GoalItem(p.partner, p.goal.focus_element, p.goal.description, p.done, p.goal.target, p.percent)
        for p in goal_service.progress(session, year=year)
    ]


def _series(session: Session, period: Period, result: DigestFigures) -> None:
    """Per ISO week (the last 12 up to the period's end): finished per focus element, open at week's end.

    Two aggregate queries: the finished ones grouped by focus element and week, and one conditional
    count per week's end over the interventions created by then."""
    starts = week_starts(period.end, period.zone)
    ends = [*starts[1:], starts[-1] + timedelta(weeks=1)]
    result.weeks = [f"W{start.astimezone(period.zone).isocalendar().week:02d}" for start in starts]
    done_at = col(Intervention.done_at)
    # The week a moment falls in: the last start at or before it.
    week = sa.case(
        *((done_at < start, index - 1) for index, start in enumerate(starts) if index), else_=len(starts) - 1
    )
    done = session.execute(
        select(Intervention.focus_element, week, func.count())
        .where(Intervention.status == InterventionStatus.UITGEVOERD, done_at >= starts[0], done_at < ends[-1])
        .group_by(Intervention.focus_element, week)
    ).all()
    per_week = {focus: [0] * len(starts) for focus in FocusElement}
    for focus, index, count in done:
        per_week[FocusElement(focus)][int(index)] += int(count)
    result.finished_per_week = per_week
    moments = [min(end, period.end) for end in ends]
    # Each intervention is open from the first week's end after its creation up to the first one at
    # or after it closed: grouped by those two indexes, the weeks are a running sum in Python.
    created = _moments_until(col(Intervention.created_at), moments)
    closed = _moments_until(_closed_at(), moments)
    spans = session.execute(
        select(created, closed, func.count())
        .where(
            col(Intervention.created_at) < ends[-1],
            Intervention.status != InterventionStatus.VOORGESTELD,
            # Closed before the first week's end: closed at every later one too (most of a long history).
            sa.not_(_closed_before(moments[0])),
        )
        .group_by(created, closed)
    ).all()
    open_counts = [0] * len(moments)
    for first, last, count in spans:
        for index in range(int(first), int(last)):
            open_counts[index] += int(count)
    result.open_per_week = open_counts


def _moments_until(at: Any, moments: list[datetime]) -> Any:
    """How many of the (ascending) moments are at or before `at`; all of them when `at` is NULL."""
    whens = [(at.is_(None), len(moments))] + [(at < moment, index) for index, moment in enumerate(moments)]
    return sa.case(*whens, else_=len(moments))


def _closed_at() -> Any:
    """When an intervention was finished or called off (NULL while it is not)."""
    status = col(Intervention.status)
    return sa.case(
        (status == InterventionStatus.UITGEVOERD, col(Intervention.done_at)),
        (status == InterventionStatus.GEANNULEERD, col(Intervention.updated_at)),
        else_=sa.null(),
    )


def _closed_before(moment: datetime) -> Any:
    """Finished or called off before `moment`. A call-off has no moment of its own; its last change
    (updated_at) stands for it."""
    status = col(Intervention.status)
    return sa.or_(
        sa.and_(
            status == InterventionStatus.UITGEVOERD,
            col(Intervention.done_at).is_not(None),
            col(Intervention.done_at) < moment,
        ),
        sa.and_(status == InterventionStatus.GEANNULEERD, col(Intervention.updated_at) < moment),
    )
