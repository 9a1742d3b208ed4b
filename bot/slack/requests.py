"""What a listener receives about one request, already resolved: who asked, in which language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.runtime import Services
from bot.slack.registry import Registry


@dataclass(frozen=True)
class Actor:
    """A person as Slack identifies them, across Slack Connect: never by name or e-mail."""

    team_id: str
    user_id: str


@dataclass
class CommandRequest:
    ack: Ack
    respond: Respond
    client: WebClient
    body: dict[str, Any]
    services: Services
    registry: Registry
    actor: Actor
    language: str
    command: str  # the slash command, e.g. "/samen"
    name: str  # the subcommand word as typed
    args: str  # the rest of the text
    member: Any = None  # set by the membership guard once the actor is known to be a member

    @property
    def channel_id(self) -> str | None:
        return self.body.get("channel_id")

    def render(self, template: str, **context: Any) -> Any:
        return self.services.renderer.render(template, self.language, **context)

    def ack_ephemeral(self, template: str, **context: Any) -> None:
        """Answer the person alone, inside the 3-second ack: the fastest reply Slack allows."""
        message = self.render(template, **context)
        self.ack(response_type="ephemeral", text=message.get("text", ""), blocks=message.get("blocks"))


@dataclass
class HomeRequest:
    services: Services
    registry: Registry
    actor: Actor
    language: str

    def render(self, template: str, **context: Any) -> Any:
        return self.services.renderer.render(template, self.language, **context)
