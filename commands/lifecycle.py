"""The Slack app's life cycle: a workspace uninstalls Samen (`app_uninstalled`) or Slack revokes its
tokens (`tokens_revoked`). The listener reads the event; bot/slack/workspaces/lifecycle.py does the rest."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext

from bot.runtime import Services
from bot.slack.registry import Registry
from bot.slack.workspaces.lifecycle import TOKENS_REVOKED, UNINSTALLED, handle_removal, removal_from


def register(app: App, _registry: Registry) -> None:
    app.event(UNINSTALLED)(workspace_removed)
    app.event(TOKENS_REVOKED)(workspace_removed)


def workspace_removed(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
    services: Services = context["services"]
    # The workspace is the envelope's: Slack's event itself names none.
    team_id = context.team_id or str(body.get("team_id") or "")
    if team_id:
        handle_removal(services, removal_from(event, team_id))
