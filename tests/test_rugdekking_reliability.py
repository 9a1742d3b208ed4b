"""Rugdekking must be the most reliable part of Samen: nothing the partners need is ever lost or doubled.

- Acknowledged to Slack means committed: the web process may die right after, the fan-out completes when
  a worker runs.
- Slack's 429s and 5xx during the fan-out delay a message, never lose it.
- Two workers sending escalations send each one once; a worker killed mid fan-out is taken over.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BOT_TOKEN, ENCRYPTION_KEY, SIGNING_SECRET, make_settings
from harness import Partnership
from rugdekking_support import (
    BOARD,
    FATIMA,
    HANS,
    ILSE,
    MARLEEN,
    OMAR,
    POLITIE_CHANNEL,
    RIEC_CHANNEL,
    TEAM,
    click,
    dispatcher,
    raise_with_form,
    set_up_partnership,
    start_bot,
    text_of,
)
from slack_sdk import WebClient
from sqlmodel import col, func, select

from bot.clock import utcnow
from bot.db import make_engine
from bot.outbox.dispatcher import Dispatcher, DispatcherConfig
from bot.outbox.models import OutboxMessage, OutboxStatus
from bot.runtime import Services
from bot.slack.chat import SlackChat
from slackdouble import SlackDouble

SAMEN = str(Path(sys.executable).with_name("samen"))


@pytest.fixture
def slack(sqlite_url: str, slack_double: SlackDouble) -> Iterator[Partnership]:
    for bot in start_bot(sqlite_url, slack_double):
        set_up_partnership(bot.services)
        yield bot


@pytest.fixture
def slack_on(database_url: str, slack_double: SlackDouble) -> Iterator[Partnership]:
    for bot in start_bot(database_url, slack_double):
        set_up_partnership(bot.services)
        yield bot


def due_pending(services: Services) -> int:
    with services.session() as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.status == OutboxStatus.PENDING, col(OutboxMessage.not_before) <= utcnow()
                )
            ).one()
        )


def failed(services: Services) -> list[tuple[str, str | None]]:
    with services.session() as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)).all()
        return [(row.key, row.last_error) for row in rows]


def wait_until_all_due_sent(services: Services, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while due_pending(services):
        assert time.monotonic() < deadline, (
            f"{due_pending(services)} due messages still unsent after {timeout}s"
        )
        time.sleep(0.05)


def test_acknowledged_means_committed_the_fan_out_completes_when_a_worker_runs(
    slack: Partnership, sqlite_url: str
) -> None:
    answer = raise_with_form(slack)
    assert answer["response_action"] == "update"  # Slack heard "ok" …
    # … and the web process dies right after: no worker ever ran in it.
    slack.services.engine.dispose()
    assert slack.double.calls_to("chat.postMessage") == []

    # Another process, later: a worker on the same database finishes the fan-out.
    services = Services.build(
        make_settings(sqlite_url, api_url=slack.double.base_url, SAMEN_PARTNERSHIP_CHANNEL=BOARD),
        engine=make_engine(sqlite_url),
    )
    client = WebClient(token=BOT_TOKEN, base_url=slack.double.base_url, retry_handlers=[])
    worker = Dispatcher(
        services,
        SlackChat(client),
        config=DispatcherConfig(concurrency=8, lane_interval=0, poll_seconds=0.05),
    )
    worker.start()
    try:
        wait_until_all_due_sent(services, timeout=10)
    finally:
        worker.stop()
        services.engine.dispose()
    for channel in (BOARD, POLITIE_CHANNEL, RIEC_CHANNEL):
        assert len(slack.double.messages_in(channel)) == 1
    for person in (MARLEEN, HANS, FATIMA, OMAR):
        assert any("Rugdekking RD-1" in text_of(m) for m in slack.double.messages_to(person.user_id))


@pytest.mark.allow_slack_violations  # the double answers 429 to posts faster than 1/s per channel
def test_429_storms_and_server_errors_delay_the_fan_out_but_lose_nothing(slack: Partnership) -> None:
    slack.double.enforce_channel_rate(per_second=1.0, burst=1)
    slack.double.fail_rate(0.35, statuses=(429, 500, 503), retry_after=1, seed=11)
    running = dispatcher(slack)
    running.start()
    try:
        raise_with_form(slack, level="MIDDEN")
        # Partners acknowledge while the storm goes on: the board keeps its order of versions.
        slack.double.wait_for(
            "chat.postMessage", lambda c: c.ok and c.args["channel"] == POLITIE_CHANNEL, timeout=20
        )
        click(slack, "rugdekking_ack", HANS, channel=POLITIE_CHANNEL)
        slack.double.wait_for(
            "chat.postMessage", lambda c: c.ok and c.args["channel"] == RIEC_CHANNEL, timeout=20
        )
        click(slack, "rugdekking_ack", FATIMA, channel=RIEC_CHANNEL)
        wait_until_all_due_sent(slack.services, timeout=40)
    finally:
        running.stop()
    attempts = slack.double.calls_to("chat.postMessage") + slack.double.calls_to("chat.update")
    assert any(c.status == 429 for c in attempts) and any(c.status >= 500 for c in attempts)
    assert failed(slack.services) == []
    # Every message arrived exactly once, and the board is the one message, in its latest version.
    delivered = Counter(
        (c.args["channel"], c.args["text"]) for c in slack.double.delivered("chat.postMessage")
    )
    assert max(delivered.values()) == 1, [k for k, n in delivered.items() if n > 1]
    [board] = slack.double.messages_in(BOARD)
    shown = text_of(board)
    assert "✅ *Politie Zeeland-West-Brabant*" in shown and "✅ *RIEC Zeeland-West-Brabant*" in shown
    for person in (MARLEEN, HANS, FATIMA, OMAR):
        alerts = [m for m in slack.double.messages_to(person.user_id) if "vraagt alle partners" in text_of(m)]
        assert len(alerts) == 1, person


def test_two_workers_send_each_escalation_once(slack_on: Partnership) -> None:
    bot = slack_on
    raise_with_form(bot, level="MIDDEN")
    dispatcher(bot).run_until_idle()
    click(bot, "rugdekking_ack", HANS, channel=POLITIE_CHANNEL)
    bot.later(minutes=30)  # T1, T2, T3 and the safety check are all due at once
    with bot.services.session() as session:
        expected = session.exec(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                col(OutboxMessage.ref).like("rugdekking:%:escalation"),
            )
        ).one()
    assert expected > 0
    workers = [dispatcher(bot, worker_id=f"w{i}") for i in range(2)]
    for worker in workers:
        worker.start()
    try:
        wait_until_all_due_sent(bot.services, timeout=20)
    finally:
        for worker in workers:
            worker.stop()
    escalations = [c for c in bot.double.delivered("chat.postMessage") if c.args["text"].startswith("⏰")]
    assert len(escalations) == expected
    assert max(Counter((c.args["channel"], c.args["text"]) for c in escalations).values()) == 1
    assert not any("Politie Zeeland-West-Brabant" in c.args["text"] for c in escalations)
    assert not [c for c in escalations if c.args["channel"] in (HANS.user_id, ILSE.user_id)]


# --- a real worker process, killed with SIGKILL in the middle of the fan-out ---------------------------

PARTNERS = 12


def big_partnership() -> str:
    lines = [f"team: {TEAM}", "partners:"]
    for p in range(PARTNERS):
        users = [f"U0P{p:02d}U{u}" for u in range(3)]
        lines += [
            f"  - name: Partner {p:02d}",
            "    type: GEMEENTE",
            f"    alert_channel: C0PART{p:02d}",
            f"    lead: {users[0]}",
            f"    duty_contacts: [{users[0]}, {users[1]}]",
            "    members:",
            *[
                f"      - {{user: {user}{', role: coordinator' if p == 0 and u == 0 else ''}}}"
                for u, user in enumerate(users)
            ],
        ]
    return "\n".join(lines) + "\n"


def start_worker(database_url: str, double: SlackDouble) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMEN_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": double.base_url,
        "DATABASE_URL": database_url,
        "SAMEN_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "SAMEN_PARTNERSHIP_CHANNEL": BOARD,
        "SAMEN_OUTBOX_CONCURRENCY": "2",
        "SAMEN_OUTBOX_LEASE_SECONDS": "2",
    }
    return subprocess.Popen([SAMEN, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_a_worker_killed_during_the_fan_out_is_taken_over_and_nobody_is_left_out(
    sqlite_url: str, slack_double: SlackDouble
) -> None:
    for bot in start_bot(sqlite_url, slack_double):
        set_up_partnership(bot.services, big_partnership())
        member = "U0P03U2"
        answer = bot.driver.command("/rugdekking", "nu", user=member, team=TEAM)
        assert "verstuurd" in answer.body
        total = due_pending(bot.services)
        slack_double.set_latency(0.25, "chat.postMessage")
        first = start_worker(sqlite_url, slack_double)
        try:
            slack_double.wait_for("chat.postMessage", lambda c: c.ok, count=6, timeout=30)
            os.kill(first.pid, signal.SIGKILL)
            first.wait(10)
            before = len(slack_double.delivered("chat.postMessage"))
            assert before < total, "the fan-out should still be going when the worker dies"
            second = start_worker(sqlite_url, slack_double)
            try:
                wait_until_all_due_sent(bot.services, timeout=60)
            finally:
                second.terminate()
                second.wait(20)
        finally:
            if first.poll() is None:
                first.kill()
        delivered = Counter(
            (c.args["channel"], c.args["text"]) for c in slack_double.delivered("chat.postMessage")
        )
        # Everyone got it once: a message in flight at the kill is found in Slack, not sent again.
        assert sum(delivered.values()) >= total
        assert sum(n - 1 for n in delivered.values()) == 0
        for p in range(PARTNERS):
            assert len(slack_double.messages_in(f"C0PART{p:02d}")) >= 1
            for u in (0, 1):
                if f"U0P{p:02d}U{u}" != member:
                    assert slack_double.messages_to(f"U0P{p:02d}U{u}"), (p, u)
        assert failed(bot.services) == []


def test_many_messages_are_queued_at_once_and_each_key_once(database_url: str) -> None:
    """`bot.outbox.enqueue_many`, which the raise uses to queue hundreds of rows in a few statements."""
    from bot.db import upgrade
    from bot.outbox import Priority, enqueue, enqueue_many
    from bot.outbox.models import OutboxLane

    upgrade(database_url)
    services = Services.build(make_settings(database_url), engine=make_engine(database_url))
    try:

        def message(key: str, lane: str) -> dict[str, object]:
            return {
                "key": key,
                "method": "chat.postMessage",
                "lane": lane,
                "args": {"channel": lane, "text": key},
            }

        with services.session() as session:
            assert enqueue(session, **message("a", "C0ONE"))  # type: ignore[arg-type]
        services.outbox_wakeup.clear()
        with services.session() as session:
            queued = enqueue_many(
                session,
                [
                    message("a", "C0ONE"),
                    message("b", "C0ONE"),
                    message("b", "C0ONE"),
                    {**message("c", "U0TWO"), "priority": Priority.URGENT},
                ],
            )
        assert queued == 2  # "a" was queued before, the second "b" is the same message
        assert services.outbox_wakeup.is_set()  # an urgent row wakes the dispatcher at commit
        with services.session() as session:
            assert sorted(row.key for row in session.exec(select(OutboxMessage)).all()) == ["a", "b", "c"]
            assert sorted(row.lane for row in session.exec(select(OutboxLane)).all()) == ["C0ONE", "U0TWO"]
            assert enqueue_many(session, []) == 0
    finally:
        services.engine.dispose()


def test_a_form_submitted_twice_at_the_same_moment_raises_one_alert(slack_on: Partnership) -> None:
    """Slack retries a submission it did not hear back on, and people tap twice: one alert, whatever
    the timing (the reporter's lock, then the form's view id)."""
    import json
    import threading

    from rugdekking_support import WETHOUDER

    from bot.alerts.models import BackupAlert

    bot = slack_on
    bot.driver.command("/rugdekking", "", user=WETHOUDER.user_id, team=WETHOUDER.team_id)
    bot.double.wait_for("views.open")
    view = bot.double.last_view("rugdekking_raise")
    values = {"rd_type": {"type": "GEWELD"}, "rd_level": {"level": "HOOG"}, "rd_safe": {"safe": "no"}}
    barrier = threading.Barrier(2)
    answers: list[dict[str, object]] = []

    def submit() -> None:
        barrier.wait()
        response = bot.driver.view_submission(
            "rugdekking_raise", values, user=WETHOUDER.user_id, view=view, team=WETHOUDER.team_id
        )
        answers.append(json.loads(response.body))

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [answer["response_action"] for answer in answers] == ["update", "update"]
    with bot.services.session() as session:
        assert len(session.exec(select(BackupAlert)).all()) == 1
    dispatcher(bot).run_until_idle()
    not_safe = [
        c
        for c in bot.double.delivered("chat.postMessage")
        if c.args["channel"] == FATIMA.user_id and "NIET" in c.args["text"]
    ]
    assert len(not_safe) == 1
