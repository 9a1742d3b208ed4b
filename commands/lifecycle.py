"""The Slack app's life cycle: a workspace uninstalls Samen (`app_uninstalled`) or Slack revokes its
tokens (`tokens_revoked`). The listener reads the event; bot/slack/workspaces/lifecycle.py does the rest."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.interaction import Interaction, listener
from bot.slack.registry import Registry
from bot.slack.workspaces.lifecycle import TOKENS_REVOKED, UNINSTALLED, handle_removal, removal_from


def register(app: App, _registry: Registry) -> None:
    app.event(UNINSTALLED)(listener(workspace_removed))
    app.event(TOKENS_REVOKED)(listener(workspace_removed))


def workspace_removed(i: Interaction) -> None:
    # The workspace is the envelope's: Slack's event itself names none.
    team_id = i.context.team_id or str(i.body.get("team_id") or "")
    if team_id:
        handle_removal(i.services, removal_from(i.body.get("event") or {}, team_id))
