"""Slack retries an event it thinks we missed (X-Slack-Retry-Num 1–3); its effect must happen once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt.response import BoltResponse
from sqlmodel import col

from bot import clock
from bot.db import insert_for
from bot.outbox.models import ProcessedEvent
from bot.runtime import Services

logger = logging.getLogger(__name__)


def first_time(services: Services, event_id: str) -> bool:
    """Record the event id; False when it was recorded before (a retry or a duplicate delivery)."""
    with services.session() as session:
        insert = insert_for(services.engine.dialect.name)
        result = session.execute(
            insert(ProcessedEvent)
            .values(event_id=event_id[:64], received_at=clock.now(session))
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(col(ProcessedEvent.event_id))
        )
        return result.first() is not None


def drop_event_retries(services: Services) -> Callable[..., Any]:
    def middleware(body: dict[str, Any], next: Callable[[], Any]) -> Any:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not first_time(services, str(event_id)):
            logger.info("dropped a repeated delivery of event %s", event_id)
            return BoltResponse(status=200, body="")
        return next()

    return middleware
