"""Running Samen: the RIEC's coordinator asks `/samen status` and sees whether Samen is well — messages
waiting or failed, the database — without the content of any message; members do not see it. Workers
answer probes and scrapes on --metrics-port like the web process does."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from conftest import ENCRYPTION_KEY, BotUnderTest
from harness import Partnership
from sqlalchemy import insert
from sqlmodel import select
from test_deploy import logging_kept
from typer.testing import CliRunner

from bot.audit import AuditEntry
from bot.authz import CLI_ACTOR, Role
from bot.cli import cli
from bot.clock import utcnow
from bot.crypto import KeyringError, generate_key, keyring
from bot.outbox import post_message
from bot.outbox.models import OutboxMessage, OutboxStatus
from bot.partners import service as partners
from bot.partners.models import PartnerType
from bot.probes import serve_operations
from bot.runtime import Services
from bot.slack.workspaces.tables import BOTS
from slackdouble import visible_text

RUUD, JAN, STRANGER = "U0RUUD001", "U0JAN0001", "U0STRANGE"
TEAM = "T0SAMEN"


@pytest.fixture
def partnership(bot: BotUnderTest) -> BotUnderTest:
    with bot.services.session() as session:
        riec = partners.create_partner(
            session, actor=CLI_ACTOR, name="RIEC Rotterdam", partner_type=PartnerType.RIEC, purpose="set-up"
        )
        politie = partners.create_partner(
            session,
            actor=CLI_ACTOR,
            name="Politie Rotterdam",
            partner_type=PartnerType.POLITIE,
            purpose="set-up",
        )
        assert riec.id is not None and politie.id is not None
        partners.add_member(
            session,
            actor=CLI_ACTOR,
            partner_id=riec.id,
            team_id=TEAM,
            user_id=RUUD,
            role=Role.COORDINATOR,
            purpose="set-up",
        )
        partners.add_member(
            session, actor=CLI_ACTOR, partner_id=politie.id, team_id=TEAM, user_id=JAN, purpose="set-up"
        )
    return bot


def status_text(bot: BotUnderTest, user: str, text: str = "status", locale: str | None = None) -> str:
    answer = bot.driver.command("/samen", text, user=user, locale=locale)
    assert answer.status == 200
    body = answer.json()
    assert body["response_type"] == "ephemeral"
    return visible_text(body["blocks"])


def test_the_coordinator_sees_that_all_is_well(partnership: BotUnderTest) -> None:
    shown = status_text(partnership, RUUD)
    assert "Hoe Samen draait" in shown
    assert "Alles in orde" in shown
    assert "0 wachtend, 0 mislukt" in shown
    assert "HTTP (Slack roept Samen aan)" in shown


def test_the_coordinator_sees_messages_waiting_and_failing_without_their_content(
    partnership: Partnership,
) -> None:
    services = partnership.services
    with services.session() as session:
        for n in range(3):
            post_message(session, key=f"wacht-{n}", channel="C0WACHT", message={"text": f"VERTROUWELIJK {n}"})
        post_message(session, key="kapot", channel="C0WEG", message={"text": "VERTROUWELIJK weg"})
    with services.session() as session:
        for row in session.exec(select(OutboxMessage).where(OutboxMessage.key == "kapot")).all():
            row.status, row.last_error = OutboxStatus.FAILED, "channel_not_found"
            session.add(row)
    partnership.later(minutes=5)  # due five minutes ago: the workers are behind
    shown = status_text(partnership, RUUD)
    assert "Berichten wachten langer dan zou moeten" in shown
    assert "3 wachtend, 1 mislukt" in shown
    assert "de oudste wacht al 5 minuten" in shown
    assert "channel_not_found" in shown
    assert "VERTROUWELIJK" not in shown


def test_the_status_speaks_the_persons_language(partnership: BotUnderTest) -> None:
    shown = status_text(partnership, RUUD, locale="en-GB")
    assert "How Samen runs" in shown and "All is well" in shown


def test_a_member_or_a_stranger_is_refused_and_told_why(partnership: BotUnderTest) -> None:
    assert "Alleen een coördinator of beheerder" in status_text(partnership, JAN)
    refused = status_text(partnership, STRANGER)
    assert "Hoe Samen draait" not in refused
    assert "U0RUUD001" in json.dumps(partnership.driver.command("/samen", "status", user=STRANGER).json())


def test_extra_words_are_explained(partnership: BotUnderTest) -> None:
    assert "typ alleen `/samen status`" in status_text(partnership, RUUD, text="status alles")


def test_the_coordinators_app_home_has_a_line_on_how_samen_runs(partnership: BotUnderTest) -> None:
    double, driver = partnership.double, partnership.driver
    for user in (RUUD, JAN):
        double.add_user(user, team_id=TEAM, locale="nl-NL")
        driver.event({"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"})
    double.wait_for("views.publish", count=2)
    ruud, jan = (visible_text(double.home_view(user)["blocks"]) for user in (RUUD, JAN))  # type: ignore[index]
    assert "Hoe Samen draait" in ruud and "Meer: `/samen status`." in ruud
    assert "Meer: `/samen status`." not in jan


@pytest.fixture
def operations_port(bot: BotUnderTest) -> Iterator[int]:
    server = serve_operations(bot.services, host="127.0.0.1", port=0)
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_worker_answers_probes_and_scrapes_on_its_metrics_port(
    operations_port: int, bot: BotUnderTest
) -> None:
    with bot.services.session() as session:
        post_message(session, key="m1", channel="C0WACHT", message={"text": "wacht"})
    assert get(operations_port, "/livez") == (200, '{"status": "ok"}')
    status, body = get(operations_port, "/readyz")
    assert status == 200 and json.loads(body)["database"]["current"] is True
    assert get(operations_port, "/healthz")[0] == 200
    status, metrics = get(operations_port, "/metrics")
    assert status == 200
    assert "samen_outbox_backlog 1.0" in metrics
    assert "samen_outbox_oldest_due_age_seconds" in metrics
    assert get(operations_port, "/slack/events")[0] == 404, "a worker serves no Slack traffic"


def test_the_encryption_key_is_rotated_without_losing_a_value(services: Services) -> None:
    """An operator puts a new key in front of the old one, runs `samen keys rotate`, and can then drop
    the old key: every sealed value reads with the new key alone."""
    old = ENCRYPTION_KEY
    new = generate_key()
    with services.engine.begin() as connection:
        connection.execute(
            insert(BOTS).values(
                client_id="1.2",
                app_id="A0SAMEN",
                team_id="T0GEMEENTE",
                bot_token="xoxb-VERTROUWELIJK-token",
                is_enterprise_install=False,
                installed_at=utcnow().replace(tzinfo=None),
            )
        )
    env = {
        "SLACK_BOT_TOKEN": "xoxb-rotate-test",
        "SLACK_SIGNING_SECRET": "rotate-signing-secret",
        "SAMEN_ENCRYPTION_KEY": f"{new},{old}",
        "DATABASE_URL": services.settings.database_url,
    }
    try:
        with logging_kept():
            result = CliRunner().invoke(cli, ["keys", "rotate"], env=env)
        assert result.exit_code == 0, result.output
        assert "slack_bots.bot_token: 1" in result.output
        keyring.configure(new)
        with services.engine.connect() as connection:
            assert connection.execute(select(BOTS.c.bot_token)).scalar_one() == "xoxb-VERTROUWELIJK-token"
        keyring.configure(old)
        with services.engine.connect() as connection, pytest.raises(KeyringError):
            connection.execute(select(BOTS.c.bot_token)).scalar_one()
    finally:
        keyring.configure(old)
    with services.session() as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "rotate_encryption_key")).one()
        assert entry.purpose == "rotation of SAMEN_ENCRYPTION_KEY"


def test_help_tells_everyone_about_the_status_in_their_language(bot: BotUnderTest) -> None:
    dutch = visible_text(bot.driver.command("/samen", "help").json()["blocks"])
    english = visible_text(bot.driver.command("/samen", "help", locale="en-GB").json()["blocks"])
    assert "/samen status` Hoe Samen draait: wachtende of mislukte berichten" in dutch
    assert "/samen status` How Samen runs: messages waiting or failed" in english
