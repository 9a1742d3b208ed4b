"""Every message a backup alert sends, queued in the outbox in the caller's transaction.

Messages are outbox rows that name a template and carry a plain-data context; the dispatcher renders
them at send time (so this module builds no Block Kit). Nothing restricted goes into a row: no
description, place, note or summary — those are shown only through "Details".

Keys make every message unique (a retried change queues nothing twice); refs group what can be
cancelled: a partner's escalations when it acknowledges, the safety follow-up when the reporter answers,
older board versions when a newer one is queued.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from bot.alerts.models import SERIOUSNESS_LABELS, SUPPORT_KIND_LABELS, AlertPartner, BackupAlert
from bot.alerts.reading import figures_of, partner_name, partner_rows, reporter_of, support_actions
from bot.config import Settings
from bot.i18n import language_for
from bot.outbox import Priority, cancel, enqueue, enqueue_many, ts_of
from bot.partners import service as partners
from bot.partners.models import PersonRef
from bot.people import Person
from bot.vocabulary import INCIDENT_TYPE_LABELS

if TYPE_CHECKING:
    from bot.alerts.service import Target

ALERT = "rugdekking_alert.json.j2"
BOARD = "rugdekking_board.json.j2"
ESCALATION = "rugdekking_escalation.json.j2"
SAFETY_CHECK = "rugdekking_safety_check.json.j2"
SAFETY_ALARM = "rugdekking_safety_alarm.json.j2"
REPORTER = "rugdekking_reporter.json.j2"
GAPS = "rugdekking_gaps.json.j2"


# --- keys and refs -------------------------------------------------------------------------------


def board_key(alert_id: int) -> str:
    return f"rugdekking:{alert_id}:board"


def post_key(alert_id: int, partner_id: int) -> str:
    return f"rugdekking:{alert_id}:p{partner_id}:post"


def dm_key(alert_id: int, user_id: str) -> str:
    return f"rugdekking:{alert_id}:dm:{user_id}"


def escalation_ref(alert_id: int, partner_id: int) -> str:
    return f"rugdekking:{alert_id}:p{partner_id}:escalation"


def safety_ref(alert_id: int) -> str:
    return f"rugdekking:{alert_id}:safety"


# --- raising -------------------------------------------------------------------------------------


def queue_raise(
    session: Session, *, alert: BackupAlert, targets: list[Target], reporter: PersonRef, settings: Settings
) -> None:
    """Everything a new alert sends, now and later; urgent rows wake the dispatcher at commit.

    All of it is queued in a few statements (`enqueue_many`): this runs before Slack hears "ok"."""
    alert_id = _id(alert)
    default = settings.samen_language
    coordinators = [m.person for m in partners.coordinators(session)]
    reporter_partner = next((t for t in targets if t.partner.id == alert.reporter_partner_id), None)
    everyone = [
        *coordinators,
        reporter,
        *(p for t in targets for p in (*t.duty, *t.members, *([t.lead] if t.lead else []))),
    ]
    languages = _languages(session, everyone, default)
    summary = alert_context(session, alert)
    batch: list[dict[str, Any]] = []

    # The board first: it is the first message on the coordination channel's lane.
    if alert.board_channel:
        batch.append(
            _message(
                key=board_key(alert_id),
                channel=alert.board_channel,
                template=BOARD,
                language=default,
                context=board_context(session, alert),
            )
        )
    # Every partner's alert channel, then the people: every partner is reached in the first round.
    for target in targets:
        if target.partner.alert_channel_id:
            batch.append(
                _message(
                    key=post_key(alert_id, target.row.partner_id),
                    channel=target.partner.alert_channel_id,
                    template=ALERT,
                    language=default,
                    context=post_context(alert, summary, target.row, rounds=([], [])),
                )
            )
    reached: set[str] = {reporter.user_id}  # the reporter knows; nobody gets the alert twice
    for target in targets:
        for person, role in _direct_recipients(target):
            if person.user_id in reached:
                continue
            reached.add(person.user_id)
            batch.append(
                _message(
                    key=dm_key(alert_id, person.user_id),
                    channel=person.user_id,
                    template=ALERT,
                    language=languages.get(person.user_id, default),
                    context={
                        **post_context(alert, summary, target.row, rounds=([], [])),
                        "to": "person",
                        "role": role,
                    },
                )
            )
    for target in targets:
        batch += _escalations(alert, summary, target, coordinators, reporter, languages, default)
    batch += _gaps(alert, summary, targets, coordinators, languages, default)

    # The reporter: a confirmation now, "Ben je veilig?" after N minutes, and if no answer comes,
    # the coordinators and the reporter's own partner hear of it after M more.
    batch.append(
        _message(
            key=f"rugdekking:{alert_id}:reporter:raised",
            channel=reporter.user_id,
            template=REPORTER,
            language=languages.get(reporter.user_id, default),
            context={
                "alert": summary,
                "kind": "raised",
                "partners": len(targets),
                "check_at": alert.safety_check_at.isoformat(),
            },
            priority=Priority.NORMAL,
        )
    )
    batch.append(
        _message(
            key=f"rugdekking:{alert_id}:safety:check",
            channel=reporter.user_id,
            template=SAFETY_CHECK,
            language=languages.get(reporter.user_id, default),
            context={"alert": summary},
            not_before=alert.safety_check_at,
            ref=safety_ref(alert_id),
        )
    )
    for person in _safety_recipients(reporter_partner, coordinators, reporter):
        batch.append(
            _message(
                key=f"rugdekking:{alert_id}:safety:silent:{person.user_id}",
                channel=person.user_id,
                template=SAFETY_ALARM,
                language=languages.get(person.user_id, default),
                context=_alarm_context(summary, "silent", reporter),
                not_before=alert.safety_deadline_at,
                ref=safety_ref(alert_id),
            )
        )
    enqueue_many(session, batch)
    if alert.safe_at_raise is False:
        queue_safety_alarm(session, alert=alert, reason="unsafe", settings=settings)


def _direct_recipients(target: Target) -> list[tuple[PersonRef, str]]:
    """The people of one partner who get the alert in a direct message, with why.

    Its duty contacts; when it has none, or no alert channel, also its lead; when it has no alert
    channel, or neither duty contacts nor a lead, all its members: the alert always reaches it.
    """
    found: list[tuple[PersonRef, str]] = [(person, "duty") for person in target.duty]
    no_channel = not target.partner.alert_channel_id
    if target.lead is not None and (no_channel or not target.duty):
        found.append((target.lead, "lead"))
    if no_channel or (not target.duty and target.lead is None):
        found += [(person, "member") for person in target.members]
    return found


def _escalations(
    alert: BackupAlert,
    summary: dict[str, Any],
    target: Target,
    coordinators: list[PersonRef],
    reporter: PersonRef,
    languages: dict[str, str],
    default: str,
) -> list[dict[str, Any]]:
    """T1: duty contacts and all members; T2: the lead; T3: the coordinators. Cancelled on acknowledging."""
    alert_id, partner_id = _id(alert), target.row.partner_id
    contacts = {
        "lead": target.lead.user_id if target.lead else None,
        "duty": [person.user_id for person in target.duty],
    }
    levels: list[tuple[int, float, list[PersonRef]]] = [
        (1, alert.escalate_t1, _unique([*target.duty, *target.members])),
        (2, alert.escalate_t2, [target.lead] if target.lead else []),
        (3, alert.escalate_t3, coordinators),
    ]
    found: list[dict[str, Any]] = []
    for level, minutes, people in levels:
        due = alert.raised_at + timedelta(minutes=minutes)
        for person in people:
            if person == reporter:
                continue
            found.append(
                _message(
                    key=f"rugdekking:{alert_id}:p{partner_id}:t{level}:{person.user_id}",
                    channel=person.user_id,
                    template=ESCALATION,
                    language=languages.get(person.user_id, default),
                    context={
                        "alert": summary,
                        "level": level,
                        "minutes": minutes,
                        "partner": target.row.partner_name,
                        **contacts,
                    },
                    not_before=due,
                    ref=escalation_ref(alert_id, partner_id),
                )
            )
    return found


def _gaps(
    alert: BackupAlert,
    summary: dict[str, Any],
    targets: list[Target],
    coordinators: list[PersonRef],
    languages: dict[str, str],
    default: str,
) -> list[dict[str, Any]]:
    """Tell the coordinators which partners could not be reached as agreed, and how they were reached."""
    gaps = [{"partner": t.row.partner_name, "missing": t.row.gaps.split(",")} for t in targets if t.row.gaps]
    if not gaps and alert.board_channel:
        return []
    return [
        _message(
            key=f"rugdekking:{_id(alert)}:gaps:{person.user_id}",
            channel=person.user_id,
            template=GAPS,
            language=languages.get(person.user_id, default),
            context={"alert": summary, "gaps": gaps, "no_board": not alert.board_channel},
            priority=Priority.NORMAL,
        )
        for person in coordinators
    ]


# --- changes after raising -------------------------------------------------------------------------


def queue_board_update(session: Session, *, alert: BackupAlert, settings: Settings) -> None:
    """A new version of the live board: `chat.update` of the board message, never a new post.

    Each version is its own row (key: the version); an older version still waiting is cancelled, so a
    burst of acknowledgements costs one update, and the lane keeps them in order."""
    alert.board_version += 1
    session.add(alert)
    if not alert.board_channel:
        return
    alert_id = _id(alert)
    ref = f"rugdekking:{alert_id}:board-update"
    cancel(session, ref=ref)
    enqueue(
        session,
        key=f"{board_key(alert_id)}:v{alert.board_version}",
        method="chat.update",
        lane=alert.board_channel,
        args={"channel": alert.board_channel, "ts": ts_of(board_key(alert_id))},
        priority=Priority.URGENT,
        template=BOARD,
        language=settings.samen_language,
        context=board_context(session, alert),
        ref=ref,
    )


def queue_partner_post_update(
    session: Session, *, alert: BackupAlert, row: AlertPartner, settings: Settings
) -> None:
    """The partner's own copy shows who acknowledged and what it does (after queue_board_update)."""
    if not row.alert_channel_id:
        return
    alert_id = _id(alert)
    ref = f"rugdekking:{alert_id}:p{row.partner_id}:post-update"
    cancel(session, ref=ref)
    actions = [a for a in support_actions(session, alert) if a.partner_id == row.partner_id]
    rounds = (
        [SUPPORT_KIND_LABELS[a.kind] for a in actions if a.round == 1],
        [SUPPORT_KIND_LABELS[a.kind] for a in actions if a.round == 2],
    )
    enqueue(
        session,
        key=f"{post_key(alert_id, row.partner_id)}:v{alert.board_version}",
        method="chat.update",
        lane=row.alert_channel_id,
        args={"channel": row.alert_channel_id, "ts": ts_of(post_key(alert_id, row.partner_id))},
        priority=Priority.URGENT,
        template=ALERT,
        language=settings.samen_language,
        context=post_context(alert, alert_context(session, alert), row, rounds=rounds),
        ref=ref,
    )


def cancel_escalations(session: Session, *, alert: BackupAlert, partner_id: int) -> int:
    return cancel(session, ref=escalation_ref(_id(alert), partner_id))


def cancel_safety_follow_up(session: Session, *, alert: BackupAlert) -> int:
    return cancel(session, ref=safety_ref(_id(alert)))


def queue_safety_alarm(session: Session, *, alert: BackupAlert, reason: str, settings: Settings) -> None:
    """The reporter is not safe or needs help: the coordinators and the reporter's own partner, now."""
    reporter = reporter_of(alert)
    default = settings.samen_language
    coordinators = [m.person for m in partners.coordinators(session)]
    own = _own_partner_people(session, alert.reporter_partner_id)
    people = _safety_people(own, coordinators, reporter)
    languages = _languages(session, people, default)
    summary = alert_context(session, alert)
    for person in people:
        _post(
            session,
            key=f"rugdekking:{_id(alert)}:safety:{reason}:{person.user_id}",
            channel=person.user_id,
            template=SAFETY_ALARM,
            language=languages.get(person.user_id, default),
            context=_alarm_context(summary, reason, reporter),
        )


def queue_closed_to_reporter(session: Session, *, alert: BackupAlert, settings: Settings) -> None:
    reporter = reporter_of(alert)
    language = _languages(session, [reporter], settings.samen_language).get(
        reporter.user_id, settings.samen_language
    )
    _post(
        session,
        key=f"rugdekking:{_id(alert)}:reporter:closed",
        channel=reporter.user_id,
        template=REPORTER,
        language=language,
        context={"alert": alert_context(session, alert), "kind": "closed", "partners": 0, "check_at": None},
        priority=Priority.NORMAL,
    )


# --- contexts: plain data for the templates ---------------------------------------------------------


def alert_context(session: Session, alert: BackupAlert) -> dict[str, Any]:
    """What every message may show about an alert: never the description, place or (unless the
    reporter chose so) the reporter."""
    return {
        "id": _id(alert),
        "code": alert.code,
        "drill": alert.drill,
        "incident_type": INCIDENT_TYPE_LABELS[alert.incident_type],
        "seriousness": SERIOUSNESS_LABELS[alert.seriousness],
        "level": alert.seriousness.value,
        "partner": partner_name(session, alert.reporter_partner_id),
        "reporter": reporter_of(alert).user_id if alert.show_reporter_name else None,
        "raised_at": _iso(alert.raised_at),
        "safety": alert.safety.value,
        "closed_at": _iso(alert.closed_at),
        "closed_by": alert.closed_by_user_id,
    }


def post_context(
    alert: BackupAlert,
    summary: dict[str, Any],
    row: AlertPartner,
    *,
    rounds: tuple[list[str], list[str]],
) -> dict[str, Any]:
    return {
        "alert": summary,
        "to": "channel",
        "role": "channel",
        "partner": row.partner_name,
        "acknowledged_by": row.acknowledged_by_user_id,
        "acknowledged_at": _iso(row.acknowledged_at),
        "round1": rounds[0],
        "round2": rounds[1],
    }


def board_context(session: Session, alert: BackupAlert) -> dict[str, Any]:
    """The live board: every partner, acknowledged by whom and when, or still pending and when it
    escalates; what each does; the figures."""
    rows = partner_rows(session, alert)
    actions = support_actions(session, alert)
    figures = figures_of(session, alert, rows)
    after = {p.partner_id: p.acknowledged_after for p in figures.partners}
    escalations = [
        _iso(alert.raised_at + timedelta(minutes=m))
        for m in (alert.escalate_t1, alert.escalate_t2, alert.escalate_t3)
    ]
    board = [
        {
            "name": row.partner_name,
            "acknowledged_by": row.acknowledged_by_user_id,
            "acknowledged_at": _iso(row.acknowledged_at),
            "after": after.get(row.partner_id),
            "gaps": [gap for gap in row.gaps.split(",") if gap],
            "round1": [
                SUPPORT_KIND_LABELS[a.kind]
                for a in actions
                if a.partner_id == row.partner_id and a.round == 1
            ],
            "round2": [
                SUPPORT_KIND_LABELS[a.kind]
                for a in actions
                if a.partner_id == row.partner_id and a.round == 2
            ],
        }
        for row in rows
    ]
    return {
        "alert": alert_context(session, alert),
        "partners": board,
        "escalations": escalations,
        "figures": {
            "first": figures.first_acknowledgement,
            "all": figures.all_acknowledged,
            "acknowledged": figures.acknowledged,
            "total": figures.total,
        },
    }


# --- helpers -------------------------------------------------------------------------------------


def _message(
    *,
    key: str,
    channel: str,
    template: str,
    language: str,
    context: dict[str, Any],
    priority: int = Priority.URGENT,
    not_before: datetime | None = None,
    ref: str | None = None,
) -> dict[str, Any]:
    """A chat.postMessage (to a channel, or a user's DM) rendered from `template` at send time:
    `enqueue`'s arguments."""
    return {
        "key": key,
        "method": "chat.postMessage",
        "lane": channel,
        "args": {"channel": channel},
        "priority": priority,
        "not_before": not_before,
        "template": template,
        "language": language,
        "context": context,
        "ref": ref,
    }


def _post(session: Session, **message: Any) -> bool:
    return enqueue(session, **_message(**message))


def _alarm_context(summary: dict[str, Any], reason: str, reporter: PersonRef) -> dict[str, Any]:
    # The coordinators and the reporter's own partner need to know whom to call.
    return {"alert": summary, "reason": reason, "reporter": reporter.user_id}


def _own_partner_people(session: Session, partner_id: int) -> list[PersonRef]:
    people = [c.person for c in partners.duty_contacts(session, partner_id=partner_id)]
    partner = partners.get_partner(session, partner_id=partner_id)
    if partner.lead is not None:
        people.append(partner.lead)
    return people


def _safety_recipients(
    reporter_partner: Target | None, coordinators: list[PersonRef], reporter: PersonRef
) -> list[PersonRef]:
    own: list[PersonRef] = []
    if reporter_partner is not None:
        own = [*reporter_partner.duty, *([reporter_partner.lead] if reporter_partner.lead else [])]
    return _safety_people(own, coordinators, reporter)


def _safety_people(
    own: list[PersonRef], coordinators: list[PersonRef], reporter: PersonRef
) -> list[PersonRef]:
    return [p for p in _unique([*coordinators, *own]) if p != reporter]


def _languages(session: Session, people: Iterable[PersonRef], default: str) -> dict[str, str]:
    """Each person's language (their Slack locale when known), in one query."""
    ids = sorted({person.user_id for person in people})
    if not ids:
        return {}
    known = session.exec(select(Person).where(col(Person.user_id).in_(ids))).all()
    return {person.user_id: language_for(person.locale, default) for person in known}


def _unique(people: Iterable[PersonRef]) -> list[PersonRef]:
    seen: set[PersonRef] = set()
    found: list[PersonRef] = []
    for person in people:
        if person not in seen:
            seen.add(person)
            found.append(person)
    return found


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _id(alert: BackupAlert) -> int:
    assert alert.id is not None
    return alert.id
