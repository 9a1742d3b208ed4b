"""Only the partnership's own workspace: requests for another Slack team are refused before anything runs.

In HTTP mode Slack's signature proves a request comes from Slack for this app, and in Socket Mode the
app-level token proves the connection is the app's; neither proves the request is about the workspace
whose bot token Samen holds. An app that is (also) installed elsewhere, a distributed app, or a Socket
Mode envelope for another team would otherwise reach the listeners, answered with the home workspace's
token. Bolt checks the team itself only in OAuth mode, where each workspace has its own installation
(bot/slack/workspaces/); with one bot token (`SLACK_BOT_TOKEN`) it accepts any team_id. So, in that mode:

- the home team is `SAMEN_HOME_TEAM` when set, else the team of the bot token (Bolt asks `auth.test`
  once, on the first request);
- a request whose installation team (Bolt's `context.team_id`: the view's `app_installed_team_id`,
  the event's authorisation, the payload's team) is neither the home team nor the workspace of a member
  of the partnership (partners in other organisations meet in Slack Connect channels, and Slack may
  name their own workspace) is refused: HTTP 403, or in Socket Mode acknowledged without effect (so
  Slack does not deliver it again), and logged with both team ids. Nothing else runs: nothing is
  recorded, nothing answered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext, BoltRequest
from slack_bolt.response import BoltResponse
from sqlmodel import select

from bot.config import Settings
from bot.partners.models import Member
from bot.runtime import Services

logger = logging.getLogger(__name__)


def home_team(settings: Settings, context: BoltContext) -> str | None:
    if settings.samen_home_team:
        return settings.samen_home_team
    authorized = context.authorize_result
    return authorized.team_id if authorized is not None else None


def _members_come_from(services: Services, team_id: str) -> bool:
    with services.session(read_only=True) as session:
        return session.exec(select(Member.id).where(Member.team_id == team_id).limit(1)).first() is not None


def refuse_other_teams(services: Services) -> Callable[..., Any]:
    settings = services.settings

    def middleware(request: BoltRequest, context: BoltContext, next: Callable[[], Any]) -> Any:
        if settings.oauth:
            return next()  # Bolt authorises every request against its own workspace's installation
        team, home = context.team_id, home_team(settings, context)
        if team is None or home is None or team == home or _members_come_from(services, team):
            return next()
        logger.warning(
            "refused a %s request for workspace %s: Samen serves workspace %s",
            request.mode.replace("_", " "),
            team,
            home,
        )
        if request.mode == "socket_mode":
            return BoltResponse(status=200, body="")
        return BoltResponse(status=403, body="")

    return middleware
