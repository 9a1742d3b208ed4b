"""Hostile input (issue 10): every slash command, every modal, every button and every shortcut Samen
registers gets random and hostile input through signed requests, from a member of another partner and
from someone who is no member at all. Property-based (hypothesis).

What is sent: very long text, text from every Unicode plane (and lone surrogates, where JSON carries
them), null bytes and control characters, mrkdwn control sequences (`<!channel>`, disguised links,
mentions), JSON where text is expected, template and SQL syntax; forged `private_metadata`; button
values and select options naming other partners' objects.

What must hold, for every input:
- never a 5xx: every request gets an answer Slack accepts, and nothing Slack would refuse is sent
  (the double records it as a violation);
- always an answer: a command or a modal submission is answered (an ephemeral message, a modal, or field
  errors); someone who is no member is told so;
- nothing written on rejection: a stranger's requests change no table; a modal refused with field
  errors changes nothing;
- nothing leaked: the restricted text of the gemeente's signals, its subject, its intervention and the
  wethouder's backup alert appears in no answer and no message at all — not to the attacker, not in any
  channel — and in no log line (conftest scans every line for RESTRICTED_MARKER).

The entry points are read from the Bolt app and the registry (a new command, modal or button is
covered without a change here); the real modals are captured by opening them as the partnership would
(the crawl below) so that their fields are filled the way Slack reports them. How many inputs were
tried is printed at the end.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import string
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import RESTRICTED_MARKER, BotUnderTest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from privacy_support import PARTNERSHIP, register_signal, row_counts, secret, weigh
from rugdekking_support import (
    FATIMA,
    HANS,
    ILSE,
    MARLEEN,
    OMAR,
    STRANGER,
    WETHOUDER,
    deliver,
    raise_with_form,
    set_up_partnership,
    start_bot,
)
from slack_bolt import App

from bot.alerts import service as alerts
from bot.interventions import service as interventions
from bot.interventions.models import InterventionStatus
from bot.partners.models import PersonRef
from bot.partners.service import require_member, require_partner
from bot.slack import surface
from bot.slack.deferred import wait_until_idle
from bot.slack.registry import Registry
from bot.vocabulary import FocusElement, InstrumentType
from slackdouble import SlackDouble, SlackDriver
from slackdouble.driver import DriverResponse

# -- what is sent -------------------------------------------------------------------------------------

KNOWN_HOSTILE = [
    "<!channel>",
    "<!here|iedereen> <!everyone>",
    "<@U0RIEC0001> <@W0RIEC0001|fatima>",
    "<#C0SAMEN|ondermijning>",
    "<https://evil.example|gemeente.nl> <mailto:x@evil.example|FG>",
    "*vet* _schuin_ ~weg~ `code` ```blok``` > citaat",
    "&amp; &lt;!channel&gt; &#x3C;",
    "\x00",
    "a\x00b\x00c",
    "\x07\x1b[31m\r\n\t\x0b\x0c",
    "\u202etxet.exe\u202c \u200b\u200d\ufeff",
    "🧨" * 40,
    "𝕊𝕒𝕞𝕖𝕟 𐍈 \U0001f9ea \U000e0041 \U0010fffd",
    "\ufffd\uffff",
    '{"s": 1, "c": 1, "alert": 1, "id": 1, "case_id": 1, "partner_id": 1}',
    '{"r": "http://127.0.0.1:1/steal", "p": "https://evil.example", "c": "C0SAMEN"}',
    "[1, 2, 3]",
    "null",
    "true",
    "-1",
    "0",
    "1",
    "2",
    "1:2",
    "1:4",
    "999999999999999999999999",
    "1e309",
    "NaN",
    "#1",
    "S-2026-0001",
    "s-9999-9999",
    "'; DROP TABLE signal; --",
    "%(number)s %s %d {0} {}",
    "{{ 7*7 }} {% raw %} {# #}",
    "../../etc/passwd",
    "A" * 3001,
    "x" * 40_000,
    "\n" * 500,
    " " * 200,
    "",
    "ja",
    "nee",
    "VOORGESTELD",
    "morgen 9:00",
    "2000-01-01",
    "9999-12-31",
]

# Every Unicode plane. Form-encoded text (a slash command) can only carry UTF-8 ...
ANY_CHARACTER = st.characters(codec="utf-8")
# ... but a JSON escape such as "\udfff" in an interaction decodes to a lone surrogate, which no UTF-8
# can carry (the edge cleans it: bot/slack/sanitize.py). Only for fields of modals and button values.
lone_surrogates = st.lists(
    st.one_of(ANY_CHARACTER, st.characters(categories=["Cs"])), min_size=1, max_size=40
).map("".join)
hostile_text = st.one_of(
    st.sampled_from(KNOWN_HOSTILE),
    st.text(ANY_CHARACTER, max_size=200),
    st.text(st.sampled_from(string.printable + "<>&|!@#*_~`"), max_size=120),
    st.builds(lambda c, n: c * n, ANY_CHARACTER, st.integers(2_000, 12_000)),
    st.lists(st.sampled_from(KNOWN_HOSTILE), min_size=2, max_size=5).map(" ".join),
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=8,
    ).map(lambda value: json.dumps(value)),
)
# Numbers as text: ids of other partners' objects, and ids that do not exist.
object_id = st.one_of(st.integers(-3, 12), st.integers(10**9, 10**20)).map(str)


# -- the world under attack ---------------------------------------------------------------------------


@dataclass
class Clickable:
    action_id: str
    value: Any
    element: dict[str, Any]


@dataclass(repr=False)
class World:
    bot: BotUnderTest
    secrets: list[str]
    subcommands: list[str]
    views: dict[str, dict[str, Any]]  # callback_id → the modal as the bot opened it
    unopened_views: list[str]  # registered, but not reached by the crawl: filled in blind
    clickables: dict[str, list[Clickable]]  # action_id → what the bot showed with it
    unseen_actions: list[str]
    log: Any = None  # every log line of the suite (conftest's _log_lines)
    hostile_from: int = 0  # the double's call index where the attack started
    tried: Counter[str] = field(default_factory=Counter)

    def __repr__(self) -> str:
        return "World(...)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # how hypothesis prints it
        printer.text("World(...)")


def registered_entry_points() -> tuple[Registry, list[str | re.Pattern[str]], list[str | re.Pattern[str]]]:
    """What the features register: subcommands, modal callback ids, action ids (strings or patterns)."""
    from commands import register_all

    app = App(signing_secret="s" * 32, token="xoxb-unused", token_verification_enabled=False)
    registry = Registry()
    register_all(app, registry)
    views: list[str | re.Pattern[str]] = []
    actions: list[str | re.Pattern[str]] = []
    for listener in app._listeners:
        func = getattr(listener.matchers[0], "func", None)
        builder = getattr(func, "__qualname__", "").split(".")[0]
        closure = inspect.getclosurevars(func).nonlocals if func else {}
        if builder == "view_submission":
            views.append(closure["callback_id"])
        elif builder in ("action", "block_action"):
            actions.append(closure["constraints"])
    return registry, views, actions


def elements_in(blocks: Any) -> Iterator[dict[str, Any]]:
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, dict):
            continue
        for candidate in (block.get("element"), block.get("accessory"), *(block.get("elements") or [])):
            if isinstance(candidate, dict) and "action_id" in candidate:
                yield {**candidate, "_block_id": block.get("block_id")}


def everything_shown(double: SlackDouble) -> Iterator[dict[str, Any]]:
    for call in list(double.calls):
        for holder in (call.args, call.args.get("view") if isinstance(call.args.get("view"), dict) else None):
            if isinstance(holder, dict):
                yield from elements_in(holder.get("blocks"))
    for view in list(double.views.values()):
        yield from elements_in(view.get("blocks"))


def drain(bot: BotUnderTest, timeout: float = 10.0) -> None:
    """Wait until every listener Bolt started has finished (they run after the ack, in a thread pool):
    occupy every worker thread of the pool at once; that can only happen once all earlier work is done."""
    executor = bot.app._listener_runner.listener_executor
    workers = int(getattr(executor, "_max_workers", 1))
    barrier = threading.Barrier(workers + 1)
    for _ in range(workers):
        executor.submit(barrier.wait, timeout)
    barrier.wait(timeout)
    # Answer-first look-ups (the overview) go on in a pool of their own after the listener has answered;
    # the overview's charts are drawn by a fresh Python process, slow on a busy machine.
    assert wait_until_idle(timeout=90.0), "an answer-first look-up did not finish"


def settle(double: SlackDouble, quiet: float = 0.15, limit: float = 3.0) -> None:
    deadline = time.monotonic() + limit
    seen, since = len(double.calls), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet:
        time.sleep(0.02)
        if len(double.calls) != seen:
            seen, since = len(double.calls), time.monotonic()


def build_world(bot: BotUnderTest) -> World:
    """The gemeente's restricted work, which nobody outside it may see, and the modals captured."""
    secrets = [secret(word) for word in ("pand-details", "bewoner-identiteit", "resultaat", "beschrijving")]
    secrets += [secret(word) for word in ("adres", "casus-details", "effect", "open-details")]
    # Only the gemeente: not even the coordinators.
    register_signal(
        bot, MARLEEN, "Loods met busjes", details=secrets[0], identity=secrets[1], coordinators=False
    )
    # Shared with the coordinators, weighed into a case the gemeente leads; an intervention on it is done.
    on_case = register_signal(
        bot, MARLEEN, "Woning met hennepgeur", details=secrets[5], identity=secret("pand")
    )
    weigh(bot, FATIMA, on_case.signal_id, "CASUS", task_partner="1")
    # Waiting to be weighed (its weigh button stays live).
    register_signal(bot, MARLEEN, "Nieuwe melding", details=secrets[7])
    settings_ = bot.services.settings
    with bot.services.session() as session:
        marleen = require_member(session, team_id=MARLEEN.team_id, user_id=MARLEEN.user_id)
        gemeente = require_partner(session, name="Gemeente Breda")
        case_id = int(session.exec(select_case()).one())
        for instrument in ("Sluiting pand (art. 13b Opiumwet)", "Bibob-toets exploitant"):
            made = interventions.create(
                session,
                actor=marleen,
                draft=interventions.Draft(
                    case_id=case_id,
                    instrument_type=InstrumentType.BESTUURSRECHTELIJK,
                    instrument=instrument,
                    focus_element=FocusElement.VERDIENMODEL_VERSTOREN,
                    owner_partner_id=int(gemeente.id or 0),
                    owner=MARLEEN,
                ),
                settings=settings_,
            )
            interventions.advance(
                session,
                actor=marleen,
                intervention_id=int(made.intervention.id or 0),
                to=InterventionStatus.TOEGEZEGD,
                settings=settings_,
                second_round_override="test",
            )
        interventions.finish(
            session,
            actor=marleen,
            intervention_id=int(made.intervention.id or 0),
            settings=settings_,
            result=secrets[2],
            effect=secrets[6],
            lesson="Eerst de eigenaar spreken",
            second_round_override="test",
        )
    # The wethouder asks for backup; every partner acknowledges; it stays open, its buttons live.
    raise_with_form(bot, WETHOUDER, description=secrets[3], place=secrets[4])
    deliver(bot)
    with bot.services.session() as session:
        for person in (MARLEEN, HANS, FATIMA, OMAR):
            member = require_member(session, team_id=person.team_id, user_id=person.user_id)
            alerts.acknowledge(session, actor=member, alert_id=1, settings=settings_)
    deliver(bot)

    registry, view_ids, action_ids = registered_entry_points()
    crawl(bot, registry)
    # Only a modal with a submit button can be submitted (an information window cannot).
    views = {
        str(view.get("callback_id")): view
        for view in list(bot.double.views.values())
        if view.get("type") == "modal" and view.get("callback_id") and view.get("submit")
    }
    clickables: dict[str, list[Clickable]] = {}
    for element in everything_shown(bot.double):
        if not any(matches(constraint, str(element["action_id"])) for constraint in action_ids):
            continue  # a field of a modal: Slack sends no click for it
        found = clickables.setdefault(str(element["action_id"]), [])
        if len(found) < 12:
            found.append(Clickable(str(element["action_id"]), element.get("value"), element))
    names = sorted(registry._aliases)
    unopened = [str(v) for v in view_ids if isinstance(v, str) and v not in views]
    unseen = [
        str(getattr(a, "pattern", a)) for a in action_ids if not any(matches(a, seen) for seen in clickables)
    ]
    # Buttons of the partnership that were registered but never shown: clicked blind, by their id.
    for constraint in action_ids:
        if isinstance(constraint, str) and constraint not in clickables:
            clickables[constraint] = [Clickable(constraint, None, {"type": "button"})]
    world = World(bot, secrets, names, views, unopened, clickables, unseen)
    world.hostile_from = len(bot.double.calls)
    return world


def matches(constraint: str | re.Pattern[str], action_id: str) -> bool:
    return (
        bool(constraint.search(action_id)) if isinstance(constraint, re.Pattern) else constraint == action_id
    )


def select_case() -> Any:
    from sqlmodel import col, select

    from bot.cases.models import Case

    return select(col(Case.id)).order_by(col(Case.id)).limit(1)


def crawl(bot: BotUnderTest, registry: Registry) -> None:
    """Open what the partnership can open, as its people would: every command, the App Home, the
    shortcuts, and every button shown (except sharing, which would give other partners access)."""
    people = (MARLEEN, FATIMA, HANS)
    for person in people:
        for name in registry.subcommands:
            bot.driver.command("/samen", name, user=person.user_id, team=person.team_id)
        bot.driver.command("/rugdekking", "", user=person.user_id, team=person.team_id)
        bot.driver.event({"type": "app_home_opened", "user": person.user_id, "tab": "home"})
        bot.driver.message_shortcut("register_signal", {"text": "Busjes bij de loods"}, user=person.user_id)
        settle(bot.double)
    deliver(bot)
    clicked: set[tuple[str, str]] = set()
    for _round in range(2):  # what the first clicks showed is clicked in the second round
        for element in list(everything_shown(bot.double)):
            action_id = str(element["action_id"])
            if "grant" in action_id or element.get("type") != "button":
                continue
            for person in (MARLEEN, FATIMA):
                if (action_id, person.user_id) in clicked:
                    continue
                clicked.add((action_id, person.user_id))
                bot.driver.action(action_id, value=element.get("value"), user=person.user_id)
        settle(bot.double)
        deliver(bot)


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest, _log_lines: Any
) -> Iterator[World]:
    database = Path(tmp_path_factory.mktemp("hostile")) / "samen.db"
    yield from attacked(f"sqlite:///{database}", request, _log_lines, "SQLite")


@pytest.fixture(scope="module")
def pg_world(pg_admin_url: str, request: pytest.FixtureRequest, _log_lines: Any) -> Iterator[World]:
    """The same on PostgreSQL (what production runs), in a database of its own."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"samen_h_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
        yield from attacked(url, request, _log_lines, "PostgreSQL")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def attacked(database_url: str, request: pytest.FixtureRequest, log: Any, label: str) -> Iterator[World]:
    """The world under attack; afterwards: nothing restricted reached Slack or the outbox, ever."""
    with SlackDouble() as double:
        for person in (ILSE, STRANGER):
            double.add_user(person.user_id, team_id=person.team_id, locale="nl-NL")
        for bot in start_bot(database_url, double):
            set_up_partnership(bot.services, PARTNERSHIP)
            built = build_world(bot)
            built.log = log
            yield built
            deliver(bot)
            settle(double)
            leaks = [
                str(call)[:300] for call in double.calls[built.hostile_from :] if leaked(built, call.args)
            ]
            assert not leaks, "restricted text reached Slack:\n" + "\n".join(leaks)
            with bot.services.engine.connect() as connection:
                outbox = connection.exec_driver_sql("SELECT args || coalesce(context, '') FROM outbox").all()
            assert not [row for row in outbox if leaked(built, row[0])]
            assert not double.violations, double.violations
            report(request, built, label)


def report(request: pytest.FixtureRequest, built: World, label: str) -> None:
    """How many inputs were tried, per kind of entry point and per entry point, on the terminal."""
    by_kind: Counter[str] = Counter()
    for name, count in built.tried.items():
        by_kind[name.split(" ")[0]] += count
    lines = [
        f"hostile input ({label}): {sum(built.tried.values())} requests tried: "
        + ", ".join(f"{count} {kind}" for kind, count in sorted(by_kind.items())),
        "hostile input: per entry point: "
        + ", ".join(f"{name} {count}" for name, count in sorted(built.tried.items())),
        f"hostile input: {len(built.views)} modals captured; filled in blind: {built.unopened_views}",
        f"hostile input: buttons never shown, clicked blind: {built.unseen_actions}",
    ]
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        for line in lines:
            reporter.write_line(line)


# -- the checks -----------------------------------------------------------------------------------------

NOT_WRITTEN_BY_ANYONE = ("person", "processed_event", "job_run")  # bookkeeping, not content
ANSWERS = ("response_url", "views.open", "views.push", "views.update", "chat.postEphemeral")


def leaked(world: World, value: Any) -> bool:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return RESTRICTED_MARKER in text or any(secret_ in text for secret_ in world.secrets)


def answer_calls(world: World, start: int) -> list[Any]:
    return [call for call in world.bot.double.calls[start:] if call.method in ANSWERS]


def attempt(
    world: World,
    kind: str,
    person: PersonRef,
    send: Callable[[], DriverResponse],
    *,
    must_answer: bool,
) -> DriverResponse:
    """Send one hostile request and check what must hold for every input."""
    double = world.bot.double
    engine = world.bot.services.engine
    stranger = person is STRANGER
    start, violations, logged = len(double.calls), len(double.violations), len(world.log.lines)
    drain(world.bot)  # what earlier requests started has finished: nothing else writes now
    before = row_counts(engine) if stranger else None
    response = send()
    world.tried[kind] += 1
    assert response.status < 500, f"{kind}: HTTP {response.status} {response.body[:300]}"
    assert response.status == 200, f"{kind}: HTTP {response.status} {response.body[:300]}"
    answered = bool(response.body)
    if not answered and must_answer:
        deadline = time.monotonic() + 3.0
        while not answer_calls(world, start) and time.monotonic() < deadline:
            time.sleep(0.01)
        answered = bool(answer_calls(world, start))
    drain(world.bot)
    settle(double, quiet=0.02, limit=2.0)
    if must_answer:
        assert answered, f"{kind}: no answer at all"
    errors = [line[:2000] for line in world.log.lines[logged:] if '"level": "error"' in line]
    assert not errors, f"{kind}: an error on Samen's side (answered with an apology):\n" + "\n".join(errors)
    assert not leaked(world, response.body), f"{kind}: restricted text in the answer"
    new_calls = double.calls[start:]
    assert not [c for c in new_calls if leaked(world, c.args)], f"{kind}: restricted text sent to Slack"
    assert len(double.violations) == violations, (
        f"{kind}: Slack would refuse: {double.violations[violations:]}"
    )
    if before is not None:
        after = row_counts(engine)
        changed = {
            t: (before[t], after[t])
            for t in after
            if t not in NOT_WRITTEN_BY_ANYONE and before.get(t) != after[t]
        }
        assert not changed, f"{kind}: a stranger's request wrote {changed}"
    return response


HYPOTHESIS = settings(
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
people = st.sampled_from([ILSE, STRANGER])


def scaled(examples: int) -> int:
    """Examples per test; SAMEN_HOSTILE_SCALE=10 runs a ten times longer sweep (CI keeps 1: ~1 minute)."""
    return max(1, int(examples * float(os.environ.get("SAMEN_HOSTILE_SCALE", "1"))))


# -- slash commands -------------------------------------------------------------------------------------


@settings(HYPOTHESIS, max_examples=scaled(260))
@given(data=st.data(), person=people, text=hostile_text)
def test_every_slash_command_with_hostile_text(
    world: World, data: st.DataObject, person: PersonRef, text: str
) -> None:
    send_command(world, data, person, text)


def send_command(world: World, data: st.DataObject, person: PersonRef, text: str) -> None:
    command = data.draw(
        st.one_of(
            st.sampled_from(world.subcommands).map(lambda word: ("/samen", word)),
            st.sampled_from(sorted(surface.SLASH_COMMANDS)).map(lambda c: (c, "")),
            st.just(("/samen", "")),
        )
    )
    name, word = command
    typed = f"{word} {text}" if word else text
    attempt(
        world,
        f"command {name}",
        person,
        lambda: world.bot.driver.command(name, typed, user=person.user_id, team=person.team_id),
        must_answer=True,
    )


# -- modals -----------------------------------------------------------------------------------------------


def state_for(element: dict[str, Any], draw: Callable[[Any], Any], world: World) -> Any:
    """A value for one field, as Slack would report it: a valid choice, a forged one, or hostile text."""
    kind = element.get("type", "plain_text_input")
    options = [o.get("value") for o in element.get("options") or [] if isinstance(o, dict)]
    for group in element.get("option_groups") or []:
        options += [o.get("value") for o in group.get("options") or []]
    choice = st.sampled_from(options) if options else object_id
    if kind in ("static_select", "radio_buttons", "external_select", "overflow"):
        return draw(st.one_of(choice, object_id, hostile_text, lone_surrogates, st.none()))
    if kind in ("multi_static_select", "checkboxes", "multi_external_select"):
        # Each chosen value as long as a form's field can be (3,000): six of 12,000 four-byte characters
        # would be a body over the edge's cap, refused with 413 before anything reads it (test_edge.py).
        return draw(st.lists(st.one_of(choice, object_id, hostile_text.map(lambda s: s[:3000])), max_size=6))
    if kind in ("users_select", "multi_users_select"):
        users = st.sampled_from([FATIMA.user_id, HANS.user_id, MARLEEN.user_id, "U0NOBODY01", "W0" + "9" * 9])
        value = st.one_of(users, hostile_text)
        return draw(st.lists(value, max_size=4) if kind.startswith("multi") else value)
    if kind in ("conversations_select", "channels_select"):
        return draw(
            st.one_of(st.sampled_from(["C0SAMEN", "C0BREDAALRT", "D0NOBODY", "G0PRIVATE"]), hostile_text)
        )
    if kind == "datepicker":
        return draw(st.one_of(st.dates().map(str), hostile_text))
    if kind == "timepicker":
        return draw(st.one_of(st.times().map(lambda t: t.strftime("%H:%M")), hostile_text))
    if kind == "datetimepicker":
        return draw(st.one_of(st.integers(-(2**40), 2**40), st.none()))
    if kind == "number_input":
        return draw(st.one_of(object_id, hostile_text))
    return draw(st.one_of(hostile_text, lone_surrogates, st.none()))


def forged_metadata(view: dict[str, Any]) -> Any:
    real = view.get("private_metadata") or ""
    try:
        decoded = json.loads(real) if real else {}
    except ValueError:
        decoded = {}
    keys = sorted(decoded) if isinstance(decoded, dict) else []
    some_value = st.one_of(object_id, hostile_text, st.none(), st.integers(), st.lists(object_id, max_size=3))
    forged_dict = st.dictionaries(
        st.sampled_from(keys or ["s", "c", "id"]) | st.text(max_size=6), some_value, max_size=6
    )
    return st.one_of(
        st.just(real),
        forged_dict.map(lambda d: json.dumps({**(decoded if isinstance(decoded, dict) else {}), **d})),
        forged_dict.map(json.dumps),
        hostile_text.map(lambda s: s[:3000]),
    )


@settings(HYPOTHESIS, max_examples=scaled(420))
@given(data=st.data(), person=people)
def test_every_modal_with_hostile_fields_and_forged_metadata(
    world: World, data: st.DataObject, person: PersonRef
) -> None:
    submit_modal(world, data, person)


def submit_modal(world: World, data: st.DataObject, person: PersonRef) -> None:
    callback_id = data.draw(st.sampled_from(sorted(world.views) + world.unopened_views))
    view = dict(world.views.get(callback_id) or {"callback_id": callback_id, "blocks": []})
    values: dict[str, dict[str, Any]] = {}
    for element in elements_in(view.get("blocks")):
        if data.draw(st.integers(0, 9)) == 0:
            continue  # a field left out (or a required one missing)
        block = str(element["_block_id"])
        values.setdefault(block, {})[str(element["action_id"])] = state_for(element, data.draw, world)
    if not view.get("blocks"):
        for _ in range(data.draw(st.integers(0, 5))):
            block = data.draw(
                st.sampled_from(["summary", "details", "reason", "value", "note", "x"])
                | hostile_text.map(lambda s: s[:20])
            )
            values.setdefault(block, {})["value"] = data.draw(hostile_text)
    metadata = data.draw(forged_metadata(view))
    view = {**view, "id": f"V0{uuid.uuid4().hex[:9].upper()}", "private_metadata": metadata}
    response = attempt(
        world,
        f"modal {callback_id}",
        person,
        lambda: world.bot.driver.view_submission(
            callback_id, values, user=person.user_id, view=view, team=person.team_id
        ),
        must_answer=False,  # a modal may simply close; refusals and errors are checked below
    )
    answer = response.json() if response.body else {}
    if answer.get("response_action") == "errors":
        assert answer.get("errors"), f"modal {callback_id}: errors without a message"
        assert all(isinstance(text, str) and text for text in answer["errors"].values())


# -- buttons and menus ------------------------------------------------------------------------------------


@settings(HYPOTHESIS, max_examples=scaled(300))
@given(data=st.data(), person=people)
def test_every_button_with_forged_values(world: World, data: st.DataObject, person: PersonRef) -> None:
    action_id = data.draw(st.sampled_from(sorted(world.clickables)))
    clickable = data.draw(st.sampled_from(world.clickables[action_id]))
    element = clickable.element
    real = clickable.value
    options = [o.get("value") for o in element.get("options") or [] if isinstance(o, dict)]
    value = data.draw(
        st.one_of(
            st.just(real),
            object_id,
            hostile_text,
            lone_surrogates,
            st.sampled_from(options) if options else object_id,
            st.tuples(object_id, object_id).map(":".join),
        )
    )
    kind = element.get("type") or "button"
    where = data.draw(st.sampled_from(["message", "view", "nowhere"]))
    view = (
        {"id": f"V0{uuid.uuid4().hex[:9].upper()}", "type": "home", "blocks": []} if where == "view" else None
    )
    message = (
        {"type": "message", "ts": "1700000000.000100", "text": "", "blocks": []}
        if where == "message"
        else None
    )
    attempt(
        world,
        f"button {action_id}",
        person,
        lambda: world.bot.driver.action(
            action_id,
            value=value,
            user=person.user_id,
            team=person.team_id,
            view=view,
            message=message,
            channel="C0SAMEN" if message else None,
            action_type=kind if kind != "button" else None,
        ),
        # A stranger clicking what Samen showed is told they are not a member; a value Samen never made
        # (only someone holding the signing secret could send one) may simply be ignored.
        must_answer=person is STRANGER and value == real and real is not None,
    )


# -- shortcuts and events ---------------------------------------------------------------------------------


@settings(HYPOTHESIS, max_examples=scaled(80))
@given(person=people, text=hostile_text, which=st.sampled_from(["global", "message", "home"]))
def test_shortcuts_and_events_with_hostile_text(
    world: World, person: PersonRef, text: str, which: str
) -> None:
    driver: SlackDriver = world.bot.driver

    def send() -> DriverResponse:
        if which == "global":
            return driver.shortcut(
                next(iter(surface.GLOBAL_SHORTCUTS)), user=person.user_id, team=person.team_id
            )
        if which == "message":
            message = {"text": text, "user": MARLEEN.user_id}
            return driver.message_shortcut(
                next(iter(surface.MESSAGE_SHORTCUTS)), message, user=person.user_id, team=person.team_id
            )
        event = {"type": "app_home_opened", "user": person.user_id, "tab": text[:20] or "home"}
        return driver.event(event, team=person.team_id)

    stranger_must_hear = which in ("global", "message") and person is STRANGER
    attempt(world, f"{which} shortcut/event", person, send, must_answer=stranger_must_hear)


# -- PostgreSQL ---------------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.timeout(300)  # 150 examples over HTTP and PostgreSQL, beside another test file on the other core
@settings(HYPOTHESIS, max_examples=scaled(150))
@given(data=st.data(), person=people, text=hostile_text)
def test_commands_and_modals_on_postgresql(
    pg_world: World, data: st.DataObject, person: PersonRef, text: str
) -> None:
    """PostgreSQL refuses what SQLite takes (a NUL character in text, numbers beyond its integers)."""
    if data.draw(st.booleans()):
        send_command(pg_world, data, person, text)
    else:
        submit_modal(pg_world, data, person)


# -- what hypothesis found, replayed every time -----------------------------------------------------------


def modal(
    world: World, callback_id: str, person: PersonRef, metadata: str, values: Any = None
) -> DriverResponse:
    view = {
        **(world.views.get(callback_id) or {"callback_id": callback_id, "blocks": []}),
        "id": f"V0{uuid.uuid4().hex[:9].upper()}",
        "private_metadata": metadata,
    }
    return attempt(
        world,
        f"modal {callback_id}",
        person,
        lambda: world.bot.driver.view_submission(
            callback_id, values or {}, user=person.user_id, view=view, team=person.team_id
        ),
        must_answer=False,
    )


def click(world: World, action_id: str, person: PersonRef, value: str) -> DriverResponse:
    return attempt(
        world,
        f"button {action_id}",
        person,
        lambda: world.bot.driver.action(action_id, value=value, user=person.user_id, team=person.team_id),
        must_answer=False,
    )


def test_what_hypothesis_found_stays_fixed(world: World) -> None:
    # Metadata nested 3,000 deep: json.loads raised RecursionError, not ValueError (all four features).
    for callback_id in ("intervention_finish", "rugdekking_close", "signal_register", "checkin_answer_form"):
        modal(world, callback_id, ILSE, "[" * 3000)
    # An id that is not a number, or too big for the database, in metadata and in buttons.
    modal(world, "intervention_finish", ILSE, '{"id": "<!channel>", "origin": "x"}')
    modal(world, "rugdekking_close", ILSE, '{"alert": "[]"}')
    modal(world, "intervention_reason", ILSE, '{"id": 1, "kind": "x", "to": "NIET_BESTAAND"}')
    modal(world, "intervention_reason", ILSE, '{"id": 1, "to": "GEANNULEERD", "kind": null}')
    for value in ("²", "9223372036854775808", "٣", "-1"):
        click(world, "rugdekking_safe", ILSE, value)
        click(world, "intervention_done", ILSE, value)
        click(world, "signal_weigh", ILSE, value)
    click(world, "intervention_to_BESTAAT_NIET", ILSE, "1")
    # A stranger submitting the intervention form was not answered (an error instead).
    answer = modal(world, "intervention_new", STRANGER, "{}", {"case": {"value": "1"}})
    assert answer.json()["response_action"] == "errors"
    # A choice the form never offered.
    modal(world, "intervention_new", ILSE, "{}", {"instrument_type": {"value": "<!channel>"}})


@pytest.mark.postgres
def test_a_null_character_reaches_postgresql_as_nothing(pg_world: World) -> None:
    """PostgreSQL stores no U+0000: a search or a signal with one failed instead of being answered."""
    for typed in ("signalen a\x00b", "subject S-2026-\x000042", "signaal Loods\x00met busjes"):
        attempt(
            pg_world,
            "command /samen",
            ILSE,
            lambda typed=typed: pg_world.bot.driver.command(
                "/samen", typed, user=ILSE.user_id, team=ILSE.team_id
            ),
            must_answer=True,
        )
    values = {
        "summary": {"value": "Loods\x00"},
        "category": {"value": "DRUGS"},
        "details": {"value": "a\x00b"},
    }
    answer = modal(pg_world, "signal_register", ILSE, "{}", values)
    assert answer.status == 200


def test_a_forged_response_url_in_metadata_is_never_posted_to(world: World) -> None:
    """The registration form remembers where the person started (the command's response_url) and posts
    the confirmation there. Forged metadata pointing elsewhere gets the confirmation in the modal instead."""
    values = {"summary": {"value": "Busjes bij de loods"}, "category": {"value": "DRUGS"}}
    for forged in (
        "http://127.0.0.1:1/steal",
        "https://hooks.slack.com.evil.example/x",
        "file:///etc/passwd",
    ):
        answer = modal(world, "signal_register", MARLEEN, json.dumps({"r": forged}), values)
        assert answer.json()["response_action"] == "update"  # answered in the modal, nothing posted
