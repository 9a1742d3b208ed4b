"""What each screen costs the database, small vs large: statements, rows, and (SQLite) the VM's steps.

    .venv/bin/python bench/volume_cost.py [--db sqlite,postgresql] [--sizes small,large] [--only home,mijn]

Wall time on a shared machine says little; what a screen asks of the database does not depend on the
load. This runs Samen in this process (the Bolt app behind the local WSGI server, the Slack double) on a
copy of bench/volume.py's cached databases (filled there first when missing), sends each command of that
bench once as a warm-up and then once measured, and prints per screen: the statements run, the rows
they returned, the database time, and on SQLite the virtual machine's steps (in thousands: a count of
the work done, proportional to the rows read, that no other process changes). A bounded screen's
figures should be about the same at both sizes; the statements that grew most are listed (`-v`).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import SIGNING_SECRET, machine_notes, samen_env, slack_double  # also puts tests/ on sys.path
from slack_sdk import WebClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from volume import OVERVIEW, PG_URL, SIZES, TEAM, Command, commands, prepared

from bot.config import load_settings
from bot.db import make_engine
from bot.runtime import Services
from bot.slack.app import create_app
from bot.slack.localserver import serve_in_thread
from commands import register_all

QUEUED_FILES = text("SELECT count(*) FROM outbox WHERE method = 'files.upload_v2'")
STEP = 1_000  # SQLite calls the progress handler every STEP virtual-machine instructions


@dataclass
class Statement:
    sql: str
    rows: int = 0
    seconds: float = 0.0
    ksteps: int = 0


@dataclass
class Meter:
    """Every statement the engine runs while `on`, with its rows, time and (SQLite) VM steps."""

    statements: list[Statement] = field(default_factory=list)
    on: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    steps: int = 0

    def attach(self, engine: Engine) -> None:
        sqlite = engine.dialect.name == "sqlite"

        @event.listens_for(engine, "connect")
        def _connected(dbapi_connection: Any, _record: Any) -> None:
            if sqlite:
                dbapi_connection.set_progress_handler(self._step, STEP)

        @event.listens_for(engine, "before_cursor_execute")
        def _before(_conn: Any, _cursor: Any, _sql: str, _params: Any, context: Any, _many: bool) -> None:
            context._meter_started = (time.perf_counter(), self.steps)

        @event.listens_for(engine, "after_cursor_execute")
        def _after(_conn: Any, cursor: Any, sql: str, _params: Any, context: Any, _many: bool) -> None:
            started, steps = getattr(context, "_meter_started", (time.perf_counter(), self.steps))
            if not self.on:
                return
            rows = cursor.rowcount if cursor.rowcount and cursor.rowcount > 0 else 0
            if sqlite and cursor.description is not None:
                rows = -1  # SQLite reports no rowcount for a SELECT: see fetched() below
            with self.lock:
                self.statements.append(
                    Statement(sql, rows, time.perf_counter() - started, self.steps - steps)
                )

    def _step(self) -> int:
        self.steps += 1  # racy across threads, but one request is measured at a time
        return 0

    def start(self) -> None:
        with self.lock:
            self.statements = []
        self.on = True

    def stop(self) -> list[Statement]:
        self.on = False
        with self.lock:
            return list(self.statements)


@dataclass
class Cost:
    statements: int
    rows: int
    seconds: float
    ksteps: int
    top: list[Statement]
    grouped: list[tuple[str, int, int]]  # (statement, times run, k steps), the costliest first


def summarise(statements: list[Statement]) -> Cost:
    return Cost(
        statements=len(statements),
        rows=sum(max(s.rows, 0) for s in statements),
        seconds=sum(s.seconds for s in statements),
        ksteps=sum(s.ksteps for s in statements),
        top=sorted(statements, key=lambda s: (s.ksteps, s.seconds), reverse=True)[:5],
        grouped=_grouped(statements),
    )


def _grouped(statements: list[Statement]) -> list[tuple[str, int, int]]:
    """The same statement run again and again (one per row shown) is what grows with the data."""
    by: dict[str, list[int]] = {}
    for statement in statements:
        key = " ".join(statement.sql.split())
        key = re.sub(r"\(\?(, \?)*\)", "(…)", key)
        totals = by.setdefault(key, [0, 0])
        totals[0] += 1
        totals[1] += statement.ksteps
    return sorted(((sql, n, k) for sql, (n, k) in by.items()), key=lambda g: (g[1], g[2]), reverse=True)


@contextlib.contextmanager
def running(url: str, double: Any, meter: Meter) -> Iterator[Any]:
    """Samen in this process on `url` (already migrated and filled), signed requests from a driver."""
    from slackdouble import SlackDriver

    values = samen_env(database_url=url, api_url=double.base_url)
    settings = load_settings(_env_file=None, **values)
    engine = make_engine(url)
    meter.attach(engine)
    services = Services.build(settings, engine=engine)
    app = create_app(
        settings,
        features=register_all,
        client=WebClient(token=values["SLACK_BOT_TOKEN"], base_url=double.base_url),
        services=services,
    )
    server = serve_in_thread(app, services)
    try:
        yield SlackDriver(server.events_url, SIGNING_SECRET, double=double, timeout=120)
    finally:
        server.stop()
        engine.dispose()


def one(driver: Any, double: Any, command: Command, user: str, tag: str, uploads: Callable[[], int]) -> None:
    """Send `command` as `user` and wait until everything it does is done (the Home published, the
    overview's follow-up at the response_url)."""
    sent, queued = time.time(), uploads()
    if command.home:
        driver.event({"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"}, team=TEAM)
        double.wait_for(
            "views.publish", lambda call: call.at >= sent and call.args.get("user_id") == user, timeout=120
        )
        return
    fields = driver.payloads.command("/samen", command.text, user=user, team=TEAM)
    fields["response_url"] = double.response_url(tag)
    from urllib.parse import urlencode

    driver.raw(urlencode(fields).encode("utf-8"), "application/x-www-form-urlencoded")
    if command is OVERVIEW:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if any(call.tag == tag for call in double.calls_to("response_url")):
                break
            time.sleep(0.05)
        # What follows the reply (drawing and queueing the charts) runs after it in the pool's thread.
        while time.monotonic() < deadline and uploads() <= queued:
            time.sleep(0.1)


def measure(kind: str, size: str, pg_url: str, only: list[str], workdir: Path) -> dict[str, Cost]:
    costs: dict[str, Cost] = {}
    now = datetime.now(UTC)
    with prepared(kind, SIZES[size], pg_url, workdir, now) as (url, facts), slack_double() as double:
        meter = Meter()
        for user in (*facts.members, *facts.coordinators):
            double.add_user(user, team_id=TEAM)
        counter = create_engine(url)

        def uploads() -> int:  # the charts queued in the outbox so far (not metered: another engine)
            with counter.connect() as connection:
                return int(connection.execute(QUEUED_FILES).scalar_one())

        with running(url, double, meter) as driver:
            for n, command in enumerate([*commands(facts), OVERVIEW]):
                if only and not any(word in command.name for word in only):
                    continue
                user = (facts.coordinators if command.coordinator else facts.members)[0]
                one(driver, double, command, user, f"warm{n}", uploads)
                meter.start()
                one(driver, double, command, user, f"cost{n}", uploads)
                costs[command.name] = summarise(meter.stop())
                print(f"  {kind} {size} {command.name:<24} {_line(costs[command.name])}", flush=True)
        counter.dispose()
    return costs


def _line(cost: Cost) -> str:
    return (
        f"{cost.statements:4d} statements {cost.rows:7d} rows {cost.seconds * 1000:8.1f} ms "
        f"{cost.ksteps:7d} k steps"
    )


WIDTH = [160]


def args_width() -> int:
    return WIDTH[0]


def report(kind: str, by_size: dict[str, dict[str, Cost]], verbose: bool) -> None:
    sizes = list(by_size)
    print(f"\n{kind}: statements / k steps (SQLite) or ms (PostgreSQL) per screen")
    for name in by_size[sizes[0]]:
        cells = []
        for size in sizes:
            cost = by_size[size].get(name)
            if cost is None:
                cells.append(f"{'-':>22}")
                continue
            work = f"{cost.ksteps} k" if kind == "sqlite" else f"{cost.seconds * 1000:.0f} ms"
            cells.append(f"{cost.statements:>6} / {work:>12}")
        print(f"  {name:<24}" + "".join(f"{cell:>24}" for cell in cells))
        if verbose:
            top = by_size[sizes[-1]].get(name)
            for statement in top.top if top else []:
                sql = " ".join(statement.sql.split())[: args_width()]
                print(f"      {statement.ksteps:6d} k {statement.seconds * 1000:7.1f} ms  {sql}")
            for sql, times, ksteps in (top.grouped if top else [])[:6]:
                if times > 1:
                    print(f"      {times:4d} × {ksteps:6d} k  {sql[:150]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--sizes", default="small,large")
    parser.add_argument("--only", default="", help="only the commands whose names hold one of these words")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="the costliest statements at the last size"
    )
    parser.add_argument("--width", type=int, default=160, help="characters of each statement shown with -v")
    args = parser.parse_args()
    WIDTH[0] = args.width
    only = [word for word in args.only.split(",") if word]
    print(machine_notes())
    print(f"sqlite {sqlite3.sqlite_version}")
    workdir = Path(tempfile.mkdtemp(prefix="samen-bench-cost-"))
    for kind in args.db.split(","):
        by_size = {size: measure(kind, size, args.pg_url, only, workdir) for size in args.sizes.split(",")}
        report(kind, by_size, args.verbose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
