"""A workspace removes Samen, through the double: Slack sends `app_uninstalled` (or `tokens_revoked`),
signed, and Samen forgets that workspace's installation, stops its waiting messages, records it in the
audit log and tells the coordinators elsewhere. With one bot token, the token itself is gone."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import BotUnderTest
from sqlalchemy import func, select, text
from sqlmodel import col
from test_observability import get
from test_workspaces import CLI_ACTOR, FAST, GEMEENTE, POLITIE, OAuthBot, _chat, _oauth_bot

from bot.audit import AuditEntry
from bot.authz import Role
from bot.outbox import post_message, send_dm
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.models import OutboxMessage, OutboxStatus
from bot.partners import service as partners
from bot.partners.models import PartnerType
from bot.people import remember_profile
from bot.runtime import Services
from slackdouble import SlackDouble, visible_text

HOME_COORDINATOR = "U0RIECCOOR"  # coordinator in the gemeente's (home) workspace
POLITIE_COORDINATOR = "U0POLCOORD"  # coordinator in the politie's workspace: unreachable once removed
OFFICER = "U0AGENT001"


@pytest.fixture
def two_workspaces(database_url: str, slack_double: SlackDouble) -> Iterator[OAuthBot]:
    """Samen installed through Slack's OAuth flow (tests/test_workspaces.py), on SQLite and PostgreSQL."""
    yield from _oauth_bot(database_url, slack_double)


@pytest.fixture
def two_workspaces_on_sqlite(sqlite_url: str, slack_double: SlackDouble) -> Iterator[OAuthBot]:
    yield from _oauth_bot(sqlite_url, slack_double)


def eventually(condition: Callable[[], bool], limit: float = 10.0) -> None:
    """Events are acknowledged before their listener runs: wait for its effect."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "the event had no effect in time"
        time.sleep(0.05)


def audit_entries(services: Services, action: str) -> list[AuditEntry]:
    with services.session(read_only=True) as session:
        return list(session.exec(select(AuditEntry).where(col(AuditEntry.action) == action)).scalars())


def statuses(services: Services) -> dict[str, tuple[str, str | None]]:
    with services.session(read_only=True) as session:
        rows = session.exec(select(OutboxMessage)).scalars()
        return {row.key: (row.status, row.last_error) for row in rows}


def bots_of(services: Services, team: str) -> int:
    with services.engine.connect() as connection:
        query = text("SELECT COUNT(*) FROM slack_bots WHERE team_id = :team")
        return int(connection.execute(query, {"team": team}).scalar_one())


def installations_of(services: Services, team: str) -> list[str]:
    with services.engine.connect() as connection:
        query = text("SELECT user_id FROM slack_installations WHERE team_id = :team")
        return [row[0] for row in connection.execute(query, {"team": team})]


def two_workspaces_with_waiting_messages(oauth_bot: OAuthBot) -> Services:
    """Gemeente (home) and politie installed; coordinators in both; messages waiting for both."""
    oauth_bot.installer.install(GEMEENTE, "Gemeente Rotterdam", "U0GEMADMIN")
    oauth_bot.installer.install(POLITIE, "Politie Rotterdam", "U0POLADMIN")
    services = oauth_bot.bot.services
    with services.session() as session:
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
        for partner_id, team, user, role in (
            (riec.id, GEMEENTE, HOME_COORDINATOR, Role.COORDINATOR),
            (politie.id, POLITIE, POLITIE_COORDINATOR, Role.COORDINATOR),
            (politie.id, POLITIE, OFFICER, Role.MEMBER),
        ):
            partners.add_member(
                session,
                actor=CLI_ACTOR,
                partner_id=partner_id,
                team_id=team,
                user_id=user,
                role=role,
                purpose="t",
            )
        # For the politie's workspace: a DM to its officer (found through the member), a post it names.
        send_dm(session, key="dm-officer", user_id=OFFICER, message={"text": "Er is een melding voor je."})
        post_message(
            session, key="politie-post", channel="C0POLITIE1", message={"text": "Hallo"}, team_id=POLITIE
        )
        # For the home workspace: the partnership's channel, a DM to its coordinator.
        post_message(session, key="shared-post", channel="C0SHARED01", message={"text": "Nieuwe casus"})
        send_dm(session, key="dm-home", user_id=HOME_COORDINATOR, message={"text": "Goedemorgen"})
    return services


def test_a_workspace_that_uninstalls_samen_is_forgotten_and_the_coordinators_are_told(
    two_workspaces: OAuthBot,
) -> None:
    services = two_workspaces_with_waiting_messages(two_workspaces)
    politie = two_workspaces.driver(POLITIE)

    assert politie.event({"type": "app_uninstalled"}, event_id="Ev0UNINSTAL1").status == 200
    eventually(lambda: bool(audit_entries(services, "workspace_removed")))

    # No token of the politie's workspace stays stored; the gemeente's installation is untouched.
    assert bots_of(services, POLITIE) == 0 and installations_of(services, POLITIE) == []
    assert bots_of(services, GEMEENTE) == 1
    # Its messages fail with the reason instead of being retried for a day; the others still wait.
    now = statuses(services)
    assert now["dm-officer"] == (OutboxStatus.FAILED, "app_uninstalled")
    assert now["politie-post"] == (OutboxStatus.FAILED, "app_uninstalled")
    assert now["shared-post"] == (OutboxStatus.PENDING, None)
    assert now["dm-home"] == (OutboxStatus.PENDING, None)
    (entry,) = audit_entries(services, "workspace_removed")
    assert (entry.actor_user_id, entry.object_type, entry.object_id) == ("slack", "workspace", POLITIE)
    assert json.loads(entry.details)["messages_failed"] == 2

    # Slack retries the event: it has its effect once.
    assert politie.event({"type": "app_uninstalled"}, event_id="Ev0UNINSTAL1", retry_num=1).status == 200

    # The coordinator in the home workspace hears of it, sent with the gemeente's installation; the
    # politie's coordinator cannot be reached there any more and is not written to.
    double = two_workspaces.bot.double
    Dispatcher(services, _chat(services), config=FAST).run_until_idle()
    notices = [call for call in double.delivered("chat.postMessage") if "verwijderd" in json.dumps(call.args)]
    assert [call.args["channel"] for call in notices] == [HOME_COORDINATOR]
    shown = visible_text(notices[0].args["blocks"])
    assert "Samen is verwijderd uit de Slack-werkruimte Politie Rotterdam (T0POLITIE1)." in shown
    assert "Berichten die er nog klaarstonden: 2" in shown
    assert double.team_of_token(notices[0].headers["Authorization"].removeprefix("Bearer ")) == GEMEENTE
    sent_to = {call.args["channel"] for call in double.delivered("chat.postMessage")}
    assert OFFICER not in sent_to and "C0POLITIE1" not in sent_to and POLITIE_COORDINATOR not in sent_to
    assert len(audit_entries(services, "workspace_removed")) == 1


def test_revoked_user_tokens_forget_only_those_people(two_workspaces_on_sqlite: OAuthBot) -> None:
    oauth_bot = two_workspaces_on_sqlite
    services = two_workspaces_with_waiting_messages(oauth_bot)
    assert installations_of(services, POLITIE) == ["U0POLADMIN"]
    event = {"type": "tokens_revoked", "tokens": {"oauth": ["U0POLADMIN"], "bot": []}}
    assert oauth_bot.driver(POLITIE).event(event).status == 200
    eventually(lambda: bool(audit_entries(services, "user_tokens_revoked")))
    assert installations_of(services, POLITIE) == []
    assert bots_of(services, POLITIE) == 1, "the bot's own token was not revoked: Samen still posts there"
    assert all(status == OutboxStatus.PENDING for status, _ in statuses(services).values())
    with services.session(read_only=True) as session:
        notices = session.exec(
            select(func.count())
            .select_from(OutboxMessage)
            .where(col(OutboxMessage.key).like("workspace-removed:%"))
        ).scalar_one()
    assert notices == 0, "nothing for the coordinators to do"


def test_a_revoked_bot_token_is_a_removal_told_in_the_coordinators_language(
    two_workspaces_on_sqlite: OAuthBot,
) -> None:
    oauth_bot = two_workspaces_on_sqlite
    services = two_workspaces_with_waiting_messages(oauth_bot)
    with services.session() as session:
        remember_profile(session, team_id=GEMEENTE, user_id=HOME_COORDINATOR, locale="en-GB", tz=None)
    event = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0SAMENBOT"]}}
    assert oauth_bot.driver(POLITIE).event(event).status == 200
    eventually(lambda: bool(audit_entries(services, "workspace_removed")))
    assert bots_of(services, POLITIE) == 0
    assert statuses(services)["politie-post"] == (OutboxStatus.FAILED, "tokens_revoked")
    with services.session(read_only=True) as session:
        notice = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.key).like("workspace-removed:%"))
        ).scalar_one()
    assert notice.lane == HOME_COORDINATOR
    assert "Slack revoked Samen's access to the Slack workspace Politie Rotterdam" in notice.args


def test_with_one_bot_token_an_uninstall_fails_every_waiting_message_and_readiness(
    bot: BotUnderTest, _log_lines: Any
) -> None:
    services = bot.services
    with services.session() as session:
        post_message(session, key="shared-post", channel="C0SHARED01", message={"text": "Nieuwe casus"})
        send_dm(session, key="dm", user_id="U0IEMAND01", message={"text": "Hallo"})
    assert get(bot, "/readyz")[0] == 200
    before = len(_log_lines.lines)  # the suite's log (a session fixture): only this test's lines count

    assert bot.driver.event({"type": "app_uninstalled"}).status == 200
    told = "SLACK_BOT_TOKEN no longer works"
    eventually(lambda: any(told in line for line in _log_lines.lines[before:]))

    assert set(statuses(services).values()) == {(OutboxStatus.FAILED, "app_uninstalled")}
    status, body = get(bot, "/readyz")
    assert status == 503
    assert json.loads(body)["slack"] == {"refused": "app_uninstalled"}
    assert get(bot, "/livez")[0] == 200
    lines = [line for line in _log_lines.lines[before:] if told in line]
    assert len(lines) == 1 and '"level": "error"' in lines[0]
    assert len(audit_entries(services, "workspace_removed")) == 1
