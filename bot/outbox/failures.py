"""When a message can never be delivered, the partnership's coordinators hear of it — once.

Once per lane, reason and day: a channel the bot was removed from fails every message to it, and
one notice is what a coordinator can act on (invite the bot again, then `samen outbox retry`).
"""

from __future__ import annotations

import logging

from sqlmodel import Session

from bot import clock
from bot.i18n import language_for
from bot.outbox import send_dm
from bot.outbox.models import OutboxMessage
from bot.people import get_person
from bot.runtime import Services

logger = logging.getLogger(__name__)

FAILURE_REF = "outbox-failure"


def tell_coordinators(services: Services, session: Session, row: OutboxMessage) -> int:
    """Queue a DM to every coordinator about a failed row; returns how many were queued."""
    from bot.partners.service import coordinators

    if (row.ref or "").startswith(FAILURE_REF):
        return 0  # a failed failure notice is logged, not announced again
    day = clock.now(session).date().isoformat()
    queued = 0
    for coordinator in coordinators(session):
        person = get_person(session, team_id=coordinator.team_id, user_id=coordinator.user_id)
        language = language_for(person.locale if person else None, services.settings.samen_language)
        message = services.renderer.render(
            "outbox_failed.json.j2", language, lane=row.lane, reason=row.last_error or "?", message_id=row.id
        )
        queued += send_dm(
            session,
            key=f"{FAILURE_REF}:{row.lane}:{row.last_error}:{day}:{coordinator.user_id}",
            user_id=coordinator.user_id,
            message=message,
            ref=f"{FAILURE_REF}:{row.id}",
            team_id=coordinator.team_id,
        )
    if not queued:
        logger.warning("outbox row %s failed (%s) and no coordinator could be told", row.id, row.last_error)
    return queued
