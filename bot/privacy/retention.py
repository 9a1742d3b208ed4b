"""Retention (docs/domain.md rule 5): what has been kept long enough is deleted or anonymised, every night.

Each kind has its period, configurable with `SAMEN_RETENTION` (e.g. `signalen:365;casussen:1825`; kinds
left out keep their default), counted from the moment the item stopped being worked on:

- `signalen` (365 days after `closed_at`): signals not taken up (weighed to no action, or referred),
  deleted with their weighing, access and the subjects nothing else names;
- `casussen` (1825 days after `closed_at`): closed cases, anonymised (title, subjects, signals,
  scores, the reasons and results of their interventions go);
- `rugdekking` (365 days after `closed_at`): closed backup alerts, anonymised (reporter,
  description, place, summary, notes go);
- `afstemmomenten` (90 days after the moment closed): the answers to check-ins;
- `berichten` (30 days after sending): the text of the messages Samen sent (outbox copies); failed
  messages are deleted.

What an open case needs is never touched: its signals, its subjects, its interventions. A signal that
is also on an open case stays; a subject on an open case stays.

`plan` lists what would go (for `samen retention --dry-run` and `/samen privacy`), `apply` does it, one
audit entry per erased object (the outbox copies: one per run, with how many and the ids). The nightly
job runs once across workers (bot/scheduler.py); each run handles at most `BATCH` objects per kind, so a
first run on a large database spreads over nights instead of holding one long transaction.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, col, select

from bot import audit
from bot.authz import SystemActor
from bot.config_values import RetentionKind as Kind
from bot.i18n import N_
from bot.privacy import erase
from bot.privacy.erase import Erased

logger = logging.getLogger(__name__)

RETENTION_ACTOR: Final = SystemActor("samen:retention")
BATCH: Final = 500  # objects per kind per run
# The kinds, their default days and the parser of SAMEN_RETENTION live in the core (bot/config_values.py):
# the settings parse it once, and `Settings.samen_retention` (days per kind) is what this module is given.

# What people are told each kind is (`/samen privacy`), and what happens to it.
KIND_LABELS: Final[Mapping[Kind, str]] = {
    Kind.SIGNALS: N_("Signals not taken up (no action, or referred)"),
    Kind.CASES: N_("Closed cases (anonymised)"),
    Kind.BACKUP_ALERTS: N_("Details of closed backup alerts"),
    Kind.CHECKINS: N_("Answers to check-ins"),
    Kind.MESSAGES: N_("Copies of messages Samen sent"),
}


@dataclass(frozen=True)
class Due:
    """One object whose period has passed."""

    kind: Kind
    object_type: str
    object_id: int
    since: datetime  # when its clock started
    what: str  # deleted | anonymised | purged


@dataclass
class Plan:
    now: datetime
    periods: dict[Kind, int]
    due: list[Due] = field(default_factory=list)
    messages: int = 0  # outbox copies whose text would be removed (and failed ones deleted)
    kept: list[tuple[Due, str]] = field(default_factory=list)  # expired, but an open case needs it

    def count(self, kind: Kind) -> int:
        if kind is Kind.MESSAGES:
            return self.messages
        return sum(1 for item in self.due if item.kind is kind)


def cutoff(now: datetime, periods: Mapping[Kind, int], kind: Kind) -> datetime:
    return now - timedelta(days=periods[kind])


def plan(session: Session, *, periods: Mapping[Kind, int], now: datetime, limit: int = BATCH) -> Plan:
    """What would go now, kind by kind, at most `limit` objects per kind."""
    result = Plan(now=now, periods=dict(periods))
    _plan_signals(session, result, limit)
    _plan_cases(session, result, limit)
    _plan_alerts(session, result, limit)
    _plan_checkins(session, result, limit)
    result.messages = _messages_due(session, cutoff(now, periods, Kind.MESSAGES))
    return result


def _unindexed(status: Any) -> Any:
    """The status as an expression, so that the planner walks the (closed_at, id) index in order and
    stops after a batch: SQLite without statistics (Samen runs no ANALYZE) would rather take the status
    index and sort every closed row."""
    return sa.cast(status, sa.String)


def _rows(rows: Any) -> list[tuple[int, datetime]]:
    return [(int(found_id), moment) for found_id, moment in rows if found_id is not None and moment]


def _plan_signals(session: Session, result: Plan, limit: int) -> None:
    from bot.signals.models import Signal, SignalStatus

    not_taken_up = (SignalStatus.GEEN_ACTIE.value, SignalStatus.DOORVERWEZEN.value)
    before = cutoff(result.now, result.periods, Kind.SIGNALS)
    rows = session.exec(
        select(col(Signal.id), col(Signal.closed_at))
        .where(
            _unindexed(col(Signal.status)).in_(not_taken_up),
            col(Signal.closed_at).is_not(None),
            col(Signal.closed_at) < before,
        )
        .order_by(col(Signal.closed_at), col(Signal.id))
        .limit(limit)
    ).all()
    found = _rows(rows)
    # One look-up for the whole batch, not one per signal: the coordinator's Home shows this plan.
    needs = _open_cases_of_signals(session, [signal_id for signal_id, _closed in found])
    for signal_id, closed_at in found:
        item = Due(Kind.SIGNALS, "signal", signal_id, closed_at, "deleted")
        needed = needs.get(signal_id)
        if needed:
            result.kept.append((item, "open case " + ", ".join(str(c) for c in needed)))
        else:
            result.due.append(item)


def _open_cases_of_signals(session: Session, signal_ids: list[int]) -> dict[int, list[int]]:
    """The open cases that still need each signal (erase.open_case_ids_of_signal, for many at once)."""
    from bot.cases.models import Case, CaseSignal, CaseStatus

    if not signal_ids:
        return {}
    rows = session.exec(
        select(col(CaseSignal.signal_id), col(Case.id))
        .join(Case, col(CaseSignal.case_id) == col(Case.id))
        .where(col(CaseSignal.signal_id).in_(signal_ids), col(Case.status) == CaseStatus.OPEN)
        .order_by(col(CaseSignal.signal_id), col(Case.id))
    ).all()
    needs: dict[int, list[int]] = {}
    for signal_id, case_id in rows:
        needs.setdefault(int(signal_id), []).append(int(case_id or 0))
    return needs


def _plan_cases(session: Session, result: Plan, limit: int) -> None:
    from bot.cases.models import Case, CaseStatus

    before = cutoff(result.now, result.periods, Kind.CASES)
    rows = session.exec(
        select(col(Case.id), col(Case.closed_at))
        .where(
            _unindexed(col(Case.status)) == CaseStatus.GESLOTEN.value,
            col(Case.closed_at).is_not(None),
            col(Case.closed_at) < before,
            erase.case_needs_anonymising(),
        )
        .order_by(col(Case.closed_at), col(Case.id))
        .limit(limit)
    ).all()
    for case_id, closed_at in _rows(rows):
        result.due.append(Due(Kind.CASES, "case", case_id, closed_at, "anonymised"))


def _plan_alerts(session: Session, result: Plan, limit: int) -> None:
    from bot.alerts.models import BackupAlert

    before = cutoff(result.now, result.periods, Kind.BACKUP_ALERTS)
    rows = session.exec(
        select(col(BackupAlert.id), col(BackupAlert.closed_at))
        .where(
            col(BackupAlert.closed_at).is_not(None),
            col(BackupAlert.closed_at) < before,
            erase.alert_needs_anonymising(),
        )
        .order_by(col(BackupAlert.closed_at), col(BackupAlert.id))
        .limit(limit)
    ).all()
    for alert_id, closed_at in _rows(rows):
        result.due.append(Due(Kind.BACKUP_ALERTS, "backup_alert", alert_id, closed_at, "anonymised"))


def _checkin_tables() -> tuple[Any, Any] | None:
    try:
        from bot.checkins.models import CheckinAnswer, CheckinMoment
    except ImportError:  # the check-in feature is not part of this build
        return None
    return CheckinMoment, CheckinAnswer


def _plan_checkins(session: Session, result: Plan, limit: int) -> None:
    tables = _checkin_tables()
    if tables is None:
        return
    moment, answer = tables
    before = cutoff(result.now, result.periods, Kind.CHECKINS)
    with_text = select(answer.moment_id).where(
        or_(
            col(answer.answers).is_not(None),
            col(answer.need_text).is_not(None),
            col(answer.need_partner_ids).is_not(None),
        )
    )
    rows = session.exec(
        select(moment.id, moment.closes_at)
        .where(
            col(moment.closes_at) < before,
            col(moment.id).in_(with_text),
        )
        .order_by(col(moment.closes_at), col(moment.id))
        .limit(limit)
    ).all()
    for moment_id, closes_at in _rows(rows):
        result.due.append(Due(Kind.CHECKINS, "checkin_moment", moment_id, closes_at, "anonymised"))


def _messages_condition(before: datetime) -> tuple[Any, ...]:
    from bot.outbox.models import OutboxMessage, OutboxStatus

    return (
        col(OutboxMessage.status).in_((OutboxStatus.SENT, OutboxStatus.CANCELLED)),
        func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at) < before,
        col(OutboxMessage.args) != erase.PURGED_ARGS,
    )


def _messages_due(session: Session, before: datetime) -> int:
    from bot.outbox.models import OutboxMessage, OutboxStatus

    purged = session.exec(
        select(func.count()).select_from(OutboxMessage).where(*_messages_condition(before))
    ).one()
    failed = session.exec(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED, col(OutboxMessage.created_at) < before)
    ).one()
    return int(purged) + int(failed)


# --- doing it ---------------------------------------------------------------------------------------


PURPOSES: Final[Mapping[Kind, str]] = {
    Kind.SIGNALS: "retention: signals not taken up are deleted after their period (docs/domain.md rule 5)",
    Kind.CASES: "retention: closed cases are anonymised after their period (docs/domain.md rule 5)",
    Kind.BACKUP_ALERTS: "retention: details of closed backup alerts are removed after their period",
    Kind.CHECKINS: "retention: answers to check-ins are removed after their period",
    Kind.MESSAGES: "retention: copies of sent messages lose their text after their period",
}


@dataclass
class Applied:
    plan: Plan
    erased: list[tuple[Kind, Erased]] = field(default_factory=list)
    messages: int = 0


def apply(
    session: Session,
    *,
    periods: Mapping[Kind, int],
    now: datetime,
    actor: SystemActor = RETENTION_ACTOR,
    limit: int = BATCH,
) -> Applied:
    """Delete or anonymise what is due, in the caller's transaction; one audit entry per erased object."""
    audit.lock_chain(session, refresh=True)  # decide and erase on one state of the database
    due = plan(session, periods=periods, now=now, limit=limit)
    applied = Applied(plan=due)
    for item in due.due:
        for erased in _erase(session, item):
            applied.erased.append((item.kind, erased))
            _record(session, actor, item.kind, erased, periods[item.kind])
        session.expire_all()
    applied.messages = _purge_messages(session, cutoff(now, periods, Kind.MESSAGES))
    if applied.messages:
        audit.record(
            session,
            actor=actor,
            action="outbox.purged",
            object_type="outbox",
            object_id="retention",
            purpose=PURPOSES[Kind.MESSAGES],
            details={"messages": applied.messages, "days": periods[Kind.MESSAGES]},
        )
    if applied.erased or applied.messages:
        logger.info(
            "retention: %d objects erased, %d message copies purged", len(applied.erased), applied.messages
        )
    return applied


def _erase(session: Session, item: Due) -> list[Erased]:
    if item.kind is Kind.SIGNALS:
        if erase.open_case_ids_of_signal(session, item.object_id):
            return []
        return erase.erase_signal(session, item.object_id)
    if item.kind is Kind.CASES:
        return erase.anonymise_case(session, item.object_id)
    if item.kind is Kind.BACKUP_ALERTS:
        return [erase.anonymise_alert(session, item.object_id)]
    if item.kind is Kind.CHECKINS:
        return [_clear_checkin_answers(session, item.object_id)]
    return []


def _clear_checkin_answers(session: Session, moment_id: int) -> Erased:
    tables = _checkin_tables()
    assert tables is not None
    _moment, answer = tables
    result = session.execute(
        update(answer)
        .where(col(answer.moment_id) == moment_id)
        .values(answers=None, need_text=None, need_partner_ids=None)
    )
    erase.purge_messages(session, [f"checkin-moment:{moment_id}"])
    rows = Counter({"checkin_answer": erase.rowcount(result)})
    return Erased("checkin_moment", moment_id, "anonymised", rows)


def _record(session: Session, actor: SystemActor, kind: Kind, erased: Erased, days: int) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"{erased.object_type}.{erased.how}",
        object_type=erased.object_type,
        object_id=erased.object_id,
        purpose=PURPOSES[kind],
        details={"kind": kind.value, "days": days, "rows": erased.rows},
    )


def _purge_messages(session: Session, before: datetime) -> int:
    from bot.outbox.models import OutboxMessage, OutboxStatus

    purged = session.execute(
        update(OutboxMessage).where(*_messages_condition(before)).values(args=erase.PURGED_ARGS, context=None)
    )
    failed = session.execute(
        delete(OutboxMessage).where(
            col(OutboxMessage.status) == OutboxStatus.FAILED, col(OutboxMessage.created_at) < before
        )
    )
    return erase.rowcount(purged) + erase.rowcount(failed)
