"""What Samen knows about its installations, for people and jobs (no tokens ever leave the store)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from bot.slack.workspaces.tables import BOTS, OAUTH_STATES


@dataclass(frozen=True)
class Workspace:
    """A workspace Samen is installed in (no token: that stays in the store)."""

    team_id: str
    team_name: str | None
    installed_at: datetime
    home: bool = False


def installed_workspaces(
    connection: Connection | Session, *, client_id: str, home_team: str | None
) -> list[Workspace]:
    """Every workspace with a bot installation, oldest first; the home one marked."""
    c = BOTS.c
    rows = connection.execute(
        select(c.team_id, c.team_name, c.installed_at)
        .where(and_(c.client_id == client_id, c.bot_token.is_not(None), c.team_id.is_not(None)))
        .order_by(c.installed_at)
    ).all()
    latest: dict[str, Workspace] = {}
    for team_id, team_name, installed_at in rows:
        first = latest.get(team_id)
        latest[team_id] = Workspace(team_id, team_name, first.installed_at if first else installed_at)
    workspaces = sorted(latest.values(), key=lambda w: w.installed_at)
    home = home_team or (workspaces[0].team_id if workspaces else None)
    return [Workspace(w.team_id, w.team_name, w.installed_at, home=w.team_id == home) for w in workspaces]


def forget_expired_states(connection: Connection | Session, *, now: datetime) -> int:
    """Install attempts that were never completed leave a state row; forget those past their expiry."""
    result = connection.execute(
        delete(OAUTH_STATES).where(OAUTH_STATES.c.expire_at < now.replace(tzinfo=None))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
