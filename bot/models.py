"""Every table, imported in one place so that Alembic and the tests see the whole schema."""

from bot.people import Person

__all__ = ["Person"]
