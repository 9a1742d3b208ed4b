"""Shared fixtures: databases (SQLite always, PostgreSQL when reachable — required under CI=true),
the Slack double, and the bot served over real HTTP with a signed driver in front of it."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from homeserver import homeserver  # noqa: F401  (a real Synapse, started on first use: tests/homeserver.py)
from slack_bolt import App
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.config import Settings, load_settings
from bot.db import make_engine
from bot.logs import configure
from bot.runtime import Services
from slackdouble import SlackDouble, SlackDriver
from slackdouble.fixtures import *  # noqa: F403  (the slack_double fixture and its marker)

if TYPE_CHECKING:
    from harness import Partnership

IN_CI = os.environ.get("CI") == "true"
PG_ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-test-token"
ENCRYPTION_KEY = (
    "zDcIf0m3BHFzh4IeIIFVeCkk2a5Z_E8k93Tk1DPAJuU="  # a fixed test key: tests may look for ciphertext
)


def _pg_reachable() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


# Restricted text in tests carries this word, so that the log scan below can prove it is never logged.
RESTRICTED_MARKER = "VERTROUWELIJK"


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="session")
def _log_lines() -> Iterator[_Lines]:
    """Every log line of the whole suite, formatted and redacted exactly as in production."""
    redactor = configure(secrets=[BOT_TOKEN, SIGNING_SECRET, ENCRYPTION_KEY], level=logging.DEBUG)
    handler = _Lines()
    production = next(h for h in logging.getLogger().handlers if getattr(h, "_samen", False))
    handler.setFormatter(production.formatter)
    handler.addFilter(redactor)
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


@pytest.fixture(autouse=True)
def no_secrets_or_restricted_text_in_logs(_log_lines: _Lines) -> Iterator[None]:
    start = len(_log_lines.lines)
    yield
    for line in _log_lines.lines[start:]:
        for secret in (BOT_TOKEN, SIGNING_SECRET, ENCRYPTION_KEY, RESTRICTED_MARKER):
            assert secret not in line, f"a log line holds {secret[:12]}…: {line[:300]}"


# -- a fixed clock ---------------------------------------------------------------------------------
# `SAMEN_TEST_NOW=2027-03-28T01:30:00Z pytest -m clock` runs the time-sensitive tests as if it were
# that moment (.ci/run does it at 23:50 UTC, 00:30 in Amsterdam and on both DST change days). Each test
# starts at the moment and the clock ticks on from there. Only this process travels: a test that starts
# processes, or compares with a time it did not make, cannot carry the mark.
FIXED_NOW = "SAMEN_TEST_NOW"

# The time-sensitive tests, by module and why; `slow` tests (they start processes) are left out.
CLOCK_SENSITIVE_MODULES = {
    "test_calendar": "working days and Dutch holidays, counted in the partnership's zone",
    "test_checkins": "check-ins at a local hour that skip weekends and holidays and keep it across DST",
    "test_scheduler": "fire times and run slots in the partnership's zone",
    "test_reminders": "deadlines and reminders counted in local days",
    "test_interventions": "due dates and time windows from today in Amsterdam",
    "test_alignment": "alignment moments' dates, reminders and closing time",
    "test_digest": "the digest's week and the export's date ranges",
    "test_privacy": "retention periods in days",
    "test_rugdekking": "escalations after minutes, times of day on the board",
    "test_outbox": "due times, backoff and expiry",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.stem in CLOCK_SENSITIVE_MODULES and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.clock)


@pytest.fixture(autouse=True)
def _fixed_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    moment = os.environ.get(FIXED_NOW)
    if not moment or request.node.get_closest_marker("clock") is None:
        yield
        return
    destination = datetime.fromisoformat(moment)
    if destination.tzinfo is None:
        pytest.fail(f"{FIXED_NOW}={moment} needs a zone (Z or +01:00): the moment must be one instant")
    with time_machine.travel(destination, tick=True):
        yield


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    problem = _pg_reachable()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true but unreachable at {PG_ADMIN_URL}: {problem}")
        pytest.skip(
            f"PostgreSQL not reachable at {PG_ADMIN_URL} ({problem}); set TEST_DATABASE_URL to run these"
        )
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A throw-away PostgreSQL database, dropped after the test."""
    name = f"samen_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/samen.db"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))


def make_settings(database_url: str, api_url: str = "http://127.0.0.1:9/api/", **extra: object) -> Settings:
    values: dict[str, object] = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api_url,
        "DATABASE_URL": database_url,
        "SAMEN_LANGUAGE": "nl",
        "SAMEN_TIMEZONE": "Europe/Amsterdam",
        "SAMEN_ENCRYPTION_KEY": ENCRYPTION_KEY,
    }
    values.update({k: v for k, v in extra.items()})
    return load_settings(_env_file=None, **values)


@pytest.fixture
def services(sqlite_url: str) -> Iterator[Services]:
    """A migrated SQLite database and the services around it, for domain tests."""
    from harness import migrated  # it imports this module's names

    migrated(sqlite_url)
    built = Services.build(make_settings(sqlite_url), engine=make_engine(sqlite_url))
    yield built
    built.engine.dispose()


@dataclass
class BotUnderTest:
    """Samen served over real HTTP, talking to the Slack double; `driver` plays Slack's side."""

    app: App
    services: Services
    double: SlackDouble
    driver: SlackDriver
    url: str


@pytest.fixture
def bot(sqlite_url: str, slack_double: SlackDouble) -> Iterator[Partnership]:
    """Samen on SQLite with nothing set up: the `partnership` fixture without its marker."""
    yield from _bot(sqlite_url, slack_double)


@pytest.fixture
def bot_on(database_url: str, slack_double: SlackDouble) -> Iterator[Partnership]:
    """The bot on each database in turn (SQLite, then PostgreSQL)."""
    yield from _bot(database_url, slack_double)


def _bot(database_url: str, double: SlackDouble) -> Iterator[Partnership]:
    from harness import start  # it imports this module's names

    yield from start(database_url, double)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "partnership(**kwargs): how the partnership fixture starts Samen (tests/harness.py: start)"
    )


def _partnership(
    request: pytest.FixtureRequest, database_url: str, double: SlackDouble
) -> Iterator[Partnership]:
    from harness import start  # it imports this module's names

    marker = request.node.get_closest_marker("partnership")
    setup: dict[str, Any] = dict(marker.kwargs) if marker else {}
    partners = setup.pop("partners", None)
    for started in start(database_url, double, **setup):
        if partners:
            started.join(partners)
        yield started


@pytest.fixture
def partnership(
    request: pytest.FixtureRequest, sqlite_url: str, slack_double: SlackDouble
) -> Iterator[Partnership]:
    """Samen on SQLite, played through Slack by people who say, click and submit (tests/harness.py).
    `@pytest.mark.partnership(partners=YAML, people=[...], SAMEN_…=…)` says how: `partners` are imported,
    the rest goes to `harness.start`."""
    yield from _partnership(request, sqlite_url, slack_double)


@pytest.fixture
def partnership_on(
    request: pytest.FixtureRequest, database_url: str, slack_double: SlackDouble
) -> Iterator[Partnership]:
    """The same, on SQLite and on PostgreSQL in turn."""
    yield from _partnership(request, database_url, slack_double)
