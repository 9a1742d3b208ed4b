"""One way to play a scenario against Samen (in the spirit of errbot's `testbot`).

The bot is started once per test against the Slack double, over real HTTP with real signatures, on its
own clock (a SettableClock that ticks from the real time). People `say` a command, `click` a button in a
message they received, `submit` a form; `deliver()` runs the outbox to the double as a worker would, and
`later(minutes=…)` moves the clock and runs the scheduled jobs that became due meanwhile:

    def test_a_question(partnership: Partnership) -> None:
        partnership.join(PARTNERSHIP)                  # the partners' YAML, as `samen partners import`
        ruud = partnership.person(RUUD)
        answer = ruud.say("hulp")                      # /samen hulp, signed, over HTTP
        partnership.later(minutes=30)                  # the clock moves; due jobs run
        partnership.deliver()                          # what the outbox holds goes to the double

The `partnership` fixture (tests/conftest.py) starts it on SQLite, `partnership_on` on SQLite and on
PostgreSQL in turn; `start()` is the one starter for fixtures that need other settings.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from conftest import BOT_TOKEN, SIGNING_SECRET, BotUnderTest, make_settings
from slack_sdk import WebClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.authz import CLI_ACTOR
from bot.clock import SettableClock
from bot.db import make_engine, upgrade
from bot.outbox.dispatcher import Dispatcher, DispatcherConfig
from bot.partners.importer import import_partners
from bot.partners.models import PersonRef
from bot.reach.outbox import couriers
from bot.runtime import Services
from bot.scheduler import ScheduledJob, run_once
from bot.slack.app import Features, create_app
from bot.slack.chat import SlackChat
from bot.slack.localserver import serve_in_thread
from commands import register_all
from slackdouble import SlackDouble, SlackDriver
from slackdouble.driver import DriverResponse

TEAM = "T0SAMEN"

# Fast, for tests: no pause between two messages to one channel, short leases and backoff.
FAST = DispatcherConfig(
    concurrency=8, lease_seconds=5, lane_interval=0.0, poll_seconds=0.05, backoff_base=0.05
)


@dataclass
class Person:
    """Someone in the partnership, acting through Slack (the double's signed requests); `bot`: any bot a
    test talks to (a Partnership, or `samen serve` started as a process)."""

    bot: BotUnderTest
    ref: PersonRef
    locale: str | None = None

    @property
    def user_id(self) -> str:
        return self.ref.user_id

    def say(self, words: str = "", *, command: str = "/samen", channel: str | None = None) -> dict[str, Any]:
        """Type `/samen <words>` (or another command): the immediate answer (JSON; {} when it is empty)."""
        where: dict[str, Any] = {"channel": channel} if channel else {}
        response = self.bot.driver.command(
            command, words, user=self.ref.user_id, team=self.ref.team_id, locale=self.locale, **where
        )
        return _answer(response)

    def click(
        self,
        action_id: str,
        value: str | None = None,
        *,
        channel: str | None = None,
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        block_id: str | None = None,
    ) -> dict[str, Any]:
        """Press a button in a message this person received (the newest with it; in `channel` if given),
        in `message` or in a `view`: the immediate answer (JSON; {} when it is empty)."""
        response = self.bot.driver.action(
            action_id,
            value=value,
            user=self.ref.user_id,
            channel=channel,
            message=message,
            view=view,
            block_id=block_id,
            team=self.ref.team_id,
        )
        return _answer(response)

    def submit(
        self,
        callback_id: str,
        values: dict[str, Any] | None = None,
        *,
        states: dict[str, dict[str, Any]] | None = None,
        view: dict[str, Any] | None = None,
        view_id: str | None = None,
    ) -> dict[str, Any]:
        """Submit a form: `values` maps block ids to values (a text, an option's value, a list of them),
        `states` block ids to their element's state as is ({action_id: value}); the answer (JSON; {} when
        it is empty)."""
        form = {block: {"value": value} for block, value in (values or {}).items()} | (states or {})
        extra: dict[str, Any] = {"view": view} if view is not None else {}
        if view_id is not None:
            extra["view_id"] = view_id
        response = self.bot.driver.view_submission(
            callback_id, form, user=self.ref.user_id, team=self.ref.team_id, **extra
        )
        return _answer(response)

    def messages(self) -> list[dict[str, Any]]:
        """The direct messages Samen sent this person, oldest first."""
        return self.bot.double.messages_to(self.ref.user_id)


def _answer(response: DriverResponse) -> dict[str, Any]:
    """Slack's view of the acknowledgement: 200, with a JSON body or none."""
    assert response.status == 200, response.body
    return dict(response.json()) if response.body else {}


@dataclass
class Partnership(BotUnderTest):
    """Samen served over HTTP to the Slack double, on its own clock; see the module's docstring."""

    clock: SettableClock = field(default_factory=lambda: SettableClock(tick=True))
    jobs: Sequence[ScheduledJob] = ()  # what `later()` runs when it falls due
    dispatch_config: DispatcherConfig = FAST

    def person(self, who: PersonRef | str, *, locale: str | None = None) -> Person:
        ref = who if isinstance(who, PersonRef) else PersonRef(TEAM, who)
        return Person(self, ref, locale=locale)

    def join(self, source: str) -> None:
        """Import the partners (the YAML `samen partners import` reads), as the coordinator's CLI would."""
        with self.services.session() as session:
            import_partners(session, actor=CLI_ACTOR, source=source, purpose="test: the partnership")

    def dispatcher(self, config: DispatcherConfig | None = None, **kwargs: Any) -> Dispatcher:
        return dispatcher(self, config or self.dispatch_config, **kwargs)

    def deliver(self) -> int:
        """Run the outbox until nothing is due: what a worker would send now. How many were sent."""
        return self.dispatcher().run_until_idle()

    def later(self, *, jobs: Iterable[ScheduledJob] | None = None, **delta: float) -> datetime:
        """Time moves on (minutes=5, days=1): the clock moves, and each job (`jobs`, else the ones the
        partnership was started with) runs at every moment it fell due meanwhile, in order, as a worker
        would have run it then. What they queue waits for `deliver()`. The new moment."""
        return time_passes(self.services, self.clock, self.jobs if jobs is None else jobs, **delta)


@dataclass
class World:
    """A feature's partnership as its tests see it (tests/*_support.py add what they made in it)."""

    bot: Partnership

    @property
    def services(self) -> Services:
        return self.bot.services

    @property
    def double(self) -> SlackDouble:
        return self.bot.double

    @property
    def driver(self) -> SlackDriver:
        return self.bot.driver

    def dispatch(self) -> int:
        """Send everything the outbox holds that is due, as a worker would."""
        return self.bot.deliver()

    def count(self, sql: str) -> int:
        """One number the database answers (SELECT count(*) …)."""
        with self.services.engine.connect() as connection:
            return int(connection.execute(text(sql)).scalar_one())


def dispatcher(bot: BotUnderTest, config: DispatcherConfig = FAST, **kwargs: Any) -> Dispatcher:
    """A worker's outbox dispatcher for `bot`'s database, sending to its Slack double — and by SMS and
    e-mail where the partnership's settings switch those ways on, as `samen worker` does."""
    client = WebClient(token=BOT_TOKEN, base_url=bot.double.base_url, retry_handlers=[], timeout=5)
    kwargs.setdefault("couriers", couriers(bot.services))
    return Dispatcher(bot.services, SlackChat(client), config=config, **kwargs)


def time_passes(
    services: Services, clock: SettableClock, jobs: Iterable[ScheduledJob], **delta: float
) -> datetime:
    """`clock` moves on by `delta`; each job runs at every moment it fell due meanwhile, in order, as a
    worker would have run it then. The new moment. (`Partnership.later`, and Matrix's in matrix_harness.)"""
    start = clock.now()
    end = start + timedelta(**delta)
    zone = services.settings.timezone
    due = sorted(
        (moment, index, job)
        for index, job in enumerate(jobs)
        for moment in fire_times(job, after=start, until=end, zone=zone)
    )
    for moment, _, job in due:
        clock.set(moment)
        run_once(services, job, worker="test", now=moment)
    return clock.set(end)


def fire_times(job: ScheduledJob, *, after: datetime, until: datetime, zone: Any) -> Iterator[datetime]:
    """The moments in (after, until] at which `job`'s trigger fires, in UTC (as the worker hands them on)."""
    trigger = job.trigger(zone)
    moment = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    while moment is not None and moment <= until:
        yield moment.astimezone(UTC)
        moment = trigger.get_next_fire_time(moment, moment + timedelta(microseconds=1))


_MIGRATED: dict[str, Path] = {}


def migrated(database_url: str) -> None:
    """Migrate the database; a SQLite file is copied from one migrated once per test run (much faster)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        upgrade(database_url)
        return
    if "template" not in _MIGRATED:
        template = Path(tempfile.mkdtemp(prefix="samen-tests-")) / "migrated.db"
        upgrade(f"sqlite:///{template}")
        with contextlib.closing(sqlite3.connect(template)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the one file
        _MIGRATED["template"] = template
    shutil.copyfile(_MIGRATED["template"], url.database)


def start(
    database_url: str,
    double: SlackDouble,
    *,
    features: Features = register_all,
    people: Iterable[PersonRef] = (),
    locale: str = "nl-NL",
    tz: str = "Europe/Amsterdam",
    jobs: Sequence[ScheduledJob] = (),
    team_id: str | None = None,
    client: WebClient | None = None,
    **settings: object,
) -> Iterator[Partnership]:
    """The one starter: migrate, build the Services on a settable clock, serve the app over HTTP in a
    thread, sign requests as Slack would (for `team_id`). `people` become the double's users (with `locale`
    and `tz`); `settings` are environment names (SAMEN_PARTNERSHIP_CHANNEL=…); `client`: the app's own
    (default: the test bot token's). Stops the server afterwards."""
    migrated(database_url)
    configured = make_settings(database_url, api_url=double.base_url, **settings)
    clock = SettableClock(tick=True)
    services = Services.build(configured, engine=make_engine(database_url), clock=clock)
    app = create_app(
        configured,
        features=features,
        client=client or WebClient(token=BOT_TOKEN, base_url=double.base_url),
        services=services,
    )
    for person in people:
        double.add_user(person.user_id, team_id=person.team_id, locale=locale, tz=tz)
    server = serve_in_thread(app, services)
    signing: dict[str, Any] = {"team_id": team_id} if team_id else {}
    driver = SlackDriver(server.events_url, SIGNING_SECRET, double=double, **signing)
    try:
        yield Partnership(
            app=app,
            services=services,
            double=double,
            driver=driver,
            url=server.events_url,
            clock=clock,
            jobs=jobs,
        )
    finally:
        server.stop()
        services.engine.dispose()


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """A view's private_metadata, read."""
    return dict(json.loads(view.get("private_metadata") or "{}"))
