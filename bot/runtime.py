"""What every listener and job needs, built once per process and passed in (no mutable globals)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.clock import SYSTEM, Clock, in_use
from bot.config import Settings
from bot.crypto import keyring
from bot.db import make_engine, session_scope
from bot.people import LocaleCache
from bot.render import Renderer


@dataclass
class SlackAccess:
    """Whether Slack takes this process's bot token, as far as the process knows: refused at start-up
    (bot/startup.py) or since the app was uninstalled (commands/lifecycle.py). /readyz reads it."""

    refused: str | None = None  # Slack's reason, e.g. invalid_auth or app_uninstalled


@dataclass
class Services:
    settings: Settings
    engine: Engine
    renderer: Renderer
    # Set when an urgent outbox row commits in this process; the dispatcher waits on it.
    outbox_wakeup: threading.Event = field(default_factory=threading.Event)
    # People's Slack locales, so that a command need not ask the database every time.
    locales: LocaleCache = field(default_factory=LocaleCache)
    slack: SlackAccess = field(default_factory=SlackAccess)
    # Where this process reads the time (bot/clock.py): the system's, or the demo's and the tests' own.
    clock: Clock = SYSTEM

    @classmethod
    def build(
        cls,
        settings: Settings,
        engine: Engine | None = None,
        *,
        slack_refused: str | None = None,
        clock: Clock = SYSTEM,
    ) -> Services:
        keyring.configure(settings.samen_encryption_key)
        return cls(
            settings=settings,
            engine=engine or make_engine(settings.database_url),
            renderer=Renderer(timezone=settings.samen_timezone, chat=settings.samen_chat),
            slack=SlackAccess(refused=slack_refused),
            clock=clock,
        )

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        with in_use(self.clock), session_scope(self.engine, read_only=read_only) as session:
            session.info["wake_outbox"] = self.outbox_wakeup.set
            session.info["clock"] = self.clock  # read by bot.clock.now(session)
            yield session
