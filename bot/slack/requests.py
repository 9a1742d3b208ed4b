"""What a listener receives about one request: the `Interaction` (bot/slack/interaction.py).

The older names stay as aliases of it, for the commands that still say `CommandRequest` or `HomeRequest`.
"""

from __future__ import annotations

from bot.slack.interaction import Actor, Interaction

CommandRequest = Interaction
HomeRequest = Interaction

__all__ = ["Actor", "CommandRequest", "HomeRequest", "Interaction"]
