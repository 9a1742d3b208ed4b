"""`samen demo`: the bot in-process against the Slack double, playing a short scripted conversation.

No Slack account and no network: a throw-away SQLite database, the double on a local port, and
real signed requests from a driver, exactly as the tests do. Each feature adds its scene to SCENES.

The demo runs on its own clock (its Services' SettableClock, bot/clock.py): one week in December 2026,
from Friday afternoon to the next Friday's digest. Each scene says when it happens (`stage.at`) and moves
the clock on as its story does (`stage.later`), so every time a message shows agrees with the narration,
however fast the demo plays. The worker sends the outbox but runs no scheduled job: a scene runs the job its
story needs at the moment it needs it, as a worker would.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from slack_sdk import WebClient
from sqlmodel import col, func, select

from bot.clock import SettableClock
from bot.config import load_settings
from bot.crypto import generate_key
from bot.db import upgrade
from bot.demo.transcript import blocks_to_text, mrkdwn_to_text
from bot.outbox.dispatcher import DispatcherConfig
from bot.outbox.models import OutboxLane, OutboxMessage, OutboxStatus
from bot.runtime import Services
from bot.slack.app import create_app
from bot.slack.chat import SlackChat
from bot.slack.localserver import serve_in_thread
from bot.worker import Worker
from commands import register_all
from slackdouble import SlackDouble, SlackDriver

DEMO_SECRET = "samen-demo-signing-secret"  # noqa: S105  (the demo signs its own requests locally)
TEAM = "T0SAMEN"
CHANNEL = "C0SAMEN"  # #ondermijning, the partnership's shared channel
START = "2026-12-04 15:30"  # a Friday afternoon, local time; the digest ends the demo a week later


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    partner: str
    locale: str


@dataclass
class Stage:
    """What a scene can use: the people, the driver (Slack's side) and the double (what Slack saw)."""

    double: SlackDouble
    driver: SlackDriver
    services: Services
    out: TextIO
    language: str
    people: dict[str, Person] = field(default_factory=dict)
    now: datetime | None = None  # the demo's clock, once a scene has set it

    def name_of(self, user_id: str) -> str:
        """A person's name, or a channel's: what Slack shows in place of the id."""
        for person in self.people.values():
            if person.user_id == user_id:
                return person.name
        channel = self.double.channels.get(user_id)
        return channel.name if channel is not None and channel.name else user_id

    def at(self, local: str) -> datetime:
        """Set the demo's clock to a local moment ("2026-12-07 09:00"); the story only moves forward."""
        moment = datetime.fromisoformat(local).replace(tzinfo=self.services.settings.timezone)
        assert self.now is None or moment >= self.now, f"the demo's story goes back in time: {local}"
        return self.move_to(moment)

    def later(self, **delta: float) -> datetime:
        """Move the demo's clock on (minutes=2, seconds=40): what falls due meanwhile is sent."""
        return self.move_to(self.services.clock.now() + timedelta(**delta))

    @property
    def clock(self) -> SettableClock:
        """The demo's clock: every part of this process (listeners, worker, jobs) reads it."""
        clock = self.services.clock
        assert isinstance(clock, SettableClock), "the demo runs on its own clock"
        return clock

    def now_local(self) -> datetime:
        return self.services.clock.now().astimezone(self.services.settings.timezone)

    def local(self, moment: datetime, pattern: str = "%H:%M") -> str:
        """A moment as the narration says it, in the partnership's zone."""
        return moment.astimezone(self.services.settings.timezone).strftime(pattern)

    def move_to(self, moment: datetime) -> datetime:
        self._settle()
        self.now = moment
        self.clock.set(moment)
        self.services.outbox_wakeup.set()  # messages due by now go out without waiting for a poll
        return moment

    def _settle(self, timeout: float = 10.0) -> None:
        """Wait until what is due has been sent and no lane is being sent to: a lease taken before the
        clock jumps would look expired after it, and its message would be sent a second time."""
        due = select(func.count()).select_from(OutboxMessage)
        due = due.where(
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.not_before) <= self.services.clock.now(),
        )
        busy = select(func.count()).select_from(OutboxLane).where(col(OutboxLane.owner).is_not(None))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.services.session(read_only=True) as session:
                if not session.exec(due).one() and not session.exec(busy).one():
                    return
            self.services.outbox_wakeup.set()
            time.sleep(0.02)

    def only_for(self, who: str) -> str:
        name = self.people[who].name
        return f"alleen zichtbaar voor {name}" if self.language == "nl" else f"only visible to {name}"

    def title(self, text: str) -> None:
        self.out.write(f"\n=== {text} ===\n")

    def narrate(self, text: str) -> None:
        self.out.write(f"\n({text})\n")

    def says(self, who: str, text: str, where: str = "#ondermijning") -> None:
        self.out.write(f"\n[{where}] {self.people[who].name} ({self.people[who].partner}): {text}\n")

    def bot_says(
        self, blocks: list[dict[str, Any]], *, to: str | None = None, where: str = "#ondermijning"
    ) -> None:
        header = f"[{where}] Samen" + (f" → {self.only_for(to)}" if to else "")
        self.out.write(header + ":\n")
        for line in blocks_to_text(blocks, self.name_of):
            self.out.write(f"    {line}\n")

    def bot_text(self, text: str, *, where: str) -> None:
        self.out.write(f"[{where}] Samen:\n    {mrkdwn_to_text(text, self.name_of)}\n")

    def command(self, who: str, command: str, text: str = "") -> dict[str, Any]:
        """A person types a slash command; print it and the ephemeral answer."""
        person = self.people[who]
        self.says(who, f"{command} {text}".strip())
        response = self.driver.command(command, text, user=person.user_id, team=TEAM, channel=CHANNEL)
        answer = response.json() if response.body else {}
        if answer.get("blocks"):
            self.bot_says(answer["blocks"], to=who)
        elif answer.get("text"):
            self.bot_text(answer["text"], where="#ondermijning")
        return answer


Scene = Callable[[Stage], None]


def _scene_help_and_home(stage: Stage) -> None:
    stage.title("Kennismaken met Samen" if stage.language == "nl" else "Meeting Samen")
    fatima = stage.people["fatima"]
    stage.narrate(
        f"Vrijdag 4 december, 15:30. {fatima.name} opent het tabblad Samen in Slack"
        if stage.language == "nl"
        else f"Friday 4 December, 15:30. {fatima.name} opens the Samen tab in Slack"
    )
    stage.driver.event(
        {"type": "app_home_opened", "user": fatima.user_id, "channel": "D0FATIMA", "tab": "home"}, team=TEAM
    )
    published = stage.double.wait_for("views.publish", timeout=5)[-1]
    stage.bot_says(published.args["view"]["blocks"], to="fatima", where="App Home")
    stage.command("fatima", "/samen", "help")
    stage.command("jan", "/samen", "hlep")


from bot.demo.scene_checkins import scene_checkins  # noqa: E402  (scenes use Stage, above)
from bot.demo.scene_digest import scene_digest  # noqa: E402  (scenes use Stage, above)
from bot.demo.scene_interventions import scene_interventions  # noqa: E402  (scenes use Stage, above)
from bot.demo.scene_operations import scene_operations  # noqa: E402
from bot.demo.scene_privacy import scene_privacy  # noqa: E402
from bot.demo.scene_rugdekking import scene_rugdekking  # noqa: E402
from bot.demo.scene_signals import scene_signals  # noqa: E402

SCENES: list[Scene] = [
    _scene_help_and_home,
    scene_rugdekking,
    scene_signals,
    scene_checkins,  # a Monday check-in, and an ad-hoc alignment on the signals scene's subject
    scene_interventions,
    scene_operations,
    scene_privacy,
    scene_digest,  # the demo ends with the week's digest
]


def _cast(language: str) -> dict[str, Person]:
    locale = "nl-NL" if language == "nl" else "en-GB"
    return {
        "fatima": Person("U0FATIMA1", "Fatima", "Gemeente Rotterdam", locale),
        "jan": Person("U0JAN0001", "Jan", "Politie Rotterdam", locale),
        "ilse": Person("U0ILSE001", "Ilse", "Belastingdienst", locale),
        "ruud": Person("U0RUUD001", "Ruud", "RIEC Rotterdam", locale),
    }


def play(*, language: str = "nl", out: TextIO, scenes: list[Scene] | None = None) -> None:
    # The demo's own log lines (migrations, the worker) would drown the conversation.
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    # A library's warning (SQLAlchemy reflecting an index it cannot read) is not part of the conversation.
    logging.getLogger("py.warnings").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="samen-demo-") as workdir, SlackDouble() as double:
        database_url = f"sqlite:///{Path(workdir) / 'demo.db'}"
        settings = load_settings(
            _env_file=None,
            SLACK_BOT_TOKEN="xoxb-samen-demo",  # noqa: S106  (a token only the built-in double accepts)
            SLACK_SIGNING_SECRET=DEMO_SECRET,
            SLACK_API_URL=double.base_url,
            DATABASE_URL=database_url,
            SAMEN_LANGUAGE=language,
            SAMEN_ENCRYPTION_KEY=generate_key(),  # a throw-away key for a throw-away database
            SAMEN_PARTNERSHIP_CHANNEL=CHANNEL,  # the backup-alert board, case threads, successes
        )
        upgrade(database_url)
        services = Services.build(settings, clock=SettableClock())  # set by the first scene (stage.at)
        people = _cast(language)
        double.add_channel(CHANNEL, "ondermijning", members=[p.user_id for p in people.values()])
        for person in people.values():
            double.add_user(
                person.user_id,
                team_id=TEAM,
                locale=person.locale,
                name=person.name.lower(),
                real_name=person.name,
            )
        client = WebClient(token=settings.slack_bot_token, base_url=double.base_url)
        server = serve_in_thread(
            create_app(settings, features=register_all, client=client, services=services), services
        )
        worker = Worker(
            services,
            SlackChat(WebClient(token=settings.slack_bot_token, base_url=double.base_url, retry_handlers=[])),
            config=DispatcherConfig(concurrency=8, poll_seconds=0.1, lane_interval=0.0),
            jobs=[],  # the scenes run the jobs they need, on the demo's clock (above)
        )
        worker.start()
        stage = Stage(
            double=double,
            driver=SlackDriver(server.events_url, DEMO_SECRET, double=double, team_id=TEAM),
            services=services,
            out=out,
            language=language,
            people=people,
        )
        out.write(
            "Samen — demo. Geen Slack-account nodig: Samen praat met een nagebootste Slack.\n"
            if language == "nl"
            else "Samen — demo. No Slack account needed: Samen talks to a simulated Slack.\n"
        )
        try:
            stage.at(START)
            for scene in scenes or SCENES:
                scene(stage)
                time.sleep(0.05)
        finally:
            worker.stop()
            server.stop()
            services.engine.dispose()
        out.write("\nEinde van de demo.\n" if language == "nl" else "\nEnd of the demo.\n")
