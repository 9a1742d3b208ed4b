"""Samen in several workspaces: each call to Slack is made with the bot token of the workspace it is for
(`bot.slack.chat.SlackChat` asks here).

Which workspace: the one named (an outbox row's `team_id`) when the feature that queued it knew it; else,
for a direct message, the workspace of the person it goes to (a member, or a person Samen has seen); else the
partnership's home workspace (`SAMEN_HOME_TEAM`, or the first workspace that installed Samen). A team
without an installation of its own is reached through the home workspace's (a Slack Connect channel is
shared, so the home workspace's bot can post in it).

Clients are cached per workspace for a few minutes, so that a re-install (a new token) is picked up
without a restart; a token Slack refuses is forgotten at once.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Final

from slack_sdk import WebClient
from sqlmodel import col, select

from bot.runtime import Services
from bot.slack.chat import web_client
from bot.slack.workspaces.service import installed_workspaces
from bot.slack.workspaces.store import SamenInstallationStore

CACHE_SECONDS: Final = 300.0
_PERSON: Final = re.compile(r"^[UW][A-Z0-9]{2,30}$")


class TeamClients:
    """WebClients by workspace (OAuth mode)."""

    def __init__(self, services: Services, *, cache_seconds: float = CACHE_SECONDS) -> None:
        settings = services.settings
        assert settings.slack_client_id, "TeamClients is for OAuth mode (SLACK_CLIENT_ID)"
        self.services = services
        self.client_id = settings.slack_client_id
        self.store = SamenInstallationStore(settings.slack_client_id, services.engine)
        self.cache_seconds = cache_seconds
        self._clients: dict[str, tuple[WebClient, float]] = {}
        self._lock = threading.Lock()

    def client_for(self, team: str | None, person: str | None = None) -> WebClient:
        """The client of `team`, else of `person`'s workspace, else of the home workspace; LookupError
        when none is installed (an operator must install Samen: the outbox waits and tries again)."""
        team = team or (self._team_of_person(person) if person else None)
        if team:
            client = self._client(team)
            if client is not None:
                return client
        home = self.home_team()
        client = self._client(home) if home is not None else None
        if client is None:
            raise LookupError("no_installation")
        return client

    def forget(self) -> None:
        """Slack refused a token: read the installations again next time."""
        with self._lock:
            self._clients.clear()

    def home_team(self) -> str | None:
        if self.services.settings.samen_home_team:
            return self.services.settings.samen_home_team
        with self.services.engine.connect() as connection:
            workspaces = installed_workspaces(connection, client_id=self.client_id, home_team=None)
        return next((w.team_id for w in workspaces if w.home), None)

    def _client(self, team_id: str) -> WebClient | None:
        now = time.monotonic()
        with self._lock:
            cached = self._clients.get(team_id)
            if cached is not None and now - cached[1] < self.cache_seconds:
                return cached[0]
        bot = self.store.find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_token:
            return None
        settings = self.services.settings
        client = web_client(bot.bot_token, settings.slack_api_url)
        with self._lock:
            self._clients[team_id] = (client, now)
        return client

    def _team_of_person(self, user: str) -> str | None:
        """The workspace of the person a DM goes to, if Samen knows exactly one."""
        if not _PERSON.match(user):
            return None
        from bot.partners.models import Member
        from bot.people import Person

        with self.services.session() as session:
            for query in (
                select(col(Member.team_id)).where(col(Member.user_id) == user),
                select(col(Person.team_id)).where(col(Person.user_id) == user),
            ):
                teams = set(session.execute(query).scalars())
                if len(teams) == 1:
                    return teams.pop()
        return None
