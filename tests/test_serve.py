"""The real processes as an operator starts them: `samen serve` (gunicorn), `samen run` (Socket Mode)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest
from conftest import BOT_TOKEN, ENCRYPTION_KEY, SIGNING_SECRET
from sqlalchemy import create_engine, text

from slackdouble import SlackDouble, SlackDriver, visible_text

pytestmark = pytest.mark.slow
SAMEN = str(Path(sys.executable).with_name("samen"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def samen_env(database_url: str, api_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMEN_"))}
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=api_url,
        SAMEN_ENCRYPTION_KEY=ENCRYPTION_KEY,
        DATABASE_URL=database_url,
        **extra,
    )
    return env


@contextmanager
def running(args: list[str], env: dict[str, str], ready: callable) -> Iterator[subprocess.Popen[bytes]]:  # type: ignore[valid-type]
    process = subprocess.Popen([SAMEN, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not ready():
            if process.poll() is not None:
                raise AssertionError(
                    f"samen {args[0]} exited: {process.stdout.read().decode() if process.stdout else ''}"
                )
            assert time.monotonic() < deadline, f"samen {args[0]} did not become ready"
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    # What the operator's log collector would receive: JSON lines, and never a secret.
    text = output.decode(errors="replace")
    for secret in (BOT_TOKEN, SIGNING_SECRET, ENCRYPTION_KEY):
        assert secret not in text, f"samen {args[0]} logged a secret"
    assert any(
        line.startswith("{") and json.loads(line).get("level") for line in text.splitlines() if line.strip()
    )


def healthy(port: int) -> bool:
    try:
        return get(f"http://127.0.0.1:{port}/healthz")[0] == 200
    except OSError:
        return False


def table_counts(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        tables = [
            row[0]
            for row in connection.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type='table'"
                    if database_url.startswith("sqlite")
                    else "SELECT tablename FROM pg_tables WHERE schemaname='public'"
                )
            )
        ]
        counts = {
            # Table names come from the database's own catalogue, not from input.
            table: connection.execute(text(f'SELECT COUNT(*) FROM "{table}"')).scalar_one()  # noqa: S608
            for table in tables
        }
    engine.dispose()
    return counts


def test_serve_answers_a_signed_help_and_refuses_forgeries(
    sqlite_url: str, slack_double: SlackDouble
) -> None:
    port = free_port()
    env = samen_env(sqlite_url, slack_double.base_url)
    with running(
        ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"], env, lambda: healthy(port)
    ):
        driver = SlackDriver(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET, double=slack_double)
        started = time.monotonic()
        response = driver.command("/samen", "help")
        elapsed = time.monotonic() - started
        assert response.status == 200
        assert elapsed < 3.0
        assert "Wat Samen kan" in visible_text(response.json()["blocks"])

        before = table_counts(sqlite_url)
        body = urlencode(
            {"command": "/samen", "text": "help", "user_id": "U0X", "team_id": "T0SAMEN"}
        ).encode()
        form = "application/x-www-form-urlencoded"
        assert driver.raw(body, form, signature="v0=" + "0" * 64).status == 401
        assert driver.raw(body, form, timestamp=int(time.time()) - 6 * 60).status == 401
        replay = driver.raw(body, form)  # signed now; replayed below with a new timestamp
        assert replay.status == 200
        assert (
            driver.raw(body, form, timestamp=int(time.time()) + 1, signature=driver.last.signature).status
            == 401
        )
        health = get(f"http://127.0.0.1:{port}/healthz")
        assert health == (200, {"status": "ok", "database": health[1]["database"]})
        assert health[1]["database"]["current"] is True  # type: ignore[index]
        assert table_counts(sqlite_url) == before


@pytest.mark.postgres
def test_healthz_says_503_when_the_database_is_gone(
    pg_admin_url: str, pg_url: str, slack_double: SlackDouble
) -> None:
    port = free_port()
    env = samen_env(pg_url, slack_double.base_url)
    with running(
        ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"], env, lambda: healthy(port)
    ):
        admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            name = pg_url.rsplit("/", 1)[1]
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
        status, body = get(f"http://127.0.0.1:{port}/healthz")
        assert status == 503
        assert body["database"] == {"reachable": False, "error": "OperationalError"}


def test_run_in_socket_mode_answers_help_over_the_websocket(
    sqlite_url: str, slack_double: SlackDouble
) -> None:
    env = samen_env(sqlite_url, slack_double.base_url, SLACK_APP_TOKEN="xapp-1-A0SAMEN-1-test")

    def connected() -> bool:
        try:
            slack_double.socket.wait_connected(timeout=0.2)
            return True
        except AssertionError:
            return False

    with running(["run"], env, connected):
        driver = SlackDriver("http://unused.invalid/", SIGNING_SECRET, double=slack_double)
        answer = slack_double.socket.send(
            "slash_commands", driver.payloads.command("/samen", "help"), timeout=5
        )
        assert answer is not None
        assert answer["response_type"] == "ephemeral"
        assert "Wat Samen kan" in visible_text(answer["blocks"])
