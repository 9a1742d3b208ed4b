"""Searching signals by what the whole partnership may see: summary, location, category, subject codes.

Each typed word must occur (case-insensitive, as a substring, accents ignored: "cafe" finds "café" and
"ruïne" finds "ruine") in one of those. The words are looked up through an index, never a table scan
(issue 21): on PostgreSQL a trigram GIN index (pg_trgm) on the folded text and on the subject codes; on
SQLite two FTS5 tables with the trigram tokenizer (`signal_fts`, `subject_fts`), kept in step by
triggers, so every way a row is written (registration, retention, erasure, a bulk load) is covered.
Migration 0011 creates both. Only columns that are not restricted are indexed: the sealed ones (details,
identities, the source message) never reach an index, in clear or otherwise.

The folding is one fixed table of Western-European letters (FOLD_FROM → FOLD_TO), applied to the text
by the database (PostgreSQL's translate(), SQLite's replace() in the triggers) and to the typed words
here; tests/test_search.py checks that the migration carries the same table.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Final

from sqlalchemy import ColumnElement, bindparam, func, literal_column, table, union
from sqlmodel import Session, col, select

from bot.signals.models import Signal, SignalSubject, Subject

FOLD_FROM: Final = "àáâãäåèéêëìíîïòóôõöøùúûüýÿçñÀÁÂÃÄÅÈÉÊËÌÍÎÏÒÓÔÕÖØÙÚÛÜÝŸÇÑ"
FOLD_TO: Final = "aaaaaaeeeeiiiioooooouuuuyycnaaaaaaeeeeiiiioooooouuuuyycn"
_FOLD: Final = str.maketrans(FOLD_FROM, FOLD_TO)

# The expression PostgreSQL's index ix_signal_search is built on; a query must repeat it to the letter
# (constants, not parameters) for the planner to use the index.
PG_SIGNAL_TEXT: Final = (
    "translate(lower(summary || E'\\n' || coalesce(location_or_sector, '') || E'\\n' || category), "
    f"'{FOLD_FROM}', '{FOLD_TO}')"
)
# The trigram index needs three characters; shorter words are matched by scanning the FTS5 table.
TRIGRAM: Final = 3


# What migration 0011 makes outside the SQLModel tables (FTS5 tables with their shadow tables, and
# expression indexes): schema comparisons against the models leave them out.
OUTSIDE_MODELS: Final = ("signal_fts", "subject_fts", "ix_signal_search", "ix_subject_code_search")


def outside_models(name: str | None, _type: str, _parents: object) -> bool:
    """Alembic's `include_name` hook: False for what the search index is made of."""
    return not (name and name.startswith(OUTSIDE_MODELS))


def fold(word: str) -> str:
    """A typed word as the index holds text: lower case, common accents off."""
    return unicodedata.normalize("NFC", word).lower().translate(_FOLD)


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _phrase(word: str) -> str:
    """An FTS5 phrase: with the trigram tokenizer it matches the word anywhere, as a substring."""
    return '"' + word.replace('"', '""') + '"'


def matching(session: Session, word: str) -> Any:
    """A subquery of the ids of the signals in which `word` occurs, through the dialect's index."""
    folded = fold(word)
    if session.get_bind().dialect.name == "postgresql":
        return _matching_pg(folded)
    return _matching_sqlite(folded)


def _matching_pg(folded: str) -> Any:
    pattern = _like(folded)
    by_text = select(col(Signal.id)).where(literal_column(PG_SIGNAL_TEXT).like(pattern, escape="\\"))
    by_code = (
        select(col(SignalSubject.signal_id))
        .join(Subject, col(Subject.id) == col(SignalSubject.subject_id))
        .where(func.lower(col(Subject.code)).like(pattern, escape="\\"))
    )
    return union(by_text, by_code)


def _matching_sqlite(folded: str) -> Any:
    by_text: Any = (
        select(literal_column("rowid")).select_from(table("signal_fts")).where(_fts("signal_fts", folded))
    )
    coded: Any = (
        select(literal_column("rowid")).select_from(table("subject_fts")).where(_fts("subject_fts", folded))
    )
    by_code = select(col(SignalSubject.signal_id)).where(col(SignalSubject.subject_id).in_(coded))
    return union(by_text, by_code)


def _fts(name: str, folded: str) -> ColumnElement[bool]:
    if len(folded) >= TRIGRAM:
        return literal_column(name).op("MATCH")(bindparam(None, _phrase(folded), unique=True))
    return literal_column(f"{name}.text").like(_like(folded), escape="\\")


def where_all_words(session: Session, words: list[str]) -> list[ColumnElement[bool]]:
    """One condition per word (all must hold): the signal's id is among that word's matches."""
    return [col(Signal.id).in_(matching(session, word)) for word in words]
