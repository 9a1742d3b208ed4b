"""SIGTERM, as Kubernetes and Compose stop a container: every process ends with exit 0, without a
traceback, after finishing the sends it holds, and gives back the outbox lanes it claimed at once
(another worker takes them now, not when the lease runs out)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable

import pytest
from conftest import make_settings
from sqlmodel import select
from test_serve import SAMEN, free_port, healthy, samen_env

from bot.db import make_engine, upgrade
from bot.outbox import post_message
from bot.outbox.models import OutboxLane, OutboxMessage, OutboxStatus
from bot.runtime import Services
from slackdouble import SlackDouble

pytestmark = pytest.mark.slow

CHANNELS = ["C0STOP001", "C0STOP002", "C0STOP003", "C0STOP004"]
LONG_LEASE = "120"  # far longer than the test: a lane free after the stop was released, not expired


def queue_two_per_channel(database_url: str, double: SlackDouble) -> Services:
    upgrade(database_url)
    services = Services.build(
        make_settings(database_url, api_url=double.base_url), engine=make_engine(database_url)
    )
    with services.session() as session:
        for n in (1, 2):
            for channel in CHANNELS:
                post_message(session, key=f"stop:{channel}:{n}", channel=channel, message={"text": f"{n}"})
    return services


def lanes(services: Services) -> list[OutboxLane]:
    with services.session() as session:
        found = list(session.exec(select(OutboxLane)).all())
        for lane in found:
            session.expunge(lane)
        return found


def sent(services: Services) -> int:
    with services.session() as session:
        return len(session.exec(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENT)).all())


def wait_until(
    condition: Callable[[], bool], what: str, process: subprocess.Popen[bytes], timeout: float = 40
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the process ended before {what}: {process.communicate()[0].decode()}")
        assert time.monotonic() < deadline, f"no {what} within {timeout}s"
        time.sleep(0.05)


def terminate(process: subprocess.Popen[bytes]) -> tuple[int, str, float]:
    """SIGTERM; the exit code, everything the process wrote, and how long it took to end."""
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError(f"still running 40 s after SIGTERM: {output.decode(errors='replace')}") from None
    return process.returncode, output.decode(errors="replace"), time.monotonic() - began


def assert_clean_stop(code: int, output: str) -> None:
    assert code == 0, output
    assert "Traceback" not in output, output
    for line in output.splitlines():
        if line.strip():
            assert json.loads(line).get("level") in ("debug", "info", "warning"), line


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([SAMEN, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def in_flight(services: Services) -> int:
    with services.session() as session:
        return len(
            session.exec(
                select(OutboxMessage).where(
                    OutboxMessage.status == OutboxStatus.PENDING,
                    OutboxMessage.sending_since.is_not(None),  # type: ignore[union-attr]
                )
            ).all()
        )


def stops_mid_send(process: subprocess.Popen[bytes], services: Services) -> None:
    """Stop the process while posts are on their way to Slack: they arrive and are recorded, it claims
    nothing more, and every lane is free at once (the lease is two minutes)."""
    wait_until(lambda: in_flight(services) > 0, "a post under way", process)
    under_way = in_flight(services)
    code, output, took = terminate(process)
    assert_clean_stop(code, output)
    assert in_flight(services) == 0, "a send under way was left half done"
    assert under_way <= sent(services) < 2 * len(CHANNELS), "it went on claiming after SIGTERM"
    assert [lane.lane for lane in lanes(services) if lane.owner is not None] == []
    print(f"\nstopped {took:.1f}s after SIGTERM, {under_way} send(s) under way finished (Slack takes 3 s)")


@pytest.fixture
def slow_slack(slack_double: SlackDouble) -> SlackDouble:
    slack_double.set_latency(3.0, method="chat.postMessage")  # SIGTERM comes mid-call
    return slack_double


def test_a_worker_finishes_its_sends_and_releases_its_lanes(sqlite_url: str, slow_slack: SlackDouble) -> None:
    services = queue_two_per_channel(sqlite_url, slow_slack)
    env = samen_env(
        sqlite_url, slow_slack.base_url, SAMEN_OUTBOX_CONCURRENCY="2", SAMEN_OUTBOX_LEASE_SECONDS=LONG_LEASE
    )
    stops_mid_send(start(["worker"], env), services)


def test_run_over_http_stops_with_exit_0_and_releases_its_lanes(
    sqlite_url: str, slow_slack: SlackDouble
) -> None:
    """It exited 1 on every SIGTERM: prometheus-client's mark_process_dead without a metrics directory."""
    services = queue_two_per_channel(sqlite_url, slow_slack)
    port = free_port()
    env = samen_env(
        sqlite_url, slow_slack.base_url, SAMEN_OUTBOX_CONCURRENCY="2", SAMEN_OUTBOX_LEASE_SECONDS=LONG_LEASE
    )
    process = start(["run", "--host", "127.0.0.1", "--port", str(port)], env)
    stops_mid_send(process, services)


def test_run_in_socket_mode_stops_with_exit_0_and_releases_its_lanes(
    sqlite_url: str, slow_slack: SlackDouble
) -> None:
    services = queue_two_per_channel(sqlite_url, slow_slack)
    env = samen_env(
        sqlite_url,
        slow_slack.base_url,
        SLACK_APP_TOKEN="xapp-1-A0SAMEN-1-test",
        SAMEN_OUTBOX_CONCURRENCY="2",
        SAMEN_OUTBOX_LEASE_SECONDS=LONG_LEASE,
    )
    stops_mid_send(start(["run"], env), services)


def test_serve_stops_with_exit_0(sqlite_url: str, slack_double: SlackDouble) -> None:
    upgrade(sqlite_url)
    port = free_port()
    process = start(
        ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        samen_env(sqlite_url, slack_double.base_url),
    )
    wait_until(lambda: healthy(port), "/healthz answering", process)
    code, output, _took = terminate(process)
    assert_clean_stop(code, output)
