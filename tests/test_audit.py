"""The audit log: every change leaves an entry, and tampering with the database is found.

Each test runs on SQLite and, when reachable (always under CI=true), on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import itertools
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from conftest import BOT_TOKEN, ENCRYPTION_KEY, SIGNING_SECRET
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from typer.testing import CliRunner

from bot import audit
from bot.audit import AuditEntry, AuditError, Problem, entry_hash, export_csv, record, verify
from bot.authz import SystemActor
from bot.cli import cli
from bot.clock import in_use
from bot.db import make_engine, session_scope, upgrade
from bot.partners.models import PersonRef

ROOT = Path(__file__).resolve().parent.parent
RIEC_COORDINATOR = PersonRef("T0RIECZWB", "U0RIEC0001")
JOB = SystemActor("samen:test")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    upgrade(database_url)
    built = make_engine(database_url)
    yield built
    built.dispose()


def append(engine: Engine, count: int, *, purpose: str = "membership administration") -> None:
    """`count` entries, each in its own transaction, as separate commands would write them."""
    for number in range(count):
        with session_scope(engine) as session:
            record(
                session,
                actor=RIEC_COORDINATOR,
                action="member.added",
                object_type="member",
                object_id=f"T0RIECZWB/U0POL{number:05d}",
                purpose=purpose,
                details={"partner_id": 2, "role": "member"},
            )


def check(engine: Engine) -> audit.VerifyResult:
    with session_scope(engine) as session:
        return verify(session)


def tamper(engine: Engine, *statements: str) -> None:
    """Change the table directly, as someone with database access could, bypassing Samen."""
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


AMSTERDAM = ZoneInfo("Europe/Amsterdam")  # SAMEN_TIMEZONE in run_cli


def run_cli(monkeypatch: pytest.MonkeyPatch, database_url: str, *args: str) -> tuple[int, str]:
    for name, value in {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SAMEN_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "DATABASE_URL": database_url,
        "SAMEN_TIMEZONE": "Europe/Amsterdam",
    }.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


# --- an intact chain -----------------------------------------------------------------------------


def test_an_intact_chain_verifies(engine: Engine) -> None:
    append(engine, 4)
    # Two changes in one transaction: both entries or neither, one after the other.
    with session_scope(engine) as session:
        for role in ("coordinator", "member"):
            record(
                session,
                actor=JOB,
                action="member.updated",
                object_type="member",
                object_id="T0RIECZWB/U0POL00001",
                purpose="partners import from partners.yaml",
                details={"fields": ["role"], "role": role},
            )
    result = check(engine)
    assert result.ok, result.reason
    assert result.entries == 6
    assert result.head_seq == 6
    with session_scope(engine) as session:
        entries = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all()
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5, 6]
    assert entries[0].prev_hash == audit.GENESIS_HASH
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
        assert after.at >= before.at
    assert all(entry_hash(e) == e.hash for e in entries)
    assert result.head_hash == entries[-1].hash
    assert entries[4].actor_user_id == "samen:test" and entries[4].actor_team_id == ""


def test_an_empty_log_is_intact(engine: Engine) -> None:
    result = check(engine)
    assert result.ok and result.entries == 0 and result.head_seq is None


def test_a_rolled_back_change_leaves_no_entry_and_no_gap(engine: Engine) -> None:
    append(engine, 2)
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        record(session, actor=JOB, action="x.y", object_type="x", object_id=1, purpose="test")
        raise RuntimeError("the change itself failed")
    append(engine, 1)
    result = check(engine)
    assert result.ok and result.head_seq == 3


def test_every_entry_says_why(engine: Engine) -> None:
    with pytest.raises(AuditError, match="purpose"), session_scope(engine) as session:
        record(session, actor=JOB, action="x.y", object_type="x", object_id=1, purpose="   ")
    with pytest.raises(AuditError, match="JSON"), session_scope(engine) as session:
        record(
            session,
            actor=JOB,
            action="x.y",
            object_type="x",
            object_id=1,
            purpose="t",
            details={"at": object()},
        )
    assert check(engine).entries == 0


# --- tampering -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        "purpose = 'routine check'",
        "actor_user_id = 'U0SOMEONE1'",
        "details = '{}'",
        "object_id = 'T0RIECZWB/U0OTHER001'",
        "action = 'member.removed'",
    ],
)
def test_a_row_changed_in_the_database_is_named(engine: Engine, change: str) -> None:
    append(engine, 5)
    tamper(engine, f"UPDATE audit_entry SET {change} WHERE seq = 3")  # noqa: S608  (fixed test text)
    result = check(engine)
    assert result.problem is Problem.CHANGED
    assert result.seq == 3
    assert "entry 3" in result.reason and "changed" in result.reason


def test_a_changed_time_is_found(engine: Engine) -> None:
    append(engine, 3)
    with session_scope(engine) as session:
        second = session.get(AuditEntry, 2)
        assert second is not None
        earlier = second.at - timedelta(hours=1)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_entry SET at = :at WHERE seq = 2"), {"at": earlier})
    result = check(engine)
    assert (result.problem, result.seq) == (Problem.CHANGED, 2)


def test_the_quick_hash_is_the_canonical_json_hash() -> None:
    """verify's quick path writes an entry's JSON itself; it must be canonical_json's, byte for byte:
    strings that need escaping, non-ASCII, and values that are not a str or an int."""
    import hashlib
    import random

    rng = random.Random(21)
    alphabet = 'aZ09 "\\/\b\f\n\r\t\x00\x1f\x7f éü€\u2028\u2029😀'
    names = ("actor_team_id", "actor_user_id", "action", "object_type", "object_id", "purpose", "details")
    samples: list[dict[str, object]] = []
    for _ in range(500):
        values: dict[str, object] = {
            name: "".join(rng.choices(alphabet, k=rng.randint(0, 12))) for name in names
        }
        samples.append(
            {
                **values,
                "seq": rng.randint(1, 10**12),
                "prev_hash": "f" * 64,
                "at": "2026-03-29T01:00:00.000000",
            }
        )
    odd = {name: "x" for name in (*names, "prev_hash", "at")}
    samples += [
        {**odd, "seq": True},
        {**odd, "seq": 2.0},
        {**odd, "seq": 2, "details": None},
        {**odd, "seq": 2**70},
    ]
    for content in samples:
        expected = hashlib.sha256(audit.canonical_json(content).encode("utf-8")).hexdigest()
        fields = [content[name] for name in audit._HASHED[:-1]]
        assert audit._hash(fields, str(content["at"])) == expected, content


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # no microseconds: still written with six digits
        datetime(2026, 10, 25, 2, 30, 0, 1, tzinfo=AMSTERDAM),  # an aware time outside UTC
        datetime(999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),  # a year of three digits
    ],
)
def test_times_the_database_writes_as_text_verify(
    engine: Engine, moment: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """verify reads `at` as text (to_char on PostgreSQL, the stored text on SQLite): it must be the
    text entry_hash wrote when the entry was made, so the quick path agrees without _check's help
    (which would find the chain intact too, only slowly)."""

    def not_needed(*_args: object) -> None:
        raise AssertionError("the quick path missed an intact entry")

    monkeypatch.setattr(audit, "_check", not_needed)
    with session_scope(engine) as session:
        entry = AuditEntry(
            seq=1,
            at=moment,
            actor_team_id="",
            actor_user_id="samen:test",
            action="x.y",
            object_type="x",
            object_id="1",
            purpose="test",
            details="{}",
            prev_hash=audit.GENESIS_HASH,
            hash="",
        )
        entry.hash = entry_hash(entry)
        session.add(entry)
    assert check(engine).ok, check(engine).reason
    append(engine, 1)
    assert check(engine).ok


def test_a_time_in_another_spelling_on_sqlite_is_judged_by_its_moment(sqlite_url: str) -> None:
    """SQLite keeps `at` as text (PostgreSQL a time, not its spelling). The same moment spelled otherwise (a
    T, an offset) is the same entry, as it was before verify read the text itself; a different moment is
    not."""
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    append(engine, 3)
    tamper(
        engine,
        "UPDATE audit_entry SET at = replace(at, ' ', 'T') || '+00:00' WHERE seq = 1",
        "UPDATE audit_entry SET at = substr(at, 1, 19) || '.000000' WHERE seq = 2",
    )
    with session_scope(engine) as session:
        moment = session.get(AuditEntry, 2)
        assert moment is not None
        assert entry_hash(moment) != moment.hash  # the fraction was cut: another moment
    result = check(engine)
    assert (result.problem, result.seq) == (Problem.CHANGED, 2)
    tamper(engine, "UPDATE audit_entry SET at = replace(at, ' ', 'T') WHERE seq = 3")
    assert check(engine).seq == 2  # entry 3's new spelling is no break
    engine.dispose()


def test_samen_audit_verify_finds_a_row_changed_directly_in_the_database(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's definition of done."""
    append(engine, 5)
    code, output = run_cli(monkeypatch, database_url, "audit", "verify")
    assert code == 0, output
    assert "intact: 5 entries" in output

    tamper(engine, "UPDATE audit_entry SET purpose = 'nothing to see' WHERE seq = 4")
    code, output = run_cli(monkeypatch, database_url, "audit", "verify")
    assert code == 1
    assert "BROKEN at entry 4 (changed)" in output
    assert "3 entries before it are intact" in output


def test_a_long_log_shows_progress_and_a_tampered_entry_is_still_found(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 21: `samen audit verify` says what a long check costs and how far it is (every
    PROGRESS_EVERY entries, here 5 instead of 10,000); streaming in batches still finds the break."""
    monkeypatch.setattr(audit, "PROGRESS_EVERY", 5)
    append(engine, 12)
    seen: list[int] = []
    with session_scope(engine, read_only=True) as session:
        result = verify(session, batch_size=3, progress=seen.append)
    assert (result.ok, result.entries, result.head_seq, seen) == (True, 12, 12, [5, 10])

    code, output = run_cli(monkeypatch, database_url, "audit", "verify")
    assert code == 0, output
    assert f"checking 12 entries: ≈ {audit.MICROSECONDS_PER_ENTRY} µs per entry" in output
    assert "  5 of 12 (42 %)" in output and "  10 of 12 (83 %)" in output
    assert "intact: 12 entries" in output

    tamper(engine, "UPDATE audit_entry SET purpose = 'nothing to see' WHERE seq = 9")
    with session_scope(engine, read_only=True) as session:
        found = verify(session, batch_size=3)
    assert (found.problem, found.seq, found.entries) == (Problem.CHANGED, 9, 9)
    code, output = run_cli(monkeypatch, database_url, "audit", "verify")
    assert code == 1
    assert "  5 of 12 (42 %)" in output and "10 of 12" not in output  # it stops at the break
    assert "BROKEN at entry 9 (changed)" in output
    assert "8 entries before it are intact" in output


def test_a_short_log_shows_no_progress(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    append(engine, 3)
    code, output = run_cli(monkeypatch, database_url, "audit", "verify")
    assert code == 0
    assert "checking" not in output and " of 3" not in output


def test_a_removed_middle_row_is_reported_as_removed(engine: Engine) -> None:
    append(engine, 5)
    tamper(engine, "DELETE FROM audit_entry WHERE seq = 3")
    result = check(engine)
    assert (result.problem, result.seq) == (Problem.REMOVED, 3)
    assert "entry 3 is missing" in result.reason


def test_removed_first_rows_are_reported(engine: Engine) -> None:
    append(engine, 4)
    tamper(engine, "DELETE FROM audit_entry WHERE seq IN (1, 2)")
    result = check(engine)
    assert (result.problem, result.seq) == (Problem.REMOVED, 1)
    assert "entries 1 to 2 are missing" in result.reason


def test_a_removed_row_with_the_rest_renumbered_is_found(engine: Engine) -> None:
    """Closing the gap does not help: the next entry still names the removed one's hash."""
    append(engine, 5)
    tamper(engine, "DELETE FROM audit_entry WHERE seq = 3")
    for seq in (4, 5):
        tamper(engine, f"UPDATE audit_entry SET seq = {seq - 1} WHERE seq = {seq}")  # noqa: S608
    result = check(engine)
    assert (result.problem, result.seq) == (Problem.REMOVED, 3)
    assert "1 entry was removed after entry 2, and the rest renumbered: entry 3 was entry 4" in result.reason


def forged_row(engine: Engine, *, seq: int, prev_hash: str, at: datetime | None = None) -> AuditEntry:
    """A row made by someone who knows the algorithm: its own hash is right."""
    forged = AuditEntry(
        seq=seq,
        at=at or datetime.now(UTC),
        actor_team_id="T0RIECZWB",
        actor_user_id="U0RIEC0002",
        action="member.added",
        object_type="member",
        object_id="T0RIECZWB/U0MOLE00001",
        purpose="membership administration",
        details='{"partner_id":1,"role":"admin"}',
        prev_hash=prev_hash,
        hash="",
    )
    forged.hash = entry_hash(forged)
    return forged


def insert_directly(engine: Engine, entry: AuditEntry) -> None:
    with engine.begin() as connection:
        connection.execute(
            AuditEntry.__table__.insert(),  # type: ignore[attr-defined]
            {name: getattr(entry, name) for name in (*audit.CONTENT_FIELDS, "prev_hash", "hash")},
        )


def hash_of(engine: Engine, seq: int) -> str:
    with engine.connect() as connection:
        return str(
            connection.execute(text("SELECT hash FROM audit_entry WHERE seq = :s"), {"s": seq}).scalar()
        )


def test_a_forged_row_appended_at_the_end_is_reported(engine: Engine) -> None:
    append(engine, 4)
    # Claims to follow entry 2, as if written back then; its own hash is correct.
    insert_directly(engine, forged_row(engine, seq=5, prev_hash=hash_of(engine, 2)))
    result = check(engine)
    assert (result.problem, result.seq) == (Problem.INSERTED, 5)
    assert "entry 5 was inserted: it claims to follow entry 2, not entry 4" in result.reason


def test_a_careless_forgery_is_reported_where_it_stands(engine: Engine) -> None:
    append(engine, 3)
    careless = forged_row(engine, seq=4, prev_hash="f" * 64)
    careless.hash = "0" * 64
    insert_directly(engine, careless)
    result = check(engine)
    assert (result.problem, result.seq) == (Problem.INSERTED, 4)
    assert "does not follow entry 3" in result.reason


def test_a_forged_row_slipped_into_the_middle_is_named(engine: Engine) -> None:
    append(engine, 4)
    # Make room after entry 2 (last first, so the primary key never clashes), then slip one in.
    for seq in (4, 3):
        tamper(engine, f"UPDATE audit_entry SET seq = {seq + 1} WHERE seq = {seq}")  # noqa: S608
    insert_directly(engine, forged_row(engine, seq=3, prev_hash=hash_of(engine, 2)))
    result = check(engine)
    assert (result.problem, result.seq) == (Problem.INSERTED, 3)
    assert "entry 3 was inserted after entry 2, and the rest renumbered: entry 4 was entry 3" in result.reason


def test_a_row_before_the_start_is_reported(engine: Engine) -> None:
    append(engine, 2)
    insert_directly(engine, forged_row(engine, seq=0, prev_hash=audit.GENESIS_HASH))
    result = check(engine)
    assert (result.problem, result.seq) == (Problem.INSERTED, 0)


def test_a_change_with_its_hash_recomputed_breaks_the_next_link(engine: Engine) -> None:
    append(engine, 4)
    with session_scope(engine) as session:
        entry = session.get(AuditEntry, 2)
        assert entry is not None
        entry.purpose = "rewritten"
        new_hash = entry_hash(entry)
    tamper(engine, f"UPDATE audit_entry SET purpose = 'rewritten', hash = '{new_hash}' WHERE seq = 2")  # noqa: S608
    result = check(engine)
    assert (result.problem, result.seq) == (Problem.INSERTED, 3)
    assert "entry 2 was changed and its hash recomputed" in result.reason


# --- appends from many places at once ------------------------------------------------------------


def test_concurrent_appends_from_threads_keep_one_chain(engine: Engine) -> None:
    threads, each = 8, 12
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work() -> None:
        try:
            start.wait()
            append(engine, each)
        except BaseException as exc:  # collected and reported below
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not errors, errors
    result = check(engine)
    assert result.ok, result.reason
    assert result.entries == threads * each


APPENDER = textwrap.dedent(
    """
    import sys
    from bot.audit import record
    from bot.authz import SystemActor
    from bot.db import make_engine, session_scope

    engine = make_engine(sys.argv[1])
    for number in range(int(sys.argv[2])):
        with session_scope(engine) as session:
            record(session, actor=SystemActor(sys.argv[3]), action="test.appended", object_type="test",
                   object_id=number, purpose="concurrency test")
    engine.dispose()
    """
)


def test_concurrent_appends_from_processes_keep_one_chain(engine: Engine, database_url: str) -> None:
    """Several Samen processes (web workers, a worker, the CLI) append against one database."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, database_url, "15", f"samen:proc{n}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for n in range(3)
    ]
    for process in processes:
        _out, err = process.communicate(timeout=90)
        assert process.returncode == 0, err.decode()
    result = check(engine)
    assert result.ok, result.reason
    assert result.entries == 45


# --- export --------------------------------------------------------------------------------------


@pytest.mark.clock
def test_export_writes_a_date_range_as_csv(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # In Amsterdam, March 2026 runs from 2026-02-28T23:00Z to 2026-03-31T22:00Z (summer time from the 29th).
    moments = iter(
        [
            datetime(2026, 2, 28, 22, 59, tzinfo=UTC),  # 28 February 23:59 local: before
            datetime(2026, 2, 28, 23, 30, tzinfo=UTC),  # 1 March 00:30 local: in
            datetime(2026, 3, 15, 12, 0, tzinfo=UTC),  # in
            datetime(2026, 3, 31, 21, 59, tzinfo=UTC),  # 31 March 23:59 local: in
            datetime(2026, 3, 31, 22, 30, tzinfo=UTC),  # 1 April 00:30 local: after
        ]
    )
    with in_use(SimpleNamespace(now=lambda: next(moments))):  # each entry's time, in turn
        append(engine, 5, purpose='=HYPERLINK("https://evil.example")')

    out = tmp_path / "maart.csv"
    code, output = run_cli(
        monkeypatch, database_url, "audit", "export", "--van", "2026-03-01", "--tot", "2026-03-31",
        "--out", str(out), "--doel", "accountability Q1",
    )  # fmt: skip
    assert code == 0, output
    assert "3 entries written" in output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [int(row["seq"]) for row in rows] == [2, 3, 4]
    assert list(rows[0]) == [*audit.CONTENT_FIELDS, "prev_hash", "hash"]
    # A spreadsheet would run the purpose as a formula: the export defuses it.
    assert rows[0]["purpose"].startswith("'=HYPERLINK")
    # An auditor can recompute each hash from the file alone.
    for row in rows:
        entry = AuditEntry(
            **{name: row[name] for name in ("actor_team_id", "actor_user_id", "action", "object_type")},
            seq=int(row["seq"]),
            at=datetime.fromisoformat(row["at"].removesuffix("Z")).replace(tzinfo=UTC),
            object_id=row["object_id"],
            purpose=row["purpose"].removeprefix("'"),
            details=row["details"],
            prev_hash=row["prev_hash"],
            hash=row["hash"],
        )
        assert entry_hash(entry) == row["hash"]

    # Taking the log out is itself logged, with its purpose, and the chain goes on intact.
    with session_scope(engine) as session:
        last = audit.head(session)
        assert last is not None
        assert (last.action, last.purpose, last.object_id) == (
            "audit.exported",
            "accountability Q1",
            "2026-03-01..2026-03-31",
        )
        assert '"entries":3' in last.details
        assert last.actor_user_id.startswith("samen:cli")
    assert check(engine).ok


@pytest.mark.clock
def test_export_to_the_screen_and_a_reversed_range(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    append(engine, 2)
    # Today as the auditor in Amsterdam means it: from 22:00 or 23:00 UTC on, it is the next day there.
    today = datetime.now(AMSTERDAM).date().isoformat()
    code, output = run_cli(monkeypatch, database_url, "audit", "export", "--van", today, "--tot", today)
    assert code == 0
    assert output.splitlines()[0].startswith("seq,at,actor_team_id")
    assert len(output.splitlines()) == 3  # header and two entries
    code, output = run_cli(
        monkeypatch, database_url, "audit", "export", "--van", "2026-03-02", "--tot", "2026-03-01"
    )
    assert code == 2


def test_export_csv_on_its_own(engine: Engine) -> None:
    append(engine, 3)
    buffer = io.StringIO()
    with session_scope(engine) as session:
        count = export_csv(session, datetime(2000, 1, 1), datetime(2000, 1, 2), buffer)
    assert count == 0
    assert buffer.getvalue().strip() == ",".join((*audit.CONTENT_FIELDS, "prev_hash", "hash"))
