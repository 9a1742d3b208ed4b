"""Nothing restricted in any log line, in the real processes an operator starts.

`samen serve` (gunicorn, two workers, on PostgreSQL) and `samen run` (over HTTP and in Socket Mode, on
SQLite) run as child processes against the Slack double. Secrets are planted in what they receive — a
marker in form values, and the bot token, the signing secret and the encryption key are what they run
with — through refused, malformed and crashing requests. Then every byte they wrote to stdout and stderr
is read: each line must be a JSON log line, and no secret may be among them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from conftest import BOT_TOKEN, ENCRYPTION_KEY, SIGNING_SECRET, make_settings
from rugdekking_support import PARTNERSHIP, WETHOUDER, set_up_partnership
from sqlalchemy import create_engine, text
from test_serve import SAMEN, free_port, healthy, samen_env

from bot.db import upgrade
from bot.runtime import Services
from slackdouble import SlackDouble, SlackDriver

pytestmark = pytest.mark.slow

# Unique per run, so that nothing but this run's requests can put it in a log.
MARKER = f"VERTROUWELIJK-{uuid.uuid4().hex[:12].upper()}"
SECRETS = {"marker": MARKER, "bot token": BOT_TOKEN, "signing secret": SIGNING_SECRET, "key": ENCRYPTION_KEY}
FORM = "application/x-www-form-urlencoded"
# A lone UTF-16 surrogate: JSON can carry it ("\udfff"), UTF-8 cannot, so saving it used to crash.
SURROGATE = "\udfff"
# Two backup alerts by one person within a minute: the second adds its new text to the first (an UPDATE).
ALERTS = (
    ("lone surrogate", f"{MARKER} bij de voordeur{SURROGATE}", f"{MARKER} straat{SURROGATE}"),
    ("database refuses", f"{MARKER} weer terug", f"{MARKER} plein"),
)


@dataclass
class Process:
    name: str
    stdout: Path
    stderr: Path
    answers: dict[str, int] = field(default_factory=dict)


@dataclass
class Scan:
    bytes: int
    lines: int
    records: list[dict[str, Any]]


@contextmanager
def started(
    name: str, args: list[str], env: dict[str, str], ready: Callable[[], bool], logs: Path
) -> Iterator[Process]:
    """A `samen` process whose stdout and stderr go, apart, to files: everything it ever wrote."""
    process = Process(name, logs / f"{name}.stdout", logs / f"{name}.stderr")
    with process.stdout.open("wb") as out, process.stderr.open("wb") as err:
        child = subprocess.Popen([SAMEN, *args], env=env, stdout=out, stderr=err)
        try:
            deadline = time.monotonic() + 60
            while not ready():
                assert child.poll() is None, f"samen {name} exited: {process.stderr.read_text()[-2000:]}"
                assert time.monotonic() < deadline, f"samen {name} did not become ready"
                time.sleep(0.2)
            yield process
        finally:
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def scan(process: Process) -> Scan:
    """Every byte the process wrote: JSON log lines only, and not one secret."""
    total, lines, records = 0, 0, []
    for path in (process.stdout, process.stderr):
        written = path.read_bytes()
        total += len(written)
        for name, secret in SECRETS.items():
            assert secret.encode() not in written, f"samen {process.name} wrote the {name} to {path.name}"
        for line in written.decode("utf-8").splitlines():
            if not line.strip():
                continue
            lines += 1
            try:
                record = json.loads(line)
            except ValueError:
                pytest.fail(
                    f"samen {process.name} wrote a line that is not JSON to {path.name}: {line[:200]}"
                )
            assert isinstance(record, dict), line[:200]
            assert {"event", "level", "timestamp"} <= record.keys(), line[:200]
            records.append(record)
    return Scan(total, lines, records)


def prepared_database(database_url: str, api_url: str) -> None:
    """Migrated, with the partnership in it, so that a backup alert can be raised."""
    upgrade(database_url)
    services = Services.build(make_settings(database_url, api_url))
    set_up_partnership(services, PARTNERSHIP)
    services.engine.dispose()


def refuse_new_alerts(database_url: str) -> None:
    """The database refuses to write a backup alert (a new one, or the one a second raise within a
    minute adds to) with an error that quotes the marker — as a database does when it quotes a value it
    refused ("Key (…)=(…) already exists"). Only this test's throw-away database has the trigger."""
    engine = create_engine(database_url)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text(
                    "CREATE FUNCTION refuse_alert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"RAISE EXCEPTION 'refused (%)', NEW.id USING DETAIL = 'Failing row: {MARKER}'; END $$"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_alert BEFORE INSERT OR UPDATE ON backup_alert "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_alert()"
                )
            )
        else:
            for event in ("INSERT", "UPDATE"):
                connection.execute(
                    text(
                        f"CREATE TRIGGER refuse_alert_{event.lower()} BEFORE {event} ON backup_alert "
                        f"BEGIN SELECT RAISE(ABORT, 'refused: {MARKER}'); END"
                    )
                )
    engine.dispose()


def forms_opened(double: SlackDouble) -> int:
    return len([c for c in double.calls_to("views.open") if c.ok])


def alert_form(
    double: SlackDouble, opened_before: int, description: str, place: str
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The backup-alert form that /rugdekking opened, filled in."""
    double.wait_for(
        "views.open",
        lambda c: c.ok and c.args["view"].get("callback_id") == "rugdekking_raise",
        count=opened_before + 1,
        timeout=10,
    )
    values: dict[str, dict[str, Any]] = {
        "rd_type": {"type": "INTIMIDATIE"},
        "rd_level": {"level": "HOOG"},
        "rd_safe": {"safe": "yes"},
        "rd_description": {"description": description},
        "rd_place": {"place": place},
        "rd_name": {"name": []},
    }
    return "rugdekking_raise", values, double.last_view("rugdekking_raise")


def signed_bytes(body: bytes) -> tuple[str, str]:
    """Timestamp and signature of a body that is not text (the driver signs text only)."""
    timestamp = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return timestamp, "v0=" + digest.hexdigest()


def hostile_requests_over_http(process: Process, url: str, double: SlackDouble, database_url: str) -> None:
    driver = SlackDriver(url, SIGNING_SECRET, double=double)
    secret_form = {"rd_description": {"description": f"{MARKER} bij de voordeur"}}
    stale = driver.payloads.view_submission("rugdekking_raise", secret_form, user=WETHOUDER.user_id)
    body = urlencode({"payload": json.dumps(stale)}).encode()
    answers = process.answers
    answers["signed, 600 s old"] = driver.raw(body, FORM, timestamp=int(time.time()) - 600).status
    answers["bad signature"] = driver.raw(body, FORM, signature="v0=" + "0" * 64).status
    answers["payload not JSON"] = driver.raw(f"payload=%7B{MARKER}".encode(), FORM).status
    not_utf8 = b"payload=\xff\xfe" + MARKER.encode()
    answers["body not UTF-8"] = driver.raw(not_utf8, FORM, *signed_bytes(not_utf8)).status
    answers["event not JSON"] = driver.raw(
        b'{"type": "event_callback", "x": "' + MARKER.encode(), "application/json"
    ).status
    answers["command with the marker"] = driver.command("/samen", MARKER, user=WETHOUDER.user_id).status
    for kind, description, place in ALERTS:
        if kind == "database refuses":
            refuse_new_alerts(database_url)
        opened = forms_opened(double)
        assert driver.command("/rugdekking", "", user=WETHOUDER.user_id, team=WETHOUDER.team_id).status == 200
        callback, values, view = alert_form(double, opened, description, place)
        answered = driver.view_submission(
            callback, values, user=WETHOUDER.user_id, view=view, team=WETHOUDER.team_id
        )
        answers[kind] = answered.status


def hostile_requests_over_the_socket(process: Process, double: SlackDouble, database_url: str) -> None:
    payloads = SlackDriver("http://unused.invalid/", SIGNING_SECRET, double=double).payloads
    who = {"user": WETHOUDER.user_id, "team": WETHOUDER.team_id}
    acknowledged = process.answers  # Socket Mode has no HTTP status: 1 when the envelope was acknowledged
    double.socket.send("slash_commands", payloads.command("/samen", MARKER, **who), timeout=10)
    acknowledged["command with the marker"] = 1
    for kind, description, place in ALERTS:
        if kind == "database refuses":
            refuse_new_alerts(database_url)
        opened = forms_opened(double)
        double.socket.send("slash_commands", payloads.command("/rugdekking", "", **who), timeout=10)
        callback, values, view = alert_form(double, opened, description, place)
        double.socket.send(
            "interactive", payloads.view_submission(callback, values, view=view, **who), timeout=10
        )
        acknowledged[kind] = 1


def environment(database_url: str, api_url: str, home: Path, level: str, **extra: str) -> dict[str, str]:
    env = samen_env(database_url, api_url, SAMEN_LOG_LEVEL=level, HOME=str(home), **extra)
    env.pop("XDG_RUNTIME_DIR", None)  # gunicorn would prefer it to HOME for its control socket
    return env


def read_only_home(tmp_path: Path) -> Path:
    """A HOME nothing can be written in, as on a container's read-only root file system. root may
    write in any directory it owns, so root gets /proc, where nobody can make a directory."""
    if os.geteuid() == 0:
        return Path("/proc")
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o500)
    return home


def report(process: Process, scanned: Scan) -> None:
    print(  # the figures the closing note asks for; shown with -s
        f"\nsamen {process.name}: {scanned.bytes} bytes, {scanned.lines} JSON lines scanned, 0 secrets; "
        f"answers: {process.answers}"
    )


def assert_the_crash_was_logged(process: Process, scanned: Scan) -> None:
    """The scan must have seen the failure it is about: the refused write's error line, with a
    traceback of types and places only."""
    crashes = [
        r for r in scanned.records if r["level"] == "error" and "sqlalchemy.exc." in r.get("exception", "")
    ]
    assert crashes, f"samen {process.name} logged no failure: the requests did not reach the database"


@pytest.mark.postgres
def test_serve_on_postgresql_logs_json_without_secrets_even_at_debug(
    pg_url: str, slack_double: SlackDouble, tmp_path: Path
) -> None:
    prepared_database(pg_url, slack_double.base_url)
    port = free_port()
    env = environment(pg_url, slack_double.base_url, read_only_home(tmp_path), "DEBUG")
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    with started("serve", args, env, lambda: healthy(port), tmp_path) as process:
        hostile_requests_over_http(process, f"http://127.0.0.1:{port}/slack/events", slack_double, pg_url)
    scanned = scan(process)
    assert_the_crash_was_logged(process, scanned)
    # gunicorn's control socket would want $HOME/.gunicorn: it is off, so a read-only HOME is fine.
    assert not any("Control server" in r["event"] for r in scanned.records)
    assert any(r["logger"].startswith("gunicorn") for r in scanned.records), "gunicorn's lines are JSON too"
    assert process.answers["signed, 600 s old"] == 401
    assert process.answers["bad signature"] == 401
    report(process, scanned)


def test_run_over_http_logs_json_without_secrets(
    sqlite_url: str, slack_double: SlackDouble, tmp_path: Path
) -> None:
    prepared_database(sqlite_url, slack_double.base_url)
    port = free_port()
    env = environment(sqlite_url, slack_double.base_url, read_only_home(tmp_path), "INFO")
    args = ["run", "--host", "127.0.0.1", "--port", str(port)]
    with started("run (HTTP)", args, env, lambda: healthy(port), tmp_path) as process:
        hostile_requests_over_http(process, f"http://127.0.0.1:{port}/slack/events", slack_double, sqlite_url)
    scanned = scan(process)
    assert_the_crash_was_logged(process, scanned)
    assert process.answers["signed, 600 s old"] == 401
    report(process, scanned)


def test_run_in_socket_mode_logs_json_without_secrets_even_at_debug(
    sqlite_url: str, slack_double: SlackDouble, tmp_path: Path
) -> None:
    prepared_database(sqlite_url, slack_double.base_url)
    env = environment(
        sqlite_url, slack_double.base_url, tmp_path, "DEBUG", SLACK_APP_TOKEN="xapp-1-A0SAMEN-1-test"
    )

    def connected() -> bool:
        try:
            slack_double.socket.wait_connected(timeout=0.2)
            return True
        except AssertionError:
            return False

    with started("run (Socket Mode)", ["run"], env, connected, tmp_path) as process:
        hostile_requests_over_the_socket(process, slack_double, sqlite_url)
    scanned = scan(process)
    assert_the_crash_was_logged(process, scanned)
    report(process, scanned)
