"""Resident memory of `samen run` (Socket Mode) and `samen worker`, idle and under repeated load.

Starts both against a Slack double in this process and a throw-away SQLite database, lets them settle,
measures their resident set size (RSS, from /proc). Then a digest with charts: the worker posts the
weekly digest (SAMEN_DIGEST_AT set to a minute just after start-up) and a member asks `samen run` for
`/samen overzicht`; both draw the two charts; measured again once they are sent and the processes are
idle. Then rounds of mixed load — slash commands and App Home events over the Socket Mode connection,
alerts and reminders queued in the outbox, which both processes send — measured after each round (what
load leaves resident, e.g. the date and phone-number parsers loaded on first use, is reported; growth
over the counted rounds is the target). A baseline measured in
the same run: a bare Python that imports the same third-party stack (Bolt, slack_sdk, SQLAlchemy/SQLModel,
pydantic, Jinja2, APScheduler, structlog, prometheus_client, psycopg) and does nothing.

Targets: each process ≤ 90 MB RSS when idle and after a digest; no growth over repeated load rounds (the
last round's RSS within 4 MB of the first's).

    .venv/bin/python bench/memory.py [--rounds 3] [--seconds 20] [--rate 20] [--strict] [--keep-logs]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from _common import (
    ROOT,
    child_env,
    free_port,
    http_ok,
    machine_notes,
    samen_env,
    slack_double,
    start_process,
    stop_on_sigterm,
    stop_process,
    verdict,
    wait_until,
)

IDLE_TARGET_MB = 90.0
GROWTH_TARGET_MB = 4.0
APP_TOKEN = "xapp-1-A0SAMEN-1-bench"
DIGEST_CHANNEL = "C0MEMDIGEST"
MEMBER = "U0MEMBER01"
# A partner with one member (who asks for the overview) and the weekly digest's channel.
PARTNERSHIP = """\
team: {team}
partners:
  - name: Gemeente Rotterdam
    type: GEMEENTE
    capacity: 20
    members:
      - {{user: {member}, role: coordinator, name: Meta}}
"""
SAMEN = str(Path(sys.executable).with_name("samen"))
BASELINE = (
    "import slack_bolt, slack_sdk, sqlalchemy, sqlmodel, pydantic, pydantic_settings, jinja2, apscheduler, "
    "structlog, prometheus_client, psycopg, typer; import time; print('ready', flush=True); time.sleep(600)"
)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (gunicorn-style trees), in MB."""
    total = 0.0
    for process in [pid, *_children(pid)]:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{process}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
    return total


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                found += [int(child), *_children(int(child))]
    return found


def settle(pids: dict[str, int], seconds: float = 3.0) -> dict[str, float]:
    """RSS after `seconds` of quiet: the largest of a few samples, so that a collection in between
    does not flatter the figure."""
    time.sleep(seconds)
    samples = [{name: rss_mb(pid) for name, pid in pids.items()} for _ in range(3) if not time.sleep(0.3)]
    return {name: max(sample[name] for sample in samples) for name in pids}


def pending(database_url: str) -> int:
    from sqlalchemy import func, select

    from bot.db import make_engine
    from bot.outbox.models import OutboxMessage, OutboxStatus

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            query = select(func.count()).where(OutboxMessage.status == OutboxStatus.PENDING)  # type: ignore[arg-type]
            return int(connection.execute(query).scalar_one())
    finally:
        engine.dispose()


def seed_a_digest(database_url: str, team: str) -> None:
    """A partner, a case, and interventions carried out in each of the last eight weeks (two still
    open): last week's digest has both charts."""
    from sqlmodel import Session

    from bot.authz import CLI_ACTOR
    from bot.cases.models import Case
    from bot.clock import utcnow
    from bot.db import make_engine
    from bot.interventions.models import Intervention, InterventionStatus
    from bot.partners.importer import import_partners
    from bot.partners.service import require_partner
    from bot.vocabulary import FocusElement, InstrumentType

    engine = make_engine(database_url)
    now = utcnow()
    with Session(engine) as session:
        source = PARTNERSHIP.format(team=team, member=MEMBER)
        import_partners(session, actor=CLI_ACTOR, source=source, purpose="memory bench")
        session.commit()
    with Session(engine) as session:
        partner = require_partner(session, name="Gemeente Rotterdam").id
        assert partner is not None
        who = {"created_by_team_id": team, "created_by_user_id": MEMBER}
        case = Case(title="Loods", lead_partner_id=partner, focus_element=FocusElement.OPROLLEN, **who)
        session.add(case)
        session.flush()
        for weeks_ago, focus in zip(range(1, 11), itertools.cycle(FocusElement), strict=False):
            session.add(
                Intervention(
                    case_id=case.id,  # type: ignore[arg-type]
                    instrument_type=InstrumentType.BESTUURSRECHTELIJK,
                    instrument="Sluiting loods",
                    focus_element=focus,
                    owner_partner_id=partner,
                    owner_team_id=team,
                    owner_user_id=MEMBER,
                    status=InterventionStatus.UITGEVOERD if weeks_ago < 9 else InterventionStatus.GEPLAND,
                    done_at=now - timedelta(weeks=weeks_ago) if weeks_ago < 9 else None,
                    created_at=now - timedelta(weeks=weeks_ago + 1),
                    updated_at=now - timedelta(weeks=weeks_ago),
                    **who,
                )
            )
        session.commit()
    engine.dispose()


def digest_at(after_seconds: float, zone: str = "Europe/Amsterdam") -> str:
    """SAMEN_DIGEST_AT for the first whole minute at least `after_seconds` from now, e.g. "mon 14:05"."""
    moment = datetime.now(UTC).astimezone(ZoneInfo(zone)) + timedelta(seconds=after_seconds + 60)
    return f"{moment.strftime('%a').lower()} {moment.hour:02d}:{moment.minute:02d}"


def drive(double: object, database_url: str, *, seconds: float, rate: float, round_no: int) -> dict[str, int]:
    """One round of mixed load: commands and events over the websocket, messages through the outbox."""
    from sqlmodel import Session

    from bot.clock import utcnow
    from bot.db import make_engine
    from bot.outbox import Priority, post_message, send_dm
    from slackdouble import Payloads

    payloads = Payloads(double=double)  # type: ignore[arg-type]
    socket = double.socket  # type: ignore[attr-defined]
    counts = {"commands": 0, "events": 0, "messages": 0}
    engine = make_engine(database_url)
    stop = threading.Event()

    def queue_messages() -> None:
        n = itertools.count()
        while not stop.is_set():
            with Session(engine) as session:
                for _ in range(5):
                    i = next(n)
                    key = f"r{round_no}-m{i}"
                    if i % 2:
                        post_message(
                            session,
                            key=key,
                            channel=f"C0MEM{i % 40:03d}",
                            message={"text": f"alarm {key}"},
                            priority=Priority.URGENT,
                        )
                    else:
                        send_dm(
                            session,
                            key=key,
                            user_id=f"U0MEM{i % 40:03d}",
                            message={"text": f"herinnering {key}"},
                            not_before=utcnow() + timedelta(seconds=1),
                        )
                    counts["messages"] += 1
                session.commit()
            stop.wait(1.0)

    queuer = threading.Thread(target=queue_messages, daemon=True)
    queuer.start()
    deadline = time.monotonic() + seconds
    for i in itertools.count():
        if time.monotonic() >= deadline:
            break
        user = f"U0LOAD{i % 50:04d}"
        if i % 3 == 2:
            event = {"type": "app_home_opened", "user": user, "channel": f"D0L{i % 50:04d}", "tab": "home"}
            socket.send("events_api", payloads.event_callback(event, event_id=f"Ev{round_no}x{i:07d}"))
            counts["events"] += 1
        else:
            socket.send(
                "slash_commands", payloads.command("/samen", "help" if i % 2 else "partner", user=user)
            )
            counts["commands"] += 1
        time.sleep(1.0 / rate)
    stop.set()
    queuer.join()
    engine.dispose()
    return counts


def after_a_digest(double: object, pids: dict[str, int]) -> dict[str, float]:
    """The member asks `samen run` for `/samen overzicht` (charts to their DM); the worker posts the weekly
    digest at its minute. RSS once all four charts are uploaded and the processes were quiet again."""
    from slackdouble import Payloads

    socket = double.socket  # type: ignore[attr-defined]
    socket.send("slash_commands", Payloads(double=double).command("/samen", "overzicht", user=MEMBER))  # type: ignore[arg-type]

    def uploaded() -> int:
        return len(double.delivered("files.completeUploadExternal"))  # type: ignore[attr-defined]

    wait_until(lambda: uploaded() >= 4, timeout=240, what="the digest's and the overview's charts")
    after = settle(pids, seconds=40.0)  # past bot/memory.py's half-minute release
    print(
        f"after a digest with charts ({uploaded()} uploaded): samen run {after['samen run']:.1f} MB, "
        f"samen worker {after['samen worker']:.1f} MB"
    )
    return after


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="load rounds that count (default 3)")
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="load rounds first that do not count (default 1): a process's first real work fills its "
        "caches and starts its thread pools, which is not growth",
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per round (default 20)")
    parser.add_argument("--rate", type=float, default=20.0, help="Slack requests per second (default 20)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs")
    args = parser.parse_args()
    stop_on_sigterm()
    print(f"machine: {machine_notes()}")

    from bot.db import upgrade
    from slackdouble import Payloads

    workdir = Path(tempfile.mkdtemp(prefix="samen-memory-"))
    database_url = f"sqlite:///{workdir / 'samen.db'}"
    upgrade(database_url)
    processes = {}
    try:
        with slack_double() as double:
            env = child_env(**samen_env(database_url=database_url, api_url=double.base_url))
            env.pop("PROMETHEUS_MULTIPROC_DIR", None)
            team = Payloads(double=double).team_id
            seed_a_digest(database_url, team)
            double.add_channel(DIGEST_CHANNEL, "samen")
            double.add_user(MEMBER, team_id=team, locale="nl-NL", tz="Europe/Amsterdam")
            env["SAMEN_PARTNERSHIP_CHANNEL"] = DIGEST_CHANNEL
            # Only the worker posts the weekly digest (samen run schedules it too, on its default day).
            weekly = digest_at(after_seconds=30)
            run_port, worker_port = free_port(), free_port()
            processes["baseline"] = start_process(
                [sys.executable, "-c", BASELINE], env=env, cwd=ROOT, log=workdir / "baseline.log"
            )
            processes["samen run"] = start_process(
                [SAMEN, "run", "--metrics-host", "127.0.0.1", "--metrics-port", str(run_port)],
                env={**env, "SLACK_APP_TOKEN": APP_TOKEN},
                cwd=ROOT,
                log=workdir / "run.log",
            )
            processes["samen worker"] = start_process(
                [SAMEN, "worker", "--metrics-host", "127.0.0.1", "--metrics-port", str(worker_port)],
                env={**env, "SAMEN_DIGEST_AT": weekly},
                cwd=ROOT,
                log=workdir / "worker.log",
            )
            wait_until(
                lambda: "ready" in (workdir / "baseline.log").read_text(),
                timeout=60,
                what="the baseline",
                process=processes["baseline"],
            )
            for name, port in (("samen run", run_port), ("samen worker", worker_port)):
                log = workdir / ("run.log" if name == "samen run" else "worker.log")
                wait_until(
                    lambda port=port: http_ok(f"http://127.0.0.1:{port}/readyz"),
                    timeout=60,
                    what=name,
                    process=processes[name],
                    log=log,
                )
            double.socket.wait_connected(timeout=30)
            pids = {name: process.pid for name, process in processes.items()}
            idle = settle(pids, seconds=5.0)
            print(
                f"idle:     samen run {idle['samen run']:.1f} MB, "
                f"samen worker {idle['samen worker']:.1f} MB; "
                f"baseline (the stack imported, nothing else) {idle['baseline']:.1f} MB"
            )
            # The state "idle, also after a digest with charts has been drawn": a process that has
            # drawn one and is idle again, before the load rounds (what load itself leaves is reported below).
            print(f"the worker posts the weekly digest at {weekly} (Europe/Amsterdam)")
            digest = after_a_digest(double, pids)
            rounds: list[dict[str, float]] = []
            for round_no in range(1 - args.warmup, args.rounds + 1):
                counts = drive(double, database_url, seconds=args.seconds, rate=args.rate, round_no=round_no)
                wait_until(lambda: pending(database_url) == 0, timeout=60, what="the outbox to drain")
                after = settle(pids)
                if round_no >= 1:
                    rounds.append(after)
                label = f"round {round_no}: " if round_no >= 1 else "warm-up:  "
                print(
                    f"{label} samen run {after['samen run']:.1f} MB, "
                    f"samen worker {after['samen worker']:.1f} MB "
                    f"({counts['commands']} commands, {counts['events']} events, "
                    f"{counts['messages']} messages)"
                )
            delivered = len(double.delivered("chat.postMessage"))
            violations = len(double.violations)
    finally:
        for process in processes.values():
            stop_process(process)

    results = []
    print(f"delivered {delivered} messages; the double saw {violations} violation(s)")
    for name in ("samen run", "samen worker"):
        ok_idle = idle[name] <= IDLE_TARGET_MB
        ok_digest = digest[name] <= IDLE_TARGET_MB
        growth = rounds[-1][name] - rounds[0][name]
        ok_growth = growth <= GROWTH_TARGET_MB
        results += [ok_idle, ok_digest, ok_growth]
        print(
            f"{verdict(ok_idle)} {name} idle {idle[name]:.1f} MB ≤ {IDLE_TARGET_MB:.0f} MB "
            f"({idle[name] / idle['baseline']:.2f} × baseline)"
        )
        print(
            f"{verdict(ok_digest)} {name} after a digest with charts {digest[name]:.1f} MB "
            f"≤ {IDLE_TARGET_MB:.0f} MB ({digest[name] / idle['baseline']:.2f} × baseline)"
        )
        print(
            f"{verdict(ok_growth)} {name} growth from round 1 to round {len(rounds)}: {growth:+.1f} MB "
            f"≤ {GROWTH_TARGET_MB:.0f} MB (after load {rounds[-1][name] / idle['baseline']:.2f} × baseline)"
        )
    if args.keep_logs:
        print(f"logs: {workdir}")
    else:
        for log in workdir.iterdir():
            log.unlink()
        with contextlib.suppress(OSError):
            os.rmdir(workdir)
    return 1 if args.strict and not all(results) else 0


if __name__ == "__main__":
    sys.exit(main())
