"""How Samen runs, as coordinators and admins may see it: no message content, only counts and states.

What it shows is what an operator would look at first (docs/operations.md): is the database reachable
and migrated, are messages waiting or failing, which workspaces Samen is installed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from sqlmodel import Session

from bot import __version__
from bot.authz import Action, Principal, authorize, is_allowed
from bot.config import Settings
from bot.db import head_revisions, revisions_of
from bot.outbox.status import OutboxReport, report
from bot.reach.ways import status as ways_status
from bot.slack.workspaces.service import Workspace, installed_workspaces

WAITING_TOO_LONG_SECONDS: Final = 60.0  # a due message older than this: the workers are behind or down
MAX_REASONS: Final = 5


@dataclass(frozen=True)
class OperationsStatus:
    version: str
    socket_mode: bool
    several_workspaces: bool  # installed through Slack's OAuth flow (bot/slack/workspaces/)
    database_reachable: bool
    database_current: bool
    revision: str | None
    outbox: OutboxReport
    # Ways outside chat (bot/reach): on when their settings are set (SMS, e-mail).
    sms_on: bool = False
    email_on: bool = False
    workspaces: list[Workspace] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(self.outbox.failed_by_reason.values())

    @property
    def top_failures(self) -> list[tuple[str, int]]:
        return sorted(self.outbox.failed_by_reason.items(), key=lambda item: (-item[1], item[0]))[
            :MAX_REASONS
        ]

    @property
    def behind(self) -> bool:
        """Messages wait longer than they should: the workers are behind, stopped, or Slack refuses."""
        age = self.outbox.oldest_due_age_seconds
        return age is not None and age > WAITING_TOO_LONG_SECONDS

    @property
    def healthy(self) -> bool:
        return self.database_reachable and self.database_current and not self.behind


def status(session: Session, *, actor: Principal, settings: Settings) -> OperationsStatus:
    """The status for `/samen status`; NotAllowed for members (coordinators and admins only)."""
    authorize(actor, Action.VIEW_OPERATIONS)
    return _status(session, settings)


def status_for_home(session: Session, *, actor: Principal, settings: Settings) -> OperationsStatus | None:
    """The same for the App Home, where a member simply sees nothing of it."""
    if not is_allowed(actor, Action.VIEW_OPERATIONS):
        return None
    return _status(session, settings)


def _status(session: Session, settings: Settings) -> OperationsStatus:
    # On the session's own connection: a second one would wait for this transaction's lock on SQLite.
    # That the session reached the database at all means it is reachable.
    revisions = revisions_of(session.connection())
    workspaces = (
        installed_workspaces(session, client_id=settings.slack_client_id, home_team=settings.samen_home_team)
        if settings.oauth and settings.slack_client_id
        else []
    )
    return OperationsStatus(
        version=__version__,
        socket_mode=settings.socket_mode,
        several_workspaces=settings.oauth,
        database_reachable=True,
        database_current=revisions == head_revisions(),
        revision=",".join(revisions) or None,
        outbox=report(session),
        sms_on=ways_status(settings)["sms"],
        email_on=ways_status(settings)["email"],
        workspaces=workspaces,
    )
