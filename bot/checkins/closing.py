"""Closing a check-in moment: when its window ends, as soon as everyone expected has answered, or when a
coordinator closes it now. The window is the latest it can close, not the earliest.

Exactly once, whoever closes first: the close is one conditional UPDATE (`… SET status = GESLOTEN WHERE
id = :id AND status = OPEN`), and only the transaction whose UPDATE changed the row queues the summary
(`checkin-summary:<moment>`, unique in the outbox anyway), edits the prompt and cancels the reminders not
yet sent. A web process answering the last question, a coordinator's button and the every-minute job of
any worker may race; on PostgreSQL the second UPDATE waits for the first to commit and then matches
nothing, on SQLite BEGIN IMMEDIATE puts them one after the other.

Why an answer locks the moment first (`answer` in answers.py): two people answering last at the same
time would each see the other as silent and neither would close; with the moment's row locked, the
second counts after the first committed.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, update
from sqlmodel import Session, col, select

from bot import audit
from bot.authz import Action, Principal, is_allowed
from bot.checkins.models import CheckinAnswer, CheckinMoment, CheckinSchedule, MomentStatus
from bot.checkins.problems import CheckinError
from bot.checkins.timing import shown_time
from bot.i18n import N_
from bot.outbox import cancel, enqueue, ts_of
from bot.partners import service as partners
from bot.partners.models import Member, Partner, PersonRef
from bot.signals.notices import contacts_of

MAX_MENTIONS: Final = 40  # people named in one prompt; more are counted
MAX_ASK: Final = 3  # coordinators named in a refusal
PURPOSE_CLOSE: Final = "closing an alignment moment before its window ends"


class CloseReason(StrEnum):
    WINDOW = "window"  # the window ended
    ALL_ANSWERED = "all_answered"  # every expected person answered
    COORDINATOR = "coordinator"  # a coordinator pressed "Close now"


def close(
    session: Session,
    moment: CheckinMoment,
    *,
    reason: CloseReason,
    actor: Principal | None = None,
) -> bool:
    """Close the moment if it is still open; True for the one caller that closed it.

    The winner queues the summary in the prompt's thread and the prompt's edit (no buttons, how many
    answered). An early close also cancels the reminders still waiting in the outbox (the three-quarter
    mark may have passed a moment ago) and is audited.
    """
    won = session.execute(
        update(CheckinMoment)
        .where(col(CheckinMoment.id) == moment.id, col(CheckinMoment.status) == MomentStatus.OPEN)
        .values(status=MomentStatus.GESLOTEN, next_step_at=None)
        .execution_options(synchronize_session=False)
    )
    # Whoever closed it, it is closed now: the object in this session says so too.
    moment.status = MomentStatus.GESLOTEN
    moment.next_step_at = None
    session.add(moment)
    if int(won.rowcount or 0) != 1:  # type: ignore[attr-defined]
        return False
    answered, expected = _queue_close(session, moment, reason=reason, actor=actor)
    if reason is CloseReason.WINDOW:
        return True  # as before early closes: reminders already queued at three quarters still go
    cancel(session, ref=reminder_ref(moment))
    if actor is not None:
        audit.record(
            session,
            actor=actor,
            action="checkin.closed",
            object_type="checkin_moment",
            object_id=moment.id or 0,
            purpose=PURPOSE_CLOSE,
            details={"reason": reason.value, "answered": answered, "expected": expected},
        )
    session.flush()
    return True


def everyone_answered(session: Session, moment_id: int) -> bool:
    """Every expected person has answered at least once (and at least one was expected)."""
    expected, silent = session.exec(
        select(func.count(), func.count(case((col(CheckinAnswer.version) == 0, 1)))).where(
            CheckinAnswer.moment_id == moment_id, col(CheckinAnswer.expected).is_(True)
        )
    ).one()
    return int(expected) > 0 and int(silent) == 0


def check_may_close(session: Session, *, actor: Member, moment: CheckinMoment, language: str) -> None:
    """Only coordinators close early; anyone else is told whom to ask and when it closes by itself."""
    if is_allowed(actor, Action.PLAN_CHECKIN):
        return
    schedule = session.get(CheckinSchedule, moment.schedule_id)
    zone = ZoneInfo(schedule.timezone) if schedule else ZoneInfo("UTC")
    people = tuple(whom_to_ask(session, schedule))
    message = (
        N_(
            "Only a coordinator can close a check-in early: ask %(people)s. Otherwise it closes by itself "
            "at %(time)s, or as soon as everyone has answered."
        )
        if people
        else N_(
            "Only a coordinator can close a check-in early, and the partnership has none yet. It closes "
            "by itself at %(time)s, or as soon as everyone has answered."
        )
    )
    time = shown_time(moment.closes_at, zone, language, "HH:mm")
    raise CheckinError(message, people=people, time=time)


def whom_to_ask(session: Session, schedule: CheckinSchedule | None) -> list[PersonRef]:
    """The coordinator who planned it first (if still one), then the others: at most three."""
    found = [member.person for member in partners.coordinators(session)]
    if schedule is not None:
        planner = PersonRef(schedule.created_by_team_id, schedule.created_by_user_id)
        if planner in found:
            found.remove(planner)
            found.insert(0, planner)
    return found[:MAX_ASK]


def close_now(session: Session, *, actor: Member, moment_id: int, language: str) -> bool:
    """A coordinator's "Close now"; False when it was closed already (by someone else, or its window)."""
    moment = session.get(CheckinMoment, moment_id, with_for_update=True)
    if moment is None:
        raise CheckinError(N_("This check-in does not exist (any more)."))
    if moment.status is not MomentStatus.OPEN:
        return False
    check_may_close(session, actor=actor, moment=moment, language=language)
    return close(session, moment, reason=CloseReason.COORDINATOR, actor=actor)


# --- what a close queues ------------------------------------------------------------------------------


def reminder_ref(moment: CheckinMoment) -> str:
    """The reminders' own ref, under the moment's (retention's purge of `checkin-moment:<id>` covers it),
    so that a close cancels them and nothing else."""
    return f"{moment_ref(moment)}:reminder"


def prompt_key(moment: CheckinMoment) -> str:
    return f"checkin:{moment.schedule_id}:{moment.local_date.isoformat()}"


def moment_ref(moment: CheckinMoment) -> str:
    return f"checkin-moment:{moment.id}"


def answers_of(session: Session, moment: CheckinMoment) -> list[CheckinAnswer]:
    return list(
        session.exec(
            select(CheckinAnswer)
            .where(CheckinAnswer.moment_id == moment.id)
            .order_by(col(CheckinAnswer.partner_id), col(CheckinAnswer.user_id))
        ).all()
    )


def prompt_context(
    moment: CheckinMoment, schedule: CheckinSchedule, people: list[str], *, closed: bool, answered: int = 0
) -> dict[str, Any]:
    zone = ZoneInfo(schedule.timezone)
    return {
        "moment_id": moment.id,
        "questions": json.loads(moment.questions),
        "ask_partner_need": moment.ask_partner_need,
        "closes_at": shown_time(moment.closes_at, zone, moment.language, "HH:mm"),
        "day": shown_time(moment.opens_at, zone, moment.language, "EEEE d MMMM"),
        "zone": schedule.timezone,
        "people": people[:MAX_MENTIONS],
        "more": max(0, len(people) - MAX_MENTIONS),
        "closed": closed,
        "answered": answered,
        "expected": len(people),
    }


def _queue_close(
    session: Session, moment: CheckinMoment, *, reason: CloseReason, actor: Principal | None
) -> tuple[int, int]:
    """The summary in the thread, and the prompt without its buttons. Names, partners and needs only.
    Returns (answered, expected)."""
    schedule = session.get(CheckinSchedule, moment.schedule_id)
    rows = answers_of(session, moment)
    names = _partner_names(session, rows)
    # "3 of 3 answered" counts those asked: a colleague stepping in is named, but not counted as a 4th.
    answered = sum(1 for row in rows if row.expected and row.version > 0)
    expected = sum(1 for row in rows if row.expected)
    team_id = schedule.team_id if schedule and schedule.team_id else None
    enqueue(
        session,
        key=f"checkin-summary:{moment.id}",
        method="chat.postMessage",
        lane=moment.channel_id,
        args={"channel": moment.channel_id, "thread_ts": ts_of(prompt_key(moment))},
        template="checkin_summary.json.j2",
        language=moment.language,
        context={
            "groups": _groups(rows, names),
            "needs": _needs(session, rows, names),
            "answered": answered,
            "expected": expected,
            "reason": reason.value,
            "closed_by": actor.user_id if reason is CloseReason.COORDINATOR and actor else None,
        },
        ref=moment_ref(moment),
        team_id=team_id,
    )
    if schedule is not None:
        people = [row.user_id for row in rows if row.expected]
        enqueue(
            session,
            key=f"checkin-closed:{moment.id}",
            method="chat.update",
            lane=moment.channel_id,
            args={"channel": moment.channel_id, "ts": ts_of(prompt_key(moment))},
            template="checkin_prompt.json.j2",
            language=moment.language,
            context=prompt_context(moment, schedule, people, closed=True, answered=answered),
            ref=moment_ref(moment),
            team_id=team_id,
        )
    return answered, expected


def _partner_names(session: Session, rows: list[CheckinAnswer]) -> dict[int, str]:
    names: dict[int, str] = {}
    for row in rows:
        if row.partner_id not in names:
            partner = session.get(Partner, row.partner_id)
            names[row.partner_id] = partner.name if partner else "?"
    return names


def _groups(rows: list[CheckinAnswer], names: dict[int, str]) -> list[dict[str, Any]]:
    groups: dict[int, dict[str, Any]] = {}
    for row in rows:
        group = groups.setdefault(
            row.partner_id, {"partner": names[row.partner_id], "answered": [], "silent": []}
        )
        if row.version > 0:
            group["answered"].append(row.user_id)
        elif row.expected:
            group["silent"].append(row.user_id)
    return sorted(groups.values(), key=lambda g: str(g["partner"]).lower())


def _needs(session: Session, rows: list[CheckinAnswer], names: dict[int, str]) -> list[dict[str, Any]]:
    needs = []
    for row in rows:
        for partner_id in json.loads(row.need_partner_ids or "[]"):
            partner = session.get(Partner, partner_id)
            if partner is None:
                continue
            needs.append(
                {
                    "person": row.user_id,
                    "partner": names.get(row.partner_id, "?"),
                    "needed": partner.name,
                    "contacts": [p.user_id for p in contacts_of(session, partner)],
                    "what": row.need_text or "",
                }
            )
    return needs
