"""slack_sdk's SQLAlchemy installation and OAuth state stores, on Samen's engine and tables.

The tables are declared in bot/slack/workspaces/tables.py (with the tokens sealed); these subclasses only
point slack_sdk's stores at them. Importing this module imports SQLAlchemy's asyncio support (through
slack_sdk): only OAuth mode does.
"""

from __future__ import annotations

import logging
from typing import Final

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from bot.slack.workspaces.tables import BOTS, INSTALLATIONS, OAUTH_STATES

logger = logging.getLogger(__name__)

OAUTH_STATE_SECONDS: Final = 600  # an install started more than 10 minutes ago must start again


class SamenInstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's installation store on Samen's engine and tables (tokens sealed)."""

    def __init__(self, client_id: str, engine: Engine) -> None:
        super().__init__(client_id=client_id, engine=engine, logger=logging.getLogger("samen.workspaces"))
        self.metadata = SQLModel.metadata
        self.installations = INSTALLATIONS
        self.bots = BOTS

    def create_tables(self) -> None:
        raise NotImplementedError("Samen's tables are created by its migrations: samen db upgrade")


class SamenOAuthStateStore(SQLAlchemyOAuthStateStore):
    """slack_sdk's OAuth state store on Samen's engine: a state is valid once, for 10 minutes."""

    def __init__(self, engine: Engine, expiration_seconds: int = OAUTH_STATE_SECONDS) -> None:
        super().__init__(
            expiration_seconds=expiration_seconds, engine=engine, logger=logging.getLogger("samen.workspaces")
        )
        self.metadata = SQLModel.metadata
        self.oauth_states = OAUTH_STATES

    def create_tables(self) -> None:
        raise NotImplementedError("Samen's tables are created by its migrations: samen db upgrade")
