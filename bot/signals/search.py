"""Searching signals by what the whole partnership may see: summary, location, category, subject codes.

Each typed word must occur (case-insensitive, as a substring, accents ignored: "cafe" finds "café" and
"ruïne" finds "ruine") in one of those. The words are looked up through an index, never a table scan
(issue 21): on PostgreSQL a trigram GIN index (pg_trgm) on the folded text and on the subject codes; on
SQLite an FTS5 table with the trigram tokenizer (`signal_fts`: each signal's folded text and its subject
codes), kept in step by triggers on signal and signal_subject, so every way a row is written
(registration, retention, erasure, a bulk load) is covered.
Migration 0011 creates both. Only columns that are not restricted are indexed: the sealed ones (details,
identities, the source message) never reach an index, in clear or otherwise.

The folding is one fixed table of Western-European letters (FOLD_FROM → FOLD_TO), applied to the text
by the database (PostgreSQL's translate(), SQLite's replace() in the triggers) and to the typed words
here; tests/test_search.py checks that the migration carries the same table.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Final

from sqlalchemy import ColumnElement, bindparam, column, func, intersect, literal_column, or_, table, union
from sqlmodel import Session, col, select

from bot.signals.models import Signal, SignalSubject
from bot.subjects.models import Subject

FOLD_FROM: Final = "àáâãäåèéêëìíîïòóôõöøùúûüýÿçñÀÁÂÃÄÅÈÉÊËÌÍÎÏÒÓÔÕÖØÙÚÛÜÝŸÇÑ"
FOLD_TO: Final = "aaaaaaeeeeiiiioooooouuuuyycnaaaaaaeeeeiiiioooooouuuuyycn"
_FOLD: Final = str.maketrans(FOLD_FROM, FOLD_TO)

# PostgreSQL's stored column signal.search_text (migration 0011), which ix_signal_search indexes.
PG_SIGNAL_TEXT: Final = (
    "translate(lower(summary || E'\\n' || coalesce(location_or_sector, '') || E'\\n' || category), "
    f"'{FOLD_FROM}', '{FOLD_TO}')"
)
# The trigram index needs three characters; shorter words are matched by scanning the FTS5 table.
TRIGRAM: Final = 3
# How many of the newest signals are matched directly before the index is asked (newest_matching).
WINDOW: Final = 400


# What migration 0011 makes outside the SQLModel tables (the FTS5 table with its shadow tables, and
# expression indexes): schema comparisons against the models leave them out.
OUTSIDE_MODELS: Final = ("signal_fts", "ix_signal_search", "ix_subject_code_search", "search_text")


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


def newest_matching(session: Session, words: list[str], limit: int) -> list[Signal]:
    """The newest `limit` signals holding every word (newest first; on a tie the higher id).

    A common word ("melding") is in thousands of signals: the index would hand them all over to be
    sorted. So the newest WINDOW signals are matched first, in the database and the same way (folded
    text, codes); only when fewer than `limit` of them match is the index asked, and then it has few rows.
    The window is one statement that returns at most `limit` ids: matching it row by row in Python (the
    400 rows and their codes read, folded and compared) cost more than the rest of the answer (issue 21)."""
    folded = [fold(word) for word in words]
    newest = (col(Signal.created_at).desc(), col(Signal.id).desc())
    if not folded:
        return list(session.exec(select(Signal).order_by(*newest).limit(limit)).all())
    hits = list(session.exec(window_query(session, folded, limit)).all()) if WINDOW > 0 else []
    if len(hits) < limit and _window_was_full(session):  # not enough among the newest: ask the index
        hits = list(session.exec(index_query(session, folded, limit)).all())
    shown = {s.id: s for s in session.exec(select(Signal).where(col(Signal.id).in_(hits))).all()}
    return [shown[signal_id] for signal_id in hits if signal_id in shown]


def window_query(session: Session, folded: list[str], limit: int) -> Any:
    """The ids of the newest `limit` among the newest WINDOW signals holding every folded word: on
    PostgreSQL in the stored search_text or a subject code, on SQLite in signal_fts's row (the same
    text and the codes), looked up by rowid, not through the index. Both read the newest first and stop
    at `limit` matches."""
    if session.get_bind().dialect.name == "postgresql":
        recent = (
            select(col(Signal.id), col(Signal.created_at), literal_column("signal.search_text").label("text"))
            .order_by(col(Signal.created_at).desc(), col(Signal.id).desc())
            .limit(WINDOW)
            .subquery("recent")
        )
        found: Any = select(recent.c.id).select_from(recent)
        for word in folded:
            pattern = _like(word)
            by_code = (
                select(literal_column("1"))
                .select_from(SignalSubject)
                .join(Subject, col(Subject.id) == col(SignalSubject.subject_id))
                .where(
                    col(SignalSubject.signal_id) == recent.c.id,
                    func.lower(col(Subject.code)).like(pattern, escape="\\"),
                )
                .exists()
            )
            found = found.where(or_(recent.c.text.like(pattern, escape="\\"), by_code))
    else:
        # The signals from the WINDOWth newest on, walked newest first through ix_signal_created_at, each
        # one's text looked up by rowid, stopping at `limit` matches: a common word reads a few rows, a
        # rare one at most the window. (As a join SQLite scanned all of signal_fts to meet the window;
        # as a LIMITed subquery it read the whole window to sort it.)
        fts = table("signal_fts", column("rowid"), column("text"))
        own_text = select(fts.c.text).where(fts.c.rowid == col(Signal.id)).scalar_subquery()
        oldest = (
            select(col(Signal.created_at))
            .order_by(col(Signal.created_at).desc(), col(Signal.id).desc())
            .offset(WINDOW - 1)
            .limit(1)
            .scalar_subquery()
        )
        # Fewer signals than the window: all of them ('' sorts before every stored moment).
        since = func.coalesce(oldest, literal_column("''"))
        return (
            select(col(Signal.id))
            .where(col(Signal.created_at) >= since)
            .where(*(own_text.like(_like(word), escape="\\") for word in folded))
            .order_by(col(Signal.created_at).desc(), col(Signal.id).desc())
            .limit(limit)
        )
    return found.order_by(recent.c.created_at.desc(), recent.c.id.desc()).limit(limit)


def _window_was_full(session: Session) -> bool:
    """Whether there are WINDOW signals or more (else the window saw every signal and has the answer)."""
    if WINDOW <= 0:
        return True
    newest = (col(Signal.created_at).desc(), col(Signal.id).desc())
    last = select(col(Signal.id)).order_by(*newest).offset(WINDOW - 1).limit(1)
    return session.exec(last).first() is not None


def index_query(session: Session, folded: list[str], limit: int) -> Any:
    """The ids of the newest `limit` signals holding every folded word, through the dialect's index."""
    if session.get_bind().dialect.name == "postgresql":
        return _newest_pg(folded, limit)
    newest = (col(Signal.created_at).desc(), col(Signal.id).desc())
    return (
        select(col(Signal.id))
        .where(col(Signal.id).in_(_matching_sqlite(folded)))
        .order_by(*newest)
        .limit(limit)
    )


def _newest_pg(folded: list[str], limit: int) -> Any:
    """Each word's matches carry their created_at, so the newest are picked among the matches alone:
    `signal.id IN (…)` had PostgreSQL read every signal to join them (~100 ms at 100,000)."""
    per_word = [_matching_pg(word) for word in folded]
    every: Any = intersect  # (mypy 2.4 crashes inferring intersect(*list))
    found: Any = (every(*per_word) if len(per_word) > 1 else per_word[0]).subquery()
    return select(found.c.id).order_by(found.c.created_at.desc(), found.c.id.desc()).limit(limit)


def _matching_pg(folded: str) -> Any:
    """One word: (id, created_at) of the signals whose text holds it, or one of whose codes does."""
    pattern = _like(folded)
    by_text = select(col(Signal.id), col(Signal.created_at)).where(
        literal_column("signal.search_text").like(pattern, escape="\\")
    )
    by_code = (
        select(col(Signal.id), col(Signal.created_at))
        .join(SignalSubject, col(SignalSubject.signal_id) == col(Signal.id))
        .join(Subject, col(Subject.id) == col(SignalSubject.subject_id))
        .where(func.lower(col(Subject.code)).like(pattern, escape="\\"))
    )
    return union(by_text, by_code)


def _matching_sqlite(folded: list[str]) -> Any:
    """All words in one FTS5 query (signal_fts holds the codes too): phrases for words of three
    characters or more, LIKE on the table for shorter ones (the trigram index cannot help those)."""
    conditions: list[ColumnElement[bool]] = []
    phrases = " ".join(_phrase(word) for word in folded if len(word) >= TRIGRAM)
    if phrases:  # FTS5: phrases side by side must all match
        conditions.append(literal_column("signal_fts").op("MATCH")(bindparam(None, phrases, unique=True)))
    conditions += [
        literal_column("signal_fts.text").like(_like(word), escape="\\")
        for word in folded
        if len(word) < TRIGRAM
    ]
    found: Any = select(literal_column("rowid")).select_from(table("signal_fts"))
    return found.where(*conditions)
