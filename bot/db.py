"""The database: engine, sessions and migrations.

SQLite is the embedded default, PostgreSQL the production database. Times are stored in UTC.
Migrations are Alembic's, applied by `samen db upgrade` and on every start.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic (and Mako) cost ~11 MB of memory: the long-running processes migrate in a child process
# (`migrate_in_child`) and read the migration state with plain SQL, so they never import it.

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    url = make_url(database_url)
    # A failed statement's error (and SQLAlchemy's INFO log) would quote its parameters: what people
    # typed, before the sealed columns encrypt it. Every engine Samen makes comes from here.
    kwargs.setdefault("hide_parameters", True)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # Several threads (gunicorn's, the dispatcher's) share the file; wait for locks rather than fail.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while one writer commits; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows (retention, erasure requests: bot/privacy/) are overwritten in the file, not just unlinked.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


READ_ONLY = "samen_read_only"


def _sqlite_begin_immediate(connection: Any) -> None:
    # A deferred SQLite transaction that reads and then writes fails at once (SQLITE_BUSY_SNAPSHOT)
    # when another writer committed in between; taking the write lock up front makes it wait
    # instead. SQLite is the embedded, single-site database, so serialising writers costs little —
    # but readers must not queue behind writers: a session opened read-only begins deferred.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def session_scope(engine: Engine, *, read_only: bool = False) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error, so nothing is half-written.

    `read_only`: the session only reads; on SQLite it then takes no write lock (see above).
    """
    session = Session(engine, expire_on_commit=False)
    if read_only:
        session.connection(execution_options={READ_ONLY: True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # '%' is ConfigParser's interpolation character; escape it so passwords with '%' survive.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def migrate_in_child(database_url: str) -> None:
    """`upgrade`, in a short-lived child process, so that this process never loads Alembic.

    The URL goes through the environment, not the command line, where `ps` would show its password.
    """
    env = {**os.environ, "SAMEN_MIGRATE_URL": database_url}
    result = subprocess.run([sys.executable, "-m", "bot.migrate"], env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(result.returncode)


def downgrade(database_url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    """The newest migration; the history is one line (tests/test_migrations.py keeps it so)."""
    heads = head_revisions()
    return heads[0] if len(heads) == 1 else None


_REVISION = re.compile(r'^revision = "([^"]+)"', re.MULTILINE)
_DOWN = re.compile(r"^down_revision = (None|\"([^\"]+)\")", re.MULTILINE)


@cache
def head_revisions() -> list[str]:
    """The newest migration(s), read from the migration files as our template writes them (a test
    compares this with Alembic's own answer, so the two cannot drift apart)."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found, down = _REVISION.search(source), _DOWN.search(source)
        if found:
            revisions.add(found.group(1))
        if down and down.group(2):
            parents.add(down.group(2))
    return sorted(revisions - parents)


def current_revisions(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return revisions_of(connection)


def revisions_of(connection: Any) -> list[str]:
    """The revisions the database is at (none before the first migration), by plain SQL."""
    try:
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except Exception:  # no table yet: nothing migrated
        connection.rollback()
        return []
    return sorted(row[0] for row in rows)


def current_revision(engine: Engine) -> str | None:
    revisions = current_revisions(engine)
    return revisions[0] if len(revisions) == 1 else None


def database_state(engine: Engine) -> dict[str, Any]:
    """What /healthz reports: reachable or not, and whether migrations are current."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            revisions = revisions_of(connection)
    except Exception as exc:  # any driver error means: unreachable for our purposes
        return {"reachable": False, "error": type(exc).__name__}
    revision = revisions[0] if len(revisions) == 1 else ",".join(revisions) or None
    return {"reachable": True, "revision": revision, "current": revisions == head_revisions()}


def insert_for(dialect_name: str) -> Any:
    """The dialect's INSERT (with ON CONFLICT), imported only for the database in use: the PostgreSQL
    dialect's modules cost a process on SQLite ~2 MB it never needs (docs/operations.md, memory)."""
    if dialect_name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    from sqlalchemy.dialects import sqlite

    return sqlite.insert
