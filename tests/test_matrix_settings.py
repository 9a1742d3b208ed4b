"""Samen on Matrix (issue 18), its settings and set-up: SAMEN_CHAT=matrix with the three MATRIX_ settings
and no Slack variable; the partners file with Matrix ids; `samen db upgrade` and `samen partners import`
with those settings alone; and the start-up check that asks the homeserver whose token it is."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.authz import CLI_ACTOR
from bot.config import Settings, SettingsError, load_settings
from bot.db import make_engine, upgrade
from bot.partners.importer import ImportFailed, import_partners, parse
from bot.partners.models import Member, Partner

SAMEN = str(Path(sys.executable).with_name("samen"))
KEY = "zDcIf0m3BHFzh4IeIIFVeCkk2a5Z_E8k93Tk1DPAJuU="
TOKEN = "syt_c2FtZW4_bWF0cml4dG9rZW4_0a1b2c"
MATRIX = {
    "SAMEN_CHAT": "matrix",
    "MATRIX_HOMESERVER_URL": "https://matrix.example.nl",
    "MATRIX_USER_ID": "@samen:example.nl",
    "MATRIX_ACCESS_TOKEN": TOKEN,
    "SAMEN_ENCRYPTION_KEY": KEY,
}


def matrix_settings(**env: str) -> Settings:
    return load_settings(_env_file=None, **{**MATRIX, **env})


def refusal(**env: str) -> str:
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None, **env)
    message = str(raised.value)
    assert "\n" not in message and ": set " in message
    return message


# -- settings ----------------------------------------------------------------------------------------------


def test_matrix_needs_its_three_settings_and_no_slack_variable() -> None:
    settings = matrix_settings(MATRIX_HOMESERVER_URL="https://matrix.example.nl/", SAMEN_CHAT=" Matrix ")
    assert settings.chat == settings.samen_chat == "matrix" and settings.matrix
    assert settings.matrix_homeserver_url == "https://matrix.example.nl"  # without its slash
    assert settings.matrix_user_id == "@samen:example.nl"
    assert settings.matrix_access_token == TOKEN
    assert settings.slack_bot_token is None and settings.slack_signing_secret == ""
    assert not settings.socket_mode and not settings.oauth
    assert load_settings(_env_file=None, **{**MATRIX, "MATRIX_HOMESERVER_URL": "http://127.0.0.1:8008"})


def test_slack_is_the_default_and_unchanged() -> None:
    slack = load_settings(
        _env_file=None,
        SLACK_BOT_TOKEN="xoxb-1-2-3",
        SLACK_SIGNING_SECRET="0123456789abcdef",
        SAMEN_ENCRYPTION_KEY=KEY,
    )
    assert slack.chat == "slack" and not slack.matrix
    # The Matrix settings alone do not make a Slack deployment.
    assert refusal(**{**MATRIX, "SAMEN_CHAT": "slack"}).startswith("SLACK_BOT_TOKEN is not set")
    assert refusal(SLACK_BOT_TOKEN="xoxb-1-2-3", SAMEN_ENCRYPTION_KEY=KEY).startswith(
        "SLACK_SIGNING_SECRET is not set"
    )


@pytest.mark.parametrize("missing", ["MATRIX_HOMESERVER_URL", "MATRIX_USER_ID", "MATRIX_ACCESS_TOKEN"])
def test_each_missing_matrix_setting_is_named(missing: str) -> None:
    message = refusal(**{k: v for k, v in MATRIX.items() if k != missing})
    assert message.startswith(f"{missing} is not set (SAMEN_CHAT=matrix needs all three): set it to ")


def test_all_missing_matrix_settings_are_named_in_one_line() -> None:
    message = refusal(SAMEN_CHAT="matrix", SAMEN_ENCRYPTION_KEY=KEY)
    assert message.startswith("MATRIX_HOMESERVER_URL, MATRIX_USER_ID and MATRIX_ACCESS_TOKEN are not set")
    assert "MATRIX_USER_ID to the bot account's full Matrix id" in message


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SAMEN_CHAT": "xmpp"}, "SAMEN_CHAT must be one of: slack, matrix"),
        ({"MATRIX_HOMESERVER_URL": "matrix.example.nl"}, "MATRIX_HOMESERVER_URL must be"),
        ({"MATRIX_HOMESERVER_URL": "ftp://matrix.example.nl"}, "MATRIX_HOMESERVER_URL must be"),
        ({"MATRIX_USER_ID": "samen"}, "MATRIX_USER_ID must be a full Matrix user id"),
        ({"MATRIX_USER_ID": "@samen"}, "MATRIX_USER_ID must be a full Matrix user id"),
        ({"MATRIX_ACCESS_TOKEN": "short"}, "MATRIX_ACCESS_TOKEN is not an access token"),
        ({"MATRIX_ACCESS_TOKEN": "syt_with a space"}, "MATRIX_ACCESS_TOKEN is not an access token"),
        ({"SAMEN_PARTNERSHIP_CHANNEL": "C0PARTNERS"}, "SAMEN_PARTNERSHIP_CHANNEL must be a Matrix"),
        ({"SAMEN_PARTNERSHIP_CHANNEL": "#partners:example.nl"}, "SAMEN_PARTNERSHIP_CHANNEL must be a Matrix"),
    ],
)
def test_a_bad_matrix_setting_is_named_with_how_to_fix_it(env: dict[str, str], named: str) -> None:
    assert refusal(**{**MATRIX, **env}).startswith(named)


def test_the_partnership_room_is_a_room_id_with_or_without_its_server() -> None:
    assert matrix_settings(SAMEN_PARTNERSHIP_CHANNEL="!AbCdEf:example.nl").samen_partnership_channel
    assert matrix_settings(SAMEN_PARTNERSHIP_CHANNEL="!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM")
    assert refusal(
        SLACK_BOT_TOKEN="xoxb-1-2-3",
        SLACK_SIGNING_SECRET="0123456789abcdef",
        SAMEN_ENCRYPTION_KEY=KEY,
        SAMEN_PARTNERSHIP_CHANNEL="!AbCdEf:example.nl",
    ).startswith("SAMEN_PARTNERSHIP_CHANNEL must be a Slack channel id")


def test_the_access_token_is_a_secret_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    from bot.logs import Redactor

    settings = matrix_settings()
    assert TOKEN in settings.secrets()
    assert TOKEN not in repr(settings) and TOKEN not in str(settings)
    record = logging.LogRecord("samen", logging.INFO, __file__, 1, f"token {TOKEN} in a line", None, None)
    Redactor(settings.secrets()).filter(record)
    assert TOKEN not in record.getMessage()


def test_an_empty_matrix_variable_counts_as_unset() -> None:
    from bot.config import forget_empty_settings

    environ = {"MATRIX_ACCESS_TOKEN": " ", "MATRIX_USER_ID": "@samen:example.nl"}
    assert forget_empty_settings(environ) == ["MATRIX_ACCESS_TOKEN"]
    assert environ == {"MATRIX_USER_ID": "@samen:example.nl"}


# -- the partners file with Matrix ids ---------------------------------------------------------------------

PARTNERS = """\
partners:
  - name: RIEC Zeeland-West-Brabant
    type: RIEC
    alert_channel: "!riecalert:example.nl"
    lead: "@fatima:example.nl"
    duty_contacts: ["@fatima:example.nl", "@pieter:riec.example"]
    members:
      - {user: "@fatima:example.nl", role: coordinator, name: Fatima}
      - {user: "@pieter:riec.example", role: admin}
  - name: Politie Zeeland-West-Brabant
    type: POLITIE
    alert_channel: "!politiealert"
    members:
      - user: "@hans:politie.example:8448"
"""


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path / 'samen.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as opened:
        yield opened
    engine.dispose()


def test_a_matrix_partners_file_is_imported_with_servers_as_teams(session: Session) -> None:
    report = import_partners(session, actor=CLI_ACTOR, source=PARTNERS, purpose="test", chat="matrix")
    session.commit()
    assert report.partners == 2 and report.members == 3
    members = {m.user_id: m.team_id for m in session.exec(select(Member)).all()}
    assert members == {
        "@fatima:example.nl": "example.nl",
        "@pieter:riec.example": "riec.example",
        "@hans:politie.example:8448": "politie.example:8448",
    }
    channels = {p.name: p.alert_channel_id for p in session.exec(select(Partner)).all()}
    assert channels == {
        "RIEC Zeeland-West-Brabant": "!riecalert:example.nl",
        "Politie Zeeland-West-Brabant": "!politiealert",  # room version 12: no server part
    }
    again = import_partners(session, actor=CLI_ACTOR, source=PARTNERS, purpose="test", chat="matrix")
    assert not again.changed


# A room of version 12 as Synapse makes it: "!" and the 43 characters of its creation event's hash.
ROOM_V12 = "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM"


def test_a_real_room_id_of_version_12_fits_the_database_or_is_named(session: Session) -> None:
    """Matrix ids may be 255 characters long; a column too short for one is named by the import rather
    than refused by PostgreSQL half-way (SQLite would take it silently)."""
    source = PARTNERS.replace('"!politiealert"', f'"{ROOM_V12}"')
    longest = Partner.__table__.c.alert_channel_id.type.length  # type: ignore[attr-defined]
    if longest is None or longest >= len(ROOM_V12):
        import_partners(session, actor=CLI_ACTOR, source=source, purpose="test", chat="matrix")
        return
    with pytest.raises(ImportFailed) as failed:
        parse(source)
    (problem,) = failed.value.problems
    assert problem.where == "partners[1].alert_channel"
    assert f"is longer than the database takes ({longest} characters)" in problem.message


def test_a_file_mixing_slack_and_matrix_ids_is_refused(session: Session) -> None:
    mixed = PARTNERS.replace('"@pieter:riec.example", role: admin', "U0RIEC0002, role: admin")
    with pytest.raises(ImportFailed) as failed:
        parse(mixed)
    (problem,) = [p for p in failed.value.problems if "U0RIEC0002" in p.message]
    assert problem.where == "partners[0].members[1].user" and problem.line == 9
    assert "is a Slack id, but this file names Matrix ids" in problem.message
    assert "one chat, Slack or Matrix" in problem.message
    # A Slack team left at the top of a Matrix file: named, with the fix.
    with pytest.raises(ImportFailed) as failed:
        parse("team: T0SAMEN\n" + PARTNERS)
    (problem,) = failed.value.problems
    assert problem.where == "team" and "leave `team:` out for Matrix people" in problem.message


def test_a_file_for_the_other_chat_is_refused(session: Session) -> None:
    with pytest.raises(ImportFailed) as failed:
        import_partners(session, actor=CLI_ACTOR, source=PARTNERS, purpose="test", chat="slack")
    assert all("but Samen runs on Slack (SAMEN_CHAT=slack)" in p.message for p in failed.value.problems)
    slack_file = "team: T0SAMEN\npartners:\n  - {name: RIEC, type: RIEC, members: [{user: U0RIEC0001}]}\n"
    with pytest.raises(ImportFailed) as failed:
        parse(slack_file, chat="matrix")
    assert "but Samen runs on Matrix (SAMEN_CHAT=matrix)" in failed.value.problems[0].message
    assert parse(slack_file, chat="slack")


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ('    alert_channel: "#riec:example.nl"', "not a channel id: a Slack one such as C0123ABCD, or"),
        ('    alert_channel: "C0riec"', "is not a channel id"),
        ('    lead: "fatima:example.nl"', "is not a user id: a Slack one such as U0123ABCD, or a Matrix one"),
        ('    lead: "@fatima"', "is not a user id"),
        ('    lead: "u0riec0001"', "is not a user id"),  # Slack's ids stay as strict as before
    ],
)
def test_a_malformed_id_says_what_an_id_looks_like(line: str, said: str) -> None:
    key = line.split(":")[0]
    source = "\n".join(line if row.startswith(key + ":") else row for row in PARTNERS.splitlines())
    with pytest.raises(ImportFailed) as failed:
        parse(source)
    assert any(said in p.message for p in failed.value.problems), failed.value.problems


def test_an_unquoted_matrix_id_is_told_to_be_quoted() -> None:
    with pytest.raises(ImportFailed) as failed:
        parse(PARTNERS.replace('"!riecalert:example.nl"', "!riecalert:example.nl"))
    assert "put Matrix ids in quotes" in failed.value.problems[0].message
    with pytest.raises(ImportFailed) as failed:
        parse(PARTNERS.replace('lead: "@fatima:example.nl"', "lead: @fatima:example.nl"))
    assert "put Matrix ids in quotes" in failed.value.problems[0].message


def test_the_slack_example_file_still_parses() -> None:
    example = Path(__file__).resolve().parent.parent / "deploy" / "partners.example.yaml"
    parsed, _ = parse(example.read_text("utf-8"), chat="slack")
    assert parsed.partners


# -- the commands, with the Matrix settings alone ----------------------------------------------------------


def matrix_env(tmp_path: Path, **more: str) -> dict[str, str]:
    """The process environment of an operator on Matrix: no SLACK_ variable at all."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMEN_", "MATRIX_", "DATABASE_"))
    }
    return {**env, **MATRIX, "DATABASE_URL": f"sqlite:///{tmp_path / 'samen.db'}", **more}


def samen(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SAMEN, *args],
        env=matrix_env(tmp_path, **env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_db_upgrade_and_partners_import_work_with_the_matrix_settings_alone(tmp_path: Path) -> None:
    upgraded = samen(tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "database is up to date" in upgraded.stdout
    (tmp_path / "partners.yaml").write_text(PARTNERS, "utf-8")
    imported = samen(tmp_path, "partners", "import", "partners.yaml")
    assert imported.returncode == 0, imported.stderr
    assert "added @fatima:example.nl to RIEC Zeeland-West-Brabant as coordinator" in imported.stdout
    assert "set the alert channel of Politie Zeeland-West-Brabant to !politiealert" in imported.stdout
    assert TOKEN not in imported.stdout + imported.stderr + upgraded.stderr
    again = samen(tmp_path, "partners", "import", "partners.yaml")
    assert again.returncode == 0 and "everything is already as in partners.yaml" in again.stdout
    listed = samen(tmp_path, "partners", "list")
    assert listed.returncode == 0, listed.stderr


def test_a_slack_partners_file_is_refused_on_matrix(tmp_path: Path) -> None:
    (tmp_path / "slack.yaml").write_text(
        "team: T0SAMEN\npartners:\n  - {name: RIEC, type: RIEC, members: [{user: U0RIEC0001}]}\n", "utf-8"
    )
    refused = samen(tmp_path, "partners", "import", "slack.yaml")
    assert refused.returncode == 1
    assert "but Samen runs on Matrix (SAMEN_CHAT=matrix)" in refused.stderr


def test_serve_is_refused_on_matrix_in_one_line(tmp_path: Path) -> None:
    refused = samen(tmp_path, "serve")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "samen: serve is for Slack's HTTP mode; with SAMEN_CHAT=matrix use `samen run`"
    )


def test_a_missing_matrix_setting_stops_a_command_in_one_line(tmp_path: Path) -> None:
    env = matrix_env(tmp_path)
    del env["MATRIX_ACCESS_TOKEN"]
    result = subprocess.run(
        [SAMEN, "db", "upgrade"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("samen: MATRIX_ACCESS_TOKEN is not set (SAMEN_CHAT=matrix needs all three)")


# -- start-up: whose is the access token? ------------------------------------------------------------------


class Homeserver:
    """A stand-in for a homeserver's /account/whoami: answers in turn from `answers` (the last repeats),
    and remembers the Authorization headers it was sent."""

    def __init__(self, answers: list[tuple[int, dict[str, Any]]]) -> None:
        self.answers = answers
        self.authorizations: list[str] = []
        self.paths: list[str] = []
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                served.paths.append(self.path)
                served.authorizations.append(self.headers.get("Authorization", ""))
                status, body = served.answers.pop(0) if len(served.answers) > 1 else served.answers[0]
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def homeserver() -> Iterator[Any]:
    started: list[Homeserver] = []

    def start(*answers: tuple[int, dict[str, Any]]) -> Homeserver:
        started.append(Homeserver(list(answers)))
        return started[-1]

    yield start
    for server in started:
        server.close()


def test_the_homeserver_takes_the_bots_token(homeserver: Any) -> None:
    from bot.startup import Deadline, check_matrix

    server = homeserver((200, {"user_id": "@samen:example.nl", "device_id": "SAMEN"}))
    settings = matrix_settings(MATRIX_HOMESERVER_URL=server.url + "/")
    assert check_matrix(settings, Deadline(5)) is None
    assert server.paths == ["/_matrix/client/v3/account/whoami"]
    assert server.authorizations == [f"Bearer {TOKEN}"]


def test_a_refused_token_is_returned_and_logged_once_naming_the_setting(
    homeserver: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.startup import Deadline, check_matrix

    server = homeserver((401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed."}))
    settings = matrix_settings(MATRIX_HOMESERVER_URL=server.url)
    with caplog.at_level(logging.INFO, logger="bot.startup"):
        assert check_matrix(settings, Deadline(5)) == "M_UNKNOWN_TOKEN"
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert record.getMessage().startswith(
        "MATRIX_ACCESS_TOKEN was refused by the homeserver (M_UNKNOWN_TOKEN)"
    )
    assert TOKEN not in caplog.text


def test_a_token_of_another_account_stops_the_start_naming_both_settings(homeserver: Any) -> None:
    from bot.startup import Deadline, StartupFailed, check_matrix

    server = homeserver((200, {"user_id": "@karin:example.nl"}))
    with pytest.raises(StartupFailed) as failed:
        check_matrix(matrix_settings(MATRIX_HOMESERVER_URL=server.url), Deadline(5))
    line = str(failed.value)
    assert line.startswith(
        "MATRIX_ACCESS_TOKEN belongs to @karin:example.nl, not to MATRIX_USER_ID (@samen:example.nl)"
    )
    assert "\n" not in line and TOKEN not in line


def test_an_address_that_is_no_homeserver_stops_the_start(homeserver: Any) -> None:
    from bot.startup import Deadline, StartupFailed, check_matrix

    server = homeserver((404, {"errcode": "M_UNRECOGNIZED"}))
    with pytest.raises(StartupFailed) as failed:
        check_matrix(matrix_settings(MATRIX_HOMESERVER_URL=server.url), Deadline(5))
    assert str(failed.value).startswith("MATRIX_HOMESERVER_URL (127.0.0.1:")
    assert "answered HTTP 404" in str(failed.value)


def test_a_busy_homeserver_is_waited_for(homeserver: Any, caplog: pytest.LogCaptureFixture) -> None:
    from bot.startup import Deadline, check_matrix

    server = homeserver(
        (503, {}),
        (429, {"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 10}),
        (200, {"user_id": "@samen:example.nl"}),
    )
    with caplog.at_level(logging.INFO, logger="bot.startup"):
        assert check_matrix(matrix_settings(MATRIX_HOMESERVER_URL=server.url), Deadline(30)) is None
    assert len(server.paths) == 3
    warning, reachable = caplog.records
    assert warning.levelno == logging.WARNING and "unreachable (HTTP 503)" in warning.getMessage()
    assert "reachable after 3 attempts" in reachable.getMessage()


def test_an_unreachable_homeserver_is_waited_for_then_one_line(caplog: pytest.LogCaptureFixture) -> None:
    import socket

    from bot.startup import Deadline, StartupFailed, check_matrix

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with caplog.at_level(logging.INFO, logger="bot.startup"), pytest.raises(StartupFailed) as failed:
        check_matrix(matrix_settings(MATRIX_HOMESERVER_URL=f"http://127.0.0.1:{port}"), Deadline(1.5))
    line = str(failed.value)
    assert line.startswith(f"The Matrix homeserver at 127.0.0.1:{port} could not be reached in 1.5 s")
    assert "SAMEN_STARTUP_TIMEOUT" in line and "\n" not in line
    assert [r.levelno for r in caplog.records] == [logging.WARNING]  # once, however many attempts


def test_start_asks_the_homeserver_not_slack(homeserver: Any, tmp_path: Path) -> None:
    """bot.cli.start under matrix: the database migrated, then whoami; no Slack variable needed."""
    from bot.cli import start

    server = homeserver((401, {"errcode": "M_UNKNOWN_TOKEN"}))
    settings = matrix_settings(
        MATRIX_HOMESERVER_URL=server.url, DATABASE_URL=f"sqlite:///{tmp_path / 's.db'}"
    )
    assert start(settings) == "M_UNKNOWN_TOKEN"
    assert server.paths == ["/_matrix/client/v3/account/whoami"]
