"""Samen on Matrix as an operator starts it: real processes against a real Synapse (issue 18).

`samen db upgrade` and `samen partners import` with the Matrix settings alone (no SLACK_ variable), then
`samen run` with SAMEN_CHAT=matrix and two `samen worker` processes on one PostgreSQL: three processes that
send the outbox. People (homeserver accounts) invite Samen, ask for help, raise a backup alert and
acknowledge it with ✅, as in Element. Then SIGTERM, and every byte each process wrote is read: JSON log
lines only, without the access token, the encryption key or any text people typed.

A refused access token is met by a `samen run` of its own: one error line, /readyz not ready, no exit.
(`samen serve` refused on Matrix: tests/test_matrix_settings.py.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import ENCRYPTION_KEY
from homeserver import Homeserver, MatrixUser
from matrix_harness import unique
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from test_serve import SAMEN, free_port

pytestmark = pytest.mark.slow

ACK = "\u2705"
# Unique per run: nothing but what people typed in this run can put these in a log.
MARKER = f"VERTROUWELIJK-{uuid.uuid4().hex[:12].upper()}"
DESCRIPTION = f"Man met honkbalknuppel bij de voordeur {MARKER}"
CHATTER = f"Koffie om tien bij de loods? {MARKER}-PRAAT"
HELP = "!samen help"
# Three processes importing and migrating at once on two busy cores: far above what they take alone (~5 s).
START_WITHIN = 90.0
STOP_WITHIN = 5.0  # seconds from SIGTERM to exit: a few, not the outbox's lease or a sync's long poll


# -- processes ------------------------------------------------------------------------------------------


@dataclass
class Process:
    """A `samen` child whose stdout and stderr go, apart, to files: everything it ever wrote."""

    name: str
    child: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    exit_code: int | None = None
    signalled: float | None = None  # when SIGTERM was sent (monotonic)
    stopped_in: float | None = None  # seconds from SIGTERM to exit

    def output(self) -> str:
        return (self.stdout.read_bytes() + self.stderr.read_bytes()).decode("utf-8", errors="replace")

    def alive(self) -> None:
        if self.child.poll() is not None:
            raise AssertionError(
                f"samen {self.name} exited with {self.child.returncode}:\n{self.output()[-3000:]}"
            )

    def terminate(self) -> None:
        """One SIGTERM, as Compose and Kubernetes send (a second one is another test)."""
        if self.signalled is None and self.child.poll() is None:
            self.signalled = time.monotonic()
            self.child.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        """SIGTERM, then wait: its exit code and how long it took (idempotent; killed after 30 s)."""
        if self.exit_code is not None:
            return
        self.terminate()
        try:
            self.child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait()
        if self.signalled is not None:
            self.stopped_in = time.monotonic() - self.signalled
        self.exit_code = self.child.returncode


def spawn(name: str, args: list[str], env: dict[str, str], logs: Path) -> Process:
    out, err = logs / f"{name}.stdout", logs / f"{name}.stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        child = subprocess.Popen(
            [SAMEN, *args], env=env, cwd=logs, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL
        )
    return Process(name, child, out, err)


def samen(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SAMEN, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def matrix_env(
    database_url: str, homeserver: Homeserver, bot: MatrixUser, *, token: str | None = None, **extra: str
) -> dict[str, str]:
    """An operator's environment on Matrix: the Matrix settings, and no SLACK_ variable at all."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMEN_", "MATRIX_", "DATABASE_"))
    }
    return {
        **env,
        "SAMEN_CHAT": "matrix",
        "MATRIX_HOMESERVER_URL": homeserver.url,
        "MATRIX_USER_ID": bot.user_id,
        "MATRIX_ACCESS_TOKEN": token or bot.access_token,
        "DATABASE_URL": database_url,
        "SAMEN_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "SAMEN_LANGUAGE": "nl",
        "SAMEN_TIMEZONE": "Europe/Amsterdam",
        "SAMEN_STARTUP_TIMEOUT": "30",
        **extra,
    }


def probe(port: int, path: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_until(condition: Callable[[], bool], what: str, *processes: Process, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        for process in processes:
            process.alive()
        try:
            if condition():
                return
        except OSError:
            pass  # the probe port is not open yet
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.1)


# -- log lines -------------------------------------------------------------------------------------------


def records_of(process: Process, secrets: dict[str, str]) -> list[dict[str, Any]]:
    """Every line the process wrote, on stdout and stderr: each a JSON log record, none with a secret."""
    records = []
    for path in (process.stdout, process.stderr):
        written = path.read_bytes()
        for name, secret in secrets.items():
            assert secret.encode() not in written, f"samen {process.name} wrote {name} to {path.name}"
        for line in written.decode("utf-8").splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                pytest.fail(f"samen {process.name} wrote a non-JSON line to {path.name}: {line[:300]}")
            assert isinstance(record, dict), line[:300]
            assert {"event", "level", "timestamp"} <= record.keys(), line[:300]
            records.append(record)
    return records


# -- Matrix events ---------------------------------------------------------------------------------------


def _content(event: dict[str, Any]) -> dict[str, Any]:
    return dict(event.get("content") or {})


def _text(event: dict[str, Any]) -> str:
    content = _content(event)
    return str((content.get("m.new_content") or {}).get("body") or content.get("body") or "")


def _is_edit(event: dict[str, Any]) -> bool:
    return (_content(event).get("m.relates_to") or {}).get("rel_type") == "m.replace"


def _joined(user_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: (
        e.get("type") == "m.room.member"
        and e.get("state_key") == user_id
        and _content(e).get("membership") == "join"
    )


def posts(person: MatrixUser, room: str, sender: str, contains: str) -> list[dict[str, Any]]:
    """The messages (not their edits) `sender` posted in `room` whose text holds `contains`."""
    return [
        e
        for e in person.messages(room, limit=200)
        if e.get("sender") == sender
        and e.get("type") == "m.room.message"
        and not _is_edit(e)
        and contains in _text(e)
    ]


# -- the deployment --------------------------------------------------------------------------------------


@dataclass
class Deployment:
    homeserver: Homeserver
    bot: MatrixUser
    people: dict[str, MatrixUser]
    rooms: dict[str, str]  # board (the partnership's room), breda, politie, riec
    database_url: str
    processes: list[Process] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)

    def stop(self) -> None:
        """SIGTERM to every process at once, as `docker compose stop` does; each then waited for."""
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.stop()

    def secrets(self) -> dict[str, str]:
        password = make_url(self.database_url).password
        return {
            "the access token": self.bot.access_token,
            "the encryption key": ENCRYPTION_KEY,
            "the alert's description": MARKER,
            "what someone typed": CHATTER,
            "a command as typed": HELP,
            **({"the database password": password} if password else {}),
        }


def partners_yaml(people: dict[str, MatrixUser], rooms: dict[str, str]) -> str:
    p = {name: person.user_id for name, person in people.items()}
    return f"""\
partners:
  - name: Gemeente Breda
    type: GEMEENTE
    alert_channel: "{rooms["breda"]}"
    lead: "{p["marleen"]}"
    duty_contacts: ["{p["marleen"]}"]
    members:
      - {{user: "{p["wethouder"]}", name: Wethouder}}
      - {{user: "{p["marleen"]}", name: Marleen}}
  - name: Politie Zeeland-West-Brabant
    type: POLITIE
    alert_channel: "{rooms["politie"]}"
    lead: "{p["hans"]}"
    duty_contacts: ["{p["hans"]}"]
    members:
      - {{user: "{p["hans"]}", name: Hans}}
  - name: RIEC Zeeland-West-Brabant
    type: RIEC
    alert_channel: "{rooms["riec"]}"
    lead: "{p["fatima"]}"
    duty_contacts: ["{p["fatima"]}"]
    members:
      - {{user: "{p["fatima"]}", role: coordinator, name: Fatima}}
"""


@pytest.fixture(scope="module")
def module_pg_url(pg_admin_url: str) -> Iterator[str]:
    """One throw-away PostgreSQL database for the module's one deployment."""
    name = f"samen_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def deployment(
    homeserver: Homeserver, module_pg_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    logs = tmp_path_factory.mktemp("matrix-processes")
    bot = homeserver.bot(unique("samen"))
    people = {
        name: homeserver.register(unique(name), displayname=name.title())
        for name in ("wethouder", "marleen", "hans", "fatima")
    }

    def room(owner: str, name: str, *members: str) -> str:
        invited = [people[m].user_id for m in members] + [bot.user_id]
        made = people[owner].create_room(name=name, invite=invited)
        for member in members:
            people[member].join(made)
        return made

    # People invite Samen before it runs: the invitations wait for its first sync.
    rooms = {
        "board": room("fatima", "Samen", "wethouder", "marleen", "hans"),
        "breda": room("marleen", "Breda", "wethouder"),
        "politie": room("hans", "Politie"),
        "riec": room("fatima", "RIEC"),
    }
    deployed = Deployment(homeserver, bot, people, rooms, module_pg_url)
    env = matrix_env(module_pg_url, homeserver, bot, SAMEN_PARTNERSHIP_CHANNEL=rooms["board"])

    upgraded = samen(env, logs, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    (logs / "partners.yaml").write_text(partners_yaml(people, rooms), "utf-8")
    imported = samen(env, logs, "partners", "import", "partners.yaml")
    assert imported.returncode == 0, imported.stderr
    assert bot.access_token not in upgraded.stderr + imported.stdout + imported.stderr

    try:
        # DEBUG: what mautrix, aiohttp and the outbox say at their most talkative must be clean too.
        for name, args, level in (
            ("run", ["run"], "DEBUG"),
            ("worker-1", ["worker"], "INFO"),
            ("worker-2", ["worker"], "DEBUG"),
        ):
            port = deployed.ports[name] = free_port()
            deployed.processes.append(
                spawn(
                    name,
                    [*args, "--metrics-port", str(port), "--metrics-host", "127.0.0.1"],
                    {**env, "SAMEN_LOG_LEVEL": level},
                    logs,
                )
            )
        for name, port in deployed.ports.items():
            wait_until(
                lambda port=port: probe(port, "/readyz")[0] == 200,  # type: ignore[misc]
                f"ready samen {name}",
                *deployed.processes,
                timeout=START_WITHIN,
            )
        owners = {"board": "fatima", "breda": "marleen", "politie": "hans", "riec": "fatima"}
        for name, room_id in rooms.items():
            people[owners[name]].wait_for(room_id, _joined(bot.user_id), timeout=30)
        yield deployed
    finally:
        deployed.stop()


# -- the scenarios ---------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_every_process_is_ready_on_matrix_and_says_so_under_its_name(deployment: Deployment) -> None:
    for name, port in deployment.ports.items():
        status, body = probe(port, "/readyz")
        assert status == 200, (name, body)
        assert body["matrix"] == {"refused": None} and "slack" not in body, body


@pytest.mark.postgres
def test_help_is_answered_in_the_direct_room_only(deployment: Deployment) -> None:
    hans, board, bot = deployment.people["hans"], deployment.rooms["board"], deployment.bot.user_id
    hans.say(board, CHATTER)  # not for Samen: ignored, and never logged
    hans.say(board, HELP)
    dm = hans.dm_with(bot, timeout=30)
    helped = hans.wait_for(dm, lambda e: e.get("sender") == bot and "!samen" in _text(e), timeout=30)
    assert "rugdekking" in _text(helped)
    assert posts(hans, board, bot, "") == [], "the help went to the shared room"


@pytest.mark.postgres
def test_a_backup_alert_reaches_each_partner_room_once_and_a_checkmark_edits_the_board(
    deployment: Deployment,
) -> None:
    people, rooms, bot = deployment.people, deployment.rooms, deployment.bot.user_id
    wethouder, fatima = people["wethouder"], people["fatima"]
    wethouder.say(rooms["breda"], f"!rugdekking nu {DESCRIPTION}")
    dm = wethouder.dm_with(bot, timeout=30)
    wethouder.wait_for(dm, lambda e: e.get("sender") == bot and "RD-1 is verstuurd" in _text(e), timeout=30)

    watchers = {"breda": people["marleen"], "politie": people["hans"], "riec": fatima, "board": fatima}
    for name, person in watchers.items():
        person.wait_for(
            rooms[name],
            lambda e: e.get("sender") == bot and not _is_edit(e) and "RD-1" in _text(e),
            timeout=30,
        )
    politie_alert = posts(people["hans"], rooms["politie"], bot, "RD-1")[0]
    assert MARKER not in _text(politie_alert), "the description went out in a shared room"

    people["hans"].react(rooms["politie"], politie_alert["event_id"], ACK)
    [board] = posts(fatima, rooms["board"], bot, "RD-1")
    fatima.wait_for(
        rooms["board"],
        lambda e: (
            e.get("sender") == bot
            and _is_edit(e)
            and _content(e)["m.relates_to"].get("event_id") == board["event_id"]
        ),
        timeout=30,
    )

    # Three processes send the one outbox: a second copy would have arrived by now, or never.
    time.sleep(2)
    for name, person in watchers.items():
        found = posts(person, rooms[name], bot, "RD-1")
        assert len(found) == 1, f"{name}: {len(found)} alerts\n" + "\n".join(_text(e)[:120] for e in found)
    engine = create_engine(deployment.database_url)
    with engine.connect() as connection:
        unsent = connection.execute(
            text("SELECT status, count(*) FROM outbox WHERE status != 'sent' GROUP BY status")
        ).all()
    engine.dispose()
    assert "failed" not in dict(tuple(row) for row in unsent), unsent  # pending: escalations due later


@pytest.mark.postgres
def test_sigterm_stops_run_and_the_workers_within_seconds_with_exit_0(deployment: Deployment) -> None:
    deployment.stop()
    for process in deployment.processes:
        said = process.output()[-3000:]
        assert process.exit_code == 0, f"samen {process.name}: exit {process.exit_code}\n{said}"
        assert process.stopped_in is not None and process.stopped_in < STOP_WITHIN, (
            f"samen {process.name} took {process.stopped_in:.1f} s to stop"
        )
        assert "Traceback" not in process.output(), process.output()[-3000:]
    print(  # shown with -s
        "\nstopped after SIGTERM in: "
        + ", ".join(f"{p.name} {p.stopped_in:.1f} s" for p in deployment.processes if p.stopped_in)
    )


@pytest.mark.postgres
def test_every_line_every_process_wrote_is_json_without_a_secret_or_peoples_text(
    deployment: Deployment,
) -> None:
    deployment.stop()  # (already, after the test above)
    secrets = deployment.secrets()
    for process in deployment.processes:
        records = records_of(process, secrets)
        assert records, f"samen {process.name} wrote nothing"
        errors = [r for r in records if r["level"] in ("error", "critical")]
        assert errors == [], f"samen {process.name}: {errors}"
        print(f"\nsamen {process.name}: {len(records)} JSON lines, no secret and no text people typed")
    run = deployment.processes[0]
    assert any("listening on Matrix" in r["event"] for r in records_of(run, secrets))


# -- a refused access token ------------------------------------------------------------------------------


def test_a_refused_token_is_one_error_line_and_run_stays_up_not_ready(
    homeserver: Homeserver, sqlite_url: str, tmp_path: Path
) -> None:
    bot = homeserver.bot(unique("samen"))
    wrong = "syt_" + uuid.uuid4().hex + "_refused"
    port = free_port()
    env = matrix_env(sqlite_url, homeserver, bot, token=wrong)
    run = spawn("run", ["run", "--metrics-port", str(port), "--metrics-host", "127.0.0.1"], env, tmp_path)
    try:
        wait_until(lambda: probe(port, "/livez")[0] == 200, "answer on /livez", run)
        status, body = probe(port, "/readyz")
        assert status == 503 and body["status"] == "not ready", body
        assert body["matrix"] == {"refused": "M_UNKNOWN_TOKEN"} and "slack" not in body, body
    finally:
        run.stop()
    assert run.exit_code == 0, run.output()[-3000:]
    records = records_of(run, {"the access token": wrong, "the encryption key": ENCRYPTION_KEY})
    errors = [r for r in records if r["level"] == "error"]
    assert len(errors) == 1, errors
    assert errors[0]["event"].startswith(
        "MATRIX_ACCESS_TOKEN was refused by the homeserver (M_UNKNOWN_TOKEN)"
    )
    assert "SLACK" not in json.dumps(records)
