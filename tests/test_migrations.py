"""Every migration runs up and down on SQLite and on PostgreSQL, and the result matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

import bot.models  # registers every table
import bot.slack.workspaces.tables  # noqa: F401  (and the chat edge's installation tables)
from bot.db import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    head_revisions,
    make_engine,
    upgrade,
)
from bot.signals.search import outside_models


def revisions_in_order() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def test_the_migration_history_is_one_line() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, "two migrations revise the same parent: make the chain linear"
    # /healthz reads the heads from the files without Alembic; it must agree with Alembic.
    assert head_revisions() == sorted(script.get_heads())


def test_each_migration_goes_up_and_down(database_url: str) -> None:
    engine = make_engine(database_url)
    for revision in revisions_in_order():
        upgrade(database_url, revision)
        assert current_revision(engine) == revision
    for revision in reversed(revisions_in_order()[:-1]):
        downgrade(database_url, revision)
        assert current_revision(engine) == revision
    downgrade(database_url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(database_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    with engine.connect() as connection:
        # The search index (FTS5 tables, expression indexes: migration 0011) is no SQLModel table.
        opts = {"compare_type": True, "include_name": outside_models}
        context = MigrationContext.configure(connection, opts=opts)
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == [], f"models and migrations differ: {differences}"


def test_upgrading_twice_changes_nothing(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)
    engine = make_engine(database_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()
