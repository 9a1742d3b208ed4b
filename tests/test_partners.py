"""Partners and members: the partnership is set up from a file, and coordinators keep it current in Slack.

Read like the booklet: "the RIEC coordinator adds a politie officer; a member may not; …". Every refused
or mistyped change must leave the database exactly as it was.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BOT_TOKEN, ENCRYPTION_KEY, SIGNING_SECRET, BotUnderTest, make_settings
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from bot.audit import verify
from bot.authz import CLI_ACTOR, NotAllowed, Role
from bot.cli import cli
from bot.db import make_engine, session_scope, upgrade
from bot.partners import rules, service
from bot.partners.importer import ImportFailed, ImportReport, SetupGap, gap_warnings, import_partners, parse
from bot.partners.models import Member, PersonRef
from bot.runtime import Services
from slackdouble import visible_text
from slackdouble.blockkit import check_message_blocks

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "deploy" / "partners.example.yaml"
TEAM = "T0SAMEN"  # the team the driver's commands come from

FATIMA = PersonRef(TEAM, "U0RIEC0001")  # RIEC coordinator
SANNE = PersonRef(TEAM, "U0RIEC0002")  # RIEC admin
HANS = PersonRef(TEAM, "U0POL00001")  # politie, duty contact
ILSE = PersonRef(TEAM, "U0POL00002")  # politie member
MARLEEN = PersonRef(TEAM, "U0BREDA001")  # gemeente member
KEES = PersonRef(TEAM, "U0POL00003")  # a politie officer, not yet a member
STRANGER = PersonRef(TEAM, "U0STRANGE1")

PARTNERSHIP = f"""\
team: {TEAM}
partners:
  - name: RIEC Zeeland-West-Brabant
    type: RIEC
    capacity: 2
    alert_channel: C0RIECALERT
    lead: U0RIEC0001
    duty_contacts: [U0RIEC0001]
    members:
      - {{user: U0RIEC0001, role: coordinator, name: Fatima}}
      - {{user: U0RIEC0002, role: admin, name: Sanne}}
  - name: Politie Zeeland-West-Brabant
    type: POLITIE
    capacity: 4
    duty_contacts: [U0POL00001]
    members:
      - {{user: U0POL00001, name: Hans}}
      - {{user: U0POL00002, name: Ilse}}
  - name: Gemeente Breda
    type: gemeente
    capacity: 3
    members:
      - {{user: U0BREDA001}}
"""

PURPOSE = "test: partnership administration"


def set_up(session: Session, source: str = PARTNERSHIP) -> ImportReport:
    return import_partners(session, actor=CLI_ACTOR, source=source, purpose="initial set-up")


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Everything this feature writes, to compare before and after a refused change."""
    tables = {
        "partner": "SELECT id, name, type, alert_channel_id, lead_team_id, lead_user_id, capacity, "
        "updated_at FROM partner ORDER BY id",
        "member": "SELECT team_id, user_id, partner_id, role, display_name FROM member ORDER BY id",
        "duty_contact": "SELECT partner_id, position, team_id, user_id FROM duty_contact "
        "ORDER BY partner_id, position",
        "audit_entry": "SELECT seq, hash FROM audit_entry ORDER BY seq",
    }
    with engine.connect() as connection:
        return {name: [tuple(row) for row in connection.execute(text(sql))] for name, sql in tables.items()}


def member(session: Session, person: PersonRef) -> Member:
    return service.require_member(session, team_id=person.team_id, user_id=person.user_id)


def partner_id(session: Session, name: str) -> int:
    found = service.require_partner(session, name=name)
    assert found.id is not None
    return found.id


def audit_actions(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT action FROM audit_entry ORDER BY seq"))]


@pytest.fixture
def services_on(database_url: str) -> Iterator[Services]:
    """A migrated database and its services, on SQLite and on PostgreSQL in turn."""
    upgrade(database_url)
    built = Services.build(make_settings(database_url), engine=make_engine(database_url))
    yield built
    built.engine.dispose()


@pytest.fixture
def partnership(services: Services) -> Services:
    with services.session() as session:
        set_up(session)
    return services


# --- the partners file ---------------------------------------------------------------------------


def test_the_example_file_imports_and_a_second_run_changes_nothing(services_on: Services) -> None:
    services = services_on
    source = EXAMPLE.read_text(encoding="utf-8")
    with services.session() as session:
        first = import_partners(session, actor=CLI_ACTOR, source=source, purpose="set-up")
    assert first.changed
    assert first.partners == 5 and first.members == 11
    after_first = snapshot(services.engine)
    entries = len(after_first["audit_entry"])
    assert entries == len(first.changes)  # one audit entry per change, nothing more

    with services.session() as session:
        second = import_partners(session, actor=CLI_ACTOR, source=source, purpose="set-up again")
    assert second.changes == []
    assert snapshot(services.engine) == after_first  # same rows, and no second set of audit entries

    with services.session() as session:
        politie = service.require_partner(session, name="politie zeeland-west-brabant")  # any case
        assert politie.capacity == 4
        people = service.members_of(session, partner_id=politie.id or 0)
        # Slack Connect: the police keep their own team id.
        assert {m.team_id for m in people} == {"T0POLITIE1"}
        assert [c.user_id for c in service.duty_contacts(session, partner_id=politie.id or 0)] == [
            "U0POL00001",
            "U0POL00002",
        ]
        assert verify(session).ok


def test_invalid_items_are_reported_with_their_lines_and_nothing_is_written(services: Services) -> None:
    source = """\
team: T0SAMEN
partners:
  - name: Gemeente Tilburg
    type: GEMEENTEE
    capacity: -1
    members:
      - {user: U0TILB0001, role: baas}
      - {user: bob}
  - name: gemeente tilburg
    type: GEMEENTE
    colour: red
"""
    before = snapshot(services.engine)
    with pytest.raises(ImportFailed) as failed, services.session() as session:
        set_up(session, source)
    found = {(p.line, p.where) for p in failed.value.problems}
    assert found == {
        (4, "partners[0].type"),
        (5, "partners[0].capacity"),
        (7, "partners[0].members[0].role"),
        (8, "partners[0].members[1].user"),
        (11, "partners[1].colour"),
    }
    assert snapshot(services.engine) == before


def test_file_wide_mistakes_are_reported_too() -> None:
    source = """\
partners:
  - name: Gemeente Tilburg
    type: GEMEENTE
    duty_contacts: [U0TILB0001, U0TILB0001]
    members:
      - {user: U0TILB0001, team: T0SAMEN}
      - {user: U0TILB0002}
  - name: "Gemeente  tilburg"
    type: GEMEENTE
    members:
      - {user: U0TILB0001, team: T0SAMEN}
    name: again
"""
    with pytest.raises(ImportFailed) as failed:
        parse(source)
    messages = [str(p) for p in failed.value.problems]
    assert any("line 12" in m and "appears twice" in m for m in messages), messages
    with pytest.raises(ImportFailed) as failed:
        parse(source.replace("    name: again\n", ""))
    messages = [str(p) for p in failed.value.problems]
    assert any("line 4" in m and "named twice" in m for m in messages), messages
    assert any("line 7" in m and "has no team" in m for m in messages), messages
    assert any("line 8" in m and "already listed" in m for m in messages), messages
    assert any("line 11" in m and "listed twice" in m for m in messages), messages


def test_not_yaml_at_all_is_reported_with_its_line() -> None:
    with pytest.raises(ImportFailed) as failed:
        parse("partners:\n  - name: [Gemeente\n")
    assert failed.value.problems[0].line == 3
    assert "not valid YAML" in failed.value.problems[0].message


def test_a_problem_found_while_applying_undoes_everything(partnership: Services) -> None:
    """Moving Fatima to the gemeente would leave the RIEC without its lead and duty contact."""
    before = snapshot(partnership.engine)
    moved = PARTNERSHIP.replace(
        "      - {user: U0BREDA001}", "      - {user: U0BREDA001}\n      - {user: U0RIEC0001}"
    )
    moved = moved.replace("      - {user: U0RIEC0001, role: coordinator, name: Fatima}\n", "")
    moved = moved.replace("    lead: U0RIEC0001\n    duty_contacts: [U0RIEC0001]\n", "")
    with pytest.raises(ImportFailed) as failed, partnership.session() as session:
        set_up(session, moved)
    messages = [p.in_file("partners.yaml") for p in failed.value.problems]
    assert any("duty contact of RIEC Zeeland-West-Brabant" in m and "moves them" in m for m in messages)
    assert snapshot(partnership.engine) == before


def test_the_file_adds_and_never_removes_people(partnership: Services) -> None:
    with partnership.session() as session:
        service.add_member(
            session,
            actor=member(session, FATIMA),
            partner_id=partner_id(session, "Gemeente Breda"),
            team_id=STRANGER.team_id,
            user_id=STRANGER.user_id,
            purpose=PURPOSE,
        )
    with partnership.session() as session:
        assert set_up(session).changes == []
        assert service.find_member(session, team_id=STRANGER.team_id, user_id=STRANGER.user_id) is not None


def test_left_out_fields_stay_and_null_clears(partnership: Services) -> None:
    with partnership.session() as session:
        riec = partner_id(session, "RIEC Zeeland-West-Brabant")
        service.set_capacity(
            session, actor=member(session, FATIMA), partner_id=riec, capacity=5, purpose=PURPOSE
        )
    without_capacity = PARTNERSHIP.replace("    capacity: 2\n", "")
    with partnership.session() as session:
        assert set_up(session, without_capacity).changes == []
        assert service.get_partner(session, partner_id=riec).capacity == 5
    cleared = PARTNERSHIP.replace("alert_channel: C0RIECALERT", "alert_channel: null")
    with partnership.session() as session:
        report = set_up(session, cleared)
    assert report.changes == [
        "set the capacity of RIEC Zeeland-West-Brabant to 2",
        "set the alert channel of RIEC Zeeland-West-Brabant to -",
    ]


def test_a_file_can_hand_the_coordinator_role_over(partnership: Services) -> None:
    handed_over = PARTNERSHIP.replace(
        "role: coordinator, name: Fatima", "role: member, name: Fatima"
    ).replace("{user: U0POL00002, name: Ilse}", "{user: U0POL00002, name: Ilse, role: coördinator}")
    with partnership.session() as session:
        set_up(session, handed_over.replace("role: admin, name: Sanne", "role: member, name: Sanne"))
        assert [m.user_id for m in service.coordinators(session)] == [ILSE.user_id]


def test_samen_partners_import_and_list_on_the_command_line(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SAMEN_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "DATABASE_URL": sqlite_url,
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    dry = runner.invoke(cli, ["partners", "import", str(EXAMPLE), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would have created partner Gemeente Breda (GEMEENTE)" in dry.output
    assert "nothing was changed" in dry.output
    listed = runner.invoke(cli, ["partners", "list"])
    assert "no partners yet" in listed.output

    done = runner.invoke(cli, ["partners", "import", str(EXAMPLE)])
    assert done.exit_code == 0, done.output
    assert "change(s) made" in done.output
    again = runner.invoke(cli, ["partners", "import", str(EXAMPLE)])
    assert "everything is already as in partners.example.yaml" in again.output
    listed = runner.invoke(cli, ["partners", "list"])
    assert "Politie Zeeland-West-Brabant (POLITIE): capacity 4, lead U0POL00001" in listed.output
    assert "T0POLITIE1/U0POL00001 Hans Smit: member" in listed.output

    broken = tmp_path / "broken.yaml"
    broken.write_text("partners:\n  - name: X\n    type: NOPE\n", encoding="utf-8")
    failed = runner.invoke(cli, ["partners", "import", str(broken)])
    assert failed.exit_code == 1
    assert "broken.yaml:3: partners[0].type:" in failed.output
    assert "nothing was changed" in failed.output
    verified = runner.invoke(cli, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_the_import_names_each_partner_that_will_miss_something(partnership: Services) -> None:
    """A partner without lead, duty contacts or alert channel is named with what it will miss, so the
    admin hears it at import and not during an alert (issue 20)."""
    with partnership.session() as session:
        gaps = set_up(session).gaps  # the same file again: nothing changes, the gaps are still said
    assert gaps == [
        SetupGap("Politie Zeeland-West-Brabant", ("lead", "channel")),
        SetupGap("Gemeente Breda", ("lead", "duty", "channel")),
    ]
    dutch = "\n".join(gap_warnings(gaps, "nl"))
    assert "Waarschuwing: Politie Zeeland-West-Brabant heeft geen trekker en geen alarmkanaal." in dutch
    assert (
        "Waarschuwing: Gemeente Breda heeft geen trekker, geen dienstdoenden en geen alarmkanaal. "
        "Deze partner mist:"
    ) in dutch
    assert dutch.count("de details van een rugdekking") == 1  # only where neither lead nor duty contacts
    assert "Vul lead, duty_contacts en alert_channel" in dutch
    english = "\n".join(gap_warnings(gaps, "en"))
    assert (
        "Warning: Gemeente Breda has no lead, no duty contacts, and no alert channel. It will miss:"
        in english
    )
    assert "  - escalation: no lead is asked to answer a backup alert it leaves unanswered" in english
    assert gap_warnings([], "nl") == []


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nl", "Waarschuwing: Belastingdienst heeft geen trekker, geen dienstdoenden en geen alarmkanaal."),
        ("en", "Warning: Belastingdienst has no lead, no duty contacts, and no alert channel."),
    ],
)
def test_samen_partners_import_warns_in_the_partnership_language(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, language: str, expected: str
) -> None:
    for name, value in {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SAMEN_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "DATABASE_URL": sqlite_url,
        "SAMEN_LANGUAGE": language,
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    for args in (["--dry-run"], []):  # a dry run warns as the real import does
        done = runner.invoke(cli, ["partners", "import", str(EXAMPLE), *args])
        assert done.exit_code == 0, done.output
        assert expected in done.stderr
        assert (
            "Openbaar Ministerie heeft geen alarmkanaal."
            if language == "nl"
            else "Openbaar Ministerie has no alert channel."
        ) in done.stderr
        assert "Gemeente Breda" not in done.stderr  # it has all three


# --- the rules, in the domain --------------------------------------------------------------------


def test_the_riec_coordinator_adds_a_politie_officer(partnership: Services) -> None:
    with partnership.session() as session:
        result = service.add_member(
            session,
            actor=member(session, FATIMA),
            partner_id=partner_id(session, "Politie Zeeland-West-Brabant"),
            team_id=KEES.team_id,
            user_id=KEES.user_id,
            purpose=PURPOSE,
        )
        assert result.change is service.Change.ADDED
        assert member(session, KEES).role is Role.MEMBER
    with session_scope(partnership.engine) as session:
        from bot.audit import head

        entry = head(session)
        assert entry is not None
        assert (entry.action, entry.object_id, entry.purpose) == (
            "member.added",
            "T0SAMEN/U0POL00003",
            PURPOSE,
        )
        assert (entry.actor_team_id, entry.actor_user_id) == (FATIMA.team_id, FATIMA.user_id)
        assert "Kees" not in entry.details  # ids only, never names


def test_adding_someone_twice_changes_nothing_and_logs_nothing(partnership: Services) -> None:
    before = snapshot(partnership.engine)
    with partnership.session() as session:
        result = service.add_member(
            session,
            actor=member(session, FATIMA),
            partner_id=partner_id(session, "Politie Zeeland-West-Brabant"),
            team_id=ILSE.team_id,
            user_id=ILSE.user_id,
            purpose=PURPOSE,
        )
    assert result.change is service.Change.UNCHANGED
    assert snapshot(partnership.engine) == before


@pytest.mark.parametrize("who", [ILSE, MARLEEN])
def test_a_member_may_not_add_anyone(partnership: Services, who: PersonRef) -> None:
    before = snapshot(partnership.engine)
    with pytest.raises(NotAllowed), partnership.session() as session:
        service.add_member(
            session,
            actor=member(session, who),
            partner_id=partner_id(session, "Gemeente Breda"),
            team_id=KEES.team_id,
            user_id=KEES.user_id,
            purpose=PURPOSE,
        )
    assert snapshot(partnership.engine) == before


def test_only_an_admin_makes_an_admin(partnership: Services) -> None:
    with pytest.raises(NotAllowed), partnership.session() as session:
        service.add_member(
            session,
            actor=member(session, FATIMA),
            partner_id=partner_id(session, "Gemeente Breda"),
            team_id=MARLEEN.team_id,
            user_id=MARLEEN.user_id,
            role=Role.ADMIN,
            purpose=PURPOSE,
        )
    with pytest.raises(NotAllowed), partnership.session() as session:
        service.remove_member(
            session,
            actor=member(session, FATIMA),
            team_id=SANNE.team_id,
            user_id=SANNE.user_id,
            purpose=PURPOSE,
        )
    with partnership.session() as session:
        service.add_member(
            session,
            actor=member(session, SANNE),
            partner_id=partner_id(session, "Gemeente Breda"),
            team_id=MARLEEN.team_id,
            user_id=MARLEEN.user_id,
            role=Role.ADMIN,
            purpose=PURPOSE,
        )
        assert member(session, MARLEEN).role is Role.ADMIN


def test_the_last_coordinator_cannot_be_removed_or_demoted(services: Services) -> None:
    alone = PARTNERSHIP.replace("      - {user: U0RIEC0002, role: admin, name: Sanne}\n", "")
    alone = alone.replace("    lead: U0RIEC0001\n    duty_contacts: [U0RIEC0001]\n", "")
    with services.session() as session:
        set_up(session, alone)
    before = snapshot(services.engine)
    with pytest.raises(rules.LastCoordinator), services.session() as session:
        service.remove_member(
            session,
            actor=member(session, FATIMA),
            team_id=FATIMA.team_id,
            user_id=FATIMA.user_id,
            purpose=PURPOSE,
        )
    with pytest.raises(rules.LastCoordinator), services.session() as session:
        service.add_member(
            session,
            actor=member(session, FATIMA),
            partner_id=partner_id(session, "RIEC Zeeland-West-Brabant"),
            team_id=FATIMA.team_id,
            user_id=FATIMA.user_id,
            role=Role.MEMBER,
            purpose=PURPOSE,
        )
    assert snapshot(services.engine) == before


def test_two_coordinators_demoting_each_other_at_once_leave_one(services_on: Services) -> None:
    """Each sees the other as the remaining coordinator; only one of them may be right."""
    two = PARTNERSHIP.replace("role: admin, name: Sanne", "role: coordinator, name: Sanne")
    two = two.replace("    lead: U0RIEC0001\n    duty_contacts: [U0RIEC0001]\n", "")
    with services_on.session() as session:
        set_up(session, two)
        riec = partner_id(session, "RIEC Zeeland-West-Brabant")
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(actor: PersonRef, target: PersonRef) -> None:
        with services_on.session() as session:
            me = member(session, actor)  # read before the race, as the membership guard does
        try:
            start.wait(timeout=30)
            with services_on.session() as session:
                service.add_member(
                    session,
                    actor=me,
                    partner_id=riec,
                    team_id=target.team_id,
                    user_id=target.user_id,
                    role=Role.MEMBER,
                    purpose=PURPOSE,
                )
            outcomes.append("demoted")
        except (rules.LastCoordinator, NotAllowed) as refused:
            outcomes.append(type(refused).__name__)

    threads = [
        threading.Thread(target=demote, args=(FATIMA, SANNE)),
        threading.Thread(target=demote, args=(SANNE, FATIMA)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 2 and outcomes.count("demoted") == 1, outcomes
    with services_on.session() as session:
        assert len(service.coordinators(session)) == 1
        assert verify(session).ok


def test_a_duty_contact_or_lead_is_replaced_before_leaving(partnership: Services) -> None:
    before = snapshot(partnership.engine)
    with pytest.raises(rules.MemberStillNeeded, match="duty contact"), partnership.session() as session:
        service.remove_member(
            session,
            actor=member(session, FATIMA),
            team_id=HANS.team_id,
            user_id=HANS.user_id,
            purpose=PURPOSE,
        )
    assert snapshot(partnership.engine) == before
    with partnership.session() as session:
        politie = partner_id(session, "Politie Zeeland-West-Brabant")
        actor = member(session, FATIMA)
        service.set_duty_contacts(session, actor=actor, partner_id=politie, contacts=[ILSE], purpose=PURPOSE)
        service.set_lead(session, actor=actor, partner_id=politie, lead=HANS, purpose=PURPOSE)
    with pytest.raises(rules.MemberStillNeeded, match="lead"), partnership.session() as session:
        service.remove_member(
            session,
            actor=member(session, FATIMA),
            team_id=HANS.team_id,
            user_id=HANS.user_id,
            purpose=PURPOSE,
        )
    with partnership.session() as session:
        service.set_lead(
            session, actor=member(session, FATIMA), partner_id=politie, lead=None, purpose=PURPOSE
        )
        service.remove_member(
            session,
            actor=member(session, FATIMA),
            team_id=HANS.team_id,
            user_id=HANS.user_id,
            purpose=PURPOSE,
        )
    assert audit_actions(partnership.engine)[-4:] == [
        "partner.duty_contacts_set",
        "partner.lead_set",
        "partner.lead_set",
        "member.removed",
    ]


def test_duty_contacts_are_members_of_that_partner_in_order(partnership: Services) -> None:
    with partnership.session() as session:
        politie = partner_id(session, "Politie Zeeland-West-Brabant")
        actor = member(session, FATIMA)
        with pytest.raises(service.NotAMember, match="not a member of Politie"):
            service.set_duty_contacts(
                session, actor=actor, partner_id=politie, contacts=[MARLEEN], purpose=PURPOSE
            )
        assert service.set_duty_contacts(
            session, actor=actor, partner_id=politie, contacts=[ILSE, HANS, ILSE], purpose=PURPOSE
        )
        assert [c.person for c in service.duty_contacts(session, partner_id=politie)] == [ILSE, HANS]
    before = snapshot(partnership.engine)
    with partnership.session() as session:
        assert not service.set_duty_contacts(
            session, actor=member(session, FATIMA), partner_id=politie, contacts=[ILSE, HANS], purpose=PURPOSE
        )
    assert snapshot(partnership.engine) == before


@pytest.mark.parametrize("capacity", [-1, 1000])
def test_capacity_is_a_sensible_whole_number(partnership: Services, capacity: int) -> None:
    before = snapshot(partnership.engine)
    with pytest.raises(rules.InvalidValue), partnership.session() as session:
        service.set_capacity(
            session,
            actor=member(session, FATIMA),
            partner_id=partner_id(session, "Gemeente Breda"),
            capacity=capacity,
            purpose=PURPOSE,
        )
    assert snapshot(partnership.engine) == before


def test_a_person_belongs_to_one_partner(partnership: Services) -> None:
    with (
        pytest.raises(rules.MemberElsewhere, match="already a member of Politie"),
        partnership.session() as s,
    ):
        service.add_member(
            s,
            actor=member(s, FATIMA),
            partner_id=partner_id(s, "Gemeente Breda"),
            team_id=ILSE.team_id,
            user_id=ILSE.user_id,
            purpose=PURPOSE,
        )


def test_the_alert_channel_is_a_channel_id(partnership: Services) -> None:
    with partnership.session() as session:
        breda = partner_id(session, "Gemeente Breda")
        actor = member(session, FATIMA)
        with pytest.raises(rules.InvalidValue):
            service.set_alert_channel(
                session, actor=actor, partner_id=breda, channel_id="#breda", purpose=PURPOSE
            )
        assert service.set_alert_channel(
            session, actor=actor, partner_id=breda, channel_id="C0BREDA01", purpose=PURPOSE
        )
        assert service.get_partner(session, partner_id=breda).alert_channel_id == "C0BREDA01"


# --- /samen partner in Slack ---------------------------------------------------------------------


@pytest.fixture
def slack(bot: BotUnderTest) -> BotUnderTest:
    with bot.services.session() as session:
        set_up(session)
    return bot


def ask(bot: BotUnderTest, who: PersonRef, words: str, locale: str | None = None) -> str:
    """Type `/samen <words>` as `who`; the answer must be ephemeral, valid Block Kit; return its text."""
    response = bot.driver.command("/samen", words, user=who.user_id, team=who.team_id, locale=locale)
    assert response.status == 200, response.body
    answer = response.json()
    assert answer["response_type"] == "ephemeral"
    assert check_message_blocks(answer["blocks"]) == []
    return visible_text(answer["blocks"])


def test_someone_who_is_not_a_member_is_told_whom_to_ask(slack: BotUnderTest) -> None:
    answer = ask(slack, STRANGER, "partner")
    assert answer == (
        "Je bent (nog) geen deelnemer van het samenwerkingsverband. "
        "Vraag een coördinator: <@U0RIEC0001>, <@U0RIEC0002> om je toe te voegen."
    )
    # Help stays open to everyone.
    assert "Wat Samen kan" in ask(slack, STRANGER, "help")
    assert "/samen partner" in ask(slack, STRANGER, "help")


def test_before_any_set_up_the_answer_says_how_to_import(bot: BotUnderTest) -> None:
    answer = ask(bot, STRANGER, "partner lijst")
    assert "samen partners import BESTAND.yaml" in answer
    assert "samen partners import FILE.yaml" in ask(bot, STRANGER, "partner", locale="en-GB")


def test_a_member_sees_the_partners(slack: BotUnderTest) -> None:
    answer = ask(slack, MARLEEN, "partner")
    assert "*Politie Zeeland-West-Brabant* · Politie · capaciteit 4" in answer
    assert "Dienstdoend: 1. <@U0POL00001>" in answer
    assert "*RIEC Zeeland-West-Brabant* · RIEC · capaciteit 2\nTrekker: <@U0RIEC0001>" in answer
    assert "Alarmkanaal: <#C0RIECALERT>" in answer
    assert "<@U0RIEC0001> (coördinator), <@U0RIEC0002> (beheerder)" in answer
    english = ask(slack, MARLEEN, "partner list", locale="en-US")
    assert "*Gemeente Breda* · Municipality · capacity 3" in english
    assert "Duty contacts: –" in english


def test_a_member_may_not_add_a_colleague(slack: BotUnderTest) -> None:
    before = snapshot(slack.services.engine)
    answer = ask(slack, ILSE, "partner lid-toevoegen Politie Zeeland-West-Brabant <@U0POL00003|kees>")
    assert "Alleen een coördinator of beheerder van het samenwerkingsverband mag dit doen." in answer
    assert "Vraag een coördinator: <@U0RIEC0001>, <@U0RIEC0002>." in answer
    assert snapshot(slack.services.engine) == before


def test_the_riec_coordinator_adds_and_removes_a_politie_officer_in_slack(slack: BotUnderTest) -> None:
    answer = ask(slack, FATIMA, 'partner lid-toevoegen "politie zeeland-west-brabant" <@U0POL00003|kees>')
    assert answer == "<@U0POL00003> is nu deelnemer van *Politie Zeeland-West-Brabant*, als deelnemer."
    with slack.services.session() as session:
        kees = member(session, KEES)
        assert (kees.role, kees.display_name) == (Role.MEMBER, "kees")
    again = ask(slack, FATIMA, "partner lid-toevoegen Politie Zeeland-West-Brabant <@U0POL00003>")
    assert "was al deelnemer" in again
    promoted = ask(
        slack, FATIMA, "partner lid-toevoegen Politie Zeeland-West-Brabant <@U0POL00003> coördinator"
    )
    assert promoted == "<@U0POL00003> is nu coördinator bij *Politie Zeeland-West-Brabant*."

    removed = ask(slack, FATIMA, "partner lid-verwijderen <@U0POL00003|kees>")
    assert removed == "<@U0POL00003> is geen deelnemer meer van *Politie Zeeland-West-Brabant*."
    with slack.services.session() as session:
        assert service.find_member(session, team_id=KEES.team_id, user_id=KEES.user_id) is None
    assert audit_actions(slack.services.engine)[-3:] == ["member.added", "member.updated", "member.removed"]


def test_a_coordinator_sets_duty_contacts_and_capacity(slack: BotUnderTest) -> None:
    answer = ask(slack, FATIMA, "partner dienst Politie Zeeland-West-Brabant <@U0POL00002> <@U0POL00001>")
    assert answer == (
        "De dienstdoende contactpersonen van *Politie Zeeland-West-Brabant* zijn nu, in deze volgorde: "
        "1. <@U0POL00002>  2. <@U0POL00001>."
    )
    answer = ask(slack, FATIMA, "partner capaciteit 'Gemeente Breda' 5")
    assert answer == "*Gemeente Breda* kan nu 5 lopende interventies tegelijk aan (dat was 3)."
    assert "kon al 5" in ask(slack, FATIMA, "partner capaciteit Gemeente Breda 5")
    english = ask(slack, FATIMA, "partner capacity “Gemeente Breda” 6", locale="en-GB")
    assert english == "*Gemeente Breda* can now carry 6 open interventions at a time (it was 5)."


BAD_INPUT = [
    # (what was typed, what the answer must say)
    ("partner capaciteit Gemeente Tilburg 3", "Er is geen partner die “Gemeente Tilburg” heet."),
    ("partner capaciteit Gemeente Breda -2", "“-2” is geen aantal lopende interventies"),
    ("partner capaciteit Gemeente Breda veel", "“veel” is geen aantal lopende interventies"),
    ("partner capaciteit Gemeente Breda 1000", "De capaciteit moet een heel getal van 0 tot en met 999 zijn"),
    ("partner capaciteit 3", "Noem de partner en het aantal."),
    ("partner capaciteit Gemeente Breda <@U0BREDA001>", "Capaciteit is een aantal lopende interventies"),
    ("partner lid-toevoegen Gemeente Breda @kees", "“@kees” herkent Slack niet als persoon"),
    ("partner lid-toevoegen Gemeente Breda", "Noem precies één persoon met @"),
    ("partner lid-toevoegen <@U0POL00003>", "Noem eerst de partner, dan de personen."),
    ("partner lid-toevoegen Gemeente Breda <@U0POL00003> baas", "“baas” is geen rol."),
    ("partner lid-toevoegen Gemeente Breda <@U0POL00002>", "<@U0POL00002> is al deelnemer bij Politie"),
    ("partner lid-verwijderen <@U0STRANGE1>", "<@U0STRANGE1> is geen deelnemer van het samenwerkingsverband"),
    ("partner lid-verwijderen @hans", "“@hans” herkent Slack niet als persoon"),
    ("partner lid-verwijderen <@U0POL00001>", "Kies eerst andere dienstdoende contactpersonen"),
    ("partner dienst Gemeente Breda <@U0POL00001>", "<@U0POL00001> is geen deelnemer van Gemeente Breda"),
    ("partner dienst Gemeente Breda", "Noem minstens één persoon met @"),
    ("partner dienst Gemeente Breda <@U0BREDA001> en <@U0RIEC0001>", "“en” is dat niet."),
    ("partner capaciteit <!channel> 3", "Er is geen partner die “&lt;!channel&gt;” heet."),
    ("partner verhuizen", "`/samen partner verhuizen` kent Samen niet."),
]


@pytest.mark.parametrize(("typed", "expected"), BAD_INPUT, ids=[typed for typed, _ in BAD_INPUT])
def test_bad_input_is_explained_and_changes_nothing(slack: BotUnderTest, typed: str, expected: str) -> None:
    before = snapshot(slack.services.engine)
    answer = ask(slack, FATIMA, typed)
    assert expected in answer
    assert snapshot(slack.services.engine) == before


def test_the_answer_to_bad_input_tells_what_to_do_next(slack: BotUnderTest) -> None:
    answer = ask(slack, FATIMA, "partner capaciteit Gemeente Breda veel")
    assert "Schrijf het zo: `/samen partner capaciteit &lt;partner&gt; &lt;aantal&gt;`" in answer
    english = ask(slack, FATIMA, "partner add-member Gemeente Breda", locale="en-US")
    assert "Mention exactly one person with @" in english
    assert "`/samen partner add-member &lt;partner&gt; @person [member|coordinator|admin]`" in english


def test_adding_a_coordinator_again_without_a_role_keeps_their_role(slack: BotUnderTest) -> None:
    before = snapshot(slack.services.engine)
    answer = ask(slack, SANNE, "partner add-member RIEC Zeeland-West-Brabant <@U0RIEC0001>")
    assert (
        answer == "<@U0RIEC0001> was al coördinator bij *RIEC Zeeland-West-Brabant*: er is niets veranderd."
    )
    assert snapshot(slack.services.engine) == before


def test_the_last_coordinator_is_kept_in_slack_too(slack: BotUnderTest) -> None:
    ask(slack, SANNE, "partner lid-toevoegen RIEC Zeeland-West-Brabant <@U0RIEC0002> deelnemer")
    before = snapshot(slack.services.engine)
    answer = ask(slack, FATIMA, "partner lid-toevoegen RIEC Zeeland-West-Brabant <@U0RIEC0001> deelnemer")
    assert "<@U0RIEC0001> is de laatste coördinator of beheerder" in answer
    assert snapshot(slack.services.engine) == before


def test_partner_appears_in_help(slack: BotUnderTest) -> None:
    answer = ask(slack, MARLEEN, "help")
    assert "`/samen partner [lijst | lid-toevoegen | lid-verwijderen | dienst | capaciteit]`" in answer
    assert "De partners en hun deelnemers" in answer


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_list_fits_in_one_message_however_large_the_partnership(
    services: Services, language: str
) -> None:
    from bot.partners.models import PARTNER_TYPE_LABELS, ROLE_LABELS, DutyContact, Partner, PartnerType
    from commands.partner import people

    def render(partners: list[service.PartnerOverview]) -> dict[str, Any]:
        message: dict[str, Any] = services.renderer.render(
            "partner_list.json.j2", language, partners=partners, type_labels=PARTNER_TYPE_LABELS,
            role_labels=ROLE_LABELS, people=people,
        )  # fmt: skip
        assert check_message_blocks(message["blocks"]) == []
        return message

    assert "samen partners import" in visible_text(render([])["blocks"])
    many = [
        service.PartnerOverview(
            partner=Partner(id=n, name=f"Gemeente {n:03d} <!channel>", type=PartnerType.GEMEENTE, capacity=n),
            members=[
                Member(team_id=TEAM, user_id=f"U0M{n:03d}{m:04d}", partner_id=n, role=Role.MEMBER)
                for m in range(80)
            ],
            duty_contacts=[DutyContact(partner_id=n, position=0, team_id=TEAM, user_id=f"U0M{n:03d}0000")],
        )
        for n in range(60)
    ]
    shown = visible_text(render(many)["blocks"])
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown
    assert ("En nog 15 partners" if language == "nl" else "And 15 more partners") in shown
    assert ("en nog 50" if language == "nl" else "and 50 more") in shown
