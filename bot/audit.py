"""The audit log (Logregel): who did what, to which object, when, and why. Append-only, tamper-evident.

Every entry carries `hash`: SHA-256 over a canonical JSON of all its content fields and `prev_hash`,
the hash of the entry before it. Changing, removing or inserting an entry anywhere in the past breaks
the chain from that point on, and `verify` names the first entry where it breaks.

What the chain cannot show on its own: that the newest entries were cut off (the rest is still a valid
chain), or a forged entry appended by someone who knows this algorithm. Keep the head that
`samen audit verify` prints somewhere else now and then (a ticket, a minutes document), so a shorter
or different head later is noticed. See docs/audit.md.

Append-only is a promise of this module (it has no update or delete function) and, in production, of
the database: the role Samen connects with should hold only SELECT and INSERT on `audit_entry`
(`REVOKE UPDATE, DELETE, TRUNCATE ON audit_entry FROM samen;`).

`details` holds ids, field names, enum values and numbers — never text that people typed, never the
content of signals or cases: the log is read by auditors who need no need-to-know access.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from types import SimpleNamespace
from typing import Any, Final, Protocol, TextIO

from sqlalchemy import Column, Text, text
from sqlmodel import Field, Session, SQLModel, col, select

from bot import clock
from bot.people import CHAT_ID_LENGTH

GENESIS_HASH: Final = "0" * 64
# pg_advisory_xact_lock key for appending to the chain: "AUDIT" in ASCII.
AUDIT_LOCK_ID: Final = 0x4155444954
MAX_PURPOSE: Final = 500
_LOCKED_IN: Final = "samen.audit.locked_in"  # session.info: the transaction that holds the lock
# The fields the hash covers, in the order the CSV export writes them.
CONTENT_FIELDS: Final = (
    "seq",
    "at",
    "actor_team_id",
    "actor_user_id",
    "action",
    "object_type",
    "object_id",
    "purpose",
    "details",
)


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"

    # The position in the chain: consecutive, so a removed entry leaves a visible gap.
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(index=True)  # UTC
    actor_team_id: str = Field(max_length=CHAT_ID_LENGTH)  # "" for a system actor
    actor_user_id: str = Field(max_length=CHAT_ID_LENGTH)  # a chat user id, or a system actor: samen:cli
    action: str = Field(max_length=64)  # e.g. member.added
    object_type: str = Field(max_length=32)
    # A row's id, or a person's "team_id/user_id": two chat ids and the slash.
    object_id: str = Field(max_length=2 * CHAT_ID_LENGTH + 1)
    purpose: str = Field(max_length=MAX_PURPOSE)
    details: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditActor(Protocol):
    """Anyone who can act: a Member, or a SystemActor such as the command line."""

    @property
    def team_id(self) -> str: ...

    @property
    def user_id(self) -> str: ...


class AuditError(ValueError):
    """An entry that must not be written (no purpose, details that are not plain JSON)."""


# One encoder for every call: json.dumps with options builds a new one each time, which is most of the
# cost of hashing an entry when `verify` walks a long log.
_CANONICAL: Final = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: Any) -> str:
    """One spelling for one value: sorted keys, no spaces, UTF-8 kept, so the hash is reproducible."""
    return _CANONICAL.encode(value)


def _utc(moment: datetime) -> datetime:
    """Aware UTC; a naive time is taken to be UTC already (as SQLite returns it)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _stamp(at: datetime) -> str:
    # In UTC with microseconds always written: PostgreSQL and SQLite both keep them, so the stored time
    # reads back to the same text whatever the database's or the reader's time zone.
    return _utc(at).replace(tzinfo=None).isoformat(timespec="microseconds")


def entry_hash(entry: Any) -> str:
    """The hash of an entry (an AuditEntry, or a row with the same fields)."""
    return _hash([getattr(entry, name) for name in _HASHED[:-1]], _stamp(entry.at))


# The row's fields in the order _hash takes them: the content fields and prev_hash, `at` last (as text).
_HASHED: Final = (*(name for name in CONTENT_FIELDS if name != "at"), "prev_hash", "at")


def _hash(fields: Sequence[Any], at: str) -> str:
    """SHA-256 of the canonical JSON of an entry's content: `fields` in _HASHED's order without `at`,
    which comes already written by _stamp."""
    seq, actor_team_id, actor_user_id, action, object_type, object_id, purpose, details, prev_hash = fields
    return _digest(
        seq, actor_team_id, actor_user_id, action, object_type, object_id, purpose, details, prev_hash, at
    )


# canonical_json of an entry's content, spelled out: the keys in sorted order, each string value written
# by the very function the encoder uses for strings (ensure_ascii=False), seq as json writes an int. About
# a third of the cost of encoding a dict with sort_keys, which dominated verify on a long log.
_CONTENT: Final = (
    '{"action":%s,"actor_team_id":%s,"actor_user_id":%s,"at":%s,"details":%s,'
    '"object_id":%s,"object_type":%s,"prev_hash":%s,"purpose":%s,"seq":%s}'
)
_string: Final = json.encoder.encode_basestring  # C when available


def _digest(
    seq: Any,
    actor_team_id: Any,
    actor_user_id: Any,
    action: Any,
    object_type: Any,
    object_id: Any,
    purpose: Any,
    details: Any,
    prev_hash: Any,
    at: str,
) -> str:
    """The hash of one entry's content (`at` already written by _stamp)."""
    try:
        if type(seq) is not int:  # a bool, an enum or a float: json writes those differently
            raise TypeError
        content = _CONTENT % (
            _string(action),
            _string(actor_team_id),
            _string(actor_user_id),
            _string(at),
            _string(details),
            _string(object_id),
            _string(object_type),
            _string(prev_hash),
            _string(purpose),
            int.__repr__(seq),
        )
    except TypeError:  # a value that is not a str: the general encoder writes it (or refuses it)
        content = canonical_json(
            {
                "action": action,
                "actor_team_id": actor_team_id,
                "actor_user_id": actor_user_id,
                "at": at,
                "details": details,
                "object_id": object_id,
                "object_type": object_type,
                "prev_hash": prev_hash,
                "purpose": purpose,
                "seq": seq,
            }
        )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def lock_chain(session: Session, *, refresh: bool = False) -> None:
    """Serialise audited changes: take this before reading what a change depends on.

    `record` takes it anyway; a change that checks a rule first ("not the last coordinator") takes it
    before the check, with `refresh=True`, so that two such changes cannot both pass on the same state:
    objects this session read before waiting for the lock are then read again when next used.
    """
    transaction = session.get_transaction()
    if transaction is not None and session.info.get(_LOCKED_IN) is transaction:
        return  # this transaction holds it already
    if session.get_bind().dialect.name == "postgresql":
        # Held until this transaction ends: two processes can never read the same head and fork the
        # chain. (The primary key on seq would refuse the second anyway; the lock makes it wait instead.)
        session.flush()
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_ID})
        if refresh:
            session.expire_all()
    # SQLite: bot.db begins every transaction with BEGIN IMMEDIATE, so this one already holds the
    # database's only write lock from its first statement: nothing can change between our reads and
    # our writes, and nobody can append between our read of the head and our insert.
    session.info[_LOCKED_IN] = session.get_transaction()


def head(session: Session) -> AuditEntry | None:
    return session.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(1)).first()


def record(
    session: Session,
    *,
    actor: AuditActor,
    action: str,
    object_type: str,
    object_id: str | int,
    purpose: str,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry inside the caller's transaction: it commits or rolls back with the change."""
    purpose = (purpose or "").strip()
    if not purpose:
        raise AuditError("an audit entry needs a purpose: why was this done?")
    if len(purpose) > MAX_PURPOSE:
        raise AuditError(f"an audit entry's purpose is at most {MAX_PURPOSE} characters")
    try:
        details_json = canonical_json(details or {})
    except (TypeError, ValueError) as exc:
        raise AuditError(f"audit details must be plain JSON: {exc}") from exc
    lock_chain(session)
    previous = head(session)
    entry = AuditEntry(
        seq=(previous.seq + 1) if previous else 1,
        at=clock.now(session),
        actor_team_id=actor.team_id or "",
        actor_user_id=actor.user_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        purpose=purpose,
        details=details_json,
        prev_hash=previous.hash if previous else GENESIS_HASH,
        hash="",
    )
    entry.hash = entry_hash(entry)
    session.add(entry)
    # Flushed now, so a second record() in the same transaction finds this entry as the head.
    session.flush()
    return entry


class Problem(StrEnum):
    CHANGED = "changed"
    REMOVED = "removed"
    INSERTED = "inserted"


@dataclass(frozen=True)
class VerifyResult:
    entries: int  # how many entries were checked (up to and including the problem)
    head_seq: int | None  # the last entry's seq when intact
    head_hash: str | None
    problem: Problem | None = None
    seq: int | None = None  # the entry where the chain first breaks
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None


# How far back verify() looks to recognise entries slipped in between two genuine ones.
_RECENT: Final = 256
# `samen audit verify` reports progress this often, and says beforehand how long it expects to take:
# 100,000 entries on a small shared machine (2 CPUs, load ≈ 5), both databases: ≈ 10 µs of CPU per
# entry and 22–29 µs of wall time (before issue 21's second look, ≈ 27 µs of CPU), plus ≈ 1.2 s to start;
# the estimate shown lies between a quiet machine and that busy one.
PROGRESS_EVERY: Final = 10_000
MICROSECONDS_PER_ENTRY: Final = 15
# `at` comes as the text _stamp would write, where the database can spell it so: formatting it in Python
# (a time zone conversion, a replace, isoformat) cost more than the hash itself. PostgreSQL writes it
# with to_char in UTC; SQLite keeps it as text already ("2025-01-31 12:00:00.000000", see _written).
# (The colons are escaped for text(), which would take ":MI" for a parameter.)
_AT_AS_STAMP: Final = {"postgresql": r"""to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24\:MI\:SS.US')"""}
_SELECT: Final = (
    "SELECT seq, actor_team_id, actor_user_id, action, object_type, object_id, purpose, details, "
    "prev_hash, {at}, hash FROM audit_entry ORDER BY seq"
)


def count_entries(session: Session) -> int:
    return int(session.execute(text("SELECT count(*) FROM audit_entry")).scalar_one())


def verify(
    session: Session, *, batch_size: int = 5000, progress: Callable[[int], None] | None = None
) -> VerifyResult:
    """Walk the chain in seq order; report the first entry that was changed, removed or inserted.

    One streamed query (a server-side cursor on PostgreSQL) of plain driver values fetched `batch_size`
    rows at a time: no ORM objects, no type conversion per row, so a long log costs the hashing and
    little else. `progress` is called with the number checked so far every PROGRESS_EVERY entries.

    Every entry's hash is recomputed from its stored content and compared, and every prev_hash with
    the hash before it. The common case takes a quick path; any mismatch is looked at again by _check
    with the same functions `record` used, so the quick path can only ever agree with them.
    """
    expected_seq = 1
    previous_hash = GENESIS_HASH
    recent: deque[tuple[int, str]] = deque(maxlen=_RECENT)  # (seq, hash) of the entries just checked
    checked = 0
    every = PROGRESS_EVERY
    at_column = _AT_AS_STAMP.get(session.get_bind().dialect.name, "at")
    rows = text(_SELECT.format(at=at_column)).execution_options(stream_results=True, yield_per=batch_size)
    for batch in session.connection().execute(rows).partitions(batch_size):
        for seq, team, user, action, object_type, object_id, purpose, details, prev_hash, at, stored in batch:
            checked += 1
            if progress is not None and checked % every == 0:
                progress(checked)
            # The common case in one comparison; anything else is examined by _check.
            if (
                seq != expected_seq
                or prev_hash != previous_hash
                or _digest(
                    seq, team, user, action, object_type, object_id, purpose, details, prev_hash, _written(at)
                )
                != stored
            ):
                entry = SimpleNamespace(
                    seq=seq,
                    actor_team_id=team,
                    actor_user_id=user,
                    action=action,
                    object_type=object_type,
                    object_id=object_id,
                    purpose=purpose,
                    details=details,
                    prev_hash=prev_hash,
                    at=_moment(at),
                    hash=stored,
                )
                found = _check(entry, expected_seq, previous_hash, recent)
                if found is not None:
                    problem, where, reason = found
                    return VerifyResult(checked, None, None, problem, where, reason)
            expected_seq = seq + 1
            previous_hash = stored
            recent.append((seq, stored))
    if not checked:
        return VerifyResult(0, None, None)
    return VerifyResult(checked, expected_seq - 1, previous_hash)


def _written(value: datetime | str) -> str:
    """`at` as _stamp writes it, quickly: the text of _AT_AS_STAMP as is; SQLite's own text
    ("2025-01-31 12:00:00.000000", how SQLAlchemy stores a datetime) with its space made a T.

    Anything else goes through _stamp. Text in another spelling gives another hash here, and the
    entry is then examined again by _check, which parses it (_moment): the verdict is _stamp's.
    """
    if type(value) is str:
        return value.replace(" ", "T", 1)
    return _stamp(_moment(value))


def _moment(value: datetime | str) -> datetime:
    """The driver's value of `at`: a datetime, or text (SQLite's naive UTC, or _AT_AS_STAMP's)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _check(
    entry: Any, expected_seq: int, previous_hash: str, recent: deque[tuple[int, str]]
) -> tuple[Problem, int, str] | None:
    seq = entry.seq
    if seq > expected_seq:
        missing = (
            f"entry {expected_seq} is missing"
            if seq == expected_seq + 1
            else f"entries {expected_seq} to {seq - 1} are missing"
        )
        return Problem.REMOVED, expected_seq, f"{missing}: removed from the log (the next one is {seq})"
    if seq < expected_seq:
        return Problem.INSERTED, seq, f"entry {seq} comes before the start of the chain: inserted"
    linked = entry.prev_hash == previous_hash
    intact = entry_hash(entry) == entry.hash
    if linked and intact:
        return None
    # Gaps can be closed and room can be made by renumbering; the hash still knows the old number.
    original = _original_seq(entry)
    if original is not None and original > seq:
        removed = original - seq
        what = "1 entry was" if removed == 1 else f"{removed} entries were"
        return (
            Problem.REMOVED,
            seq,
            f"{what} removed after entry {seq - 1}, and the rest renumbered: "
            f"entry {seq} was entry {original}",
        )
    if original is not None and original < seq:
        slipped = f"entry {original} was" if original == seq - 1 else f"entries {original} to {seq - 1} were"
        return (
            Problem.INSERTED,
            original,
            f"{slipped} inserted after entry {original - 1}, and the rest renumbered: "
            f"entry {seq} was entry {original}",
        )
    if not linked:
        follows = next((older for older, hash_ in recent if hash_ == entry.prev_hash), None)
        if follows is not None:
            return (
                Problem.INSERTED,
                seq,
                f"entry {seq} was inserted: it claims to follow entry {follows}, not entry {seq - 1}",
            )
        before = f"entry {seq - 1}" if seq > 1 else "the start of the chain"
        return (
            Problem.INSERTED,
            seq,
            f"entry {seq} does not follow {before} (its prev_hash differs): it was inserted, "
            f"or {before} was changed and its hash recomputed",
        )
    return Problem.CHANGED, seq, f"entry {seq} does not match its hash: its content was changed"


def _original_seq(entry: Any) -> int | None:
    """The seq under which this entry's hash was made, if it was renumbered by up to _RECENT places."""
    content = {name: getattr(entry, name) for name in (*CONTENT_FIELDS, "prev_hash")}
    for distance in range(1, _RECENT + 1):
        for candidate in (entry.seq + distance, entry.seq - distance):
            if candidate >= 1 and entry_hash(SimpleNamespace(**{**content, "seq": candidate})) == entry.hash:
                return candidate
    return None


CSV_COLUMNS: Final = (*CONTENT_FIELDS, "prev_hash", "hash")
# Spreadsheets run a cell that starts with one of these as a formula; the export defuses it.
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    cell = _stamp(value) + "Z" if isinstance(value, datetime) else str(value)
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def entries_between(session: Session, start: datetime, end: datetime) -> list[AuditEntry]:
    """Entries with start <= at < end (naive times are UTC), in chain order."""
    return list(
        session.exec(
            select(AuditEntry)
            .where(AuditEntry.at >= _utc(start), AuditEntry.at < _utc(end))
            .order_by(col(AuditEntry.seq))
        ).all()
    )


def export_csv(session: Session, start: datetime, end: datetime, out: TextIO) -> int:
    """Write the entries with start <= at < end as CSV, hashes included; return how many.

    With the hashes in the file an auditor can re-check the exported stretch of the chain. A cell that
    a spreadsheet would run as a formula gets a leading apostrophe (none of Samen's own values do).
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for entry in entries_between(session, start, end):
        writer.writerow([_cell(getattr(entry, name)) for name in CSV_COLUMNS])
        count += 1
    return count
