"""Every table, imported in one place so that Alembic and the tests see the whole schema."""

from bot.outbox.models import JobRun, OutboxLane, OutboxMessage, ProcessedEvent
from bot.people import Person

__all__ = ["JobRun", "OutboxLane", "OutboxMessage", "Person", "ProcessedEvent"]
