"""A screen's cost follows what it shows, not how much is stored (issue 21).

The statements a screen runs are counted (an engine listener) with little and with much more data of
the kind that once made it grow; the count must not change. The coordinator's App Home showed what the
next nightly retention run removes by reading every expired signal and then asking, signal by signal,
whether an open case still needed it (one query per signal, up to 500); the overview's charts waited a
second between the two uploads to one DM; `/samen mijn` looked up each intervention's partner and case
one by one (two statements per line shown).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import BotUnderTest, make_settings
from harness import FAST, Partnership
from slack_sdk import WebClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from test_cases import make_case
from test_signals import FATIMA, HANS, ILSE, MARLEEN, ask, set_up

from bot.cases.models import Case, CaseSignal, CaseStatus
from bot.clock import utcnow
from bot.config_values import RetentionKind
from bot.db import make_engine, upgrade
from bot.digest import charts as drawing
from bot.digest.figures import DigestFigures
from bot.digest.timing import last_week
from bot.interventions import goals as goal_service
from bot.interventions.models import Goal, Intervention, InterventionStatus
from bot.outbox import post_message, upload_file
from bot.outbox.dispatcher import Dispatcher
from bot.partners.models import Member, Partner, PartnerType, PersonRef
from bot.privacy import erase, retention
from bot.runtime import Services
from bot.signals.models import Signal, SignalStatus
from bot.slack.chat import SlackChat
from bot.vocabulary import FocusElement, InstrumentType, SignalCategory
from slackdouble import SlackDouble

PERIODS = {kind: 365 for kind in RetentionKind}


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """The statements run on `engine` meanwhile (BEGIN/COMMIT and SQLite's PRAGMAs left out)."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def expired_signals(engine: Engine, count: int, *, partner_id: int, on_open_case: int = 0) -> None:
    """`count` signals weighed to no action two years ago; the first `on_open_case` on an open case."""
    long_ago = utcnow() - timedelta(days=730)
    with Session(engine) as session:
        signals = [
            Signal(
                summary=f"Oude melding {n}",
                category=list(SignalCategory)[n % len(SignalCategory)],
                partner_id=partner_id,
                reporter_team_id="T0",
                reporter_user_id="U0",
                status=SignalStatus.GEEN_ACTIE,
                created_at=long_ago - timedelta(days=30, minutes=n),
                closed_at=long_ago - timedelta(minutes=n),
            )
            for n in range(count)
        ]
        session.add_all(signals)
        session.flush()
        if on_open_case:
            case = session.exec(select(Case).where(Case.status == CaseStatus.OPEN)).first()
            if case is None:
                case = Case(
                    title="Lopende casus",
                    lead_partner_id=partner_id,
                    focus_element=FocusElement.OPROLLEN,
                    created_by_team_id="T0",
                    created_by_user_id="U0",
                )
                session.add(case)
                session.flush()
            for signal in signals[:on_open_case]:
                session.add(CaseSignal(case_id=case.id or 0, signal_id=signal.id or 0))
        session.commit()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    upgrade(database_url)
    made = make_engine(database_url)
    yield made
    made.dispose()


def plan_cost(engine: Engine) -> tuple[int, retention.Plan]:
    with Session(engine) as session, counting(engine) as seen:
        planned = retention.plan(session, periods=PERIODS, now=utcnow())
    return len(seen), planned


def test_retention_plan_costs_the_same_for_few_and_many_expired_signals(engine: Engine) -> None:
    with Session(engine) as session:
        partner = Partner(name="Gemeente", type=PartnerType.GEMEENTE)
        session.add(partner)
        session.commit()
        partner_id = partner.id or 0
    expired_signals(engine, 5, partner_id=partner_id, on_open_case=2)
    few, planned_few = plan_cost(engine)
    assert (planned_few.count(RetentionKind.SIGNALS), len(planned_few.kept)) == (3, 2)
    expired_signals(engine, 120, partner_id=partner_id, on_open_case=40)
    many, planned = plan_cost(engine)
    assert many == few, f"{few} statements for 5 expired signals, {many} for 125"
    # The same plan the one-query-per-signal look-up made: kept exactly where an open case needs it.
    with Session(engine) as session:
        for item in planned.due:
            assert item.kind is not RetentionKind.SIGNALS or not erase.open_case_ids_of_signal(
                session, item.object_id
            )
        for item, why in planned.kept:
            needed = erase.open_case_ids_of_signal(session, item.object_id)
            assert needed and why == "open case " + ", ".join(str(c) for c in needed)
    assert (planned.count(RetentionKind.SIGNALS), len(planned.kept)) == (83, 42)


def home_statements(bot: BotUnderTest, user: str, team: str) -> int:
    with counting(bot.services.engine) as seen:
        sent = time.time()
        bot.driver.event(
            {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"}, team=team
        )
        bot.double.wait_for(
            "views.publish", lambda call: call.at >= sent and call.args.get("user_id") == user
        )
    return len(seen)


def test_the_coordinators_home_costs_the_same_with_many_expired_signals(partnership: Partnership) -> None:
    bot = partnership
    set_up(bot)
    make_case(bot, MARLEEN, "Netwerk rond autobedrijven", lead="3")
    with Session(bot.services.engine) as session:
        partner_id = session.exec(select(Partner.id)).first() or 0
    home_statements(bot, FATIMA.user_id, FATIMA.team_id)  # warm: the locale is learnt once
    expired_signals(bot.services.engine, 3, partner_id=partner_id, on_open_case=1)
    few = home_statements(bot, FATIMA.user_id, FATIMA.team_id)
    expired_signals(bot.services.engine, 150, partner_id=partner_id, on_open_case=30)
    many = home_statements(bot, FATIMA.user_id, FATIMA.team_id)
    assert many == few, f"the coordinator's Home: {few} statements with 3 expired signals, {many} with 153"


def open_interventions(engine: Engine, count: int, *, owner: PersonRef) -> list[str]:
    """`count` unfinished interventions owned by `owner`, each on a case of its own; their codes."""
    with Session(engine) as session:
        member = session.exec(select(Member).where(Member.user_id == owner.user_id)).one()
        made = []
        for n in range(count):
            case = Case(
                title=f"Casus {owner.user_id} {n}",
                lead_partner_id=member.partner_id,
                focus_element=FocusElement.OPROLLEN,
                created_by_team_id=owner.team_id,
                created_by_user_id=owner.user_id,
            )
            session.add(case)
            session.flush()
            intervention = Intervention(
                case_id=case.id,
                instrument_type=list(InstrumentType)[n % len(InstrumentType)],
                instrument=f"Controle {n}",
                focus_element=FocusElement.OPROLLEN,
                owner_partner_id=member.partner_id,
                owner_team_id=owner.team_id,
                owner_user_id=owner.user_id,
                status=InterventionStatus.GEPLAND,
                window_start=utcnow() + timedelta(days=n + 1),
                created_by_team_id=owner.team_id,
                created_by_user_id=owner.user_id,
            )
            session.add(intervention)
            session.flush()
            made.append(intervention.code)
        session.commit()
    return made


def mine_statements(bot: BotUnderTest, who: PersonRef) -> tuple[int, str]:
    with counting(bot.services.engine) as seen:
        shown = ask(bot, who, "mijn")
    return len(seen), shown


def test_mijn_costs_the_same_for_a_page_of_two_and_a_page_of_twenty(partnership: Partnership) -> None:
    """Each line's partner and case are read for the whole page at once: a full page (ten of the
    member's own, ten of their partner's) costs the statements of a page of one each."""
    bot = partnership
    set_up(bot)
    mine_statements(bot, HANS)  # warm: the locale is learnt once
    shown_first = open_interventions(bot.services.engine, 1, owner=HANS)
    shown_first += open_interventions(bot.services.engine, 1, owner=ILSE)
    few, answer = mine_statements(bot, HANS)
    assert re.findall(r"I-\d+", answer) == shown_first
    mine = open_interventions(bot.services.engine, 11, owner=HANS)
    partners = open_interventions(bot.services.engine, 11, owner=ILSE)
    many, answer = mine_statements(bot, HANS)
    # A page: the ten with the soonest windows of each list (the first one made, then the new ones).
    assert re.findall(r"I-\d+", answer) == [shown_first[0], *mine[:9], shown_first[1], *partners[:9]]
    assert many == few, f"/samen mijn: {few} statements for a page of 2, {many} for a page of 20"


def test_a_file_follows_its_lanes_last_message_without_the_pause(
    database_url: str, slack_double: SlackDouble
) -> None:
    """Slack paces chat.postMessage per channel (~1 a second); files are not counted there. A post, then
    two charts to one DM: the first chart waits for the post's second, the second chart does not wait."""
    upgrade(database_url)
    services = Services.build(make_settings(database_url, api_url=slack_double.base_url))
    try:
        with services.session() as session:
            post_message(session, key="digest:text", channel="U0CHARTS", message={"text": "Het overzicht"})
            for name in ("focus", "open"):
                upload_file(
                    session, key=f"digest:{name}", channel="U0CHARTS", filename=f"{name}.png", title=name,
                    content=b"\x89PNG chart",
                )  # fmt: skip
        chat = SlackChat(WebClient(token="xoxb-test", base_url=slack_double.base_url, retry_handlers=[]))
        running = Dispatcher(services, chat, config=replace(FAST, lane_interval=1.0))
        running.start()
        try:
            slack_double.wait_for("files.completeUploadExternal", count=2, timeout=10)
        finally:
            running.stop()
        posted = slack_double.calls_to("chat.postMessage")[0].at
        charts = [call.at for call in slack_double.calls_to("files.completeUploadExternal")]
    finally:
        services.engine.dispose()
    assert len(charts) == 2
    assert charts[0] - posted >= 0.95, "a file after a post still keeps the channel's pace"
    assert charts[1] - charts[0] < 0.9, "the second chart waited the channel's second"


def test_the_same_series_is_drawn_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """People asking for one period's overview while nothing changed get the charts drawn for the first:
    one child process, not one each; another language (or other figures) draws anew."""
    started: list[str] = []
    real_run = drawing.subprocess.run

    def run(*args: Any, **kwargs: Any) -> Any:
        started.append(kwargs["input"])
        return real_run(*args, **kwargs)

    monkeypatch.setattr(drawing.subprocess, "run", run)
    monkeypatch.setattr(drawing, "_DRAWN", drawing.OrderedDict())
    found = DigestFigures(
        period=last_week(datetime(2026, 3, 13, 14, 0, tzinfo=UTC), ZoneInfo("Europe/Amsterdam")),
        signals_by_category=[], cases_started=1, cases_closed=0, finished=[], partners=[], lessons=[],
        alerts=[], checkins=None, goals=[], weeks=[f"W{n:02d}" for n in range(1, 13)],
        finished_per_week={FocusElement.OPROLLEN: [n % 3 for n in range(12)]}, open_per_week=[4] * 12,
    )  # fmt: skip
    first = drawing.charts(found, "nl")
    again = drawing.charts(found, "nl")
    english = drawing.charts(found, "en")
    assert len(started) == 2 and again == first and len(first) == 2
    assert english != first and [c.name for c in english] == [c.name for c in first]
    # Asked at the same moment: one draws, the others wait for its charts.
    monkeypatch.setattr(drawing, "_DRAWN", drawing.OrderedDict())
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(lambda _n: drawing.charts(found, "nl"), range(3)))
    assert len(started) == 3 and together == [first] * 3
    # A drawing that failed is not kept: the next one asking draws again.
    monkeypatch.setattr(drawing, "_DRAWN", drawing.OrderedDict())
    monkeypatch.setattr(drawing.subprocess, "run", lambda *a, **k: (_ for _ in ()).throw(OSError("no child")))
    with pytest.raises(OSError):
        drawing.charts(found, "nl")
    monkeypatch.setattr(drawing.subprocess, "run", run)
    assert drawing.charts(found, "nl") == first and len(started) == 4


def goals_and_work(
    engine: Engine, *, partners: range, year: int, finished: int, other_years: int = 0
) -> None:
    """A goal on OPROLLEN for each partner numbered in `partners` (made when missing), and per partner
    `finished` interventions carried out on it in `year` (and `other_years` in the year before)."""
    with Session(engine) as session:
        for n in partners:
            partner = session.exec(select(Partner).where(Partner.name == f"Partner {n:03}")).first()
            if partner is None:
                partner = Partner(name=f"Partner {n:03}", type=PartnerType.GEMEENTE)
                session.add(partner)
                session.flush()
            session.add(
                Goal(
                    partner_id=partner.id or 0,
                    focus_element=FocusElement.OPROLLEN,
                    description=f"Doel {n}",
                    target=10,
                    year=year,
                    created_by_team_id="T0",
                    created_by_user_id="U0",
                )
            )
            for k in range(finished + other_years):
                session.add(
                    Intervention(
                        instrument_type=InstrumentType.BESTUURSRECHTELIJK,
                        instrument=f"Sluiting {n}.{k}",
                        focus_element=FocusElement.OPROLLEN,
                        owner_partner_id=partner.id or 0,
                        owner_team_id="T0",
                        owner_user_id="U0",
                        status=InterventionStatus.UITGEVOERD,
                        done_at=datetime(year if k < finished else year - 1, 6, 1, tzinfo=UTC),
                        created_by_team_id="T0",
                        created_by_user_id="U0",
                    )
                )
        session.commit()


def goals_cost(engine: Engine, year: int) -> tuple[int, int, list[int], int]:
    """`/samen doelen`'s reads: (statements, SQLite VM steps in thousands or 0, each shown goal's count,
    all the year's goals)."""
    steps = [0]
    with engine.connect() as connection, Session(bind=connection) as session, counting(engine) as seen:
        raw = connection.connection.dbapi_connection
        if engine.dialect.name == "sqlite":
            raw.set_progress_handler(lambda: steps.__setitem__(0, steps[0] + 1) or 0, 1_000)  # type: ignore[union-attr]
        shown = goal_service.progress(session, year=year)
        total = goal_service.count_goals(session, year=year)
        if engine.dialect.name == "sqlite":
            raw.set_progress_handler(None, 0)  # type: ignore[union-attr]
    return len(seen), steps[0], [p.done for p in shown], total


def test_goal_progress_reads_the_page_not_the_year(engine: Engine) -> None:
    """`/samen doelen` counted every finished intervention of the year for every goal (≈ 25,000 rows at
    a national size, issue 21): now each shown goal's count is an index range of its own. Goals beyond
    the page and their work, and the shown partners' work of other years, add statements nor (SQLite)
    virtual-machine steps beyond a little for counting the year's goals."""
    year = utcnow().year
    goals_and_work(engine, partners=range(1, goal_service.PAGE + 1), year=year, finished=2)
    few, few_steps, done, total = goals_cost(engine, year)
    assert (done, total) == ([2] * goal_service.PAGE, goal_service.PAGE)
    goals_and_work(engine, partners=range(goal_service.PAGE + 1, 201), year=year, finished=12)
    goals_and_work(engine, partners=range(1, goal_service.PAGE + 1), year=year - 1, finished=0, other_years=6)
    many, many_steps, done, total = goals_cost(engine, year)
    assert (done, total) == ([2] * goal_service.PAGE, 200)
    assert many == few, f"/samen doelen: {few} statements for {goal_service.PAGE} goals, {many} for 200"
    # Reading the year's work instead: ≈ 2,100 more finished interventions, tens of thousands of steps.
    assert many_steps <= few_steps + 5, f"SQLite VM steps: {few_steps}k for the page alone, {many_steps}k"


def test_doelen_shows_a_page_and_says_how_many_more(partnership: Partnership) -> None:
    bot = partnership
    set_up(bot)
    year = bot.services.clock.now().year
    goals_and_work(bot.services.engine, partners=range(1, goal_service.PAGE + 8), year=year, finished=1)
    shown = ask(bot, HANS, "doelen")
    assert re.findall(r"Doel (\d+)", shown) == [str(n) for n in range(1, goal_service.PAGE + 1)]
    assert "en nog 7" in shown
