"""Settings: one pydantic-settings object, read from the environment and an optional `.env`.

A missing or malformed setting must end the program with one line that names the variable and how
to obtain it — civil servants' IT departments install this, and a traceback helps nobody.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.chat import MATRIX_ROOM_ID, MATRIX_USER_ID
from bot.config_values import (
    DEFAULT_DIGEST_AT,
    DEFAULT_ESCALATION,
    DEFAULT_SAFETY,
    DigestAt,
    Escalation,
    RetentionKind,
    SafetyCheck,
    SmtpServer,
    parse_digest_at,
    parse_escalation,
    parse_periods,
    parse_safety,
    parse_smtp_url,
)
from bot.i18n import SUPPORTED_LANGUAGES

SLACK_DEFAULT_API_URL = "https://slack.com/api/"
# The chat platforms Samen speaks (SAMEN_CHAT); the first is the default.
CHATS: tuple[str, ...] = ("slack", "matrix")
# With SAMEN_CHAT=matrix these are needed together, and no Slack variable is.
MATRIX_SETTINGS: tuple[str, ...] = ("MATRIX_HOMESERVER_URL", "MATRIX_USER_ID", "MATRIX_ACCESS_TOKEN")

# How to obtain each setting, shown when it is missing or malformed.
HOW_TO_OBTAIN: dict[str, str] = {
    "SAMEN_CHAT": "slack (the default) or matrix: the chat Samen lives in (Matrix: docs/matrix.md)",
    "MATRIX_HOMESERVER_URL": "the https address of the homeserver the bot's account is on, e.g. "
    "https://matrix.example.nl (its client-server API; docs/matrix.md)",
    "MATRIX_USER_ID": "the bot account's full Matrix id, e.g. @samen:example.nl (docs/matrix.md)",
    "MATRIX_ACCESS_TOKEN": "an access token of the bot's Matrix account (log in as the bot, e.g. in Element: "
    "Settings → Help & About → Access Token, then never log that session out; docs/matrix.md)",
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-…) under 'OAuth & Permissions' of your Slack app "
    "(or, to install Samen in several workspaces, set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET instead)",
    "SLACK_CLIENT_ID": "the Client ID under 'Basic Information → App Credentials' of your Slack app "
    "(together with SLACK_CLIENT_SECRET: installation in several workspaces, docs/operations.md)",
    "SLACK_CLIENT_SECRET": "the Client Secret under 'Basic Information → App Credentials' of your Slack app "
    "(together with SLACK_CLIENT_ID)",
    "SAMEN_HOME_TEAM": "the team id (T…) of the workspace the partnership lives in (in Slack: the "
    "workspace's URL …/client/T…); leave it unset for the workspace of SLACK_BOT_TOKEN, or with several "
    "workspaces the first one that installed Samen",
    "SLACK_SIGNING_SECRET": "the Signing Secret under 'Basic Information → App Credentials' "
    "of your Slack app",
    "SLACK_APP_TOKEN": "an App-Level Token (xapp-…) with connections:write under 'Basic Information'; "
    "leave it unset to use HTTP mode",
    "SLACK_API_URL": "the Web API base URL, e.g. https://slack.com/api/ (or your GovSlack URL); "
    "leave it unset for Slack's own",
    "DATABASE_URL": "a SQLAlchemy URL such as sqlite:///var/samen.db or "
    "postgresql+psycopg://user@host:5432/samen",
    "SAMEN_TIMEZONE": "an IANA time zone name such as Europe/Amsterdam",
    "SAMEN_LANGUAGE": "one of: " + ", ".join(SUPPORTED_LANGUAGES),
    "SAMEN_LOG_LEVEL": "one of: DEBUG, INFO, WARNING, ERROR",
    "SAMEN_ENCRYPTION_KEY": "a key made by `samen keys generate` (keep it secret and backed up: without it "
    "restricted data cannot be read); during rotation: new key first, then the old, comma-separated",
    "SAMEN_PARTNERSHIP_CHANNEL": "the id of the partnership's shared channel (in Slack: open the channel, "
    "its name → About → Channel ID; on Matrix the room's id !…:server, in Element: Room settings → "
    "Advanced → Internal room ID)",
    "SAMEN_OUTBOX_CONCURRENCY": "a whole number from 1 to 256 (messages one worker sends at once)",
    "SAMEN_OUTBOX_LEASE_SECONDS": "seconds (1 to 3600) after which a stopped worker's channels are "
    "taken over",
    "SAMEN_RUGDEKKING_ESCALATION": "minutes after a backup alert at which a silent partner is escalated, "
    "per seriousness, e.g. hoog:2,5,10;midden:5,15,30;laag:10,30,60 (see docs/rugdekking.md)",
    "SAMEN_RUGDEKKING_SAFETY": "two numbers of minutes, e.g. 10,10: when the reporter is asked whether they "
    "are safe, and how long an answer may take (see docs/rugdekking.md)",
    "SAMEN_DIGEST_AT": "a day and a time in SAMEN_TIMEZONE for the weekly digest, e.g. 'vrijdag 15:00' or "
    "'fri 15:00' (see docs/digest.md)",
    "SAMEN_STALE_DAYS": "a whole number of days (1 to 365) after which an intervention without any update "
    "is brought to its owner, and after as many again to its partner's lead",
    "SAMEN_STARTUP_TIMEOUT": "seconds (0 to 3600) for which a starting process waits for PostgreSQL and "
    "Slack (or the Matrix homeserver) to be reachable before it gives up",
    "SAMEN_SMTP_URL": "smtp://[user:password@]host:port (STARTTLS when the server offers it) or "
    "smtps://[user:password@]host:port for TLS; leave it unset to send no e-mail (docs/rugdekking.md)",
    "SAMEN_MAIL_FROM": "the address Samen's e-mails come from, e.g. samen@gemeente.nl (required with "
    "SAMEN_SMTP_URL)",
    "SAMEN_SMS_URL": 'the https URL of your SMS gateway, which takes POST {"to", "body"} with a bearer '
    "token; leave it unset to send no SMS (docs/rugdekking.md)",
    "SAMEN_SMS_TOKEN": "the bearer token your SMS gateway gave you (required with SAMEN_SMS_URL)",
    "SAMEN_SMS_INBOUND_SECRET": "a long random secret the SMS gateway sends as a bearer token to POST "
    "/sms/inbound; leave it unset to use SAMEN_SMS_TOKEN",
    "SAMEN_PUBLIC_URL": "the https address people reach Samen at, e.g. https://samen.gemeente.nl (the "
    "acknowledgement link in e-mails starts with it)",
    "SAMEN_RETENTION": "days per kind after which Samen deletes or anonymises what it kept, e.g. "
    "signalen:365;casussen:1825;rugdekking:365;afstemmomenten:90;berichten:30 (kinds left out keep "
    "their default; see docs/SECURITY.md)",
}


# Libraries read some of these variables themselves, and take an empty one for a value: Bolt switches to
# OAuth mode when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET exist at all, prometheus-client to multi-process
# mode when PROMETHEUS_MULTIPROC_DIR does. An env file with empty lines (deploy/.env.example) must mean
# "unset" for them too.
_OURS_AND_OUR_LIBRARIES = (
    "SLACK_",
    "SAMEN_",
    "MATRIX_",
    "DATABASE_URL",
    "PROMETHEUS_MULTIPROC_DIR",
    "prometheus_multiproc_dir",
)


def forget_empty_settings(environ: MutableMapping[str, str] = os.environ) -> list[str]:
    """Remove the settings that are set but empty (or blank) from the environment; returns their names.

    Called first thing in every `samen` command, before anything reads the environment."""
    empty = [
        name
        for name, value in environ.items()
        if name.startswith(_OURS_AND_OUR_LIBRARIES) and not value.strip()
    ]
    for name in empty:
        del environ[name]
    return empty


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it and says how to obtain it."""


def default_database_url() -> str:
    return "sqlite:///" + str(Path("var") / "samen.db")


class Settings(BaseSettings):
    # An empty variable (`SLACK_APP_TOKEN=` in deploy/.env.example) counts as unset: its default applies.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    # The chat Samen lives in. First, so that the validators of the fields below may read it.
    samen_chat: Literal["slack", "matrix"] = Field(default="slack", validation_alias="SAMEN_CHAT")
    # Matrix (SAMEN_CHAT=matrix, docs/matrix.md): the homeserver, the bot's account and its access token.
    matrix_homeserver_url: str | None = Field(default=None, validation_alias="MATRIX_HOMESERVER_URL")
    matrix_user_id: str | None = Field(default=None, validation_alias="MATRIX_USER_ID")
    matrix_access_token: str | None = Field(default=None, validation_alias="MATRIX_ACCESS_TOKEN", repr=False)
    # One workspace: its bot token. Several workspaces (Slack's OAuth flow, bot/slack/workspaces/): the app's
    # client id and secret instead; each workspace's token is then kept in the database, sealed.
    slack_bot_token: str | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_client_id: str | None = Field(default=None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: str | None = Field(default=None, validation_alias="SLACK_CLIENT_SECRET")
    samen_home_team: str | None = Field(default=None, validation_alias="SAMEN_HOME_TEAM")
    # Required on Slack (checked in _one_way_to_reach_slack); empty on Matrix, which has no inbound requests.
    slack_signing_secret: str = Field(default="", validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default=SLACK_DEFAULT_API_URL, validation_alias="SLACK_API_URL")
    database_url: str = Field(default_factory=default_database_url, validation_alias="DATABASE_URL")
    samen_timezone: str = Field(default="Europe/Amsterdam", validation_alias="SAMEN_TIMEZONE")
    samen_language: Literal["nl", "en"] = Field(default="nl", validation_alias="SAMEN_LANGUAGE")
    # Read by bot.logs from the environment too: a process logs before its settings exist. Here it is
    # checked, so that a typo stops Samen with one line rather than logging at INFO unnoticed.
    samen_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", validation_alias="SAMEN_LOG_LEVEL"
    )
    samen_encryption_key: str = Field(validation_alias="SAMEN_ENCRYPTION_KEY")
    # The partnership's shared channel: cases, successes, the digest, the backup-alert board.
    samen_partnership_channel: str | None = Field(default=None, validation_alias="SAMEN_PARTNERSHIP_CHANNEL")
    outbox_concurrency: int = Field(default=16, ge=1, le=256, validation_alias="SAMEN_OUTBOX_CONCURRENCY")
    outbox_lease_seconds: float = Field(
        default=30.0, ge=1, le=3600, validation_alias="SAMEN_OUTBOX_LEASE_SECONDS"
    )
    # The settings below are read as text and kept typed (bot/config_values.py parses them, once).
    # Backup alerts: escalation times per seriousness (keyed by bot.alerts.models.Seriousness), and the
    # safety check.
    rugdekking_escalation: Annotated[dict[str, Escalation], NoDecode] = Field(
        default=DEFAULT_ESCALATION, validate_default=True, validation_alias="SAMEN_RUGDEKKING_ESCALATION"
    )
    rugdekking_safety: Annotated[SafetyCheck, NoDecode] = Field(
        default=DEFAULT_SAFETY, validate_default=True, validation_alias="SAMEN_RUGDEKKING_SAFETY"
    )
    # The weekly digest to the partnership channel (bot/digest/): day and time, skipped on holidays.
    samen_digest_at: Annotated[DigestAt, NoDecode] = Field(
        default=DEFAULT_DIGEST_AT, validate_default=True, validation_alias="SAMEN_DIGEST_AT"
    )
    # Interventions without any update for this many days go to their owner, then to the partner's lead.
    samen_stale_days: int = Field(default=14, ge=1, le=365, validation_alias="SAMEN_STALE_DAYS")
    # How long a starting process waits for PostgreSQL and Slack before it gives up (bot/startup.py).
    startup_timeout: float = Field(default=120.0, ge=0, le=3600, validation_alias="SAMEN_STARTUP_TIMEOUT")
    # Retention (bot/privacy/retention.py): days per kind after which what was kept is deleted or anonymised.
    samen_retention: Annotated[dict[RetentionKind, int], NoDecode] = Field(
        default="", validate_default=True, validation_alias="SAMEN_RETENTION"
    )

    # Reaching people outside chat (bot/reach/): e-mail and SMS; either left unset is that way off.
    smtp: Annotated[SmtpServer | None, NoDecode] = Field(default=None, validation_alias="SAMEN_SMTP_URL")
    mail_from: str | None = Field(default=None, validation_alias="SAMEN_MAIL_FROM")
    sms_url: str | None = Field(default=None, validation_alias="SAMEN_SMS_URL")
    sms_token: str | None = Field(default=None, validation_alias="SAMEN_SMS_TOKEN")
    sms_inbound_secret: str | None = Field(default=None, validation_alias="SAMEN_SMS_INBOUND_SECRET")
    public_url: str | None = Field(default=None, validation_alias="SAMEN_PUBLIC_URL")

    @field_validator("samen_chat", mode="before")
    @classmethod
    def _chat(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("matrix_homeserver_url")
    @classmethod
    def _homeserver_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        value = value.strip()
        if not re.fullmatch(r"https?://[^\s/?#@]+(/[^\s?#]*)?", value):
            raise ValueError("must be an http(s) URL such as https://matrix.example.nl")
        # Without its slash: the client's paths (/_matrix/client/…) are appended to it.
        return value.rstrip("/")

    @field_validator("matrix_user_id")
    @classmethod
    def _matrix_user_id(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        value = value.strip()
        if not MATRIX_USER_ID.fullmatch(value):
            raise ValueError("must be a full Matrix user id such as @samen:example.nl")
        return value

    @field_validator("matrix_access_token")
    @classmethod
    def _matrix_access_token(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        value = value.strip()
        if len(value) < 8 or any(c.isspace() for c in value):
            raise ValueError("is not an access token (too short, or holds spaces)")
        return value

    @field_validator("samen_log_level", mode="before")
    @classmethod
    def _log_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("xoxb-", "xoxe.xoxb-")):
            raise ValueError("must start with xoxb-")
        return value

    @field_validator("slack_client_id", "slack_client_secret")
    @classmethod
    def _client_credentials(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if len(value.strip()) < 8:
            raise ValueError("is too short to be a Slack app credential")
        return value.strip()

    @field_validator("samen_home_team")
    @classmethod
    def _home_team(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.fullmatch(r"[TE][A-Z0-9]{2,30}", value):
            raise ValueError("must be a Slack team id such as T0123ABCD")
        return value

    @model_validator(mode="before")
    @classmethod
    def _one_way_to_reach_slack(cls, data: Any) -> Any:
        """A bot token (one workspace) or the app's client id and secret (several); or, on Matrix, the
        homeserver, the bot's id and its token, all three. Checked before the other settings, so that an
        empty configuration is told about the token first. A rule across settings: its message starts with
        the variable(s) to set (see _describe)."""
        if not isinstance(data, dict):
            return data

        def given(name: str) -> bool:
            return bool(str(data.get(name) or data.get(name.lower()) or "").strip())

        chat = data.get("SAMEN_CHAT", data.get("samen_chat", "slack"))
        chat = chat.strip().lower() if isinstance(chat, str) else chat
        if chat not in (*CHATS, None, ""):
            raise ValueError("SAMEN_CHAT must be one of: " + ", ".join(CHATS))
        if chat == "matrix":
            missing = [name for name in MATRIX_SETTINGS if not given(name)]
            if missing:
                names = ", ".join(missing[:-1]) + " and " + missing[-1] if len(missing) > 1 else missing[0]
                verb = "are" if len(missing) > 1 else "is"
                raise ValueError(f"{names} {verb} not set (SAMEN_CHAT=matrix needs all three)")
            return data
        if given("SLACK_CLIENT_ID") and not given("SLACK_CLIENT_SECRET"):
            raise ValueError("SLACK_CLIENT_SECRET is not set")
        if given("SLACK_CLIENT_SECRET") and not given("SLACK_CLIENT_ID"):
            raise ValueError("SLACK_CLIENT_ID is not set")
        if not given("SLACK_BOT_TOKEN") and not given("SLACK_CLIENT_ID"):
            raise ValueError("SLACK_BOT_TOKEN is not set")
        if not given("SLACK_SIGNING_SECRET"):
            raise ValueError("SLACK_SIGNING_SECRET is not set")
        return data

    @model_validator(mode="before")
    @classmethod
    def _reach_in_pairs(cls, data: Any) -> Any:
        """E-mail needs a sender address, SMS a token: a way half configured stops Samen at start."""
        if not isinstance(data, dict):
            return data

        def given(name: str) -> bool:
            return bool(str(data.get(name) or data.get(name.lower()) or "").strip())

        if given("SAMEN_SMTP_URL") and not given("SAMEN_MAIL_FROM"):
            raise ValueError("SAMEN_MAIL_FROM is not set")
        if given("SAMEN_SMS_URL") and not given("SAMEN_SMS_TOKEN"):
            raise ValueError("SAMEN_SMS_TOKEN is not set")
        return data

    @field_validator("smtp", mode="before")
    @classmethod
    def _smtp(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_smtp_url(value) if value.strip() else None
        return value

    @field_validator("mail_from")
    @classmethod
    def _mail_from(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        value = value.strip()
        if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", value):
            raise ValueError("must be an e-mail address such as samen@gemeente.nl")
        return value

    @field_validator("sms_url", "public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        value = value.strip()
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("sms_token")
    @classmethod
    def _sms_token(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if len(value.strip()) < 8:
            raise ValueError("is too short to be a gateway's token")
        return value.strip()

    @field_validator("sms_inbound_secret")
    @classmethod
    def _sms_inbound_secret(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if len(value.strip()) < 16:
            raise ValueError("is too short to be a secret (16 characters at least)")
        return value.strip()

    @field_validator("slack_signing_secret")
    @classmethod
    def _signing_secret(cls, value: str) -> str:
        if not value:
            return ""  # Matrix: none needed (on Slack _one_way_to_reach_slack asks for it)
        if len(value.strip()) < 8:
            raise ValueError("is too short to be a signing secret")
        return value.strip()

    @field_validator("samen_encryption_key")
    @classmethod
    def _encryption_key(cls, value: str) -> str:
        from bot.crypto import is_valid_keyset

        if not is_valid_keyset(value):
            raise ValueError("must be one or more Fernet keys, separated by commas")
        return value

    @field_validator("samen_partnership_channel")
    @classmethod
    def _partnership_channel(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value in (None, ""):
            return None
        if info.data.get("samen_chat") == "matrix":
            if not MATRIX_ROOM_ID.fullmatch(value):
                raise ValueError("must be a Matrix room id such as !AbCdEf:example.nl (not its #alias)")
            return value
        if not re.fullmatch(r"[CG][A-Z0-9]{2,30}", value):
            raise ValueError("must be a Slack channel id such as C0123ABCD (not its #name)")
        return value

    @field_validator("rugdekking_escalation", mode="before")
    @classmethod
    def _rugdekking_escalation(cls, value: object) -> object:
        return parse_escalation(value) if isinstance(value, str) else value

    @field_validator("rugdekking_safety", mode="before")
    @classmethod
    def _rugdekking_safety(cls, value: object) -> object:
        return parse_safety(value) if isinstance(value, str) else value

    @field_validator("samen_digest_at", mode="before")
    @classmethod
    def _digest_at(cls, value: object) -> object:
        return parse_digest_at(value) if isinstance(value, str) else value

    @field_validator("samen_retention", mode="before")
    @classmethod
    def _retention(cls, value: object) -> object:
        return parse_periods(value) if isinstance(value, str) else value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith("xapp-"):
            raise ValueError("must start with xapp-")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError("is not a database URL") from exc
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError("must be a sqlite or postgresql URL")
        if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
            # psycopg 3 is what we install; SQLAlchemy's bare name would look for psycopg2.
            value = url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        return value

    @field_validator("samen_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("is not a known time zone") from exc
        return value

    def secrets(self) -> list[str]:
        """Values that must never appear in a log line (the database's password too)."""
        from sqlalchemy.engine import make_url

        keys = [k.strip() for k in self.samen_encryption_key.split(",")]
        return [
            self.slack_bot_token or "",
            self.slack_signing_secret,
            self.slack_app_token or "",
            self.slack_client_secret or "",
            *keys,
            make_url(self.database_url).password or "",
            (self.smtp.password if self.smtp else None) or "",
            self.sms_token or "",
            self.sms_inbound_secret or "",
            self.matrix_access_token or "",
        ]

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.samen_timezone)

    @property
    def email_on(self) -> bool:
        """E-mail reaches people outside chat (SAMEN_SMTP_URL and SAMEN_MAIL_FROM)."""
        return self.smtp is not None and self.mail_from is not None

    @property
    def sms_on(self) -> bool:
        """SMS reaches people outside chat (SAMEN_SMS_URL and SAMEN_SMS_TOKEN)."""
        return self.sms_url is not None and self.sms_token is not None

    @property
    def chat(self) -> Literal["slack", "matrix"]:
        """The chat Samen lives in: "slack" or "matrix" (SAMEN_CHAT)."""
        return self.samen_chat

    @property
    def matrix(self) -> bool:
        """Samen lives on Matrix (SAMEN_CHAT=matrix): no Slack variable is read."""
        return self.samen_chat == "matrix"

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def oauth(self) -> bool:
        """Installed through Slack's OAuth flow, possibly in several workspaces (bot/slack/workspaces/)."""
        return bool(self.slack_client_id and self.slack_client_secret)


def _describe(error: ErrorDetails) -> str:
    if not error.get("loc"):
        # A rule across settings (a model validator): "<VARIABLE> <problem>", or several variables
        # ("A, B and C are not set …"), each then told how to obtain it.
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        names = re.match(r"[A-Z][A-Z0-9_]+(?:(?:, | and )[A-Z][A-Z0-9_]+)*", message)
        if names and names.group(0) != names.group(0).split(", ")[0].split(" and ")[0]:
            every = re.findall(r"[A-Z][A-Z0-9_]+", names.group(0))
            how = "; ".join(f"{n} to {HOW_TO_OBTAIN.get(n, 'see README.md')}" for n in every)
            return f"{message}: set {how}."
        name, _, problem = message.partition(" ")
        how = HOW_TO_OBTAIN.get(name, "see README.md, section Configuration")
        return f"{name} {problem}: set it to {how}."
    name = str(error["loc"][0])
    name = name.upper()
    problem = "is not set" if error["type"] == "missing" else _problem_text(error)
    how = HOW_TO_OBTAIN.get(name, "see README.md, section Configuration")
    return f"{name} {problem}: set it to {how}."


def _problem_text(error: ErrorDetails) -> str:
    message = str(error.get("msg", "is malformed"))
    # pydantic prefixes custom messages with "Value error, "; the variable name says the rest.
    message = message.removeprefix("Value error, ")
    if error["type"] == "literal_error":
        return "has an unsupported value"
    if error["type"] in ("int_parsing", "float_parsing", "greater_than_equal", "less_than_equal"):
        return "is out of range or not a number"
    return message if message.startswith(("must", "is")) else "is malformed"


def load_settings(**overrides: object) -> Settings:
    """Read settings; raise SettingsError with one readable line for the first problem."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_describe(exc.errors()[0])) from None


def load() -> Settings:
    """The settings of a `samen` command (every process starts as one): read once, their secrets
    registered for redaction in the logs; a missing or malformed setting is one line and exit code 2
    instead of a traceback."""
    from bot.logs import configure

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"samen: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    # The level may come from a .env file, which the process environment read at start does not hold.
    configure(secrets=settings.secrets(), level=logging.getLevelName(settings.samen_log_level))
    return settings
