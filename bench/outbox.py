"""How fast urgent outbox messages leave: 100 messages to 100 channels, Slack answering in 100 ms.

    .venv/bin/python bench/outbox.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Queues the messages in one transaction (`bot.outbox.post_message`, priority URGENT) while a
`Dispatcher` configured as `samen worker` configures it runs in this process against a Slack double
with `set_latency(0.1)`, and measures from the commit to the first and to the last delivery.

Delivery time: the double records `Call.at` as the wall-clock time (time.time()) a request
*arrived*, before it sleeps the simulated latency; the message is posted when Slack answers, so a
delivery is `Call.at + latency`, compared with the wall-clock time right after the commit.

Lower bound: every channel gets one message, so Slack's ~1/s per-channel limit never binds; with
each call taking L and K calls in flight at once (the dispatcher's concurrency), n messages need at
least ceil(n/K) × L. With unlimited concurrency the bound would be L itself.

Targets: last delivery ≤ 1.5 × the bound; first delivery ≤ 1 s after the commit.

With a PostgreSQL URL the bench creates a throw-away database `samen_bench_<random>` on that server
(the URL's own database is only used to create and drop it) and drops it afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import (
    machine_notes,
    samen_env,
    slack_double,
    stop_on_sigterm,
    throwaway_postgres,
    verdict,
)  # also puts the repository on sys.path
from sqlalchemy import func
from sqlalchemy.engine import make_url
from sqlmodel import select

from bot.config import load_settings
from bot.db import upgrade
from bot.outbox import Priority, post_message
from bot.outbox.dispatcher import Dispatcher, DispatcherConfig
from bot.outbox.models import OutboxMessage, OutboxStatus
from bot.runtime import Services
from bot.slack.chat import SlackChat

RATIO_TARGET = 1.5
FIRST_TARGET_SECONDS = 1.0


@dataclass
class Timings:
    """Wall and CPU time of each step a message goes through in this process, to see where a slow
    run loses its time: the dispatcher's database steps, its Slack call, and the double itself
    (which runs in this process too, so its CPU competes for the same interpreter lock)."""

    wall: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    cpu: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    claimed: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, dispatcher: Dispatcher, double: Any) -> None:
        for name in ("claim_lanes", "_mark_sending", "_record_sent"):
            self._wrap(dispatcher, name, name.strip("_"))
        self._wrap(dispatcher.chat, "post", "chat_post")
        # The double's request handler: its CPU (the simulated latency is a sleep, not CPU).
        self._wrap(double, "_handle", "slack_double")

    def _wrap(self, owner: object, name: str, label: str) -> None:
        original = getattr(owner, name, None)
        if original is None:
            return

        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            result = original(*args, **kwargs)
            cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
            with self.lock:
                self.wall[label].append(wall)
                self.cpu[label].append(cpu)
                if label == "claim_lanes":
                    self.claimed.append(len(result))
            return result

        setattr(owner, name, timed)

    def reset(self) -> None:
        with self.lock:
            self.wall.clear()
            self.cpu.clear()
            self.claimed.clear()

    def summary(self, messages: int) -> list[str]:
        """One line per step: count, mean wall and CPU ms; then CPU per message in all."""
        with self.lock:
            lines = []
            total_cpu = 0.0
            for label, walls in self.wall.items():
                cpus = self.cpu[label]
                total_cpu += sum(cpus)
                lines.append(
                    f"{label:<16} ×{len(walls):<4} wall mean {statistics.fmean(walls) * 1000:6.1f} ms "
                    f"max {max(walls) * 1000:6.1f} ms; CPU mean {statistics.fmean(cpus) * 1000:5.2f} ms"
                )
            productive = [n for n in self.claimed if n]
            if productive:
                lines.append(
                    f"claims: {len(self.claimed)}, of which {len(self.claimed) - len(productive)} found "
                    f"nothing; lanes per productive claim {statistics.fmean(productive):.1f}"
                )
            lines.append(
                f"CPU per message in the steps above: {total_cpu / messages * 1000:.1f} ms (one interpreter: "
                f"at most {messages / total_cpu if total_cpu else math.inf:.0f} messages/s whatever K)"
            )
            return lines


@dataclass
class Run:
    first: float
    last: float
    all_sent_in_db: float
    max_in_flight: int
    cpu_per_message: float  # this process's CPU, all threads (the double's too), per message


@contextlib.contextmanager
def database(url: str | None) -> Iterator[str]:
    """The database to run on: a temporary SQLite file, a given SQLite URL, or a throw-away
    PostgreSQL database created beside the given URL's and dropped afterwards."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="samen-bench-outbox-") as directory:
            yield f"sqlite:///{Path(directory) / 'samen.db'}"
        return
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        yield url
        return
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    with throwaway_postgres(parsed.render_as_string(hide_password=False)) as throwaway:
        yield throwaway


def max_in_flight(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    return peak


def one_run(
    services: Services,
    double: Any,
    number: int,
    count: int,
    latency: float,
    timings: Timings,
    violations: list[str],
) -> Run:
    prefix = f"C0R{number:02d}N"
    channels = [f"{prefix}{i:04d}" for i in range(count)]
    # Every run against a fresh double: what it records would otherwise pile up in this process and
    # slow later runs (the garbage collector walks it all). Its rejections are kept first.
    violations.extend(double.violations)
    double.reset()
    double.set_latency(latency)
    timings.reset()
    cpu = time.process_time()
    with services.session() as session:
        for i, channel in enumerate(channels):
            message = {
                "text": f"Spoed: melding {number}-{i}",
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": f"*Spoed*: melding {number}-{i}"}}
                ],
            }
            post_message(
                session,
                key=f"bench:{number}:{i}",
                channel=channel,
                message=message,
                priority=Priority.URGENT,
            )
    committed = time.time()  # the dispatcher was woken by the commit, just before this line
    calls = double.wait_for(
        "chat.postMessage",
        predicate=lambda call: call.ok and str(call.args.get("channel", "")).startswith(prefix),
        count=count,
        timeout=60,
    )
    delivered = sorted(call.at + latency for call in calls)
    all_sent = _wait_all_sent(services, count, number, committed)
    cpu = time.process_time() - cpu
    return Run(
        first=delivered[0] - committed,
        last=delivered[-1] - committed,
        all_sent_in_db=all_sent,
        max_in_flight=max_in_flight([(call.at, call.at + latency) for call in calls]),
        cpu_per_message=cpu / count,
    )


def _wait_all_sent(services: Services, count: int, number: int, committed: float) -> float:
    """Seconds from the commit until every row of the run was marked sent in the database."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with services.session() as session:
            sent = session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.status == OutboxStatus.SENT,
                    OutboxMessage.key.startswith(f"bench:{number}:"),
                )
            ).one()
        if sent >= count:
            return time.time() - committed
        time.sleep(0.005)
    raise RuntimeError(f"run {number}: not every row was marked sent within 30 s")


def bench(args: argparse.Namespace, url: str) -> bool:
    upgrade(url)
    with slack_double() as double:
        overrides: dict[str, str] = samen_env(database_url=url, api_url=double.base_url)
        if args.concurrency is not None:
            overrides["SAMEN_OUTBOX_CONCURRENCY"] = str(args.concurrency)
        settings = load_settings(_env_file=None, **overrides)
        services = Services.build(settings)
        # Configured as bot.worker.Worker configures it for `samen worker`.
        config = DispatcherConfig(
            concurrency=settings.outbox_concurrency, lease_seconds=settings.outbox_lease_seconds
        )
        dispatcher = Dispatcher(services, SlackChat.for_services(services), config=config)
        timings = Timings()
        timings.wrap(dispatcher, double)
        violations: list[str] = []
        dispatcher.start()
        try:
            # One message first, not measured: imports, connections and caches are warm, as in a
            # worker that has been running; then the dispatcher is idle again, waiting to be woken.
            one_run(services, double, 0, 1, args.latency, timings, violations)
            time.sleep(0.5)
            concurrency = config.concurrency
            bound = math.ceil(args.messages / concurrency) * args.latency
            backend = make_url(url).get_backend_name()
            print(f"machine: {machine_notes()}")
            print(
                f"{args.messages} urgent messages to {args.messages} channels in one transaction "
                f"on {backend}; Slack latency {args.latency * 1000:.0f} ms per call; "
                f"dispatcher concurrency K={concurrency}"
            )
            print(
                f"lower bound: one message per channel, so the per-channel limit does not bind: "
                f"ceil({args.messages}/{concurrency}) × {args.latency * 1000:.0f} ms = {bound * 1000:.0f} ms "
                f"(with unlimited concurrency: {args.latency * 1000:.0f} ms)"
            )
            runs: list[Run] = []
            for number in range(1, args.runs + 1):
                run = one_run(services, double, number, args.messages, args.latency, timings, violations)
                runs.append(run)
                print(
                    f"run {number}: first delivery {run.first * 1000:5.0f} ms, "
                    f"last {run.last * 1000:5.0f} ms (ratio {run.last / bound:.2f}), "
                    f"all rows marked sent {run.all_sent_in_db * 1000:.0f} ms, "
                    f"max calls in flight {run.max_in_flight}, "
                    f"CPU {run.cpu_per_message * 1000:.1f} ms/message"
                )
                if args.verbose:
                    for line in timings.summary(args.messages):
                        print(f"       {line}")
                time.sleep(0.3)
        finally:
            dispatcher.stop()
            # The PostgreSQL LISTEN thread notices the stop within its 1 s poll; let it close its
            # connection before the engine goes (and before the throw-away database is dropped).
            listener = getattr(dispatcher, "_listener", None)
            if isinstance(listener, threading.Thread):
                listener.join(3)
            services.engine.dispose()
        violations.extend(double.violations)
    first = statistics.median(r.first for r in runs)
    last = statistics.median(r.last for r in runs)
    ratio = last / bound
    print(f"median of {len(runs)} runs: first {first * 1000:.0f} ms, last {last * 1000:.0f} ms")
    print(f"target last/bound ≤ {RATIO_TARGET}: {verdict(ratio <= RATIO_TARGET)} ({ratio:.2f})")
    print(
        f"target first delivery ≤ {FIRST_TARGET_SECONDS:.0f} s: "
        f"{verdict(first <= FIRST_TARGET_SECONDS)} ({first * 1000:.0f} ms)"
    )
    if violations:
        print(f"the Slack double rejected {len(violations)} call(s): {violations[:3]}")
    return ratio <= RATIO_TARGET and first <= FIRST_TARGET_SECONDS and not violations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file; PostgreSQL: see above")
    parser.add_argument("--messages", type=int, default=100, help="messages, one per channel")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds Slack takes per call")
    parser.add_argument("--concurrency", type=int, default=None, help="default: SAMEN_OUTBOX_CONCURRENCY's")
    parser.add_argument("--runs", type=int, default=3, help="measured runs (the median is judged)")
    parser.add_argument("-v", "--verbose", action="store_true", help="where each run's time went")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    if min(args.messages, args.runs) < 1 or args.latency <= 0:
        parser.error("--messages and --runs must be at least 1, --latency above 0")
    stop_on_sigterm()
    try:
        with database(args.database_url) as url:
            passed = bench(args, url)
    except KeyboardInterrupt:
        print("interrupted; dispatcher stopped, throw-away database dropped", file=sys.stderr)
        raise SystemExit(130) from None
    if args.strict and not passed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
