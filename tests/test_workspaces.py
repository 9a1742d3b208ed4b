"""Partners on separate workspaces: Samen installed through Slack's OAuth flow in several of them.

The gemeente works in its own workspace, the politie in another; they meet in a Slack Connect channel.
An administrator of each workspace installs Samen from /slack/install; from then on each workspace's
people use Samen with that workspace's installation, and what Samen sends them goes out with it.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from conftest import BotUnderTest
from harness import FAST, start
from slack_sdk import WebClient
from sqlalchemy import MetaData, text

from bot.authz import CLI_ACTOR
from bot.outbox import post_message, send_dm
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.models import OutboxMessage, OutboxStatus
from bot.partners import service as partners
from bot.partners.models import PartnerType
from bot.people import get_person
from bot.runtime import Services
from bot.slack import surface
from bot.slack.chat import SlackChat
from bot.slack.workspaces.tables import BOTS, INSTALLATIONS, OAUTH_STATES, SEALED_COLUMNS
from slackdouble import SlackDouble, SlackDriver, visible_text

CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "test-client-secret-abcdef0123456789"
GEMEENTE = "T0GEMEENTE"  # the partnership's home workspace (the double's own team id is another)
POLITIE = "T0POLITIE1"
ELSEWHERE = "T0NOTINSTL"


@dataclass
class Installer:
    """An administrator's browser: follows no redirects, keeps cookies, as the OAuth flow needs."""

    root: str
    double: SlackDouble

    def get(self, path: str, cookie: str | None = None) -> tuple[int, dict[str, str], str]:
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: object, **kwargs: object) -> None:
                return None

        opener = urllib.request.build_opener(NoRedirect)
        request = urllib.request.Request(self.root + path, headers={"Cookie": cookie} if cookie else {})
        request.add_header("Accept-Language", "nl-NL,nl;q=0.9")
        try:
            with opener.open(request, timeout=10) as answer:
                return answer.status, _lower(answer.headers.items()), answer.read().decode()
        except urllib.error.HTTPError as answer:
            with answer:
                return answer.code, _lower(answer.headers.items()), answer.read().decode()

    def install(self, team_id: str, team_name: str, installer: str) -> tuple[int, str]:
        """/slack/install → Slack's consent page (approved) → /slack/oauth_redirect, as a browser goes."""
        status, headers, _ = self.get("/slack/install")
        assert status == 302, f"/slack/install answered {status}"
        consent = urlsplit(headers["location"])
        query = parse_qs(consent.query)
        assert consent.path == "/oauth/v2/authorize"
        assert query["client_id"] == [CLIENT_ID]
        assert set(query["scope"][0].split(",")) == set(surface.BOT_SCOPES)
        cookie = SimpleCookie(headers["set-cookie"])
        state = query["state"][0]
        assert cookie["slack-app-oauth-state"].value == state
        code = self.double.issue_oauth_code(team_id, team_name, installer)
        status, _, page = self.get(
            "/slack/oauth_redirect?" + urlencode({"code": code, "state": state}),
            cookie=f"slack-app-oauth-state={state}",
        )
        return status, page


@dataclass
class OAuthBot:
    bot: BotUnderTest
    installer: Installer

    def driver(self, team: str) -> SlackDriver:
        return SlackDriver(
            self.bot.url, self.bot.services.settings.slack_signing_secret, self.bot.double, team
        )


@pytest.fixture
def oauth_bot(sqlite_url: str, slack_double: SlackDouble) -> Iterator[OAuthBot]:
    """Samen with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET instead of a bot token."""
    yield from _oauth_bot(sqlite_url, slack_double)


@pytest.fixture
def oauth_bot_on(database_url: str, slack_double: SlackDouble) -> Iterator[OAuthBot]:
    """The same, on each database in turn (SQLite, then PostgreSQL)."""
    yield from _oauth_bot(database_url, slack_double)


def _oauth_bot(database_url: str, slack_double: SlackDouble) -> Iterator[OAuthBot]:
    slack_double.set_oauth_client(CLIENT_ID, CLIENT_SECRET)
    slack_double.add_team(GEMEENTE, "Gemeente Rotterdam")
    slack_double.add_team(POLITIE, "Politie Rotterdam")
    for bot in start(
        database_url,
        slack_double,
        client=WebClient(base_url=slack_double.base_url),  # no token: each workspace's comes from its install
        team_id=GEMEENTE,
        SLACK_BOT_TOKEN="",
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        SAMEN_HOME_TEAM=GEMEENTE,
    ):
        yield OAuthBot(bot, Installer(bot.url.removesuffix("/slack/events"), slack_double))


def test_a_second_workspace_installs_samen_and_its_people_use_it(
    oauth_bot_on: OAuthBot, _log_lines: Any
) -> None:
    oauth_bot = oauth_bot_on
    double, services = oauth_bot.bot.double, oauth_bot.bot.services
    assert oauth_bot.installer.install(GEMEENTE, "Gemeente Rotterdam", "U0GEMADMIN")[0] == 200
    status, page = oauth_bot.installer.install(POLITIE, "Politie Rotterdam", "U0POLADMIN")
    assert status == 200
    assert "Samen is geïnstalleerd in Politie Rotterdam" in page

    # The politie's token is kept, sealed: the database holds no bot token in the clear.
    with services.engine.connect() as connection:
        stored = connection.execute(text("SELECT team_id, bot_token FROM slack_bots")).all()
    assert {team for team, _ in stored} == {GEMEENTE, POLITIE}
    assert not any(token.startswith("xoxb-") for _, token in stored)

    # A politie officer, in the politie's own workspace, asks Samen for help …
    officer = "U0AGENT001"
    double.add_user(officer, team_id=POLITIE, locale="nl-NL")
    politie = oauth_bot.driver(POLITIE)
    answer = politie.command("/samen", "help", user=officer)
    assert answer.status == 200
    assert "Wat Samen kan" in visible_text(answer.json()["blocks"])

    # … and opens Samen's tab: Samen talks to Slack with the politie's installation, and remembers
    # the officer as (politie's team, user).
    politie.event({"type": "app_home_opened", "user": officer, "channel": "D0AGENT", "tab": "home"})
    published = double.wait_for("views.publish", lambda call: call.args.get("user_id") == officer)[-1]
    assert double.team_of_token(published.headers["Authorization"].removeprefix("Bearer ")) == POLITIE
    with services.session() as session:
        person = get_person(session, team_id=POLITIE, user_id=officer)
        assert person is not None and person.locale == "nl-NL"
        assert get_person(session, team_id=GEMEENTE, user_id=officer) is None

    # Neither the app's client secret nor a workspace's token ever reaches a log line.
    for line in _log_lines.lines:
        assert CLIENT_SECRET not in line
        assert not any(token in line for token in double.bot_tokens)


def test_the_outbox_sends_with_the_workspace_each_message_is_for(oauth_bot_on: OAuthBot) -> None:
    oauth_bot = oauth_bot_on
    double, services = oauth_bot.bot.double, oauth_bot.bot.services
    oauth_bot.installer.install(GEMEENTE, "Gemeente Rotterdam", "U0GEMADMIN")
    oauth_bot.installer.install(POLITIE, "Politie Rotterdam", "U0POLADMIN")
    officer, colleague = "U0AGENT001", "U0AGENT002"
    with services.session() as session:
        politie = partners.create_partner(
            session,
            actor=CLI_ACTOR,
            name="Politie Rotterdam",
            partner_type=PartnerType.POLITIE,
            purpose="test set-up",
        )
        assert politie.id is not None
        partners.add_member(
            session, actor=CLI_ACTOR, partner_id=politie.id, team_id=POLITIE, user_id=officer, purpose="test"
        )
        # A DM to a member: the member's workspace, found by Samen.
        send_dm(session, key="dm-officer", user_id=officer, message={"text": "Er is een melding voor je."})
        # A DM whose feature named the workspace.
        send_dm(session, key="dm-colleague", user_id=colleague, message={"text": "Hallo"}, team_id=POLITIE)
        # The partnership's channel: the home workspace.
        post_message(session, key="channel", channel="C0SHARED01", message={"text": "Nieuwe casus"})

    sent = Dispatcher(services, _chat(services), config=FAST).run_until_idle()
    assert sent == 3
    teams = {
        call.args["channel"]: double.team_of_token(call.headers["Authorization"].removeprefix("Bearer "))
        for call in double.delivered("chat.postMessage")
    }
    assert teams == {officer: POLITIE, colleague: POLITIE, "C0SHARED01": GEMEENTE}


def test_a_workspace_without_samen_is_told_to_install_it(oauth_bot: OAuthBot) -> None:
    oauth_bot.installer.install(GEMEENTE, "Gemeente Rotterdam", "U0GEMADMIN")
    answer = oauth_bot.driver(ELSEWHERE).command("/samen", "help", user="U0STRANGER")
    assert answer.status == 200
    told = oauth_bot.bot.double.wait_for("response_url")[-1]
    assert told.args["text"].startswith("Samen is nog niet geïnstalleerd in jouw Slack-werkruimte.")
    assert not oauth_bot.bot.double.calls_to("views.publish")


def test_messages_wait_while_no_workspace_has_installed_samen(oauth_bot: OAuthBot) -> None:
    services = oauth_bot.bot.services
    with services.session() as session:
        post_message(session, key="early", channel="C0SHARED01", message={"text": "Te vroeg"})
    assert Dispatcher(services, _chat(services), config=FAST).run_until_idle() == 0
    with services.session() as session:
        row = session.get(OutboxMessage, 1)
        assert row is not None and row.key == "early"
        assert row.status == OutboxStatus.PENDING
        assert row.last_error == "no_installation"


@pytest.mark.allow_slack_violations
def test_a_forged_or_replayed_install_changes_nothing(oauth_bot: OAuthBot) -> None:
    installer, services = oauth_bot.installer, oauth_bot.bot.services
    code = oauth_bot.bot.double.issue_oauth_code(POLITIE, "Politie Rotterdam", "U0POLADMIN")
    # No state from Samen's own /slack/install: refused before Slack is asked anything.
    status, _, page = installer.get("/slack/oauth_redirect?" + urlencode({"code": code, "state": "forged"}))
    assert status == 400
    assert "Samen is niet geïnstalleerd" in page
    # A valid state, used twice: the second time it is spent.
    _, headers, _ = installer.get("/slack/install")
    state = parse_qs(urlsplit(headers["location"]).query)["state"][0]
    cookie = f"slack-app-oauth-state={state}"
    query = "/slack/oauth_redirect?" + urlencode({"code": code, "state": state})
    assert installer.get(query, cookie=cookie)[0] == 200
    assert installer.get(query, cookie=cookie)[0] == 401
    with services.engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM slack_bots")).scalar_one() == 1
        assert connection.execute(text("SELECT COUNT(*) FROM slack_oauth_states")).scalar_one() == 0


def test_the_tables_mirror_slack_sdks_own_stores() -> None:
    """slack_sdk's stores read and write these tables: same columns, types, nullability and indexes,
    except the token columns, which are sealed (Text)."""
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    theirs = MetaData()
    pairs = [
        (INSTALLATIONS, SQLAlchemyInstallationStore.build_installations_table(theirs, INSTALLATIONS.name)),
        (BOTS, SQLAlchemyInstallationStore.build_bots_table(theirs, BOTS.name)),
        (OAUTH_STATES, SQLAlchemyOAuthStateStore.build_oauth_states_table(theirs, OAUTH_STATES.name)),
    ]

    def shape(table: object) -> dict[str, object]:
        columns = {
            c.name: (
                "sealed" if c.name in SEALED_COLUMNS else repr(c.type),
                c.nullable,
                c.primary_key,
            )
            for c in table.columns  # type: ignore[attr-defined]
        }
        indexes = {(i.name, tuple(c.name for c in i.columns)) for i in table.indexes}  # type: ignore[attr-defined]
        return {"columns": columns, "indexes": indexes}

    for ours, slack_sdks in pairs:
        assert shape(ours) == shape(slack_sdks), ours.name


def _lower(headers: object) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}  # type: ignore[attr-defined]


def _chat(services: Services) -> SlackChat:
    from bot.slack.workspaces.clients import TeamClients

    return SlackChat(clients=TeamClients(services))


def test_the_coordinator_sees_which_workspaces_samen_is_installed_in(oauth_bot: OAuthBot) -> None:
    from bot.authz import Role

    oauth_bot.installer.install(GEMEENTE, "Gemeente Rotterdam", "U0GEMADMIN")
    oauth_bot.installer.install(POLITIE, "Politie Rotterdam", "U0POLADMIN")
    coordinator = "U0RIECCOOR"
    with oauth_bot.bot.services.session() as session:
        riec = partners.create_partner(
            session, actor=CLI_ACTOR, name="RIEC Rotterdam", partner_type=PartnerType.RIEC, purpose="set-up"
        )
        assert riec.id is not None
        partners.add_member(
            session,
            actor=CLI_ACTOR,
            partner_id=riec.id,
            team_id=POLITIE,
            user_id=coordinator,
            role=Role.COORDINATOR,
            purpose="set-up",
        )
    answer = oauth_bot.driver(POLITIE).command("/samen", "status", user=coordinator)
    shown = visible_text(answer.json()["blocks"])
    assert "Gemeente Rotterdam (`T0GEMEENTE`) — eigen werkruimte van het samenwerkingsverband" in shown
    assert "Politie Rotterdam (`T0POLITIE1`)" in shown
