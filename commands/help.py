"""`/samen help`: what Samen can do, for the person asking, in their language."""

from __future__ import annotations

from slack_bolt import App

from bot.i18n import N_
from bot.slack.interaction import Interaction
from bot.slack.registry import Registry, Subcommand


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


def show_help(i: Interaction) -> None:
    i.reply("help.json.j2", commands=i.registry.help_entries())
