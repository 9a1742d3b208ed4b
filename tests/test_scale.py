"""Scale out, not up: 2 `samen serve` and 3 `samen worker` processes on one PostgreSQL database.

A government cluster runs several replicas of each for availability. Whatever process a request or a
message lands on, every effect must happen exactly once: each command answered, each event handled
once even when Slack retries it at the other web process, each alert and reminder delivered once
although three workers compete for them. The figures (requests per second, p99 ack, delivery lag) are
printed for the record (docs/operations.md, "Scaling").
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import BOT_TOKEN, ENCRYPTION_KEY, RESTRICTED_MARKER, SIGNING_SECRET
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.authz import CLI_ACTOR
from bot.clock import utcnow
from bot.db import make_engine, upgrade
from bot.outbox import Priority, post_message, send_dm
from bot.outbox.models import OutboxMessage, OutboxStatus, ProcessedEvent
from bot.partners import service as partners
from bot.partners.models import PartnerType
from slackdouble import SlackDouble, SlackDriver, visible_text

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SAMEN = str(Path(sys.executable).with_name("samen"))
WEB, WORKERS = 2, 3
COMMANDS, EVENTS, RETRIED_EVENTS = 240, 60, 20
ALERTS, ALERT_CHANNELS, REMINDERS = 150, 50, 90
CLIENTS = 8  # requests in flight at once from "Slack"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round((len(ordered) - 1) * p / 100))]


@contextlib.contextmanager
def processes(
    commands: list[list[str]], env: dict[str, str], logs: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    try:
        for index, args in enumerate(commands):
            with (logs / f"{index}-{args[0]}.log").open("wb") as out:
                started.append(
                    subprocess.Popen([SAMEN, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
                )
        yield started
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_two_web_and_three_worker_processes_do_everything_exactly_once(
    pg_url: str, slack_double: SlackDouble, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    upgrade(pg_url)
    engine = make_engine(pg_url)
    coordinator = "U0RUUD001"
    with Session(engine) as session:
        riec = partners.create_partner(
            session, actor=CLI_ACTOR, name="RIEC Rotterdam", partner_type=PartnerType.RIEC, purpose="set-up"
        )
        assert riec.id is not None
        partners.add_member(
            session,
            actor=CLI_ACTOR,
            partner_id=riec.id,
            team_id="T0SAMEN",
            user_id=coordinator,
            purpose="set-up",
        )
        session.commit()

    web_ports = [free_port() for _ in range(WEB)]
    metrics_ports = [free_port() for _ in range(WORKERS)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMEN_", "PROMETHEUS_"))}
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack_double.base_url,
        SAMEN_ENCRYPTION_KEY=ENCRYPTION_KEY,
        DATABASE_URL=pg_url,
        SAMEN_OUTBOX_CONCURRENCY="8",
        SAMEN_OUTBOX_LEASE_SECONDS="10",
    )
    commands = [
        ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--threads", "8"]
        for port in web_ports
    ] + [["worker", "--metrics-host", "127.0.0.1", "--metrics-port", str(port)] for port in metrics_ports]

    with processes(commands, env, tmp_path) as running:
        deadline = time.monotonic() + 40
        urls = [f"http://127.0.0.1:{p}/readyz" for p in web_ports + metrics_ports]
        while not all(answers(url) for url in urls):
            assert time.monotonic() < deadline, "the processes did not become ready: " + _logs(tmp_path)
            assert all(p.poll() is None for p in running), "a process exited: " + _logs(tmp_path)
            time.sleep(0.2)

        drivers = [
            SlackDriver(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET, double=slack_double)
            for port in web_ports
        ]
        # Warm-up, not measured: each gunicorn thread's first request builds what it caches.
        with ThreadPoolExecutor(CLIENTS) as pool:
            warm = [pool.submit(d.command, "/samen", "help", user=coordinator) for d in drivers * CLIENTS * 2]
            assert all(future.result().status == 200 for future in warm)
        acks: list[float] = []
        statuses: Counter[int] = Counter()
        texts: list[str] = []
        lock = threading.Lock()

        def timed(call: object) -> None:
            started = time.perf_counter()
            response = call()  # type: ignore[operator]
            elapsed = time.perf_counter() - started
            with lock:
                acks.append(elapsed)
                statuses[response.status] += 1
                if response.body.startswith("{"):
                    texts.append(visible_text(response.json().get("blocks") or []))

        requests = []
        for n in range(COMMANDS):
            driver = drivers[n % WEB]
            words = "help" if n % 4 else "partner"
            requests.append(lambda d=driver, w=words: d.command("/samen", w, user=coordinator))
        for n in range(EVENTS):
            event = {
                "type": "app_home_opened",
                "user": f"U0HOME{n:04d}",
                "channel": f"D0HOME{n:04d}",
                "tab": "home",
            }
            requests.append(lambda d=drivers[n % WEB], e=event, i=f"Ev{n:08d}": d.event(e, event_id=i))
        for n in range(RETRIED_EVENTS):
            # Slack retries an event it thinks went unanswered; the retry lands on the other web process.
            event = {
                "type": "app_home_opened",
                "user": f"U0HOME{n:04d}",
                "channel": f"D0HOME{n:04d}",
                "tab": "home",
            }
            requests.append(
                lambda d=drivers[(n + 1) % WEB], e=event, i=f"Ev{n:08d}": d.event(e, event_id=i, retry_num=1)
            )
        requests = requests[::2] + requests[1::2]  # interleave commands and events

        queued: dict[str, float] = {}  # outbox key → when it became due (commit or not_before), epoch

        def queue_messages() -> None:
            """Alerts (urgent, to channels) and reminders (due a few seconds later, in DMs), in small
            transactions while the requests come in, as features queue them."""
            batch: list[tuple[str, str, str, Priority, float]] = []
            for n in range(ALERTS):
                batch.append(
                    (f"alert-{n}", f"C0ALERT{n % ALERT_CHANNELS:03d}", "channel", Priority.URGENT, 0.0)
                )
            for n in range(REMINDERS):
                batch.append((f"reminder-{n}", f"U0REMIND{n % 30:03d}", "dm", Priority.NORMAL, 1 + n % 4))
            for start in range(0, len(batch), 10):
                with Session(engine) as session:
                    due: dict[str, float] = {}
                    for key, target, kind, priority, delay in batch[start : start + 10]:
                        message = {"text": f"[{key}] bericht"}
                        not_before = utcnow() + timedelta(seconds=delay)
                        if kind == "channel":
                            post_message(session, key=key, channel=target, message=message, priority=priority)
                        else:
                            send_dm(session, key=key, user_id=target, message=message, not_before=not_before)
                        due[key] = delay
                    session.commit()
                    committed = time.time()
                queued.update({key: committed + delay for key, delay in due.items()})
                time.sleep(0.05)

        began = time.perf_counter()
        queuer = threading.Thread(target=queue_messages)
        queuer.start()
        with ThreadPoolExecutor(CLIENTS) as pool:
            for future in [pool.submit(timed, request) for request in requests]:
                future.result()
        load_seconds = time.perf_counter() - began
        queuer.join()

        deadline = time.monotonic() + 45
        with Session(engine) as session:
            while True:
                pending = session.exec(
                    select(func.count()).where(col(OutboxMessage.status) == OutboxStatus.PENDING)
                ).one()
                if pending == 0:
                    break
                assert time.monotonic() < deadline, f"{pending} messages still pending"
                time.sleep(0.2)
                session.expire_all()
        slack_double.wait_for("views.publish", count=EVENTS, timeout=20)
        drained_seconds = time.perf_counter() - began
        deliveries = _scrape_deliveries(metrics_ports)

    # Every command was answered, inside Slack's 3 seconds.
    assert statuses == Counter({200: COMMANDS + EVENTS + RETRIED_EVENTS}), statuses
    assert sum("Wat Samen kan" in text for text in texts) == COMMANDS - COMMANDS // 4
    assert max(acks) < 3.0
    # Every event had its effect once, retries or not, whichever process they reached.
    published = Counter(call.args["user_id"] for call in slack_double.delivered("views.publish"))
    assert published == Counter({f"U0HOME{n:04d}": 1 for n in range(EVENTS)})
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(ProcessedEvent)).one() == EVENTS
        failed = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.status) != OutboxStatus.SENT)
        ).all()
        assert failed == []
    # Every alert and reminder arrived once.
    posted = Counter(
        match.group(1)
        for call in slack_double.delivered("chat.postMessage")
        if (match := re.match(r"\[([a-z]+-\d+)\]", str(call.args.get("text", ""))))
    )
    assert posted == Counter({key: 1 for key in queued})
    # The three workers shared the work (their own /metrics say how much each sent).
    assert sum(deliveries) == len(queued)
    assert sum(1 for count in deliveries if count > 0) >= 2, deliveries
    # Logs as an operator's collector would get them: no secret, no restricted text.
    for log in tmp_path.glob("*.log"):
        text = log.read_text(errors="replace")
        for secret in (BOT_TOKEN, SIGNING_SECRET, ENCRYPTION_KEY, RESTRICTED_MARKER):
            assert secret not in text, f"{log.name} holds {secret[:12]}…"

    # Lag: from the moment a message was due (committed, or its not_before) to its arrival at Slack. A
    # channel takes one message a second, so the first message per channel shows the dispatcher's own
    # delay, the others also Slack's rate limit.
    lags, first_per_lane = [], {}
    for call in slack_double.delivered("chat.postMessage"):
        match = re.match(r"\[([a-z]+-\d+)\]", str(call.args.get("text", "")))
        if match:
            lag = max(0.0, call.at - queued[match.group(1)])
            lags.append(lag)
            first_per_lane.setdefault(call.args["channel"], lag)
    first = list(first_per_lane.values())
    total = COMMANDS + EVENTS + RETRIED_EVENTS
    with capsys.disabled():
        print(
            f"\nscale: {WEB} serve + {WORKERS} worker processes, one PostgreSQL; {total} Slack requests "
            f"({COMMANDS} commands, {EVENTS} events, {RETRIED_EVENTS} retries) at {CLIENTS} in flight, "
            f"{len(queued)} outbox messages ({ALERTS} urgent alerts to {ALERT_CHANNELS} channels, "
            f"{REMINDERS} reminders in DMs)\n"
            f"scale: {total / load_seconds:.0f} requests/s; ack p50 {percentile(acks, 50) * 1000:.0f} ms, "
            f"p99 {percentile(acks, 99) * 1000:.0f} ms, max {max(acks) * 1000:.0f} ms\n"
            f"scale: delivery lag p50 {percentile(lags, 50) * 1000:.0f} ms, "
            f"p99 {percentile(lags, 99) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms; "
            f"first message per channel p50 {percentile(first, 50) * 1000:.0f} ms, "
            f"p99 {percentile(first, 99) * 1000:.0f} ms\n"
            f"scale: deliveries per worker {deliveries}; all done in {drained_seconds:.1f} s"
        )
    engine.dispose()


def _scrape_deliveries(ports: list[int]) -> list[int]:
    counts = []
    for port in ports:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
        counts.append(
            int(
                sum(
                    float(line.rsplit(" ", 1)[1])
                    for line in text.splitlines()
                    if line.startswith("samen_outbox_deliveries_total{")
                )
            )
        )
    return counts


def _logs(directory: Path) -> str:
    return "\n".join(
        f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        for log in sorted(directory.glob("*.log"))
    )
