"""A missing or malformed setting is named in one line with how to obtain it; never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings

SAMEN = str(Path(sys.executable).with_name("samen"))
GOOD = {
    "SLACK_BOT_TOKEN": "xoxb-1-2-3",
    "SLACK_SIGNING_SECRET": "0123456789abcdef",
    "SAMEN_ENCRYPTION_KEY": "zDcIf0m3BHFzh4IeIIFVeCkk2a5Z_E8k93Tk1DPAJuU=",
}


def settings_from(**env: str) -> object:
    return load_settings(_env_file=None, **env)


def test_good_settings_have_sensible_defaults() -> None:
    settings = load_settings(_env_file=None, **GOOD)
    assert settings.samen_language == "nl"
    assert settings.samen_timezone == "Europe/Amsterdam"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.database_url.startswith("sqlite:///")
    assert not settings.socket_mode


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({k: v for k, v in GOOD.items() if k != "SLACK_BOT_TOKEN"}, "SLACK_BOT_TOKEN is not set"),
        ({k: v for k, v in GOOD.items() if k != "SLACK_SIGNING_SECRET"}, "SLACK_SIGNING_SECRET is not set"),
        ({k: v for k, v in GOOD.items() if k != "SAMEN_ENCRYPTION_KEY"}, "SAMEN_ENCRYPTION_KEY is not set"),
        (
            {**GOOD, "SAMEN_ENCRYPTION_KEY": "not-a-key"},
            "SAMEN_ENCRYPTION_KEY must be one or more Fernet keys",
        ),
        ({**GOOD, "SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN must start with xoxb-"),
        ({**GOOD, "SLACK_APP_TOKEN": "xoxb-wrong"}, "SLACK_APP_TOKEN must start with xapp-"),
        ({**GOOD, "SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL must be an http(s) URL"),
        ({**GOOD, "DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL must be a sqlite or postgresql URL"),
        ({**GOOD, "DATABASE_URL": "::::"}, "DATABASE_URL is not a database URL"),
        ({**GOOD, "SAMEN_TIMEZONE": "Europe/Amsterdamm"}, "SAMEN_TIMEZONE is not a known time zone"),
        ({**GOOD, "SAMEN_LANGUAGE": "de"}, "SAMEN_LANGUAGE has an unsupported value"),
        ({**GOOD, "SAMEN_OUTBOX_CONCURRENCY": "0"}, "SAMEN_OUTBOX_CONCURRENCY is out of range"),
    ],
)
def test_a_bad_setting_is_named_with_how_to_fix_it(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from(**env)
    message = str(raised.value)
    assert message.startswith(named)
    assert ": set it to " in message
    assert "\n" not in message


def test_app_token_switches_to_socket_mode_and_api_url_gets_its_slash() -> None:
    settings = load_settings(
        _env_file=None, **GOOD, SLACK_APP_TOKEN="xapp-1-A1-1-abc", SLACK_API_URL="http://127.0.0.1:8/api"
    )
    assert settings.socket_mode
    assert settings.slack_api_url == "http://127.0.0.1:8/api/"


def test_a_bare_postgresql_url_uses_psycopg_3() -> None:
    settings = load_settings(_env_file=None, **GOOD, DATABASE_URL="postgresql://samen:p%40ss@db:5432/samen")
    assert settings.database_url == "postgresql+psycopg://samen:p%40ss@db:5432/samen"


def test_the_command_line_says_one_line_and_exits_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMEN_", "DATABASE_URL"))}
    result = subprocess.run(
        [SAMEN, "db", "upgrade"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("samen: SLACK_BOT_TOKEN is not set")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_settings_can_come_from_a_dotenv_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SAMEN_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SAMEN_ENCRYPTION_KEY", raising=False)
    (tmp_path / ".env").write_text(
        "SLACK_BOT_TOKEN=xoxb-from-file\nSLACK_SIGNING_SECRET=0123456789abcdef\nSAMEN_LANGUAGE=en\n"
        f"SAMEN_ENCRYPTION_KEY={GOOD['SAMEN_ENCRYPTION_KEY']}\n"
    )
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.slack_bot_token == "xoxb-from-file"
    assert settings.samen_language == "en"


def test_several_workspaces_need_the_client_id_and_secret_instead_of_a_bot_token() -> None:
    """Issue 9: installed through Slack's OAuth flow, Samen keeps each workspace's token itself."""
    oauth = {k: v for k, v in GOOD.items() if k != "SLACK_BOT_TOKEN"}
    settings = load_settings(
        _env_file=None,
        **oauth,
        SLACK_CLIENT_ID="1111111111.2222222222",
        SLACK_CLIENT_SECRET="abcdef0123456789",
    )
    assert settings.oauth and settings.slack_bot_token is None
    assert "abcdef0123456789" in settings.secrets()
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None, **oauth, SLACK_CLIENT_ID="1111111111.2222222222")
    assert str(raised.value).startswith("SLACK_CLIENT_SECRET is not set: set it to ")
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None, **GOOD, SAMEN_HOME_TEAM="gemeente")
    assert str(raised.value).startswith("SAMEN_HOME_TEAM must be a Slack team id")
    assert not load_settings(_env_file=None, **GOOD).oauth


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """deploy/.env.example lists every variable, most of them empty: their defaults apply."""
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    for name in ("SLACK_APP_TOKEN", "SLACK_API_URL", "DATABASE_URL", "SAMEN_OUTBOX_CONCURRENCY"):
        monkeypatch.setenv(name, "")
    settings = load_settings(_env_file=None)
    assert settings.slack_api_url == "https://slack.com/api/"
    assert not settings.socket_mode
    assert settings.outbox_concurrency == 16
