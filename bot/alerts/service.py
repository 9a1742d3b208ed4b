"""Backup alerts (Rugdekking): the rules, with the actor passed in. Nothing here knows Slack.

An attack on one partner is an attack on all: one alert reaches every partner at once, every partner
must acknowledge it, silent partners are escalated, the reporter is asked whether they are safe, every
partner records what it does, and a coordinator closes it with a summary and a lesson.

Every change is authorised (bot.authz), audited (bot.audit) and queues its messages through the outbox
(bot.alerts.messages) in the caller's transaction: a refused or failed change leaves nothing behind, and
an alert that was committed reaches everyone, whatever happens to this process afterwards.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import event, text
from sqlmodel import Session, col, select

from bot import audit, clock
from bot.alerts import messages
from bot.alerts.models import (
    AlertPartner,
    BackupAlert,
    SafetyState,
    Seriousness,
    SupportAction,
    SupportKind,
)
from bot.alerts.problems import (
    CLOSED,
    MAX_DESCRIPTION,
    MAX_LESSON,
    MAX_NOTE,
    MAX_PLACE,
    MAX_SUMMARY,
    TOO_LONG_DESCRIPTION,
    TOO_LONG_LESSON,
    TOO_LONG_NOTE,
    TOO_LONG_PLACE,
    TOO_LONG_SUMMARY,
    UNKNOWN,
    AlertClosed,
    InvalidInput,
    NotAllAcknowledged,
    NotInvolved,
    NotTheReporter,
    UnknownAlert,
    checked_text,
)
from bot.alerts.reading import figures_of, get_alert, partner_rows, reporter_of, seconds_between
from bot.authz import Action, Relation, authorize
from bot.config import Settings
from bot.i18n import N_
from bot.partners import service as partners
from bot.partners.models import Member, Partner, PersonRef
from bot.vocabulary import IncidentType

JOIN_WINDOW: Final = timedelta(minutes=1)  # a second alert from the same person joins the first
PURPOSE_RAISE: Final = "backup alert: call every partner for cover"


@dataclass(frozen=True)
class RaiseRequest:
    incident_type: IncidentType
    seriousness: Seriousness
    source_key: str  # "view:<id>" or "trigger:<id>": the same form twice raises one alert
    safe: bool | None = None
    description: str | None = None
    place: str | None = None
    show_reporter_name: bool = False
    drill: bool = False


@dataclass(frozen=True)
class Raised:
    alert: BackupAlert
    partners: int  # how many partners must acknowledge
    joined: bool = False  # it joined the alert the same person raised less than a minute ago
    duplicate: bool = False  # the same form or command again: nothing changed
    gaps: tuple[str, ...] = ()  # partners that could not be reached as agreed (no channel/duty contacts)


@dataclass(frozen=True)
class Acknowledged:
    alert: BackupAlert
    partner: AlertPartner
    already: bool  # someone of this partner had acknowledged before: nothing changed


@dataclass(frozen=True)
class Recorded:
    alert: BackupAlert
    action: SupportAction
    duplicate: bool


@dataclass(frozen=True)
class SafetyAnswer:
    alert: BackupAlert
    changed: bool


@dataclass(frozen=True)
class Closed:
    alert: BackupAlert
    already: bool


# --- raising -------------------------------------------------------------------------------------


def raise_alert(
    session: Session,
    *,
    actor: Member,
    request: RaiseRequest,
    settings: Settings,
    now: datetime | None = None,
) -> Raised:
    """Raise a backup alert: every partner's alert channel and duty contacts, in this transaction."""
    authorize(actor, Action.RAISE_BACKUP_ALERT)
    description = checked_text(request.description, MAX_DESCRIPTION, TOO_LONG_DESCRIPTION, "description")
    place = checked_text(request.place, MAX_PLACE, TOO_LONG_PLACE, "place")
    now = now or clock.now(session)
    reporter = actor.person
    _lock_reporter(session, reporter)

    existing = session.exec(select(BackupAlert).where(BackupAlert.source_key == request.source_key)).first()
    if existing is not None:
        return Raised(existing, _partner_count(session, existing), duplicate=True)
    recent = _recent_alert_of(session, reporter, actor.partner_id, request.drill, now)
    if recent is not None:
        return _join(session, actor, recent, request, description, place, settings)

    plan = settings.rugdekking_escalation[request.seriousness]
    safety = settings.rugdekking_safety
    alert = BackupAlert(
        source_key=request.source_key[:128],
        drill=request.drill,
        reporter_partner_id=actor.partner_id,
        reporter=_person_text(reporter),
        show_reporter_name=request.show_reporter_name,
        incident_type=request.incident_type,
        seriousness=request.seriousness,
        safe_at_raise=request.safe,
        description=description,
        place=place,
        raised_at=now,
        board_channel=settings.samen_partnership_channel,
        escalate_t1=plan.t1,
        escalate_t2=plan.t2,
        escalate_t3=plan.t3,
        safety_check_at=now + timedelta(minutes=safety.after),
        safety_deadline_at=now + timedelta(minutes=safety.after + safety.answer_within),
        safety={True: SafetyState.VEILIG, False: SafetyState.NIET_VEILIG, None: SafetyState.ONBEKEND}[
            request.safe
        ],
    )
    session.add(alert)
    session.flush()
    targets = [_target(session, partner, alert) for partner in partners.list_partners(session)]
    for target in targets:
        session.add(target.row)
    session.flush()
    messages.queue_raise(session, alert=alert, targets=targets, reporter=reporter, settings=settings)
    gaps = tuple(t.partner.name for t in targets if t.row.gaps)
    audit.record(
        session,
        actor=actor,
        action="backup_alert.raised",
        object_type="backup_alert",
        object_id=_id(alert),
        purpose=PURPOSE_RAISE,
        details={
            "drill": alert.drill,
            "incident_type": alert.incident_type.value,
            "seriousness": alert.seriousness.value,
            "partners": len(targets),
            "gaps": len(gaps),
            "safe": request.safe,
        },
    )
    return Raised(alert, len(targets), gaps=gaps)


def _join(
    session: Session,
    actor: Member,
    alert: BackupAlert,
    request: RaiseRequest,
    description: str | None,
    place: str | None,
    settings: Settings,
) -> Raised:
    """A second alert within a minute: what it adds goes into the first, and nobody is alerted twice."""
    added: list[str] = []
    if description and description not in (alert.description or ""):
        alert.description = f"{alert.description}\n—\n{description}" if alert.description else description
        added.append("description")
    if place and place not in (alert.place or ""):
        alert.place = f"{alert.place}\n—\n{place}" if alert.place else place
        added.append("place")
    if request.safe is False and alert.safety in (SafetyState.ONBEKEND, SafetyState.VEILIG):
        alert.safety = SafetyState.NIET_VEILIG
        alert.safe_at_raise = False
        added.append("safety")
        messages.queue_safety_alarm(session, alert=alert, reason="unsafe", settings=settings)
        messages.queue_board_update(session, alert=alert, settings=settings)
    if added:
        session.add(alert)
        audit.record(
            session,
            actor=actor,
            action="backup_alert.joined",
            object_type="backup_alert",
            object_id=_id(alert),
            purpose=PURPOSE_RAISE,
            details={"added": added},
        )
    return Raised(alert, _partner_count(session, alert), joined=True, duplicate=not added)


@dataclass
class Target:
    """One partner of a new alert, with the people to reach (bot.alerts.messages uses it)."""

    partner: Partner
    row: AlertPartner
    duty: list[PersonRef]
    members: list[PersonRef]
    lead: PersonRef | None


def _target(session: Session, partner: Partner, alert: BackupAlert) -> Target:
    partner_id = _pid(partner)
    duty = [c.person for c in partners.duty_contacts(session, partner_id=partner_id)]
    members = [m.person for m in partners.members_of(session, partner_id=partner_id)]
    gaps = [
        name
        for name, missing in (
            ("channel", not partner.alert_channel_id),
            ("duty", not duty),
            ("lead", partner.lead is None),
        )
        if missing
    ]
    row = AlertPartner(
        alert_id=_id(alert),
        partner_id=partner_id,
        partner_name=partner.name,
        alert_channel_id=partner.alert_channel_id,
        gaps=",".join(gaps),
    )
    return Target(partner=partner, row=row, duty=duty, members=members, lead=partner.lead)


# --- acknowledging and supporting ------------------------------------------------------------------


def acknowledge(
    session: Session, *, actor: Member, alert_id: int, settings: Settings, via: str = "chat"
) -> Acknowledged:
    """Acknowledge for the actor's partner: its escalations stop (in chat and outside it), the board
    shows who and when. `via`: the way it came, "chat", "sms" or "email" (the drill report's channels)."""
    authorize(actor, Action.ACKNOWLEDGE_BACKUP_ALERT)
    alert = _lock_alert(session, alert_id)
    row = _involved(session, alert, actor)
    if row.acknowledged_at is not None:
        return Acknowledged(alert, row, already=True)
    if alert.closed_at is not None:
        raise AlertClosed(CLOSED, code=alert.code)
    _acknowledge_row(session, alert, row, actor, settings, via=via)
    return Acknowledged(alert, row, already=False)


def _acknowledge_row(
    session: Session,
    alert: BackupAlert,
    row: AlertPartner,
    actor: Member,
    settings: Settings,
    *,
    via: str = "chat",
) -> None:
    row.acknowledged_at = clock.now(session)
    row.acknowledged_by_team_id = actor.team_id
    row.acknowledged_by_user_id = actor.user_id
    row.acknowledged_via = via
    session.add(row)
    # The partner answered: its escalations stop here, chat, SMS and e-mail alike (they share the ref;
    # pending rows are never sent).
    cancelled = messages.cancel_escalations(session, alert=alert, partner_id=row.partner_id)
    messages.queue_board_update(session, alert=alert, settings=settings)
    messages.queue_partner_post_update(session, alert=alert, row=row, settings=settings)
    _observe_on_commit(session, seconds_between(alert.raised_at, row.acknowledged_at), alert.drill)
    audit.record(
        session,
        actor=actor,
        action="backup_alert.acknowledged",
        object_type="backup_alert",
        object_id=_id(alert),
        purpose=PURPOSE_RAISE,
        details={
            "partner_id": row.partner_id,
            "after_seconds": round(seconds_between(alert.raised_at, row.acknowledged_at), 1),
            "escalations_cancelled": cancelled,
            "via": via,
        },
    )


def support_form(session: Session, *, actor: Member, alert_id: int) -> tuple[BackupAlert, AlertPartner]:
    """What the "we take action" form needs; refuses when the alert is closed or not the partner's."""
    authorize(actor, Action.RECORD_SUPPORT_ACTION)
    alert = get_alert(session, alert_id=alert_id)
    row = _involved(session, alert, actor)
    if alert.closed_at is not None:
        raise AlertClosed(CLOSED, code=alert.code)
    return alert, row


def record_support_action(
    session: Session,
    *,
    actor: Member,
    alert_id: int,
    kind: SupportKind,
    note: str | None,
    round: int,
    source_key: str,
    settings: Settings,
) -> Recorded:
    """Record what the actor's partner does to give cover; doing something counts as acknowledging."""
    authorize(actor, Action.RECORD_SUPPORT_ACTION)
    if round not in (1, 2):
        raise InvalidInput(N_("A supporting action is for the first or the second round."))
    note = checked_text(note, MAX_NOTE, TOO_LONG_NOTE, "note")
    alert = _lock_alert(session, alert_id)
    row = _involved(session, alert, actor)
    existing = session.exec(select(SupportAction).where(SupportAction.source_key == source_key)).first()
    if existing is not None:
        return Recorded(alert, existing, duplicate=True)
    if alert.closed_at is not None:
        raise AlertClosed(CLOSED, code=alert.code)
    action = SupportAction(
        alert_id=_id(alert),
        partner_id=row.partner_id,
        round=round,
        kind=kind,
        note=note,
        source_key=source_key[:128],
        recorded_by_team_id=actor.team_id,
        recorded_by_user_id=actor.user_id,
    )
    session.add(action)
    session.flush()
    if row.acknowledged_at is None:
        _acknowledge_row(session, alert, row, actor, settings)
    else:
        messages.queue_board_update(session, alert=alert, settings=settings)
        messages.queue_partner_post_update(session, alert=alert, row=row, settings=settings)
    audit.record(
        session,
        actor=actor,
        action="backup_alert.support_recorded",
        object_type="backup_alert",
        object_id=_id(alert),
        purpose=PURPOSE_RAISE,
        details={"partner_id": row.partner_id, "round": round, "kind": kind.value, "note": bool(note)},
    )
    return Recorded(alert, action, duplicate=False)


# --- the reporter's safety -------------------------------------------------------------------------


def answer_safety(
    session: Session, *, actor: Member, alert_id: int, safe: bool, settings: Settings
) -> SafetyAnswer:
    """The reporter answers "Ben je veilig?": yes ends the follow-up; "I need help" alarms at once."""
    alert = _lock_alert(session, alert_id)
    if reporter_of(alert) != actor.person:
        raise NotTheReporter(
            N_("Only the person who asked for backup with %(code)s can answer this question."),
            code=alert.code,
        )
    wanted = SafetyState.VEILIG if safe else SafetyState.HULP_NODIG
    if alert.safety_answered_at is not None and alert.safety is wanted:
        return SafetyAnswer(alert, changed=False)  # the same button again: nothing twice
    previous = alert.safety
    alert.safety = wanted
    alert.safety_answered_at = clock.now(session)
    session.add(alert)
    # Any answer is an answer: the "no answer" follow-up is not needed any more.
    messages.cancel_safety_follow_up(session, alert=alert)
    if not safe:
        messages.queue_safety_alarm(session, alert=alert, reason="help", settings=settings)
    messages.queue_board_update(session, alert=alert, settings=settings)
    audit.record(
        session,
        actor=actor,
        action="backup_alert.safety_answered",
        object_type="backup_alert",
        object_id=_id(alert),
        purpose=PURPOSE_RAISE,
        details={"answer": wanted.value, "previous": previous.value},
    )
    return SafetyAnswer(alert, changed=True)


# --- closing -------------------------------------------------------------------------------------


def close_form(session: Session, *, actor: Member, alert_id: int) -> BackupAlert:
    """Check before the closing form opens: allowed, still open, and every partner acknowledged."""
    alert = get_alert(session, alert_id=alert_id)
    _authorize_close(actor, alert)
    if alert.closed_at is not None:
        raise AlertClosed(CLOSED, code=alert.code)
    _refuse_while_silent(session, alert)
    return alert


def close_alert(
    session: Session,
    *,
    actor: Member,
    alert_id: int,
    summary: str,
    lesson: str | None,
    settings: Settings,
) -> Closed:
    """Close with a summary, only when every partner has acknowledged."""
    alert = _lock_alert(session, alert_id)
    _authorize_close(actor, alert)
    if alert.closed_at is not None:
        return Closed(alert, already=True)
    summary_text = checked_text(summary, MAX_SUMMARY, TOO_LONG_SUMMARY, "summary")
    if not summary_text:
        raise InvalidInput(
            N_("Write a short summary: what happened, and what the partners did."), field="summary"
        )
    _refuse_while_silent(session, alert)
    alert.closed_at = clock.now(session)
    alert.closed_by_team_id = actor.team_id
    alert.closed_by_user_id = actor.user_id
    alert.summary = summary_text
    alert.lesson = checked_text(lesson, MAX_LESSON, TOO_LONG_LESSON, "lesson")
    session.add(alert)
    rows = partner_rows(session, alert)
    messages.queue_board_update(session, alert=alert, settings=settings)
    for row in rows:
        messages.queue_partner_post_update(session, alert=alert, row=row, settings=settings)
    messages.queue_closed_to_reporter(session, alert=alert, settings=settings)
    figures = figures_of(session, alert)
    audit.record(
        session,
        actor=actor,
        action="backup_alert.closed",
        object_type="backup_alert",
        object_id=_id(alert),
        purpose="backup alert: the danger is over",
        details={
            "lesson": alert.lesson is not None,
            "first_acknowledgement_seconds": _round(figures.first_acknowledgement),
            "all_acknowledged_seconds": _round(figures.all_acknowledged),
        },
    )
    return Closed(alert, already=False)


def record_lesson(session: Session, *, actor: Member, alert_id: int, lesson: str) -> BackupAlert:
    """The lesson, when the closing form left it out and the next question asked for it."""
    alert = _lock_alert(session, alert_id)
    _authorize_close(actor, alert)
    text_ = checked_text(lesson, MAX_LESSON, TOO_LONG_LESSON, "lesson")
    if not text_ or alert.lesson == text_:
        return alert
    alert.lesson = text_
    session.add(alert)
    audit.record(
        session,
        actor=actor,
        action="backup_alert.lesson_recorded",
        object_type="backup_alert",
        object_id=_id(alert),
        purpose="backup alert: learn from it",
        details={},
    )
    return alert


def _authorize_close(actor: Member, alert: BackupAlert) -> None:
    relation = Relation.OWN if actor.partner_id == alert.reporter_partner_id else Relation.OTHER
    authorize(actor, Action.CLOSE_BACKUP_ALERT, relation=relation)


def _refuse_while_silent(session: Session, alert: BackupAlert) -> None:
    silent = [row.partner_name for row in partner_rows(session, alert) if row.acknowledged_at is None]
    if silent:
        raise NotAllAcknowledged(
            N_(
                "%(code)s can be closed once every partner has acknowledged it. Still silent: %(partners)s. "
                "Call them; their escalation continues."
            ),
            code=alert.code,
            partners=", ".join(silent),
        )


# --- helpers -------------------------------------------------------------------------------------


def _lock_alert(session: Session, alert_id: int) -> BackupAlert:
    """The alert, locked for this transaction: changes to one alert (and its board versions) queue up."""
    alert = session.exec(
        select(BackupAlert)
        .where(BackupAlert.id == alert_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if alert is None:
        raise UnknownAlert(UNKNOWN, number=alert_id)
    return alert


def _lock_reporter(session: Session, reporter: PersonRef) -> None:
    """Two forms from one person at the same moment: the second waits, then joins the first.

    SQLite: every transaction already holds the database's write lock (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.sha256(f"rugdekking:{_person_text(reporter)}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _recent_alert_of(
    session: Session, reporter: PersonRef, partner_id: int, drill: bool, now: datetime
) -> BackupAlert | None:
    candidates = session.exec(
        select(BackupAlert)
        .where(
            BackupAlert.reporter_partner_id == partner_id,
            BackupAlert.drill == drill,
            col(BackupAlert.closed_at).is_(None),
            BackupAlert.raised_at >= now - JOIN_WINDOW,
        )
        .order_by(col(BackupAlert.raised_at).desc())
    ).all()
    # The reporter is sealed: compared after decryption, among the few alerts of the last minute.
    return next((alert for alert in candidates if reporter_of(alert) == reporter), None)


def _involved(session: Session, alert: BackupAlert, actor: Member) -> AlertPartner:
    row = session.get(AlertPartner, (alert.id, actor.partner_id))
    if row is None:
        raise NotInvolved(
            N_("Your partner joined after %(code)s was raised, so it is not asked to answer it."),
            code=alert.code,
        )
    return row


def _partner_count(session: Session, alert: BackupAlert) -> int:
    return len(partner_rows(session, alert))


def _observe_on_commit(session: Session, seconds: float, drill: bool) -> None:
    """The acknowledgement time for the metrics (bot/metrics.py), once it has committed."""
    from bot.metrics import BACKUP_ALERT_ACK_SECONDS

    def observe(_session: Session) -> None:
        BACKUP_ALERT_ACK_SECONDS.labels(drill=str(drill).lower()).observe(seconds)

    event.listen(session, "after_commit", observe, once=True)


def _person_text(person: PersonRef) -> str:
    return f"{person.team_id}/{person.user_id}"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _id(alert: BackupAlert) -> int:
    assert alert.id is not None, "an alert is flushed before it is used"
    return alert.id


def _pid(partner: Partner) -> int:
    assert partner.id is not None
    return partner.id
