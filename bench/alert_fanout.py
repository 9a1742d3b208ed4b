"""How fast a backup alert reaches everyone: 25 partners, 100 duty contacts, Slack at 100 ms per call.

    .venv/bin/python bench/alert_fanout.py [--database-url URL] [--runs 3] [--concurrency K]

Samen runs in this process as in production, only on loopback: the Bolt app behind the WSGI server
(bot/slack/localserver.py) and a worker (`bot.worker.Worker`, configured from the settings as
`samen worker` is) against a Slack double that answers every call after 100 ms (`set_latency(0.1)`)
and answers 429 to a second message within a second to one channel (`enforce_channel_rate(1.0)`).

A member opens the form with `/rugdekking` (not measured) and submits it: the clock starts when the
driver sends the signed view submission. A *notification* is the alert in a partner's alert channel
(25) or in a duty contact's direct message (100). Its time is `Call.at + latency`: the double records
when a request arrives, and the message exists when Slack answers.

Baseline: the same 125 messages (rendered by the same template) sent one by one with a WebClient from
this process, each call waiting for the previous one: what a bot without the outbox would do.

Targets: first notification ≤ 1 s after the submit, last ≤ 3 s, last ÷ baseline's last ≤ 0.3.

    .venv/bin/python bench/alert_fanout.py --chat matrix [--database-url URL] [--runs 3] [--partners 25]

On Matrix (issue 18) everything is real and runs as the user meets it: a local Synapse
(tests/homeserver.py), `samen db upgrade`, `samen partners import` and `samen run` (SAMEN_CHAT=matrix)
as processes. Each partner's lead creates the partner's room, inviting Samen; a reporter of the first
partner types `!rugdekking nu <text>` in its room. A partner room's time is the alert's
`origin_server_ts` minus the command's (both stamped by the same homeserver clock). Targets: first ≤ 1 s,
last ≤ 3 s after the command.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import BOT_TOKEN, SIGNING_SECRET, machine_notes, samen_env, slack_double, verdict
from outbox import database  # a temporary SQLite file, or a throw-away PostgreSQL database
from slack_sdk import WebClient

from bot.alerts.messages import ALERT
from bot.authz import CLI_ACTOR
from bot.config import load_settings
from bot.db import make_engine, upgrade
from bot.partners.importer import import_partners
from bot.runtime import Services
from bot.slack.app import create_app
from bot.slack.chat import SlackChat
from bot.slack.localserver import serve_in_thread
from bot.worker import Worker
from commands import register_all
from slackdouble import SlackDriver

PARTNERS = 25
DUTY_PER_PARTNER = 4  # 100 duty contacts in all
LATENCY = 0.1
TEAM = "T0BENCH"
BOARD = "C0BENCHBOARD"
FIRST_TARGET, LAST_TARGET, RATIO_TARGET = 1.0, 3.0, 0.3


@dataclass
class Run:
    first: float
    last: float
    notifications: int
    answered: float = 0.0  # the form's answer (the alert committed) after the submit


def partnership() -> str:
    lines = [f"team: {TEAM}", "partners:"]
    for p in range(PARTNERS):
        duty = [f"U0B{p:02d}D{d}" for d in range(DUTY_PER_PARTNER)]
        reporter = f"U0B{p:02d}R0"
        lines += [
            f"  - name: Partner {p:02d}",
            "    type: GEMEENTE",
            f"    alert_channel: C0BENCH{p:02d}",
            f"    lead: {duty[0]}",
            f"    duty_contacts: [{', '.join(duty)}]",
            "    members:",
            *[f"      - {{user: {user}}}" for user in duty],
            f"      - {{user: {reporter}}}",
        ]
    lines.append("      - {user: U0BENCHCO, role: coordinator}")
    return "\n".join(lines) + "\n"


def channels() -> set[str]:
    return {f"C0BENCH{p:02d}" for p in range(PARTNERS)}


def duty_contacts() -> set[str]:
    return {f"U0B{p:02d}D{d}" for p in range(PARTNERS) for d in range(DUTY_PER_PARTNER)}


def one_alert(double: Any, driver: SlackDriver, number: int) -> Run:
    """Raise one alert through the form, as reporter number `number`; time its notifications."""
    reporter = f"U0B{number % PARTNERS:02d}R0"
    opened = len(double.calls_to("views.open"))
    driver.command("/rugdekking", "", user=reporter, team=TEAM)
    double.wait_for("views.open", count=opened + 1, timeout=10)
    view = double.last_view("rugdekking_raise")
    values = {
        "rd_type": {"type": "INTIMIDATIE"},
        "rd_level": {"level": "HOOG"},
        "rd_safe": {"safe": "yes"},
        "rd_description": {"description": None},
        "rd_place": {"place": None},
        "rd_name": {"name": []},
    }
    submitted = time.time()
    response = driver.view_submission("rugdekking_raise", values, user=reporter, view=view, team=TEAM)
    answered = time.time() - submitted
    if response.status != 200 or "update" not in response.body:
        raise RuntimeError(f"the form was not accepted: {response.status} {response.body[:200]}")
    code = f"RD-{number}"
    targets = (channels() | duty_contacts()) - {reporter}

    def is_notification(call: Any) -> bool:
        return (
            call.ok
            and call.args.get("channel") in targets
            and f"Rugdekking {code}:" in str(call.args.get("text"))
        )

    calls = double.wait_for("chat.postMessage", is_notification, count=len(targets), timeout=60)
    times = sorted(call.at + LATENCY - submitted for call in calls)
    return Run(first=times[0], last=times[-1], notifications=len(calls), answered=answered)


def baseline(services: Services, double: Any) -> Run:
    """The same messages, one by one: each Slack call waits for the previous one."""
    context = {
        "alert": {
            "id": 999,
            "code": "RD-999",
            "drill": False,
            "incident_type": "Intimidation",
            "seriousness": "High: danger now",
            "level": "HOOG",
            "partner": "Partner 00",
            "reporter": None,
            "raised_at": "2026-11-28T14:00:00+00:00",
            "safety": "VEILIG",
            "closed_at": None,
            "closed_by": None,
        },
        "partner": "Partner 00",
        "acknowledged_by": None,
        "acknowledged_at": None,
        "round1": [],
        "round2": [],
    }
    client = WebClient(token=BOT_TOKEN, base_url=double.base_url, retry_handlers=[])
    started = time.time()
    done: list[float] = []
    for channel in sorted(channels()) + sorted(duty_contacts()):
        to = "channel" if channel.startswith("C") else "person"
        message = services.renderer.render(ALERT, "nl", **context, to=to, role="duty")
        client.chat_postMessage(channel=channel, text=message["text"], blocks=message["blocks"])
        done.append(time.time() - started)
    return Run(first=done[0], last=done[-1], notifications=len(done))


def bench(args: argparse.Namespace, url: str) -> bool:
    upgrade(url)
    with slack_double() as double:
        env = samen_env(database_url=url, api_url=double.base_url)
        env["SAMEN_PARTNERSHIP_CHANNEL"] = BOARD
        if args.concurrency is not None:
            env["SAMEN_OUTBOX_CONCURRENCY"] = str(args.concurrency)
        settings = load_settings(_env_file=None, **env)
        services = Services.build(settings)
        with services.session() as session:
            import_partners(session, actor=CLI_ACTOR, source=partnership(), purpose="bench: the partnership")
        app = create_app(
            settings,
            features=register_all,
            client=WebClient(token=BOT_TOKEN, base_url=double.base_url),
            services=services,
        )
        server = serve_in_thread(app, services)
        driver = SlackDriver(server.events_url, SIGNING_SECRET, double=double, team_id=TEAM)
        worker = Worker(services, SlackChat.for_services(services), jobs=[])
        worker.start()
        double.set_latency(LATENCY)
        double.enforce_channel_rate(1.0)
        print(f"machine: {machine_notes()}")
        print(
            f"{PARTNERS} partners, {PARTNERS * DUTY_PER_PARTNER} duty contacts: "
            f"{PARTNERS + PARTNERS * DUTY_PER_PARTNER} notifications per alert; "
            f"Slack {LATENCY * 1000:.0f} ms per call, 1 message/s per channel; "
            f"worker concurrency K={settings.outbox_concurrency}; database {url.split(':')[0]}"
        )
        runs: list[Run] = []
        try:
            one_alert(double, driver, 1)  # warm-up: imports, connections, caches
            time.sleep(1.5)
            for number in range(2, args.runs + 2):
                run = one_alert(double, driver, number)
                runs.append(run)
                print(
                    f"alert {number - 1}: first notification {run.first * 1000:5.0f} ms, "
                    f"last {run.last * 1000:5.0f} ms ({run.notifications} notifications; "
                    f"the form was answered, the alert committed, after {run.answered * 1000:.0f} ms)"
                )
                time.sleep(1.5)  # Slack's per-channel limit: the next alert starts on quiet channels
            base = baseline(services, double)
        finally:
            worker.stop()
            # The PostgreSQL LISTEN thread notices the stop within its 1 s poll; let it close its
            # connection before the engine goes (and before the throw-away database is dropped).
            listener = getattr(worker.dispatcher, "_listener", None)
            if isinstance(listener, threading.Thread):
                listener.join(3)
            server.stop()
            services.engine.dispose()
        violations = [v for v in double.violations if "429" not in v]
    first = statistics.median(r.first for r in runs)
    last = statistics.median(r.last for r in runs)
    ratio = last / base.last
    print(
        f"one by one (baseline): first {base.first * 1000:.0f} ms, last {base.last * 1000:.0f} ms "
        f"({base.notifications} messages)"
    )
    print(f"median of {len(runs)} alerts: first {first * 1000:.0f} ms, last {last * 1000:.0f} ms")
    print(f"target first ≤ {FIRST_TARGET:.0f} s: {verdict(first <= FIRST_TARGET)} ({first * 1000:.0f} ms)")
    print(f"target last ≤ {LAST_TARGET:.0f} s: {verdict(last <= LAST_TARGET)} ({last * 1000:.0f} ms)")
    print(f"target last ÷ baseline ≤ {RATIO_TARGET}: {verdict(ratio <= RATIO_TARGET)} ({ratio:.2f})")
    if violations:
        print(f"the Slack double rejected {len(violations)} call(s): {violations[:3]}")
    return first <= FIRST_TARGET and last <= LAST_TARGET and ratio <= RATIO_TARGET and not violations


# -- Matrix (issue 18) ------------------------------------------------------------------------------

SAMEN = str(Path(sys.executable).with_name("samen"))
ROUND_GAP = 1.5  # seconds between alerts: every room's lane (1 message/s) is free again


@dataclass
class MatrixRun:
    delays: list[float]  # per partner room: the alert's origin_server_ts minus the command's, seconds
    seen_after: float  # wall clock from the command until the bench had read every room's alert
    commanded_ms: int = 0  # the command's origin_server_ts
    breakdown: str = ""  # where the time went, from Samen's database (`where_the_time_went`)

    @property
    def first(self) -> float:
        return min(self.delays)

    @property
    def last(self) -> float:
        return max(self.delays)


@dataclass
class MatrixCast:
    bot: Any  # homeserver.MatrixUser
    leads: list[Any]  # one per partner; leads[p] made rooms[p]
    reporters: list[Any]  # members of the first partner, one per alert (a reporter's second alert
    # within a minute would join the first)
    rooms: list[str]
    board: str


def matrix_cast(hs: Any, partners: int, alerts: int, prefix: str) -> MatrixCast:
    """The bot, `partners` leads each with their partner room (Samen invited), `alerts` reporters in the
    first partner's room, and the partnership's room. Localparts start with `prefix` (one homeserver may
    serve several runs, as in the test suite)."""
    bot = hs.bot(f"{prefix}-samen")  # its rate limits lifted, as docs/matrix.md tells operators
    leads = [hs.register(f"{prefix}-lead{p + 1:02d}", displayname=f"Lead {p + 1}") for p in range(partners)]
    reporters = [hs.register(f"{prefix}-reporter{r + 1}") for r in range(alerts)]
    rooms = []
    for number, lead in enumerate(leads):
        invite = [bot.user_id] + ([r.user_id for r in reporters] if number == 0 else [])
        rooms.append(lead.create_room(name=f"Partner {number + 1:02d}", invite=invite))
    for reporter in reporters:
        reporter.join(rooms[0])
    board = leads[0].create_room(name="Samen", invite=[bot.user_id])
    return MatrixCast(bot=bot, leads=leads, reporters=reporters, rooms=rooms, board=board)


def matrix_partners_file(cast: MatrixCast) -> str:
    """The partners YAML as an operator writes it for Matrix: ids quoted, no `team:`."""
    lines = ["partners:"]
    for number, (lead, room) in enumerate(zip(cast.leads, cast.rooms, strict=True)):
        lines += [
            f"  - name: Partner {number + 1:02d}",
            "    type: GEMEENTE",
            f'    alert_channel: "{room}"',
            f'    lead: "{lead.user_id}"',
            f'    duty_contacts: ["{lead.user_id}"]',
            "    members:",
            f'      - {{user: "{lead.user_id}"{", role: coordinator" if number == 0 else ""}}}',
        ]
        if number == 0:
            lines += [f'      - {{user: "{r.user_id}"}}' for r in cast.reporters]
    return "\n".join(lines) + "\n"


def matrix_env(hs: Any, cast: MatrixCast, database_url: str) -> dict[str, str]:
    """`samen`'s environment on Matrix: no SLACK_* at all (also none inherited from ours)."""
    from _common import child_env

    env = child_env(
        SAMEN_CHAT="matrix",
        MATRIX_HOMESERVER_URL=hs.url,
        MATRIX_USER_ID=cast.bot.user_id,
        MATRIX_ACCESS_TOKEN=cast.bot.access_token,
        SAMEN_PARTNERSHIP_CHANNEL=cast.board,
        DATABASE_URL=database_url,
        SAMEN_LANGUAGE="nl",
        SAMEN_TIMEZONE="Europe/Amsterdam",
        SAMEN_ENCRYPTION_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode("ascii"),
    )
    for name in [name for name in env if name.startswith("SLACK_")]:
        del env[name]
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def _samen(env: dict[str, str], *args: str) -> None:
    from _common import ROOT

    done = subprocess.run([SAMEN, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"samen {' '.join(args[:2])} exited {done.returncode}: {done.stderr[-2000:]}")


def _joined(owner: Any, room: str, user_id: str) -> bool:
    return owner.members(room).get(user_id) == "join"


def _alert_events(owner: Any, room: str, bot_id: str, code: str) -> list[dict[str, Any]]:
    """Samen's alert `code` in `room` (the post itself, not a later edit of it)."""
    pattern = re.compile(rf"\b{re.escape(code)}\b")
    return [
        event
        for event in owner.messages(room, limit=20)
        if event.get("sender") == bot_id
        and event.get("type") == "m.room.message"
        and (event.get("content") or {}).get("m.relates_to", {}).get("rel_type") != "m.replace"
        and pattern.search(str((event.get("content") or {}).get("body", "")))
    ]


# The alert's first wave: the board, every partner room, every duty contact's direct room.
_FIRST_WAVE = """
SELECT key, status, sent_at FROM outbox
WHERE key = :board OR key LIKE :posts OR key LIKE :dms
"""


def _first_wave(engine: Any, number: int) -> list[tuple[str, str, Any]]:
    from sqlalchemy import text

    with engine.connect() as connection:
        rows = connection.execute(
            text(_FIRST_WAVE),
            {
                "board": f"rugdekking:{number}:board",
                "posts": f"rugdekking:{number}:p%:post",
                "dms": f"rugdekking:{number}:dm:%",
            },
        ).all()
    return [(str(key), str(status), sent) for key, status, sent in rows]


def matrix_alert(
    cast: MatrixCast, engine: Any, number: int, reporter: Any, *, timeout: float = 60
) -> MatrixRun:
    """`reporter` types `!rugdekking nu …` in the first partner's room; each room's alert RD-<number>.

    The bench learns that the first wave is out from Samen's database (the outbox rows marked sent), not by
    polling the homeserver, which shares the CPUs with Samen: then it reads each room once."""
    command = reporter.say(cast.rooms[0], f"!rugdekking nu Bench {number}: dreiging bij de balie")
    said = time.monotonic()
    commanded = reporter.event(cast.rooms[0], command)["origin_server_ts"]
    code = f"RD-{number}"
    while True:
        wave = _first_wave(engine, number)
        posts = [row for row in wave if row[0].endswith(":post")]
        if len(posts) == len(cast.rooms) and all(status != "pending" for _key, status, _sent in wave):
            break
        if time.monotonic() > said + timeout:
            sent = sum(status == "sent" for _key, status, _sent in posts)
            raise RuntimeError(f"{code}: {sent} of {len(cast.rooms)} rooms sent in {timeout:.0f} s")
        time.sleep(0.1)
    seen_after = time.monotonic() - said
    stamps: dict[str, int] = {}
    for lead, room in zip(cast.leads, cast.rooms, strict=True):
        events = _alert_events(lead, room, cast.bot.user_id, code)
        if not events:
            raise RuntimeError(f"{code} marked sent but not in {room}")
        stamps[room] = min(int(e["origin_server_ts"]) for e in events)
    return MatrixRun(
        delays=sorted((stamp - commanded) / 1000 for stamp in stamps.values()),
        seen_after=seen_after,
        commanded_ms=int(commanded),
    )


def where_the_time_went(engine: Any, number: int, commanded_ms: int) -> str:
    """From Samen's database, in ms after the command (Synapse and Samen share this machine's clock): when
    the alert was raised (the front had the command from its sync and the listener ran), and when the
    outbox marked the first wave's rows sent (the homeserver had answered): partner rooms, the rest."""
    from sqlalchemy import text

    with engine.connect() as connection:
        raised = connection.execute(
            text("SELECT raised_at FROM backup_alert WHERE id = :id"), {"id": number}
        ).scalar_one()

    def after(moment: Any) -> float:
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return float(moment.timestamp() * 1000 - commanded_ms)

    wave = [(key, after(sent)) for key, status, sent in _first_wave(engine, number) if sent is not None]
    rooms = sorted(at for key, at in wave if key.endswith(":post"))
    others = sorted(at for key, at in wave if not key.endswith(":post"))
    said = f"raised {after(raised):.0f} ms after the command"
    if rooms:
        said += f"; rooms marked sent {rooms[0]:.0f}–{rooms[-1]:.0f} ms"
    if others:
        said += f", the other {len(others)} (board, direct rooms) {others[0]:.0f}–{others[-1]:.0f} ms"
    return said


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def matrix_bench(args: argparse.Namespace, url: str, hs: Any) -> bool:
    """The bench on the homeserver `hs` (started by the caller: its start time is theirs to report)."""
    from _common import ROOT, free_port, http_ok, start_process, stop_process, wait_until

    partners, alerts = args.partners, args.runs + 1  # the first alert warms up and is not counted
    prefix = f"fanout-{uuid.uuid4().hex[:6]}"
    print(f"machine: {machine_notes()}")
    began = time.monotonic()
    cast = matrix_cast(hs, partners, alerts, prefix)
    print(
        f"{partners} partner rooms and their leads, {alerts} reporters, the partnership's room: "
        f"set up in {time.monotonic() - began:.1f} s; database {url.split(':')[0]}"
    )
    workdir = Path(tempfile.mkdtemp(prefix="samen-fanout-"))
    (workdir / "partners.yaml").write_text(matrix_partners_file(cast), encoding="utf-8")
    env = matrix_env(hs, cast, url)
    if args.concurrency is not None:
        env["SAMEN_OUTBOX_CONCURRENCY"] = str(args.concurrency)
    _samen(env, "db", "upgrade")
    _samen(env, "partners", "import", str(workdir / "partners.yaml"), "--purpose", "bench: the partnership")
    port = free_port()
    log = workdir / "run.log"
    spawned = time.monotonic()
    process = start_process(
        [SAMEN, "run", "--metrics-host", "127.0.0.1", "--metrics-port", str(port)], env=env, cwd=ROOT, log=log
    )
    runs: list[MatrixRun] = []
    engine = make_engine(url)
    try:
        wait_until(
            lambda: http_ok(f"http://127.0.0.1:{port}/readyz"),
            timeout=60,
            what="samen run",
            process=process,
            log=log,
        )
        ready = time.monotonic() - spawned
        owners = [*zip(cast.leads, cast.rooms, strict=True), (cast.leads[0], cast.board)]
        wait_until(
            lambda: all(_joined(owner, room, cast.bot.user_id) for owner, room in owners),
            timeout=60,
            what="Samen in every room",
            process=process,
            log=log,
        )
        joined = time.monotonic() - spawned
        pids = {"samen run": process.pid, "Synapse": _synapse_pid(hs)}
        print(
            f"samen run (SAMEN_CHAT=matrix, outbox concurrency "
            f"{env.get('SAMEN_OUTBOX_CONCURRENCY', 'default')}): /readyz after {ready:.1f} s, "
            f"in all {len(owners)} rooms after {joined:.1f} s"
        )
        for number in range(1, alerts + 1):
            before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            run = matrix_alert(cast, engine, number, cast.reporters[number - 1])
            used = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
            what = "warm-up (not counted)" if number == 1 else f"alert {number - 1}"
            print(
                f"{what}: first room {run.first * 1000:5.0f} ms, last {run.last * 1000:5.0f} ms, "
                f"median {statistics.median(run.delays) * 1000:5.0f} ms ({len(run.delays)} rooms; "
                f"all read back after {run.seen_after:.1f} s)"
            )
            if args.verbose:
                print(f"  {where_the_time_went(engine, number, run.commanded_ms)}")
                print(
                    "  CPU in those "
                    f"{run.seen_after:.1f} s: "
                    + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in used.items())
                )
            if number > 1:
                runs.append(run)
            time.sleep(ROUND_GAP)
        print(f"load average now {os.getloadavg()[0]:.2f}")
    finally:
        stop_process(process)
        engine.dispose()
        if args.keep_logs:
            print(f"samen run's log: {log}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    firsts, lasts = [r.first for r in runs], [r.last for r in runs]
    first, last = statistics.median(firsts), statistics.median(lasts)
    print(
        f"{len(runs)} alerts: first p50 {first * 1000:.0f} ms, max {max(firsts) * 1000:.0f} ms; "
        f"last p50 {last * 1000:.0f} ms, max {max(lasts) * 1000:.0f} ms"
    )
    print(f"target first ≤ {FIRST_TARGET:.0f} s: {verdict(first <= FIRST_TARGET)} ({first * 1000:.0f} ms)")
    print(f"target last ≤ {LAST_TARGET:.0f} s: {verdict(last <= LAST_TARGET)} ({last * 1000:.0f} ms)")
    return first <= FIRST_TARGET and last <= LAST_TARGET


def _synapse_pid(hs: Any) -> int:
    """The homeserver's process: the one started with its config file (tests/homeserver.py keeps no pid)."""
    config = str(Path(hs.directory) / "homeserver.yaml")
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if config.encode() in argv:
            return int(entry.name)
    return 0


def run_matrix(args: argparse.Namespace, url: str) -> bool:
    from homeserver import running_homeserver

    kept = Path(tempfile.mkdtemp(prefix="samen-fanout-synapse-")) if args.keep_logs else None
    spawned = time.monotonic()
    with running_homeserver(kept) as hs:
        if kept is not None:
            print(f"Synapse's log: {kept / 'homeserver.log'}")
        setup = time.monotonic() - spawned
        print(f"Synapse started in {hs.started_in:.1f} s ({setup:.1f} s with its set-up)")
        return matrix_bench(args, url, hs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file; PostgreSQL: a server URL")
    parser.add_argument("--runs", type=int, default=3, help="measured alerts (the median is judged)")
    parser.add_argument("--concurrency", type=int, default=None, help="default: SAMEN_OUTBOX_CONCURRENCY's")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--chat", choices=("slack", "matrix"), default="slack", help="default: slack")
    parser.add_argument("--partners", type=int, default=PARTNERS, help="partner rooms (Matrix only)")
    parser.add_argument("--keep-logs", action="store_true", help="keep samen run's log (Matrix only)")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="Matrix: per alert, when it was raised and rows sent"
    )
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.partners < 1:
        parser.error("--partners must be at least 1")
    try:
        with database(args.database_url) as url:
            passed = run_matrix(args, url) if args.chat == "matrix" else bench(args, url)
    except KeyboardInterrupt:
        print("interrupted; Samen stopped, throw-away database dropped", file=sys.stderr)
        raise SystemExit(130) from None
    if args.strict and not passed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
