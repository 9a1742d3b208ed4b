"""The outbox: a message that must arrive arrives once, in order, whatever Slack or a worker does."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from functools import partial

import pytest
from conftest import make_settings
from harness import FAST
from slack_sdk import WebClient
from sqlmodel import select

from bot.authz import Role
from bot.db import make_engine, upgrade
from bot.outbox import Priority, cancel, enqueue, post_message, ts_of
from bot.outbox.dispatcher import Dispatcher, DispatcherConfig
from bot.outbox.failures import tell_coordinators
from bot.outbox.models import OutboxMessage, OutboxStatus
from bot.outbox.status import NotRetryable, report, retry
from bot.partners.models import Member, Partner, PartnerType
from bot.runtime import Services
from bot.slack.chat import SlackChat
from slackdouble import SlackDouble


@pytest.fixture
def outbox(database_url: str, slack_double: SlackDouble) -> Iterator[Services]:
    upgrade(database_url)
    services = Services.build(
        make_settings(database_url, api_url=slack_double.base_url), engine=make_engine(database_url)
    )
    yield services
    services.engine.dispose()


def dispatcher(
    services: Services, double: SlackDouble, config: DispatcherConfig = FAST, **kwargs: object
) -> Dispatcher:
    client = WebClient(token="xoxb-test", base_url=double.base_url, retry_handlers=[], timeout=5)
    return Dispatcher(services, SlackChat(client), config=config, **kwargs)  # type: ignore[arg-type]


def queue(
    services: Services, channel: str, n: int, *, prefix: str = "m", priority: int = Priority.NORMAL
) -> None:
    with services.session() as session:
        for i in range(n):
            post_message(
                session,
                key=f"{prefix}:{channel}:{i}",
                channel=channel,
                message={"text": f"{prefix} {channel} {i}"},
                priority=priority,
            )


def texts_in(double: SlackDouble, channel: str) -> list[str]:
    return [c.args["text"] for c in double.delivered("chat.postMessage") if c.args.get("channel") == channel]


def statuses(services: Services) -> Counter[str]:
    with services.session() as session:
        return Counter(row.status for row in session.exec(select(OutboxMessage)).all())


def test_the_same_message_is_never_queued_twice(outbox: Services) -> None:
    with outbox.session() as session:
        assert enqueue(
            session,
            key="reminder:42:2026-11-30",
            method="chat.postMessage",
            lane="U1",
            args={"channel": "U1", "text": "x"},
        )
        assert not enqueue(
            session,
            key="reminder:42:2026-11-30",
            method="chat.postMessage",
            lane="U1",
            args={"channel": "U1", "text": "y"},
        )
    with outbox.session() as session:
        assert len(session.exec(select(OutboxMessage)).all()) == 1


def test_rows_arrive_once_and_in_order_per_channel(outbox: Services, slack_double: SlackDouble) -> None:
    for channel in ("C0AAA", "C0BBB", "C0CCC"):
        queue(outbox, channel, 5)
    sent = dispatcher(outbox, slack_double).run_until_idle()
    assert sent == 15
    for channel in ("C0AAA", "C0BBB", "C0CCC"):
        assert texts_in(slack_double, channel) == [f"m {channel} {i}" for i in range(5)]
    assert statuses(outbox) == {"sent": 15}
    with outbox.session() as session:
        row = session.exec(select(OutboxMessage)).first()
        assert row is not None and row.result_ts  # the posted message's ts, for later chat.update


def test_a_rate_limited_channel_waits_while_others_flow(outbox: Services, slack_double: SlackDouble) -> None:
    queue(outbox, "C0BUSY", 2)
    queue(outbox, "C0FREE", 3)
    slack_double.fail_next(count=1, status=429, retry_after=1, channel="C0BUSY")
    started = time.monotonic()
    running = dispatcher(outbox, slack_double)
    running.start()
    try:
        slack_double.wait_for(
            "chat.postMessage", lambda c: c.ok and c.args.get("channel") == "C0FREE", count=3, timeout=5
        )
        free_done = time.monotonic() - started
        slack_double.wait_for(
            "chat.postMessage", lambda c: c.ok and c.args.get("channel") == "C0BUSY", count=2, timeout=5
        )
        busy_done = time.monotonic() - started
    finally:
        running.stop()
    assert free_done < 1.0, "the free channel must not wait for the rate-limited one"
    assert busy_done >= 1.0, "Retry-After was not honoured"
    assert texts_in(slack_double, "C0BUSY") == ["m C0BUSY 0", "m C0BUSY 1"]


def test_server_errors_and_dropped_connections_are_retried(
    outbox: Services, slack_double: SlackDouble
) -> None:
    queue(outbox, "C0FLAKY", 3)
    slack_double.fail_next(count=2, status=503, channel="C0FLAKY")
    slack_double.drop_next(count=1, method="chat.postMessage")
    running = dispatcher(outbox, slack_double)
    running.start()
    try:
        slack_double.wait_for("chat.postMessage", lambda c: c.ok, count=3, timeout=10)
    finally:
        running.stop()
    assert texts_in(slack_double, "C0FLAKY") == ["m C0FLAKY 0", "m C0FLAKY 1", "m C0FLAKY 2"]
    assert statuses(outbox) == {"sent": 3}


@pytest.mark.allow_slack_violations
def test_a_permanent_error_fails_the_row_once_and_tells_why(
    outbox: Services, slack_double: SlackDouble
) -> None:
    queue(outbox, "C0GONE", 1)
    queue(outbox, "C0FINE", 1)
    slack_double.fail_next(count=1, status=200, error="channel_not_found", channel="C0GONE")
    failures: list[int | None] = []
    running = dispatcher(outbox, slack_double, on_permanent_failure=lambda _s, row: failures.append(row.id))
    running.run_until_idle()
    running.run_until_idle()
    assert len(slack_double.calls_to("chat.postMessage")) == 2  # never retried
    assert statuses(outbox) == {"sent": 1, "failed": 1}
    assert len(failures) == 1
    with outbox.session() as session:
        assert report(session).failed_by_reason == {"channel_not_found": 1}
        failed_id = session.exec(
            select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.FAILED)
        ).one()
        assert failed_id is not None
        retry(session, failed_id)
    running.run_until_idle()
    assert statuses(outbox) == {"sent": 2}
    with outbox.session() as session, pytest.raises(NotRetryable):
        retry(session, failed_id)


def test_urgent_rows_wake_the_dispatcher_at_commit(outbox: Services, slack_double: SlackDouble) -> None:
    running = dispatcher(
        outbox, slack_double, DispatcherConfig(concurrency=4, poll_seconds=30, lane_interval=0)
    )
    running.start()
    try:
        time.sleep(0.2)  # the dispatcher is now asleep for up to 30 s unless woken
        committed = time.monotonic()
        queue(outbox, "C0ALERT", 1, prefix="rugdekking", priority=Priority.URGENT)
        slack_double.wait_for("chat.postMessage", lambda c: c.ok, timeout=5)
        assert time.monotonic() - committed < 1.0
    finally:
        running.stop()


def test_urgent_rows_overtake_a_backlog(outbox: Services, slack_double: SlackDouble) -> None:
    queue(outbox, "C0DIGEST", 3, prefix="digest", priority=Priority.BULK)
    queue(outbox, "C0DIGEST", 1, prefix="alert", priority=Priority.URGENT)
    dispatcher(outbox, slack_double).run_until_idle()
    assert texts_in(slack_double, "C0DIGEST")[0] == "alert C0DIGEST 0"


def test_the_channel_rate_is_kept(outbox: Services, slack_double: SlackDouble) -> None:
    slack_double.enforce_channel_rate(per_second=1.0, burst=1)
    queue(outbox, "C0SLOW", 3)
    running = dispatcher(
        outbox, slack_double, DispatcherConfig(concurrency=4, poll_seconds=0.05, lane_interval=1.05)
    )
    running.start()
    try:
        slack_double.wait_for("chat.postMessage", lambda c: c.ok, count=3, timeout=6)
    finally:
        running.stop()
    assert all(c.ok for c in slack_double.calls_to("chat.postMessage")), "the double had to answer 429"


def test_several_dispatchers_with_failures_deliver_everything_once(
    outbox: Services, slack_double: SlackDouble
) -> None:
    channels = [f"C0LOAD{i:03d}" for i in range(20)]
    for channel in channels:
        queue(outbox, channel, 5)
    slack_double.fail_rate(0.3, statuses=(429, 500, 503), retry_after=1, seed=7)
    workers = [dispatcher(outbox, slack_double, worker_id=f"w{i}") for i in range(3)]
    for worker in workers:
        worker.start()
    try:
        deadline = time.monotonic() + 60
        while statuses(outbox).get("sent", 0) < 100 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.stop()
    delivered = Counter(c.args["text"] for c in slack_double.delivered("chat.postMessage"))
    assert len(delivered) == 100
    assert max(delivered.values()) == 1, [t for t, n in delivered.items() if n > 1]
    for channel in channels:
        assert texts_in(slack_double, channel) == [f"m {channel} {i}" for i in range(5)]


def test_a_crashed_workers_lanes_are_taken_over_after_the_lease(
    outbox: Services, slack_double: SlackDouble
) -> None:
    queue(outbox, "C0CRASH", 2)
    crashed = dispatcher(outbox, slack_double, worker_id="crashed")
    assert crashed.claim_lanes(4) == ["C0CRASH"]  # claimed, then the process "dies" before sending
    survivor = dispatcher(
        outbox, slack_double, DispatcherConfig(lease_seconds=1, lane_interval=0), worker_id="survivor"
    )
    assert survivor.claim_lanes(4) == []  # still leased
    time.sleep(FAST.lease_seconds + 0.1)
    assert survivor.run_until_idle() == 2
    assert texts_in(slack_double, "C0CRASH") == ["m C0CRASH 0", "m C0CRASH 1"]


def test_concurrent_claims_never_share_a_lane(outbox: Services, slack_double: SlackDouble) -> None:
    for i in range(40):
        queue(outbox, f"C0RACE{i:02d}", 1)
    claimed: dict[str, list[str]] = defaultdict(list)
    barrier = threading.Barrier(4)

    def claim(name: str) -> None:
        worker = dispatcher(outbox, slack_double, worker_id=name)
        barrier.wait()
        claimed[name] = worker.claim_lanes(15)

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [lane for lanes in claimed.values() for lane in lanes]
    assert len(every) == len(set(every)) == 40


def test_an_update_fills_in_the_ts_of_the_message_it_refers_to(
    outbox: Services, slack_double: SlackDouble
) -> None:
    with outbox.session() as session:
        post_message(session, key="board:1", channel="C0BOARD", message={"text": "bord v1"})
        enqueue(
            session,
            key="board:1:v2",
            method="chat.update",
            lane="C0BOARD",
            args={"channel": "C0BOARD", "ts": ts_of("board:1"), "text": "bord v2"},
        )
        post_message(
            session, key="board:1:reply", channel="C0BOARD", message={"text": "in de draad"}, thread_ts=None
        )
    dispatcher(outbox, slack_double).run_until_idle()
    posted = slack_double.delivered("chat.postMessage")[0]
    updated = slack_double.delivered("chat.update")[0]
    assert updated.args["ts"] == posted.response["ts"]
    assert updated.args["text"] == "bord v2"


def test_a_cancelled_message_is_never_sent(outbox: Services, slack_double: SlackDouble) -> None:
    with outbox.session() as session:
        post_message(
            session,
            key="escalate:1:t1",
            channel="U0DUTY01",
            message={"text": "nog niet bevestigd"},
            ref="alert:1:partner:2",
        )
        post_message(
            session, key="other", channel="U0DUTY01", message={"text": "iets anders"}, ref="alert:1:partner:3"
        )
    with outbox.session() as session:
        assert cancel(session, ref="alert:1:partner:2") == 1
    dispatcher(outbox, slack_double).run_until_idle()
    assert [c.args["text"] for c in slack_double.delivered("chat.postMessage")] == ["iets anders"]
    with outbox.session() as session:
        assert cancel(session, ref="alert:1:partner:3") == 0  # already sent: stays sent


@pytest.mark.allow_slack_violations
def test_coordinators_hear_once_of_a_channel_that_fails(outbox: Services, slack_double: SlackDouble) -> None:
    with outbox.session() as session:
        partner = Partner(name="RIEC Rotterdam", type=PartnerType.RIEC, capacity=3)
        session.add(partner)
        session.flush()
        assert partner.id is not None
        session.add(
            Member(team_id="T0SAMEN", user_id="U0COORD1", partner_id=partner.id, role=Role.COORDINATOR)
        )
    queue(outbox, "C0KICKED", 3)
    slack_double.fail_next(count=3, status=200, error="not_in_channel", channel="C0KICKED")
    running = dispatcher(outbox, slack_double, on_permanent_failure=partial(tell_coordinators, outbox))
    running.run_until_idle()
    running.run_until_idle()
    notices = [c for c in slack_double.delivered("chat.postMessage") if c.args["channel"] == "U0COORD1"]
    assert len(notices) == 1
    assert "not_in_channel" in notices[0].args["text"]
    assert "<#C0KICKED>" in notices[0].args["text"]
