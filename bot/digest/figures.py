"""The digest's figures: SQL over what the other features keep, for one period and one viewer.

`figures(session, period, viewer)` is a pure read (no changes, no restricted column is ever selected:
no intervention results or effects, no signal details, no alert descriptions, places, reporters or
notes). The viewer decides only what is *listed*: `None` is the partnership channel, which sees what
was already shared with every partner (successes as they were celebrated there, lessons, backup alerts
as they were broadcast); a member additionally sees the instruments of successes their own partner may
see, and the rest of other partners' items as counts (need to know, docs/digest.md).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import defer
from sqlmodel import Session, col, func, select

from bot.alerts.models import AlertPartner, BackupAlert
from bot.authz import Principal, Relation
from bot.cases.models import Case
from bot.digest.timing import Period, week_starts
from bot.interventions import goals as goal_service
from bot.interventions.models import ACTIVE_STATUSES, OPEN_STATUSES, Intervention, InterventionStatus, Lesson
from bot.partners.models import Partner
from bot.privacy import pii
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
    case_id: int
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
            or self.finished
            or self.lessons
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


def figures(session: Session, period: Period, viewer: Principal | None = None) -> DigestFigures:
    names = {p.id: p.name for p in session.exec(select(Partner)).all()}
    finished = _finished(session, period, viewer, names)
    result = DigestFigures(
        period=period,
        signals_by_category=_signals(session, period),
        cases_started=_count(session, Case, Case.created_at, period),
        cases_closed=_count(session, Case, Case.closed_at, period),
        finished=finished,
        partners=_loads(session, period),
        lessons=_lessons(session, period, names),
        alerts=_alerts(session, period, names),
        checkins=_checkins(session, period),
        goals=_goals(session, period),
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


def _finished(
    session: Session, period: Period, viewer: Principal | None, names: dict[int | None, str]
) -> list[FinishedItem]:
    from bot.interventions.service import intervention_relation  # the interventions feature decides

    rows = session.exec(
        select(Intervention)
        .options(defer(Intervention.result), defer(Intervention.effect))  # type: ignore[arg-type]
        .where(Intervention.status == InterventionStatus.UITGEVOERD, _in(Intervention.done_at, period))
        .order_by(col(Intervention.done_at).desc(), col(Intervention.id).desc())
    ).all()
    items = []
    for row in rows:
        if viewer is None:
            # The partnership channel: a success was celebrated there with its instrument (personal data
            # taken out); other finished work is counted, not described.
            instrument = pii.redact(row.instrument) if row.success else None
        elif intervention_relation(session, viewer, row) is not Relation.OTHER:
            instrument = row.instrument
        else:
            instrument = None
        assert row.done_at is not None
        items.append(
            FinishedItem(
                code=row.code,
                case_id=row.case_id,
                partner=names.get(row.owner_partner_id, "?"),
                focus=row.focus_element,
                instrument_type=row.instrument_type.value,
                instrument=instrument,
                done_at=row.done_at,
                success=row.success,
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


def _lessons(session: Session, period: Period, names: dict[int | None, str]) -> list[LessonItem]:
    rows = session.exec(
        select(Lesson).where(_in(Lesson.created_at, period)).order_by(col(Lesson.created_at), col(Lesson.id))
    ).all()
    return [
        LessonItem(names.get(row.partner_id, "?"), row.focus_element, pii.redact(row.text), row.created_at)
        for row in rows
    ]


def _alerts(session: Session, period: Period, names: dict[int | None, str]) -> list[AlertItem]:
    """Only what the broadcast showed: code, partner, type, seriousness, and acknowledgement times."""
    rows = session.execute(
        select(  # type: ignore[call-overload]
            BackupAlert.id,
            BackupAlert.drill,
            BackupAlert.reporter_partner_id,
            BackupAlert.incident_type,
            BackupAlert.seriousness,
            BackupAlert.raised_at,
        )
        .where(_in(BackupAlert.raised_at, period))
        .order_by(col(BackupAlert.raised_at), col(BackupAlert.id))
    ).all()
    items = []
    for alert_id, drill, partner_id, incident_type, seriousness, raised_at in rows:
        acks = session.exec(
            select(AlertPartner.acknowledged_at).where(AlertPartner.alert_id == alert_id)
        ).all()
        seconds = [max(0.0, (at - raised_at).total_seconds()) for at in acks if at is not None]
        items.append(
            AlertItem(
                code=f"RD-{alert_id}",
                partner=names.get(partner_id, "?"),
                incident_type=str(incident_type.value if hasattr(incident_type, "value") else incident_type),
                seriousness=str(seriousness.value if hasattr(seriousness, "value") else seriousness),
                drill=bool(drill),
                raised_at=raised_at,
                acknowledged=len(seconds),
                total=len(acks),
                first_ack_seconds=min(seconds) if seconds else None,
                all_ack_seconds=max(seconds) if seconds and len(seconds) == len(acks) else None,
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
    """Per ISO week (the last 12 up to the period's end): finished per focus element, open at week's end."""
    starts = week_starts(period.end, period.zone)
    ends = [*starts[1:], starts[-1] + timedelta(weeks=1)]
    result.weeks = [f"W{start.astimezone(period.zone).isocalendar().week:02d}" for start in starts]
    done = session.exec(
        select(Intervention.focus_element, Intervention.done_at).where(
            Intervention.status == InterventionStatus.UITGEVOERD,
            col(Intervention.done_at) >= starts[0],
            col(Intervention.done_at) < ends[-1],
        )
    ).all()
    per_week: dict[FocusElement, Counter[int]] = {focus: Counter() for focus in FocusElement}
    for focus, done_at in done:
        assert done_at is not None
        week = sum(1 if start <= done_at else 0 for start in starts) - 1
        per_week[FocusElement(focus)][week] += 1
    result.finished_per_week = {
        focus: [counter[i] for i in range(len(starts))] for focus, counter in per_week.items()
    }
    # Open at a week's end: created by then, and not yet finished or called off then. A call-off has no
    # moment of its own; its last change (updated_at) stands for it.
    lifetimes = session.exec(
        select(
            Intervention.status, Intervention.created_at, Intervention.done_at, Intervention.updated_at
        ).where(col(Intervention.created_at) < ends[-1])
    ).all()
    open_counts = []
    for end in ends:
        moment = min(end, period.end)
        count = 0
        for status, created_at, done_at, updated_at in lifetimes:
            if created_at >= moment or status == InterventionStatus.VOORGESTELD:
                continue
            if status == InterventionStatus.UITGEVOERD and done_at is not None and done_at < moment:
                continue
            if status == InterventionStatus.GEANNULEERD and updated_at < moment:
                continue
            count += 1
        open_counts.append(count)
    result.open_per_week = open_counts
