"""Starting as an operator does, with what goes wrong at night: the compose env file as shipped, a bot
token Slack refuses, PostgreSQL or Slack not there. Each failure is one line that says what, where and
what to do — never a traceback — and the real processes are started to prove it."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import BOT_TOKEN, ENCRYPTION_KEY, SIGNING_SECRET
from test_serve import SAMEN, free_port, get, healthy, running, samen_env

from bot.config import forget_empty_settings
from bot.startup import Deadline, StartupFailed, Unreachable, retry_until
from slackdouble import SlackDouble, SlackDriver, visible_text

ENV_EXAMPLE = Path(__file__).parents[1] / "deploy" / ".env.example"
PASSWORD = "Geheim0Wachtwoord"  # in a database URL: must never be shown


def compose_env_file() -> dict[str, str]:
    """deploy/.env.example as `docker compose` reads it (`env_file:`): NAME=value lines, empty ones too."""
    values = {}
    for line in ENV_EXAMPLE.read_text("utf-8").splitlines():
        found = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if found:
            values[found.group(1)] = found.group(2)
    return values


def finished(args: list[str], env: dict[str, str], timeout: float = 60) -> tuple[int, str, float]:
    """Run a `samen` command that is expected to stop by itself: exit code, output, seconds taken."""
    started = time.monotonic()
    result = subprocess.run(
        [SAMEN, *args], env=env, capture_output=True, timeout=timeout, check=False, text=True
    )
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


def assert_one_clear_line(output: str, *, mentions: list[str]) -> str:
    """Exactly one plain `samen:` line, the last, with everything it must name; no traceback."""
    assert "Traceback" not in output, output
    plain = [line for line in output.splitlines() if line.startswith("samen: ")]
    assert len(plain) == 1, output
    assert output.rstrip().endswith(plain[0])
    for word in mentions:
        assert word in plain[0], plain[0]
    return plain[0]


def test_the_compose_env_file_as_shipped_starts_a_bot_that_answers_help(
    sqlite_url: str, slack_double: SlackDouble
) -> None:
    """Empty SLACK_CLIENT_ID= and SLACK_CLIENT_SECRET= lines once put Bolt in OAuth mode, and every
    command was answered "please reinstall this app"."""
    env_file = compose_env_file()
    assert env_file["SLACK_CLIENT_ID"] == "" and env_file["SLACK_CLIENT_SECRET"] == ""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMEN_", "PROMETHEUS"))}
    env.update(env_file)
    # What the operator fills in (compose.yaml sets DATABASE_URL itself; here a SQLite file).
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SAMEN_ENCRYPTION_KEY=ENCRYPTION_KEY,
        DATABASE_URL=sqlite_url,
        SLACK_API_URL=slack_double.base_url,
    )
    port = free_port()
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with running(args, env, lambda: healthy(port)):
        driver = SlackDriver(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET, double=slack_double)
        response = driver.command("/samen", "help")
        assert response.status == 200
        assert "Wat Samen kan" in visible_text(response.json()["blocks"])
        assert get(f"http://127.0.0.1:{port}/readyz")[0] == 200


def test_empty_settings_are_forgotten_before_any_library_reads_them() -> None:
    environ = {"SLACK_CLIENT_ID": "", "SLACK_CLIENT_SECRET": "  ", "PROMETHEUS_MULTIPROC_DIR": "", "HOME": ""}
    environ |= {"SLACK_BOT_TOKEN": BOT_TOKEN}
    assert sorted(forget_empty_settings(environ)) == [
        "PROMETHEUS_MULTIPROC_DIR",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
    ]
    assert environ == {"HOME": "", "SLACK_BOT_TOKEN": BOT_TOKEN}  # not ours: left alone


@dataclass
class Started:
    process: subprocess.Popen[str]
    output: str = ""


@contextmanager
def started(args: list[str], env: dict[str, str], url: str) -> Iterator[Started]:
    """A `samen` process that answers `url`; stopped with SIGTERM afterwards, its output kept."""
    process = subprocess.Popen(
        [SAMEN, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    result = Started(process)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get(url)
                break
            except OSError:
                assert process.poll() is None, process.communicate()[0]
                assert time.monotonic() < deadline, f"samen {args[0]} does not answer {url}"
                time.sleep(0.2)
        yield result
    finally:
        process.terminate()
        result.output = process.communicate(timeout=20)[0]


def assert_token_refusal_told_once(output: str, refusal: str) -> None:
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if "SLACK_BOT_TOKEN was refused" in line]
    assert len(lines) == 1, output
    assert '"level": "error"' in lines[0] and refusal in lines[0]
    assert "OAuth & Permissions" in lines[0], "it says where to get a good one"
    assert BOT_TOKEN not in output


@pytest.mark.parametrize("refusal", ["invalid_auth", "token_revoked"])
def test_a_refused_bot_token_is_one_line_and_serve_is_alive_but_not_ready(
    sqlite_url: str, slack_double: SlackDouble, refusal: str
) -> None:
    slack_double.fail_next(count=100, status=200, error=refusal, method="auth.test")
    port = free_port()
    env = samen_env(sqlite_url, slack_double.base_url)
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with started(args, env, f"http://127.0.0.1:{port}/livez") as serve:
        status, body = get(f"http://127.0.0.1:{port}/readyz")
        assert status == 503
        assert body["status"] == "not ready"
        assert body["slack"] == {"refused": refusal}
        assert get(f"http://127.0.0.1:{port}/livez")[0] == 200
        assert serve.process.poll() is None, "the process stays, so that the operator can see why"
    assert_token_refusal_told_once(serve.output, refusal)


def test_a_worker_with_a_refused_token_sends_nothing_and_says_why(
    sqlite_url: str, slack_double: SlackDouble
) -> None:
    slack_double.fail_next(count=100, status=200, error="invalid_auth", method="auth.test")
    metrics = free_port()
    env = samen_env(sqlite_url, slack_double.base_url)
    args = ["worker", "--metrics-port", str(metrics), "--metrics-host", "127.0.0.1"]
    with started(args, env, f"http://127.0.0.1:{metrics}/livez") as worker:
        status, body = get(f"http://127.0.0.1:{metrics}/readyz")
        assert status == 503 and body["slack"] == {"refused": "invalid_auth"}
    assert worker.process.returncode == 0
    assert_token_refusal_told_once(worker.output, "invalid_auth")
    assert slack_double.calls_to("chat.postMessage") == []


@pytest.mark.postgres
def test_postgres_unreachable_is_waited_for_then_one_line_and_exit_1(slack_double: SlackDouble) -> None:
    port = free_port()  # nothing listens here
    url = f"postgresql+psycopg://samen:{PASSWORD}@127.0.0.1:{port}/samen"
    env = samen_env(url, slack_double.base_url, SAMEN_STARTUP_TIMEOUT="3")
    code, output, seconds = finished(["worker"], env)
    assert code == 1
    line = assert_one_clear_line(output, mentions=["PostgreSQL", f"127.0.0.1:{port}", "3 s"])
    assert "SAMEN_STARTUP_TIMEOUT" in line
    assert seconds >= 3, "it tried again until the deadline"
    waiting = [entry for entry in output.splitlines() if "unreachable" in entry]
    assert len(waiting) == 1 and f"127.0.0.1:{port}" in waiting[0], "one line while waiting, not one per try"
    assert PASSWORD not in output


@pytest.mark.postgres
def test_postgres_refusing_the_login_is_one_line_at_once(slack_double: SlackDouble) -> None:
    url = f"postgresql+psycopg://niemand:{PASSWORD}@127.0.0.1:5432/test"
    env = samen_env(url, slack_double.base_url, SAMEN_STARTUP_TIMEOUT="60")
    code, output, seconds = finished(["serve", "--port", str(free_port())], env)
    assert code == 1
    assert_one_clear_line(output, mentions=["PostgreSQL at 127.0.0.1:5432", '"niemand"', "DATABASE_URL"])
    assert seconds < 30, "nothing to wait for: the server answered"
    assert PASSWORD not in output


@pytest.mark.parametrize("mode", ["serve", "socket mode"])
def test_slack_unreachable_is_waited_for_then_one_line_and_exit_1(sqlite_url: str, mode: str) -> None:
    port = free_port()
    extra = {"SLACK_APP_TOKEN": "xapp-1-A0SAMEN-1-test"} if mode == "socket mode" else {}
    env = samen_env(sqlite_url, f"http://127.0.0.1:{port}/api/", SAMEN_STARTUP_TIMEOUT="2", **extra)
    args = ["run"] if mode == "socket mode" else ["serve", "--port", str(free_port())]
    code, output, seconds = finished(args, env)
    assert code == 1
    assert_one_clear_line(output, mentions=["Slack", f"127.0.0.1:{port}", "2 s"])
    assert "URLError" not in output.replace("(URLError)", ""), "the kind of failure, not its traceback"
    assert seconds >= 2


def test_slack_answering_503_at_first_is_waited_for(sqlite_url: str, slack_double: SlackDouble) -> None:
    slack_double.fail_next(count=3, status=503, method="auth.test")
    port = free_port()
    env = samen_env(sqlite_url, slack_double.base_url, SAMEN_STARTUP_TIMEOUT="60")
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with running(args, env, lambda: healthy(port)):
        assert get(f"http://127.0.0.1:{port}/readyz")[0] == 200
        assert len(slack_double.calls_to("auth.test")) == 4


def test_attempts_wait_longer_each_time_until_the_deadline() -> None:
    waits: list[float] = []
    attempts = 0

    def down() -> None:
        nonlocal attempts
        attempts += 1
        raise Unreachable("no answer")

    deadline = Deadline(seconds=30)
    with pytest.raises(StartupFailed) as failed:
        retry_until(
            deadline, "PostgreSQL", "db:5432", down, sleep=lambda s: (waits.append(s), _pass(deadline, s))
        )
    assert str(failed.value).startswith("PostgreSQL at db:5432 could not be reached in 30 s (no answer)")
    assert waits[0] == pytest.approx(0.5, rel=0.25)
    assert all(later > earlier for earlier, later in itertools.pairwise(waits[:5]))
    assert max(waits) <= 15 * 1.2
    assert attempts == len(waits) + 1


def _pass(deadline: Deadline, seconds: float) -> None:
    """Let time pass without sleeping: the deadline started that much earlier."""
    deadline.started -= seconds


def test_a_refused_app_token_in_socket_mode_is_one_line_and_exit_1(
    sqlite_url: str, slack_double: SlackDouble
) -> None:
    slack_double.fail_next(count=100, status=200, error="invalid_auth", method="apps.connections.open")
    env = samen_env(sqlite_url, slack_double.base_url, SLACK_APP_TOKEN="xapp-1-A0SAMEN-1-test")
    code, output, _ = finished(["run"], env)
    assert code == 1
    assert_one_clear_line(output, mentions=["SLACK_APP_TOKEN was refused by Slack (invalid_auth)", "xapp-"])
    assert "xapp-1-A0SAMEN-1-test" not in output
