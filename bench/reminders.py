"""The reminder sweep costs what is due, not what exists: 1,000 and 100,000 interventions, 100 due.

    .venv/bin/python bench/reminders.py [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

For each database (a temporary SQLite file; a throw-away PostgreSQL database `samen_bench_<random>` on
the server of `--pg-url`, dropped afterwards, also on Ctrl-C) and each size, the bench fills a fresh,
migrated database with N interventions: 100 due now (a window today, `next_reminder_at` 09:00 today),
the others finished (no next reminder) or with their next reminder in the weeks ahead, as a real
partnership's table looks after a while. It then times `bot.interventions.reminders.sweep` — the job's
own function, in its own transaction, committing the 100 reminders it queues — `--runs` times (the
due rows and the queued reminders are put back between runs) and takes the median.

Target: median sweep time at 100,000 / at 1,000 ≤ 2, on each database. The 1,000-row run is the
baseline, measured in the same run on the same machine.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from _common import (  # also puts the repo on sys.path
    machine_notes,
    samen_env,
    stop_on_sigterm,
    throwaway_postgres,
    verdict,
)
from sqlalchemy import insert, text, update

from bot.authz import CLI_ACTOR
from bot.calendar import at_local
from bot.cases.models import Case
from bot.config import load_settings
from bot.db import upgrade
from bot.interventions import reminders
from bot.interventions.models import Intervention, InterventionStatus
from bot.outbox.models import OutboxMessage
from bot.partners import service as partners
from bot.partners.models import PartnerType
from bot.runtime import Services
from bot.vocabulary import FocusElement, InstrumentType

RATIO_TARGET = 2.0
DUE = 100
SIZES = (1_000, 100_000)
TEAM = "T0BENCH"
ZONE_NAME = "Europe/Amsterdam"
DAY = date(2027, 3, 2)  # a Tuesday, a working day
CHUNK = 5_000


@contextlib.contextmanager
def database(kind: str, pg_url: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="samen-bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    with throwaway_postgres(pg_url) as url:
        yield url


def fill(services: Services, size: int, now: datetime) -> list[int]:
    """N interventions, DUE of them due at `now`; the ids of the due ones."""
    zone = services.settings.timezone
    with services.session() as session:
        partner = partners.create_partner(
            session,
            actor=CLI_ACTOR,
            name="Gemeente Bench",
            partner_type=PartnerType.GEMEENTE,
            purpose="bench",
        )
        partners.add_member(
            session,
            actor=CLI_ACTOR,
            partner_id=partner.id or 0,
            team_id=TEAM,
            user_id="U0BENCH001",
            purpose="bench",
        )
        case = Case(
            title="C-BENCH",
            lead_partner_id=partner.id or 0,
            focus_element=FocusElement.OPROLLEN,
            created_by_team_id=TEAM,
            created_by_user_id="U0BENCH001",
        )
        session.add(case)
        session.flush()
        partner_id, case_id = partner.id or 0, case.id or 0
    nine = at_local(DAY, clock(9, 0), zone)
    rng = random.Random(size)
    due_positions = set(rng.sample(range(size), DUE))
    rows = []
    for position in range(size):
        common = {
            "case_id": case_id,
            "instrument_type": InstrumentType.BESTUURSRECHTELIJK.value,
            "instrument": f"Controle {position}",
            "focus_element": FocusElement.OPROLLEN.value,
            "owner_partner_id": partner_id,
            "owner_team_id": TEAM,
            "owner_user_id": "U0BENCH001",
            "round": 1,
            "window_has_time": True,
            "stale_stage": 0,
            "version": 1,
            "created_by_team_id": TEAM,
            "created_by_user_id": "U0BENCH001",
            "created_at": now - timedelta(days=3),
            "updated_at": now - timedelta(days=3),
        }
        if position in due_positions:
            rows.append(
                {
                    **common,
                    "status": InterventionStatus.GEPLAND.value,
                    "window_start": at_local(DAY, clock(14, 0), zone),
                    "next_reminder_at": nine,
                }
            )
        elif position % 5 < 3:
            rows.append(
                {
                    **common,
                    "status": InterventionStatus.UITGEVOERD.value,
                    "window_start": nine - timedelta(days=rng.randint(10, 400)),
                    "next_reminder_at": None,
                }
            )
        else:
            ahead = rng.randint(2, 60)
            rows.append(
                {
                    **common,
                    "status": InterventionStatus.GEPLAND.value,
                    "window_start": nine + timedelta(days=ahead, hours=5),
                    "next_reminder_at": nine + timedelta(days=ahead - 1),
                }
            )
    with services.engine.begin() as connection:
        for start in range(0, size, CHUNK):
            connection.execute(insert(Intervention), rows[start : start + CHUNK])
    with services.engine.connect() as connection:
        due_ids = [
            row[0]
            for row in connection.execute(
                text("SELECT id FROM intervention WHERE next_reminder_at <= :now ORDER BY id"), {"now": now}
            )
        ]
    if services.engine.dialect.name == "postgresql":
        with services.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
    assert len(due_ids) == DUE, len(due_ids)
    return due_ids


def reset(services: Services, due_ids: list[int], now: datetime) -> None:
    """Put the due rows back as they were before a sweep, and forget the reminders it queued."""
    nine = at_local(DAY, clock(9, 0), services.settings.timezone)
    with services.session() as session:
        session.execute(
            update(Intervention)
            .where(Intervention.id.in_(due_ids))  # type: ignore[union-attr]
            .values(next_reminder_at=nine, last_reminded_on=None)
        )
        session.execute(text("DELETE FROM outbox WHERE key LIKE 'reminder:%'"))
        session.execute(text("DELETE FROM outbox_lane"))


def measure(services: Services, due_ids: list[int], now: datetime, runs: int) -> list[float]:
    """The sweep's time, `runs` times after one unmeasured warm-up (a new engine compiles its queries)."""
    times = []
    for attempt in range(runs + 1):
        reset(services, due_ids, now)
        started = time.perf_counter()
        with services.session() as session:
            queued = reminders.sweep(session, services, now)
        if attempt:
            times.append(time.perf_counter() - started)
        assert queued == DUE, queued
    with services.engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM outbox WHERE key LIKE 'reminder:%'")
        ).scalar_one()
    assert count == DUE and OutboxMessage is not None
    return times


def run(kind: str, size: int, pg_url: str, runs: int) -> float:
    with database(kind, pg_url) as url:
        upgrade(url)
        settings = load_settings(
            _env_file=None, **samen_env(database_url=url, api_url="http://127.0.0.1:9/api/")
        )
        services = Services.build(settings)
        try:
            now = at_local(DAY, clock(9, 30), services.settings.timezone)
            filled = time.perf_counter()
            due_ids = fill(services, size, now)
            filled = time.perf_counter() - filled
            times = measure(services, due_ids, now, runs)
        finally:
            services.engine.dispose()
    median = statistics.median(times)
    print(
        f"  {kind:<10} {size:>7,} interventions, {DUE} due: sweep median {median * 1000:8.1f} ms "
        f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}; filled in {filled:.1f} s)"
    )
    return median


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    stop_on_sigterm()
    print(f"machine: {machine_notes()}")
    print(f"reminder sweep: {DUE} due among 1,000 and 100,000 interventions, median of {args.runs} runs")
    ok = True
    for kind in ("sqlite", *(() if args.no_pg else ("postgresql",))):
        small, large = (run(kind, size, args.pg_url, args.runs) for size in SIZES)
        ratio = large / small
        passed = ratio <= RATIO_TARGET
        ok &= passed
        print(f"  {kind:<10} ratio 100k / 1k = {ratio:.2f} (target ≤ {RATIO_TARGET}): {verdict(passed)}")
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
