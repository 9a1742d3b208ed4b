"""The tables of Samen's installations: slack_sdk's SQLAlchemy stores' own, on `SQLModel.metadata`.

They mirror `SQLAlchemyInstallationStore.build_installations_table`, `.build_bots_table` and
`SQLAlchemyOAuthStateStore.build_oauth_states_table` (slack_sdk 3.x) column for column, so that
slack_sdk's stores read and write them (bot/slack/workspaces/store.py), Alembic creates them (migration 0009)
and tests/test_migrations.py compares them like every other table. One change, on purpose: the token
columns are `Sealed` (encrypted with SAMEN_ENCRYPTION_KEY, like restricted data), because a database
dump must not hand out every partner workspace's bot token; slack_sdk declares them String(200), and a
sealed token is longer. Their datetimes stay naive UTC, as slack_sdk writes them.
tests/test_workspaces.py checks that this mirror and slack_sdk's own definitions still agree.

Declared here rather than built by slack_sdk at import, because importing slack_sdk's store module
pulls in SQLAlchemy's asyncio support: only an installation in several workspaces needs it.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String, Table, func
from sqlmodel import SQLModel

from bot.crypto import Sealed

SEALED_COLUMNS: Final = frozenset({"bot_token", "bot_refresh_token", "user_token", "user_refresh_token"})

INSTALLATIONS: Final = Table(
    "slack_installations",
    SQLModel.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("enterprise_url", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", Sealed()),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", Sealed()),
    Column("bot_token_expires_at", DateTime),
    Column("user_id", String(32), nullable=False),
    Column("user_token", Sealed()),
    Column("user_scopes", String(1000)),
    Column("user_refresh_token", Sealed()),
    Column("user_token_expires_at", DateTime),
    Column("incoming_webhook_url", String(200)),
    Column("incoming_webhook_channel", String(200)),
    Column("incoming_webhook_channel_id", String(200)),
    Column("incoming_webhook_configuration_url", String(200)),
    Column("is_enterprise_install", Boolean, default=False, nullable=False),
    Column("token_type", String(32)),
    Column("installed_at", DateTime, nullable=False, default=func.now()),
    Index("slack_installations_idx", "client_id", "enterprise_id", "team_id", "user_id", "installed_at"),
)

BOTS: Final = Table(
    "slack_bots",
    SQLModel.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", Sealed()),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", Sealed()),
    Column("bot_token_expires_at", DateTime),
    Column("is_enterprise_install", Boolean, default=False, nullable=False),
    Column("installed_at", DateTime, nullable=False, default=func.now()),
    Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
)

OAUTH_STATES: Final = Table(
    "slack_oauth_states",
    SQLModel.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(200), nullable=False),
    Column("expire_at", DateTime, nullable=False),
)
