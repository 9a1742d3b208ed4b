"""`/samen help`: what Samen can do, for the person asking, in their language."""

from __future__ import annotations

from slack_bolt import App

from bot.i18n import N_
from bot.slack.registry import Registry, Subcommand
from bot.slack.requests import CommandRequest


def register(app: App, registry: Registry) -> None:
    registry.add_subcommand(
        Subcommand(
            name="help",
            aliases=("hulp", "?"),
            usage="",
            summary=N_("Show what Samen can do and how to ask for it."),
            handler=show_help,
            members_only=False,
        )
    )


def show_help(request: CommandRequest) -> None:
    request.ack_ephemeral("help.json.j2", commands=request.registry.help_entries())
