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

The window's end is the latest a moment closes: it closes earlier when everyone expected has answered or
a coordinator closes it (bot/checkins/closing.py); its `next_step_at` is then cleared, so this job never
sees it again, and the close itself is a conditional UPDATE, so the summary is queued by one of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session, col, select

from bot.calendar import local_date
from bot.checkins import closing, service, timing
from bot.checkins.models import (
    CheckinAnswer,
    CheckinMoment,
    CheckinSchedule,
    MomentStatus,
    ScheduleStatus,
)
from bot.i18n import language_for
from bot.outbox import enqueue
from bot.people import get_person
from bot.runtime import Services
from bot.scheduler import ScheduledJob

BATCH: Final = 200


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
        key=closing.prompt_key(moment),
        method="chat.postMessage",
        lane=moment.channel_id,
        args={"channel": moment.channel_id},
        template="checkin_prompt.json.j2",
        language=moment.language,
        context=closing.prompt_context(moment, schedule, [m.user_id for m in people], closed=False),
        ref=_ref(moment),
        team_id=schedule.team_id or None,
    )
    return 1


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
            closing.close(session, moment, reason=closing.CloseReason.WINDOW)
        if moment.status is MomentStatus.GESLOTEN:
            moment.next_step_at = None
        else:
            moment.next_step_at = moment.closes_at if moment.reminded else moment.remind_at
        session.add(moment)
    session.flush()


def _remind(session: Session, services: Services, moment: CheckinMoment, now: datetime) -> None:
    """One direct message to each expected person who has not answered yet."""
    schedule = session.get(CheckinSchedule, moment.schedule_id)
    zone = ZoneInfo(schedule.timezone) if schedule else services.settings.timezone
    default = services.settings.samen_language
    for row in closing.answers_of(session, moment):
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
                "closes_at": timing.shown_time(moment.closes_at, zone, language, "HH:mm"),
            },
            ref=closing.reminder_ref(moment),
            team_id=row.team_id or None,
        )
        row.reminded_at = now
        session.add(row)


def _ref(moment: CheckinMoment) -> str:
    return closing.moment_ref(moment)


JOBS = [
    ScheduledJob(
        name="checkins",
        trigger=lambda zone: CronTrigger(minute="*", timezone=zone),
        run=tick,
        # The offset keeps the minutes of the hour that repeats when the clocks go back apart.
        slot_format="%Y-%m-%dT%H:%M%z",
    ),
]
