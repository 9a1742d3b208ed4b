"""Reads never take the write lock (issue 21): on SQLite a read-only command begins a deferred
transaction (`BEGIN`), never `BEGIN IMMEDIATE`, and writes nothing, so people's look-ups do not queue
behind each other or behind writers.

A recorder on the engine notes every BEGIN and every write with the command-side function that opened
the transaction, while the command runs through the Slack double over HTTP.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import BotUnderTest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from test_cases import make_case
from test_signals import BERT, FATIMA, HANS, MARLEEN, ask, audit_actions, set_up

from bot.partners.models import PersonRef

ROOT = Path(__file__).resolve().parent.parent
_MACHINERY = ("bot/db.py", "bot/runtime.py")
_HELPERS = ("_require", "_member", "_find_member", "_actor")  # look-ups inside a listener
_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


@dataclass
class Recorded:
    begins: list[tuple[str, str]] = field(default_factory=list)  # (statement, opened by)
    writes: list[tuple[str, str]] = field(default_factory=list)  # (first words, opened by)

    def immediate(self) -> list[str]:
        return sorted({where for statement, where in self.begins if statement != "BEGIN"})


def _opened_by() -> str:
    """Who opened the transaction: the innermost frame in commands/ (the listener), else in bot/
    outside the session machinery. (SQLAlchemy begins at the first statement, deep in a service.)"""
    ours = []
    for frame in traceback.extract_stack():
        path = Path(frame.filename).resolve()
        if ROOT in path.parents:
            ours.append((path.relative_to(ROOT).as_posix(), frame.name))
    for prefix in ("commands/", "bot/"):
        found = [
            f"{p}:{name}"
            for p, name in ours
            if p.startswith(prefix) and p not in _MACHINERY and name not in _HELPERS
        ]
        if found:
            return found[-1]
    return "?"


@contextmanager
def recording(engine: Engine) -> Iterator[Recorded]:
    recorded = Recorded()

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("BEGIN"):
            recorded.begins.append((statement.strip(), _opened_by()))
        elif _WRITE.match(statement):
            recorded.writes.append((" ".join(statement.split()[:3]), _opened_by()))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield recorded
    finally:
        event.remove(engine, "before_cursor_execute", before)


@pytest.fixture
def world(bot: BotUnderTest) -> BotUnderTest:
    """A partnership with one case (led by the gemeente) and its signal, on SQLite."""
    set_up(bot)
    make_case(bot, MARLEEN, "Netwerk rond autobedrijven", lead="3")
    ask(bot, FATIMA, 'criteria "Impact op de wijk" 3 5')
    return bot


READ_ONLY_COMMANDS = [
    (HANS, "werkvoorraad"),
    (HANS, "signalen autobedrijven"),
    (HANS, "signalen"),
    (BERT, "casus 1"),  # Bert's partner may not see the signal's details: nothing to audit
    (HANS, "mijn"),
    (HANS, "lessen"),
    (HANS, "lessen loods"),
    (HANS, "doelen"),
]


def test_read_only_commands_never_take_the_write_lock(world: BotUnderTest) -> None:
    offenders: dict[str, Any] = {}
    for who, words in READ_ONLY_COMMANDS:
        with recording(world.services.engine) as recorded:
            ask(world, who, words)
        assert recorded.begins, f"/samen {words} read nothing? the recorder saw no transaction"
        if recorded.immediate() or recorded.writes:
            offenders[words] = (recorded.immediate(), recorded.writes)
    assert offenders == {}, f"read-only commands that took BEGIN IMMEDIATE or wrote: {offenders}"


def test_the_recorder_sees_a_write_command_take_the_write_lock(world: BotUnderTest) -> None:
    """The check above can fail: a command that writes is seen taking BEGIN IMMEDIATE."""
    with recording(world.services.engine) as recorded:
        ask(world, FATIMA, 'criteria "Crimineel vermogen" 1 5')
    assert "commands/cases.py:handle_criteria" in recorded.immediate()
    assert any(where == "commands/cases.py:handle_criteria" for _what, where in recorded.writes)


def test_a_case_whose_details_are_shown_still_audits_the_reading(world: BotUnderTest) -> None:
    before = len(audit_actions(world.services.engine))
    with recording(world.services.engine) as recorded:
        shown = ask(world, MARLEEN, "casus 1")
    assert "afgeschermd: Netwerk rond autobedrijven" in shown
    assert [action for action, _purpose in audit_actions(world.services.engine)[before:]] == [
        "signal.details_viewed"
    ]
    assert "commands/cases.py:show_case" in recorded.immediate()  # the audit entry is a write


@pytest.mark.parametrize("who", [FATIMA, HANS], ids=["coordinator", "member"])
def test_the_app_home_reads_without_the_write_lock(world: BotUnderTest, who: PersonRef) -> None:
    """Only the event's own bookkeeping writes: its id (idempotency) and the person's locale."""
    expected_writers = {"bot/slack/idempotency.py:first_time", "commands/home.py:_learn_language"}
    with recording(world.services.engine) as recorded:
        world.driver.event(
            {"type": "app_home_opened", "user": who.user_id, "channel": "D0HOME", "tab": "home"},
            team=who.team_id,
        )
        world.double.wait_for("views.publish")
    assert recorded.begins
    unexpected = [where for where in recorded.immediate() if where not in expected_writers]
    assert unexpected == [], f"Home sections that took BEGIN IMMEDIATE: {unexpected}"
    assert [w for w in recorded.writes if w[1] not in expected_writers] == []
