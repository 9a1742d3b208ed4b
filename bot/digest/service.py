"""The digest: the weekly post to the partnership channel, the overview on demand, and their context.

Domain only: figures come from bot.digest.figures, charts from bot.digest.charts (drawn here only when
they are queued), texts from templates/digest_*.json.j2. Everything that must arrive goes through the
outbox in the caller's transaction; the weekly run is claimed once per ISO week (bot.scheduler).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Final

from sqlmodel import Session

from bot.alerts.models import SERIOUSNESS_LABELS, Seriousness
from bot.authz import Action, Principal, authorize
from bot.calendar import holiday_name, local_date
from bot.digest.figures import LIST_LIMIT, AlertItem, DigestFigures, figures
from bot.digest.timing import Period, last_week
from bot.outbox import Priority, enqueue, upload_file
from bot.runtime import Services
from bot.vocabulary import CATEGORY_LABELS, FOCUS_LABELS, INCIDENT_TYPE_LABELS, IncidentType

logger = logging.getLogger(__name__)

TEMPLATE: Final = "digest_message.json.j2"


def overview(session: Session, *, actor: Principal, period: Period) -> DigestFigures:
    """`/samen overzicht`: the digest for one member, listing only what their partner may see."""
    authorize(actor, Action.VIEW_DIGEST)
    return figures(session, period, viewer=actor, listed=LIST_LIMIT)


def week_slot(now: datetime, services: Services) -> str:
    return local_date(now, services.settings.timezone).strftime("%G-W%V")


def post_weekly(session: Session, services: Services, now: datetime) -> bool:
    """The weekly job: queue the digest and its charts for the partnership channel; False if skipped.

    Skipped on Dutch public holidays (nobody reads it; the next week's digest covers its own 7 days)
    and when no partnership channel is set. Keys are per ISO week: queued once, however often it runs.
    """
    settings = services.settings
    zone = settings.timezone
    holiday = holiday_name(local_date(now, zone))
    if holiday is not None:
        logger.info("weekly digest skipped: %s is a public holiday", holiday)
        return False
    channel = settings.samen_partnership_channel
    if channel is None:
        logger.warning("weekly digest skipped: SAMEN_PARTNERSHIP_CHANNEL is not set")
        return False
    language = settings.samen_language
    found = figures(session, last_week(now, zone), viewer=None, listed=LIST_LIMIT)
    return queue_digest(
        session, found, channel=channel, language=language, key=f"digest:{week_slot(now, services)}"
    )


def queue_digest(
    session: Session, found: DigestFigures, *, channel: str, language: str, key: str, for_channel: bool = True
) -> bool:
    """Queue the text, then each chart, on the channel's lane (a person's id: their DM); in that order."""
    from bot.digest.charts import charts  # matplotlib only for the process that draws

    drawn = charts(found, language)
    context = message_context(found, for_channel=for_channel, charts=len(drawn))
    queued = enqueue(
        session,
        key=f"{key}:text",
        method="chat.postMessage",
        lane=channel,
        args={"channel": channel},
        template=TEMPLATE,
        language=language,
        context=context,
        priority=Priority.BULK,
    )
    for chart in drawn:
        upload_file(
            session,
            key=f"{key}:chart:{chart.name}",
            channel=channel,
            filename=chart.filename,
            title=chart.title,
            content=chart.png,
            alt_text=chart.title,
            priority=Priority.BULK,
        )
    return queued


def send_charts(
    session: Session, found: DigestFigures, *, actor: Principal, language: str, now: datetime
) -> int:
    """`/samen overzicht`: the charts of the asked period to the person's DM (the text was the answer)."""
    from bot.digest.charts import charts

    drawn = charts(found, language)
    stamp = now.strftime("%Y%m%dT%H%M%S")
    for chart in drawn:
        upload_file(
            session,
            key=f"overview:{actor.user_id}:{stamp}:{chart.name}",
            channel=actor.user_id,
            filename=chart.filename,
            title=chart.title,
            content=chart.png,
            alt_text=chart.title,
            team_id=actor.team_id or None,
        )
    return len(drawn)


def _alert(item: AlertItem) -> dict[str, Any]:
    return {
        "code": item.code,
        "partner": item.partner,
        "type": INCIDENT_TYPE_LABELS[IncidentType(item.incident_type)],
        "seriousness": SERIOUSNESS_LABELS[Seriousness(item.seriousness)],
        "acknowledged": item.acknowledged,
        "total": item.total,
        # Seconds: the template writes them per language (bot.i18n.format_duration), as the board does.
        "first": item.first_ack_seconds,
        "all": item.all_ack_seconds,
    }


def message_context(found: DigestFigures, *, for_channel: bool, charts: int = 0) -> dict[str, Any]:
    """What digest_message.json.j2 shows: JSON-safe (it is stored with the outbox row), labels as ids."""
    shown_successes = [s for s in found.successes if s.instrument is not None]
    by_focus = {FOCUS_LABELS[focus]: n for focus, n in found.finished_per_focus().items() if n}
    return {
        "for_channel": for_channel,
        "first": found.period.first_day.isoformat(),
        "last": found.period.last_day.isoformat(),
        "quiet": found.quiet,
        "charts": charts,
        "signals": found.signals_total,
        "by_category": [[CATEGORY_LABELS[c], n] for c, n in found.signals_by_category],
        "cases_started": found.cases_started,
        "cases_closed": found.cases_closed,
        "finished": found.finished_total,
        "by_focus": sorted(([label, n] for label, n in by_focus.items()), key=lambda x: (-x[1], x[0])),
        "open": sum(p.open for p in found.partners),
        "overdue": found.overdue_total,
        "partners": [
            {
                "name": p.partner,
                "open": p.open,
                "capacity": p.capacity,
                "overdue": p.overdue,
                "over": p.over_capacity,
            }
            for p in found.partners
        ],
        "successes": [
            {"code": s.code, "partner": s.partner, "focus": FOCUS_LABELS[s.focus], "instrument": s.instrument}
            for s in shown_successes[:LIST_LIMIT]
        ],
        "successes_total": found.successes_total,
        "successes_unlisted": found.successes_total - min(len(shown_successes), LIST_LIMIT),
        "lessons": [
            {"partner": item.partner, "focus": FOCUS_LABELS[item.focus], "text": item.text}
            for item in found.lessons[:LIST_LIMIT]
        ],
        "lessons_more": max(0, found.lessons_total - LIST_LIMIT),
        "alerts": [_alert(a) for a in found.real_alerts[:LIST_LIMIT]],
        "drills": [_alert(a) for a in found.drills[:LIST_LIMIT]],
        "checkins": None
        if found.checkins is None or not found.checkins.moments
        else {
            "moments": found.checkins.moments,
            "expected": found.checkins.expected,
            "answered": found.checkins.answered,
            "percent": found.checkins.percent,
        },
        "goals": [
            {
                "partner": g.partner,
                "focus": FOCUS_LABELS[g.focus],
                "description": g.description,
                "done": g.done,
                "target": g.target,
                "percent": g.percent,
            }
            for g in found.goals[:LIST_LIMIT]
        ],
    }
