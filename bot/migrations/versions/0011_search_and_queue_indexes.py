"""signal search through an index; the work queue and the coordinator's Home without a scan

PostgreSQL: pg_trgm (when the server has it) with GIN trigram indexes on the signals' folded searchable
text (a stored generated column, search_text) and on the subject codes. SQLite: an FTS5 table with the
trigram tokenizer (`signal_fts`: the folded text and the subject codes of each signal), filled from the
existing rows and kept in step by triggers on signal and signal_subject. Only columns that are not
restricted: sealed ones are never indexed. Both: (status, created_at[, id]) on signal and on case.

The fold table is bot/signals/search.py's FOLD_FROM/FOLD_TO, copied (a migration stays as it was
written); tests/test_search.py checks that the two agree.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FOLD_FROM = "àáâãäåèéêëìíîïòóôõöøùúûüýÿçñÀÁÂÃÄÅÈÉÊËÌÍÎÏÒÓÔÕÖØÙÚÛÜÝŸÇÑ"
FOLD_TO = "aaaaaaeeeeiiiioooooouuuuyycnaaaaaaeeeeiiiioooooouuuuyycn"
PG_SIGNAL_TEXT = (
    "translate(lower(summary || E'\\n' || coalesce(location_or_sector, '') || E'\\n' || category), "
    f"'{FOLD_FROM}', '{FOLD_TO}')"
)

logger = logging.getLogger("alembic.runtime.migration")


# SQLite's parser refuses ~25 nested calls inside a trigger: the replace()s come in layers of subqueries.
_LAYER = 19


def _sqlite_folded(row_id: str, source: str, from_clause: str = "") -> str:
    """SELECT id, t: the row's searchable text, lower case and folded. SQLite has no translate() and
    its lower() folds ASCII only, so one replace() per letter of the fold table."""
    pairs = list(zip(FOLD_FROM, FOLD_TO, strict=True))
    layers = [pairs[i : i + _LAYER] for i in range(0, len(pairs), _LAYER)]
    query = f"SELECT {row_id} AS id, {_replaced(f'lower({source})', layers[0])} AS t {from_clause}"
    for layer in layers[1:]:
        query = f"SELECT id, {_replaced('t', layer)} AS t FROM ({query})"  # noqa: S608  (constants)
    return query


def _replaced(expression: str, layer: list[tuple[str, str]]) -> str:
    for accented, plain in layer:
        expression = f"replace({expression}, '{accented}', '{plain}')"
    return expression


def _signal_text(row: str) -> str:
    return (
        f"{row}.summary || char(10) || coalesce({row}.location_or_sector, '') || char(10) || {row}.category"
    )


def upgrade() -> None:
    # With id: the Home's order (created_at, id) straight from the index, so the planner walks it.
    op.create_index("ix_signal_status_created", "signal", ["status", "created_at", "id"])
    op.create_index("ix_case_status_created", "case", ["status", "created_at"])
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def _upgrade_postgresql() -> None:
    bind = op.get_bind()
    available = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first()
    if available is None:
        # Search still works, by a scan; an operator can install postgresql-contrib and migrate again.
        logger.warning("pg_trgm is not available on this server: signal search will scan")
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # Stored, not an expression index: translate() costs ~40 µs a row, and every row the index finds is
    # checked again against the text (a common word: thousands of rows).
    op.execute(
        f"ALTER TABLE signal ADD COLUMN search_text text GENERATED ALWAYS AS ({PG_SIGNAL_TEXT}) STORED"
    )
    op.execute("CREATE INDEX ix_signal_search ON signal USING gin (search_text gin_trgm_ops)")
    op.execute("CREATE INDEX ix_subject_code_search ON subject USING gin (lower(code) gin_trgm_ops)")


_CODES = (
    "coalesce((SELECT group_concat(lower(subject.code), ' ') FROM signal_subject"
    " JOIN subject ON subject.id = signal_subject.subject_id WHERE signal_subject.signal_id = f.id), '')"
)


_INSERT = f"INSERT INTO signal_fts (rowid, text) SELECT f.id, f.t || char(10) || {_CODES}"


def _written(signal_id: str) -> str:
    """The signal's row in signal_fts, written again: folded text, then its subject codes."""
    folded = _sqlite_folded("id", _signal_text("signal"), f"FROM signal WHERE signal.id = {signal_id}")
    return f"DELETE FROM signal_fts WHERE rowid = {signal_id}; {_INSERT} FROM ({folded}) AS f"  # noqa: S608


def _upgrade_sqlite() -> None:
    # One row per signal: its folded summary, location and category, and its subjects' codes, so all
    # the typed words are one FTS5 query. Every piece is a constant of this file.
    op.execute("CREATE VIRTUAL TABLE signal_fts USING fts5(text, tokenize = 'trigram')")
    every = _sqlite_folded("id", _signal_text("signal"), "FROM signal")
    op.execute(f"{_INSERT} FROM ({every}) AS f")
    changed = "AFTER UPDATE OF summary, location_or_sector, category ON signal"
    op.execute(f"CREATE TRIGGER signal_fts_insert AFTER INSERT ON signal BEGIN {_written('new.id')}; END")
    op.execute(f"CREATE TRIGGER signal_fts_update {changed} BEGIN {_written('new.id')}; END")
    op.execute(
        "CREATE TRIGGER signal_fts_delete AFTER DELETE ON signal BEGIN "
        "DELETE FROM signal_fts WHERE rowid = old.id; END"
    )
    op.execute(
        "CREATE TRIGGER signal_fts_link AFTER INSERT ON signal_subject BEGIN "
        f"{_written('new.signal_id')}; END"
    )
    op.execute(
        "CREATE TRIGGER signal_fts_unlink AFTER DELETE ON signal_subject BEGIN "
        f"{_written('old.signal_id')}; END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_subject_code_search")
        op.execute("DROP INDEX IF EXISTS ix_signal_search")
        op.execute("ALTER TABLE signal DROP COLUMN IF EXISTS search_text")
        # pg_trgm stays: another database object may use it, and it holds no data.
    else:
        for trigger in ("insert", "update", "delete", "link", "unlink"):
            op.execute(f"DROP TRIGGER IF EXISTS signal_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS signal_fts")
    op.drop_index("ix_case_status_created", table_name="case")
    op.drop_index("ix_signal_status_created", table_name="signal")
