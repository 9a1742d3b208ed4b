"""What Samen exposes to Slack, declared once: slash commands, shortcuts, events and bot scopes.

Slack learns these from the app manifest (deploy/slack-manifest.yaml for HTTP mode,
deploy/slack-manifest.socket.yaml for Socket Mode, deploy/slack-manifest.oauth.yaml for HTTP mode in
several workspaces); the Bolt app registers listeners for them. tests/test_manifest.py checks that the
manifests declare exactly this, and that the listeners the app registers are exactly this. A feature
that adds a slash command, a shortcut or an event adds it here, in all three manifests and in its
commands/ module; a new Web API method may need a scope here too.

Texts people see in Slack's command picker and shortcut menu are in Dutch: Slack shows one text for
everyone, and the manifest cannot translate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final


@dataclass(frozen=True)
class SlashCommand:
    description: str  # shown in Slack's command picker
    usage_hint: str  # shown after the command while typing
    # False: Slack sends the text as typed; mentions stay `@name` text. Everything shown back is
    # escaped for mrkdwn by the templates anyway.
    should_escape: bool = False


@dataclass(frozen=True)
class Shortcut:
    name: str  # in the shortcut menu; at most 24 characters
    description: str  # at most 150 characters


SLASH_COMMANDS: Final[Mapping[str, SlashCommand]] = MappingProxyType(
    {
        "/samen": SlashCommand(
            description="Samen tegen ondermijning: signalen, partners en afspraken",
            usage_hint="[opdracht] — bijvoorbeeld: help",
            # A typed @person must arrive as <@U…>: `/samen partner lid-toevoegen` needs the id.
            should_escape=True,
        ),
        # Backup alerts (commands/rugdekking.py): its own command, to be found fast in an emergency.
        "/rugdekking": SlashCommand(
            description="Rugdekking vragen: alarmeer alle partners meteen",
            usage_hint="[nu | oefening | overzicht] [korte omschrijving]",
        ),
    }
)

# callback_id → the shortcut as Slack shows it. None yet.
GLOBAL_SHORTCUTS: Final[Mapping[str, Shortcut]] = MappingProxyType(
    {
        # Backup alerts: reachable from the mobile app's shortcut menu, no command to remember.
        "rugdekking_vragen": Shortcut(
            name="Rugdekking vragen",
            description="Bedreigd of geïntimideerd? Vraag alle partners meteen om rugdekking.",
        ),
    }
)
MESSAGE_SHORTCUTS: Final[Mapping[str, Shortcut]] = MappingProxyType(
    {
        # Signals (commands/signals.py): any message becomes a signal, its text and link filled in.
        "register_signal": Shortcut(
            name="Registreer als signaal",
            description="Registreer dit bericht als signaal: "
            "de tekst en de link naar het bericht staan al klaar.",
        ),
    }
)

# Events API event types the bot subscribes to (as the bot user).
# app_uninstalled and tokens_revoked: a workspace removed Samen (commands/lifecycle.py).
BOT_EVENTS: Final[tuple[str, ...]] = ("app_home_opened", "app_uninstalled", "tokens_revoked")

# Bot token scopes → why Samen needs each. Only what the code uses now, plus what DMs and the App
# Home need; deliberately absent:
# - chat:write.public: Samen posts only in channels it was invited to, so a channel's members decide
#   whether Samen may speak there;
# - users:read.email: people are keyed by (team_id, user_id), never by e-mail address.
# The *:history scopes are read only to find Samen's own post after a crash (bot/outbox/dispatcher.py).
BOT_SCOPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "commands": "the slash commands (SLASH_COMMANDS above)",
        "chat:write": "messages from the outbox (alerts, reminders, digests) in channels Samen was "
        "invited to and in people's direct messages",
        "im:write": "start a direct message with a person (conversations.open): alerts and reminders "
        "reach people in their DM with Samen",
        "users:read": "users.info with include_locale when someone opens the App Home: the person's "
        "language and time zone",
        "channels:read": "conversations.info when a check-in is planned: is Samen in that channel? "
        "(commands/checkins.py)",
        "groups:read": "the same for a private channel",
        "mpim:write": "the group conversation of an ad-hoc alignment on a subject (conversations.open with "
        "the people who joined)",
        "files:write": "the weekly digest's charts, uploaded to the partnership channel (files_upload_v2)",
        "channels:history": "after a crash, before a post is sent again: is it already in the channel? "
        "(conversations.history with include_all_metadata; only Samen's own post of the last minutes)",
        "groups:history": "the same for a private channel",
        "im:history": "the same for a person's DM with Samen (the messages tab is read-only: only "
        "Samen's own messages are there)",
        "mpim:history": "the same for the group conversation of an ad-hoc alignment",
    }
)
