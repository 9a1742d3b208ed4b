"""Samen on a real Synapse, for scenarios: the front, the listeners and the outbox of `samen run` with
SAMEN_CHAT=matrix, in this process on a settable clock, so that escalations and reminders can fall due
without waiting for them (`later(minutes=…)`). People are real Matrix accounts on the homeserver
(tests/homeserver.py) who type, reply and react with a client; `deliver()` runs the outbox as a worker
would. tests/test_matrix_process.py starts `samen run` itself as a process, for what only a process shows.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from conftest import ENCRYPTION_KEY
from harness import FAST, migrated, time_passes
from homeserver import Homeserver, MatrixUser
from sqlmodel import select

from bot.alerts.models import AlertPartner
from bot.authz import CLI_ACTOR
from bot.clock import SettableClock
from bot.config import load_settings
from bot.db import make_engine
from bot.jobs import all_jobs
from bot.matrix.bolt import MatrixApp, MatrixWebClient
from bot.matrix.chat import MatrixChat
from bot.matrix.connection import MatrixConnection
from bot.matrix.front import MatrixFront
from bot.outbox.dispatcher import Dispatcher
from bot.partners.importer import import_partners
from bot.runtime import Services
from bot.scheduler import ScheduledJob
from bot.slack.app import create_app
from commands import register_all


def matrix_settings(database_url: str, homeserver: Homeserver, bot: MatrixUser, **extra: object) -> Any:
    values: dict[str, object] = {
        "SAMEN_CHAT": "matrix",
        "MATRIX_HOMESERVER_URL": homeserver.url,
        "MATRIX_USER_ID": bot.user_id,
        "MATRIX_ACCESS_TOKEN": bot.access_token,
        "DATABASE_URL": database_url,
        "SAMEN_LANGUAGE": "nl",
        "SAMEN_TIMEZONE": "Europe/Amsterdam",
        "SAMEN_ENCRYPTION_KEY": ENCRYPTION_KEY,
        **extra,
    }
    return load_settings(_env_file=None, **values)


def unique(localpart: str) -> str:
    """A localpart no other test on this homeserver uses (one Synapse serves the whole run)."""
    return f"{localpart}-{uuid.uuid4().hex[:6]}"


@dataclass
class MatrixPartnership:
    services: Services
    connection: MatrixConnection
    chat: MatrixChat
    front: MatrixFront
    homeserver: Homeserver
    bot: MatrixUser
    clock: SettableClock
    jobs: Sequence[ScheduledJob] = ()
    people: dict[str, MatrixUser] = field(default_factory=dict)

    def person(self, localpart: str) -> MatrixUser:
        """A new person on the homeserver (registered once per name in this partnership)."""
        if localpart not in self.people:
            self.people[localpart] = self.homeserver.register(
                unique(localpart), displayname=localpart.title()
            )
        return self.people[localpart]

    def join(self, source: str) -> None:
        """The partners' YAML, as `samen partners import` reads it."""
        with self.services.session() as session:
            import_partners(session, actor=CLI_ACTOR, source=source, purpose="test: the partnership")

    def room(self, owner: MatrixUser, *, name: str, members: Iterable[MatrixUser] = ()) -> str:
        """A room `owner` creates with `members`, inviting Samen; returns once Samen has joined it."""
        room = owner.create_room(name=name, invite=[m.user_id for m in members] + [self.bot.user_id])
        for member in members:
            member.join(room)
        owner.wait_for(
            room,
            lambda e: (
                e.get("type") == "m.room.member"
                and e.get("state_key") == self.bot.user_id
                and (e.get("content") or {}).get("membership") == "join"
            ),
        )
        return room

    def deliver(self) -> int:
        """Run the outbox until nothing is due: what a worker would send now."""
        return Dispatcher(self.services, self.chat, config=FAST).run_until_idle()

    def later(self, **delta: float) -> datetime:
        """The clock moves; each job runs at every moment it fell due meanwhile (as tests/harness.py)."""
        return time_passes(self.services, self.clock, self.jobs, **delta)

    def from_samen(
        self, person: MatrixUser, room: str, contains: str, *, timeout: float = 15
    ) -> dict[str, Any]:
        """The first message from Samen in `room` whose text holds `contains` (an edit counts)."""
        return person.wait_for(
            room,
            lambda e: e.get("sender") == self.bot.user_id and contains in _text(e),
            timeout=timeout,
        )

    def answer(self, person: MatrixUser, room: str, text: str, *, timeout: float = 15) -> dict[str, Any]:
        """`person` types `text` in `room`; Samen's next message there (after it)."""
        said = person.event(room, person.say(room, text))
        return person.wait_for(
            room,
            lambda e: (
                e.get("sender") == self.bot.user_id
                and e.get("origin_server_ts", 0) >= said["origin_server_ts"]
                and e.get("type") == "m.room.message"
            ),
            timeout=timeout,
        )

    def acknowledged(self, at_least: int, *, timeout: float = 15) -> list[str]:
        """By which way each partner acknowledged the backup alerts, once at least `at_least` have: a
        reaction is handled in the background, after the person's client has sent it."""
        deadline = time.monotonic() + timeout
        while True:
            with self.services.session(read_only=True) as session:
                ways = session.exec(
                    select(AlertPartner.acknowledged_via).where(AlertPartner.acknowledged_at.is_not(None))  # type: ignore[union-attr]
                ).all()
            if len(ways) >= at_least or time.monotonic() > deadline:
                assert len(ways) >= at_least, f"{len(ways)} of {at_least} acknowledgements"
                return [str(way) for way in ways]
            time.sleep(0.1)

    def dm(self, person: MatrixUser) -> str:
        return person.dm_with(self.bot.user_id)


def _text(event: Mapping[str, Any]) -> str:
    content = event.get("content") or {}
    new = content.get("m.new_content") or {}
    return str(new.get("body") or content.get("body") or "")


def start_matrix(
    database_url: str,
    homeserver: Homeserver,
    bot: MatrixUser,
    *,
    partners: str | None = None,
    jobs: bool = True,
    **settings: object,
) -> Iterator[MatrixPartnership]:
    """Migrate, import `partners` (before Samen syncs: the invitations waiting for it are then from
    members), build the services on a settable clock, connect as `bot`, start the front's sync."""
    migrated(database_url)
    configured = matrix_settings(database_url, homeserver, bot, **settings)
    clock = SettableClock(tick=True)
    services = Services.build(configured, engine=make_engine(database_url), clock=clock)
    if partners is not None:
        with services.session() as session:
            import_partners(session, actor=CLI_ACTOR, source=partners, purpose="test: the partnership")
    connection = MatrixConnection.from_settings(configured)
    connection.start()
    chat = MatrixChat(connection, language=configured.samen_language)  # the outbox's
    answering = MatrixChat(connection, language=configured.samen_language, patience=10)  # the front's
    holder: dict[str, MatrixFront] = {}
    client = MatrixWebClient(
        answering,
        connection,
        open_form=lambda trigger, view: holder["front"].open_form(trigger, view),
        update_form=lambda view_id, view: holder["front"].update_form(view_id, view),
    )
    app = create_app(
        configured,
        features=register_all,
        client=client,
        services=services,
        process_before_response=True,
        app_class=MatrixApp,
    )
    front = holder["front"] = MatrixFront(services, app, connection, answering)
    front.start()
    try:
        yield MatrixPartnership(
            services=services,
            connection=connection,
            chat=chat,
            front=front,
            homeserver=homeserver,
            bot=bot,
            clock=clock,
            jobs=all_jobs(configured) if jobs else (),
        )
    finally:
        front.stop()
        connection.close()
        services.engine.dispose()
