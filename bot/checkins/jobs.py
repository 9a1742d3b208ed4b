"""The check-in job: every minute, open the moments that are due, remind, close and summarise.

It reads only what is due, through two indexes: schedules `WHERE next_at <= now` and moments
`WHERE next_step_at <= now`. Each schedule keeps `next_at` (its next moment in UTC) current, each
moment `next_step_at` (its reminder at three quarters of the window, then its close).

Exactly once, with any number of workers: the scheduler lets one worker run each minute's slot; a moment
is unique per schedule and local day; every message has its outbox key (`checkin:<schedule>:<day>`,
`checkin-reminder:<moment>:<user>`, `checkin-summary:<moment>`), so even two runs that overlap queue
each message once. On PostgreSQL the rows are read `FOR UPDATE SKIP LOCKED`: a second run skips what
the first holds.

A worker that was down past a moment's window does not post it late: that moment is skipped and the
schedule moves on.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session, col, select

from bot.calendar import local_date
from bot.checkins import service, timing
from bot.checkins.models import (
    CheckinAnswer,
    CheckinMoment,
    CheckinSchedule,
    MomentStatus,
    ScheduleStatus,
)
from bot.i18n import language_for
from bot.outbox import enqueue, ts_of
from bot.partners.models import Partner
from bot.people import get_person
from bot.runtime import Services
from bot.scheduler import ScheduledJob

BATCH: Final = 200
MAX_MENTIONS: Final = 40  # people named in one prompt; more are counted


def tick(session: Session, services: Services, now: datetime) -> None:
    open_due_moments(session, now=now)
    step_moments(session, services, now=now)


# --- opening moments ----------------------------------------------------------------------------------


def open_due_moments(session: Session, *, now: datetime) -> int:
    """Post every moment that is due; advance each schedule to its next moment. How many were posted."""
    query = (
        select(CheckinSchedule)
        .where(col(CheckinSchedule.next_at) <= now, CheckinSchedule.status == ScheduleStatus.ACTIEF)
        .order_by(col(CheckinSchedule.next_at), col(CheckinSchedule.id))
        .limit(BATCH)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    posted = 0
    for schedule in session.exec(query).all():
        occurrence = schedule.next_at
        window = timedelta(minutes=schedule.window_minutes)
        while occurrence is not None and occurrence <= now:
            if now < occurrence + window:
                posted += _post_moment(session, schedule, occurrence)
            occurrence = service.next_moment(schedule, after=occurrence)
        schedule.next_at = occurrence
        session.add(schedule)
    session.flush()
    return posted


def _post_moment(session: Session, schedule: CheckinSchedule, opens_at: datetime) -> int:
    zone = ZoneInfo(schedule.timezone)
    day = local_date(opens_at, zone)
    exists = session.exec(
        select(CheckinMoment.id).where(
            CheckinMoment.schedule_id == schedule.id, CheckinMoment.local_date == day
        )
    ).first()
    if exists is not None:
        return 0
    window = timedelta(minutes=schedule.window_minutes)
    moment = CheckinMoment(
        schedule_id=schedule.id or 0,
        local_date=day,
        channel_id=schedule.channel_id,
        opens_at=opens_at,
        remind_at=timing.remind_at(opens_at, window),
        closes_at=opens_at + window,
        questions=schedule.questions,
        ask_partner_need=schedule.ask_partner_need,
        language=schedule.language,
    )
    moment.next_step_at = moment.remind_at
    session.add(moment)
    session.flush()
    people = service.participants_of(session, schedule)
    for member in people:
        session.add(
            CheckinAnswer(
                moment_id=moment.id or 0,
                team_id=member.team_id,
                user_id=member.user_id,
                partner_id=member.partner_id,
                expected=True,
            )
        )
    session.flush()
    enqueue(
        session,
        key=service.prompt_key(moment),
        method="chat.postMessage",
        lane=moment.channel_id,
        args={"channel": moment.channel_id},
        template="checkin_prompt.json.j2",
        language=moment.language,
        context=_prompt_context(moment, schedule, [m.user_id for m in people], closed=False),
        ref=_ref(moment),
        team_id=schedule.team_id or None,
    )
    return 1


def _prompt_context(
    moment: CheckinMoment, schedule: CheckinSchedule, people: list[str], *, closed: bool, answered: int = 0
) -> dict[str, Any]:
    zone = ZoneInfo(schedule.timezone)
    return {
        "moment_id": moment.id,
        "questions": json.loads(moment.questions),
        "ask_partner_need": moment.ask_partner_need,
        "closes_at": service.shown_time(moment.closes_at, zone, moment.language, "HH:mm"),
        "day": service.shown_time(moment.opens_at, zone, moment.language, "EEEE d MMMM"),
        "zone": schedule.timezone,
        "people": people[:MAX_MENTIONS],
        "more": max(0, len(people) - MAX_MENTIONS),
        "closed": closed,
        "answered": answered,
        "expected": len(people),
    }


# --- reminders and the close ----------------------------------------------------------------------------


def step_moments(session: Session, services: Services, *, now: datetime) -> None:
    query = (
        select(CheckinMoment)
        .where(col(CheckinMoment.next_step_at) <= now)
        .order_by(col(CheckinMoment.next_step_at), col(CheckinMoment.id))
        .limit(BATCH)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    for moment in session.exec(query).all():
        if moment.status is MomentStatus.OPEN and not moment.reminded and now >= moment.remind_at:
            if now < moment.closes_at:
                _remind(session, services, moment, now)
            moment.reminded = True
        if moment.status is MomentStatus.OPEN and now >= moment.closes_at:
            _close(session, moment)
            moment.status = MomentStatus.GESLOTEN
        if moment.status is MomentStatus.GESLOTEN:
            moment.next_step_at = None
        else:
            moment.next_step_at = moment.closes_at if moment.reminded else moment.remind_at
        session.add(moment)
    session.flush()


def _answers(session: Session, moment: CheckinMoment) -> list[CheckinAnswer]:
    return list(
        session.exec(
            select(CheckinAnswer)
            .where(CheckinAnswer.moment_id == moment.id)
            .order_by(col(CheckinAnswer.partner_id), col(CheckinAnswer.user_id))
        ).all()
    )


def _remind(session: Session, services: Services, moment: CheckinMoment, now: datetime) -> None:
    """One direct message to each expected person who has not answered yet."""
    schedule = session.get(CheckinSchedule, moment.schedule_id)
    zone = ZoneInfo(schedule.timezone) if schedule else services.settings.timezone
    default = services.settings.samen_language
    for row in _answers(session, moment):
        if not row.expected or row.version > 0:
            continue
        known = get_person(session, team_id=row.team_id, user_id=row.user_id)
        language = language_for(known.locale if known else None, moment.language or default)
        enqueue(
            session,
            key=f"checkin-reminder:{moment.id}:{row.user_id}",
            method="chat.postMessage",
            lane=row.user_id,
            args={"channel": row.user_id},
            template="checkin_reminder.json.j2",
            language=language,
            context={
                "moment_id": moment.id,
                "channel": moment.channel_id,
                "closes_at": service.shown_time(moment.closes_at, zone, language, "HH:mm"),
            },
            ref=_ref(moment),
            team_id=row.team_id or None,
        )
        row.reminded_at = now
        session.add(row)


def _close(session: Session, moment: CheckinMoment) -> None:
    """The summary in the thread, and the prompt without its button. Names, partners and needs only."""
    from bot.signals.notices import contacts_of

    schedule = session.get(CheckinSchedule, moment.schedule_id)
    rows = _answers(session, moment)
    names: dict[int, str] = {}
    groups: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row.partner_id not in names:
            partner = session.get(Partner, row.partner_id)
            names[row.partner_id] = partner.name if partner else "?"
        group = groups.setdefault(
            row.partner_id, {"partner": names[row.partner_id], "answered": [], "silent": []}
        )
        if row.version > 0:
            group["answered"].append(row.user_id)
        elif row.expected:
            group["silent"].append(row.user_id)
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
    answered = sum(1 for row in rows if row.version > 0)
    expected = sum(1 for row in rows if row.expected)
    enqueue(
        session,
        key=f"checkin-summary:{moment.id}",
        method="chat.postMessage",
        lane=moment.channel_id,
        args={"channel": moment.channel_id, "thread_ts": ts_of(service.prompt_key(moment))},
        template="checkin_summary.json.j2",
        language=moment.language,
        context={
            "groups": sorted(groups.values(), key=lambda g: str(g["partner"]).lower()),
            "needs": needs,
            "answered": answered,
            "expected": expected,
        },
        ref=_ref(moment),
        team_id=schedule.team_id if schedule and schedule.team_id else None,
    )
    if schedule is not None:
        people = [row.user_id for row in rows if row.expected]
        enqueue(
            session,
            key=f"checkin-closed:{moment.id}",
            method="chat.update",
            lane=moment.channel_id,
            args={"channel": moment.channel_id, "ts": ts_of(service.prompt_key(moment))},
            template="checkin_prompt.json.j2",
            language=moment.language,
            context=_prompt_context(moment, schedule, people, closed=True, answered=answered),
            ref=_ref(moment),
            team_id=schedule.team_id or None,
        )


def _ref(moment: CheckinMoment) -> str:
    return f"checkin-moment:{moment.id}"


JOBS = [
    ScheduledJob(
        name="checkins",
        trigger=lambda zone: CronTrigger(minute="*", timezone=zone),
        run=tick,
        # The offset keeps the minutes of the hour that repeats when the clocks go back apart.
        slot_format="%Y-%m-%dT%H:%M%z",
    ),
]
