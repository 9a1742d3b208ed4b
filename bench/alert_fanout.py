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
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from _common import BOT_TOKEN, SIGNING_SECRET, machine_notes, samen_env, slack_double, verdict
from outbox import database  # a temporary SQLite file, or a throw-away PostgreSQL database
from slack_sdk import WebClient

from bot.alerts.messages import ALERT
from bot.authz import CLI_ACTOR
from bot.config import load_settings
from bot.db import upgrade
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file; PostgreSQL: a server URL")
    parser.add_argument("--runs", type=int, default=3, help="measured alerts (the median is judged)")
    parser.add_argument("--concurrency", type=int, default=None, help="default: SAMEN_OUTBOX_CONCURRENCY's")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    try:
        with database(args.database_url) as url:
            passed = bench(args, url)
    except KeyboardInterrupt:
        print("interrupted; worker stopped, throw-away database dropped", file=sys.stderr)
        raise SystemExit(130) from None
    if args.strict and not passed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
