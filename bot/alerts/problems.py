"""What a backup alert refuses (each a `bot.problems.Problem` the person can fix), and its texts' limits.

Below the rules (bot.alerts.service), the reading (bot.alerts.reading) and the need-to-know details
(bot.alerts.details), which all raise these.
"""

from __future__ import annotations

from typing import Final

from bot.i18n import N_
from bot.problems import Problem

MAX_DESCRIPTION: Final = 500
MAX_PLACE: Final = 200
MAX_NOTE: Final = 500
MAX_SUMMARY: Final = 2000
MAX_LESSON: Final = 1000
TOO_LONG_DESCRIPTION: Final = N_("The description may be at most %(limit)s characters (now %(length)s).")
TOO_LONG_PLACE: Final = N_("The place may be at most %(limit)s characters (now %(length)s).")
TOO_LONG_NOTE: Final = N_("The note may be at most %(limit)s characters (now %(length)s).")
TOO_LONG_SUMMARY: Final = N_("The summary may be at most %(limit)s characters (now %(length)s).")
TOO_LONG_LESSON: Final = N_("The lesson may be at most %(limit)s characters (now %(length)s).")
UNKNOWN: Final = N_("There is no backup alert RD-%(number)s.")
CLOSED: Final = N_("Backup alert %(code)s is already closed.")


class AlertError(Problem):
    """A problem with a backup alert the person can fix or should know (message id, values, field)."""


class UnknownAlert(AlertError):
    pass


class AlertClosed(AlertError):
    pass


class NotInvolved(AlertError):
    """The actor's partner was not one of the partners the alert went to."""


class NotAllAcknowledged(AlertError):
    pass


class NotTheReporter(AlertError):
    pass


class InvalidInput(AlertError):
    pass


def checked_text(value: str | None, limit: int, too_long: str, field: str) -> str | None:
    """A typed text, stripped (None when empty); longer than `limit` is a problem with that field."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > limit:
        raise InvalidInput(too_long, field=field, limit=limit, length=len(value))
    return value
