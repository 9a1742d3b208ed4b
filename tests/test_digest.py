"""The weekly digest, the overview on demand and the export, read like the booklet: show what was done,
celebrate successes, keep momentum, and answer to the steering group with figures ("samen verantwoorden").

The week's data is built in the test; the digest goes through the outbox and the Slack double (its text
with chat.postMessage, its charts with files.getUploadURLExternal, the upload, files.completeUploadExternal).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import ENCRYPTION_KEY, SIGNING_SECRET
from interventions_support import CHANNEL, FATIMA, JAN, KEES, KOEN, RUUD, TEAM, World, build_world
from PIL import Image
from sqlalchemy import text, update
from sqlmodel import select
from typer.testing import CliRunner

from bot.alerts.models import AlertPartner, BackupAlert, Seriousness
from bot.audit import AuditEntry
from bot.cases.models import Case, CaseStatus
from bot.cli import cli
from bot.config_values import parse_digest_at
from bot.digest import job as digest_job
from bot.digest.figures import figures
from bot.digest.timing import last_week, parse_period
from bot.interventions.models import Goal, Intervention, InterventionStatus, Lesson
from bot.scheduler import run_once
from bot.signals.models import Signal
from bot.vocabulary import FocusElement, IncidentType, InstrumentType, SignalCategory
from slackdouble import SlackDouble

NOW = datetime(2026, 3, 13, 14, 0, tzinfo=UTC)  # Friday 15:00 in Amsterdam
IN_WEEK = NOW - timedelta(days=2)
LONG_AGO = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SECRETS = ("GEHEIM-DETAILS", "GEHEIM-RESULTAAT", "GEHEIM-EFFECT", "GEHEIM-INCIDENT", "GEHEIM-PLAATS")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def world(sqlite_url: str, slack_double: SlackDouble) -> Iterator[World]:
    yield from build_world(sqlite_url, slack_double)


@pytest.fixture
def world_on(database_url: str, slack_double: SlackDouble) -> Iterator[World]:
    yield from build_world(database_url, slack_double)


def _intervention(world: World, **values: object) -> int:
    defaults: dict[str, object] = {
        "case_id": world.case["loods"],
        "instrument_type": InstrumentType.BESTUURSRECHTELIJK,
        "instrument": "Sluiting loods (art. 13b Opiumwet)",
        "focus_element": FocusElement.OPROLLEN,
        "owner_partner_id": world.partner["gemeente"],
        "owner_team_id": TEAM,
        "owner_user_id": FATIMA.user_id,
        "created_by_team_id": TEAM,
        "created_by_user_id": FATIMA.user_id,
        "created_at": LONG_AGO,
        "updated_at": LONG_AGO,
    }
    defaults.update(values)
    with world.services.session() as session:
        made = Intervention(**defaults)  # type: ignore[arg-type]
        session.add(made)
        session.flush()
        assert made.id is not None
        return made.id


def _alert(world: World, *, drill: bool, acks: list[float | None], key: str) -> None:
    with world.services.session() as session:
        alert = BackupAlert(
            source_key=key,
            drill=drill,
            reporter_partner_id=world.partner["gemeente"],
            reporter=f"{TEAM}/{FATIMA.user_id}",
            incident_type=IncidentType.BEDREIGING,
            seriousness=Seriousness.HOOG,
            description="GEHEIM-INCIDENT",
            place="GEHEIM-PLAATS",
            raised_at=IN_WEEK,
            escalate_t1=2,
            escalate_t2=5,
            escalate_t3=10,
            safety_check_at=IN_WEEK + timedelta(minutes=10),
            safety_deadline_at=IN_WEEK + timedelta(minutes=20),
        )
        session.add(alert)
        session.flush()
        for short, seconds in zip(("gemeente", "politie", "belastingdienst"), acks, strict=True):
            session.add(
                AlertPartner(
                    alert_id=alert.id,  # type: ignore[arg-type]
                    partner_id=world.partner[short],
                    partner_name=short,
                    acknowledged_at=None if seconds is None else IN_WEEK + timedelta(seconds=seconds),
                )
            )


def a_busy_week(world: World) -> dict[str, int]:
    """Three signals, a case started and one closed, two interventions carried out (one a success), one
    more success of the woningcorporatie on its own case, one overdue, a lesson, a goal, an alert, a drill."""
    with world.services.session() as session:
        session.execute(update(Case).values(created_at=LONG_AGO))
        for category in (SignalCategory.DRUGS, SignalCategory.DRUGS, SignalCategory.WITWASSEN):
            session.add(
                Signal(
                    summary="Loods met veel verkeer 's nachts",
                    category=category,
                    details="GEHEIM-DETAILS",
                    partner_id=world.partner["gemeente"],
                    reporter_team_id=TEAM,
                    reporter_user_id=FATIMA.user_id,
                    created_at=IN_WEEK,
                )
            )
        session.add(
            Signal(
                summary="oud",
                category=SignalCategory.VASTGOED,
                partner_id=world.partner["gemeente"],
                reporter_team_id=TEAM,
                reporter_user_id=FATIMA.user_id,
                created_at=LONG_AGO,
            )
        )
        own = Case(
            title="C-2026-0010 eigen pand",
            lead_partner_id=world.partner["woningcorporatie"],
            focus_element=FocusElement.WEERBAARHEID,
            created_by_team_id=TEAM,
            created_by_user_id=FATIMA.user_id,
            created_at=IN_WEEK,
        )
        session.add(own)
        loods = session.get(Case, world.case["loods"])
        assert loods is not None
        loods.status, loods.closed_at = CaseStatus.GESLOTEN, IN_WEEK
        session.add(
            Goal(
                partner_id=world.partner["gemeente"],
                focus_element=FocusElement.OPROLLEN,
                description="tien panden sluiten",
                target=10,
                year=2026,
                created_by_team_id=TEAM,
                created_by_user_id=RUUD.user_id,
            )
        )
        session.flush()
        own_case = own.id
    success = _intervention(
        world,
        status=InterventionStatus.UITGEVOERD,
        done_at=IN_WEEK,
        success=True,
        result="GEHEIM-RESULTAAT",
        effect="GEHEIM-EFFECT",
    )
    _intervention(
        world,
        status=InterventionStatus.UITGEVOERD,
        done_at=IN_WEEK - timedelta(hours=3),
        success=False,
        focus_element=FocusElement.AFPAKKEN,
        owner_partner_id=world.partner["politie"],
        instrument="Beslag op voertuigen",
        owner_user_id=JAN.user_id,
    )
    _intervention(
        world,
        status=InterventionStatus.UITGEVOERD,
        done_at=IN_WEEK,
        success=True,
        case_id=own_case,
        focus_element=FocusElement.WEERBAARHEID,
        owner_partner_id=world.partner["woningcorporatie"],
        instrument="Huurcontract ontbonden",
    )
    _intervention(
        world,
        status=InterventionStatus.TOEGEZEGD,
        window_start=NOW - timedelta(days=3),
        window_end=NOW - timedelta(days=1),
    )
    _intervention(world, status=InterventionStatus.UITGEVOERD, done_at=NOW - timedelta(weeks=5), success=True)
    with world.services.session() as session:
        session.add(
            Lesson(
                intervention_id=success,
                partner_id=world.partner["gemeente"],
                focus_element=FocusElement.OPROLLEN,
                instrument_type=InstrumentType.BESTUURSRECHTELIJK,
                text="Eerst de eigenaar spreken, dan sluiten",
                by_team_id=TEAM,
                by_user_id=FATIMA.user_id,
                created_at=IN_WEEK,
            )
        )
    _alert(world, drill=False, acks=[30, 95, None], key="real")
    _alert(world, drill=True, acks=[20, 40, 130], key="drill")
    return {"success": success}


def _everything_sent(double: SlackDouble) -> str:
    return repr([call.args for call in double.calls]) + repr(list(double.files.values()))


def test_the_week_in_figures(world: World) -> None:
    a_busy_week(world)
    with world.services.session() as session:
        found = figures(session, last_week(NOW, world.services.settings.timezone))
    assert found.signals_by_category == [(SignalCategory.DRUGS, 2), (SignalCategory.WITWASSEN, 1)]
    assert (found.cases_started, found.cases_closed) == (1, 1)
    assert len(found.finished) == 3 and len(found.successes) == 2
    gemeente = next(p for p in found.partners if p.partner == "Gemeente Rotterdam")
    assert (gemeente.open, gemeente.capacity, gemeente.overdue) == (1, 2, 1)
    assert [lesson.text for lesson in found.lessons] == ["Eerst de eigenaar spreken, dan sluiten"]
    real, drill = found.real_alerts[0], found.drills[0]
    assert (real.acknowledged, real.total, real.first_ack_seconds, real.all_ack_seconds) == (2, 3, 30, None)
    assert (drill.acknowledged, drill.all_ack_seconds) == (3, 130)
    # Progress counts the year's finished interventions of the goal's partner and focus element.
    assert [(g.done, g.target) for g in found.goals] == [(2, 10)]
    assert sum(found.finished_per_week[FocusElement.OPROLLEN]) == 2  # this week and five weeks ago
    assert found.finished_per_week[FocusElement.OPROLLEN][-1] == 1
    assert found.open_per_week[-1] == 1
    assert not found.quiet


def test_the_weekly_digest_posts_text_then_two_phone_sized_charts_once_with_two_workers(world: World) -> None:
    a_busy_week(world)
    job = digest_job.job(world.services.settings.samen_digest_at)
    ran = [
        run_once(world.services, job, worker=name, now=NOW + timedelta(seconds=i))
        for i, name in enumerate("ab")
    ]
    assert ran == [True, False]
    world.dispatch()
    posts = world.double.messages_in(CHANNEL)
    digest = [m for m in posts if "Samen deze week" in m.get("text", "")]
    assert len(digest) == 1
    shown = str(digest[0]["blocks"])
    for expected in (
        "3 nieuwe signalen",
        "Drugs 2",
        "1 gestart, 1 gesloten",
        "3 interventies uitgevoerd",
        "2 successen",
        "Sluiting loods",
        "Huurcontract ontbonden",
        "Eerst de eigenaar spreken",
        "RD-",
        "2 van 3 partners bevestigd",
        "eerste na 30 s",
        "1 oefening",
        "allemaal na 2 min 10 s",
        "tien panden sluiten",
        "2/10",
        "1 van 2 open",
        "De 2 grafieken volgen hieronder",
    ):
        assert expected in shown, expected
    assert "Beslag op voertuigen" not in shown  # finished but no success: counted, not described
    assert len(world.double.calls_to("files.getUploadURLExternal")) == 2
    completed = world.double.calls_to("files.completeUploadExternal")
    assert [call.args["channel_id"] for call in completed] == [CHANNEL, CHANNEL]
    for uploaded in world.double.files.values():
        data = world.double.file_bytes(uploaded.id)
        assert data is not None and data.startswith(PNG_SIGNATURE)
        image = Image.open(io.BytesIO(data))
        image.verify()
        assert image.size == (1200, 825)  # wide enough to read on a phone held sideways or upright
        assert uploaded.title.startswith(("Uitgevoerde interventies", "Open en uitgevoerde"))  # Dutch labels
    for secret in SECRETS:
        assert secret not in _everything_sent(world.double)


def test_a_quiet_week_is_one_short_message_without_charts(world: World) -> None:
    with world.services.session() as session:
        session.execute(update(Case).values(created_at=LONG_AGO))
    assert run_once(world.services, digest_job.job(), worker="a", now=NOW)
    world.dispatch()
    quiet = [m for m in world.double.messages_in(CHANNEL) if "Rustige week" in m.get("text", "")]
    assert len(quiet) == 1 and len(quiet[0]["blocks"]) == 1
    assert world.double.calls_to("files.getUploadURLExternal") == []


def test_no_digest_on_a_public_holiday(world: World) -> None:
    a_busy_week(world)
    second_christmas_day = datetime(2025, 12, 26, 14, 0, tzinfo=UTC)  # a Friday
    assert run_once(world.services, digest_job.job(), worker="a", now=second_christmas_day)
    assert world.count("SELECT count(*) FROM outbox") == 0


def test_the_digest_day_and_time_are_configurable() -> None:
    assert parse_digest_at("vrijdag 15:00").weekday == 4
    assert parse_digest_at("Mon 09:30").clock.minute == 30
    with pytest.raises(ValueError):
        parse_digest_at("someday 25:00")
    trigger = digest_job.job(parse_digest_at("di 08:00")).trigger(
        last_week(NOW, __import__("zoneinfo").ZoneInfo("UTC")).zone
    )
    assert "day_of_week='1'" in str(trigger) and "hour='8'" in str(trigger)


def _the_overview(world: World, answer: dict[str, Any]) -> dict[str, Any]:
    """The overview as the person sees it: the answer itself, or, when the figures took longer than half
    a second (a busy machine), what replaced "Ik zoek het op…" through the response_url."""
    if answer.get("text") != "Ik zoek het op…":
        return answer
    return dict(world.double.wait_for("response_url", timeout=20)[-1].args)


def test_overview_on_demand_shows_a_member_only_what_their_partner_may_see(world: World) -> None:
    a_busy_week(world)
    # Jan (politie) joined the gemeente's cases: he sees that success; the woningcorporatie's own is a count.
    answer = _the_overview(world, world.command(JAN, "overzicht 2026-03-06..2026-03-13"))
    shown = str(answer.get("blocks"))
    assert answer["response_type"] == "ephemeral"
    assert "Samen-overzicht" in shown and "Sluiting loods" in shown
    assert "Huurcontract ontbonden" not in shown
    assert "en 1 waar jouw partner niet bij betrokken is" in shown
    # The charts are drawn after the answer (Slack's 3 seconds); they are queued for Jan's DM.
    deadline = time.monotonic() + 20
    while world.count("SELECT count(*) FROM outbox WHERE method = 'files.upload_v2'") < 2:
        assert time.monotonic() < deadline, "the charts were not queued"
        time.sleep(0.05)
    world.dispatch()
    completed = world.double.calls_to("files.completeUploadExternal")
    assert len(completed) == 2 and all(c.args["channel_id"].startswith("D") for c in completed)
    for secret in SECRETS:
        assert secret not in _everything_sent(world.double)


def test_overview_refuses_a_period_it_cannot_read_and_non_members(world: World) -> None:
    answer = world.command(JAN, "overzicht gisteren-ish")
    assert "Geef een periode als" in str(answer)
    answer = world.command(JAN, "overzicht 2099-W01")
    assert "nog niet begonnen" in str(answer)
    answer = world.command(KEES, "overzicht")
    assert "Samen-overzicht" not in str(answer) and "Rustige" not in str(answer)
    assert world.count("SELECT count(*) FROM outbox") == 0


def test_periods_as_people_type_them() -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Amsterdam")
    assert parse_period("4w", now=NOW, zone=zone).start == NOW - timedelta(weeks=4)
    week = parse_period("2026-W10", now=NOW, zone=zone)
    assert (week.first_day.isoformat(), week.last_day.isoformat()) == ("2026-03-02", "2026-03-08")


def _cli_env(world: World) -> dict[str, str]:
    return {
        "DATABASE_URL": str(world.services.engine.url.render_as_string(hide_password=False)),
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SAMEN_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "SAMEN_LANGUAGE": "nl",
    }


def test_export_for_the_steering_group_in_three_formats_audited(world: World, tmp_path: Path) -> None:
    a_busy_week(world)
    runner = CliRunner()
    env = _cli_env(world)
    md = runner.invoke(
        cli, ["export", "--van", "2026-03-06", "--tot", "2026-03-13", "--formaat", "md"], env=env
    )
    assert md.exit_code == 0, md.output
    assert "| Nieuwe signalen | 3 |" in md.output and "Huurcontract ontbonden" in md.output
    assert "Beslag op voertuigen" not in md.output  # the partnership's view: no success, not described
    xlsx = tmp_path / "rapport.xlsx"
    made = runner.invoke(
        cli,
        [
            "export",
            "--van",
            "2026-03-06",
            "--tot",
            "2026-03-13",
            "--formaat",
            "xlsx",
            "--uit",
            str(xlsx),
            "--als",
            RUUD.user_id,
        ],
        env=env,
    )
    assert made.exit_code == 0, made.output
    from openpyxl import load_workbook

    book = load_workbook(xlsx)
    assert "Interventies uitgevoerd" in book.sheetnames
    rows = list(book["Interventies uitgevoerd"].values)
    assert len(rows) == 4  # the header and three interventions
    csv_dir = tmp_path / "csv"
    made = runner.invoke(
        cli,
        [
            "export",
            "--van",
            "2026-03-06",
            "--tot",
            "2026-03-13",
            "--formaat",
            "csv",
            "--uit",
            str(csv_dir),
            "--als",
            RUUD.user_id,
        ],
        env=env,
    )
    assert made.exit_code == 0, made.output
    assert "Eerst de eigenaar spreken" in (csv_dir / "lessons.csv").read_text(encoding="utf-8-sig")
    everything = md.output + "".join(p.read_text(encoding="utf-8-sig") for p in csv_dir.iterdir())
    for secret in SECRETS:
        assert secret not in everything
    refused = runner.invoke(
        cli, ["export", "--van", "2026-03-06", "--tot", "2026-03-13", "--als", JAN.user_id], env=env
    )
    assert refused.exit_code == 1 and "coördinator" in refused.output
    with world.services.session() as session:
        audited = session.exec(select(AuditEntry).where(AuditEntry.action == "report.exported")).all()
    assert len(audited) == 3


def test_serving_slack_does_not_load_matplotlib(world: World) -> None:
    code = (
        "import sys\n"
        "from bot.config import load_settings\n"
        "from bot.runtime import Services\n"
        "from bot.slack.app import create_app\n"
        "from commands import register_all\n"
        "from slack_sdk import WebClient\n"
        "s = load_settings(_env_file=None)\n"
        "create_app(s, features=register_all, client=WebClient(token='xoxb-x'), services=Services.build(s))\n"
        "print('matplotlib' in sys.modules)\n"
    )
    env = {**os.environ, **_cli_env(world)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_the_digest_on_postgresql_too(world_on: World) -> None:
    a_busy_week(world_on)
    assert run_once(world_on.services, digest_job.job(), worker="a", now=NOW)
    assert not run_once(world_on.services, digest_job.job(), worker="b", now=NOW)
    assert world_on.count("SELECT count(*) FROM outbox WHERE method = 'files.upload_v2'") == 2
    assert text


def test_need_to_know_in_sql_is_the_interventions_own_rule(world: World) -> None:
    """The figures decide in SQL which instruments a member may see (one query, not one relation look-up
    per finished intervention); for every intervention and member it is `intervention_relation`'s answer."""
    from bot.authz import Relation
    from bot.digest.figures import _visible
    from bot.interventions.models import InterventionPartner
    from bot.interventions.service import intervention_relation
    from bot.partners.models import Member
    from bot.vocabulary import Contribution

    a_busy_week(world)
    joined = _intervention(
        world, owner_partner_id=world.partner["woningcorporatie"], owner_user_id=KOEN.user_id
    )
    with world.services.session() as session:
        session.add(
            InterventionPartner(
                intervention_id=joined,
                partner_id=world.partner["belastingdienst"],
                contribution=Contribution.SLAGKRACHT,
            )
        )
    with world.services.session(read_only=True) as session:
        everything = session.exec(select(Intervention)).all()
        outcomes = set()
        for member in session.exec(select(Member)).all():
            in_sql = set(session.exec(select(Intervention.id).where(_visible(member))).all())
            rule = {
                i.id for i in everything if intervention_relation(session, member, i) is not Relation.OTHER
            }
            assert in_sql == rule, member.user_id
            outcomes.add(len(rule) == len(everything))
    assert outcomes == {True, False}, "some members see every intervention, others only some"
