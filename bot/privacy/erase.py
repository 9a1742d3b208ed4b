"""Erasing and anonymising what Samen stores: the one place where rows about people are removed.

Retention (bot/privacy/retention.py) and an erasure request (`samen vergeet`, bot/privacy/access.py) both
come here, so that "deleted" means the same everywhere:

- a row is deleted with every row that depends on it through a foreign key, found in the schema itself
  (`SQLModel.metadata`), so a feature that adds a table about signals or subjects is covered without a
  change here. Tables that hold the partnership's own records (partners, members, the audit log, cases,
  interventions) are never deleted this way: reaching one is refused (`ErasureBlocked`), never silent;
- copies of messages about the object (outbox rows filed under its `ref`) lose their text: pending ones
  are cancelled, sent ones keep only their key and Slack timestamp (later edits and thread replies need
  it);
- a closed case and a closed backup alert are anonymised, not deleted: what people typed, the subjects
  and signals are removed; the numbers (how many, which focus element, how fast) stay for the reports.

On SQLite, `secure_delete` is on (bot/db.py), so deleted rows are overwritten in the file, not only
unlinked; on PostgreSQL a deleted row's space is reclaimed by (auto)vacuum (docs/SECURITY.md).

Nothing here authorises or audits: the callers do both, one audit entry per erased object.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy import ColumnElement, Table, delete, event, exists, or_, select, text, update
from sqlmodel import Session, SQLModel, col

from bot.outbox.models import OutboxMessage, OutboxStatus

# An outbox row whose text was removed: its arguments are replaced by this.
PURGED_ARGS: Final = json.dumps({"$purged": True})

# The partnership's own records: never deleted as a dependant of something else.
PROTECTED_TABLES: Final = frozenset(
    {
        "partner",
        "member",
        "duty_contact",
        "person",
        "audit_entry",
        "case",
        "intervention",
        "lesson",
        "goal",
        "outbox",
        "outbox_lane",
        "backup_alert",
    }
)


class ErasureBlocked(Exception):
    """Erasing would remove a record that must stay; `table` names it."""

    def __init__(self, table: str, parent: str) -> None:
        super().__init__(f"rows of {table} depend on the {parent} rows to erase")
        self.table = table
        self.parent = parent


def _tables() -> dict[str, Table]:
    import bot.models  # noqa: F401  (every table registered)

    return dict(SQLModel.metadata.tables)


def children(table: Table) -> list[tuple[Table, list[tuple[Any, Any]]]]:
    """Tables with a foreign key to `table`, with (child column, parent column) pairs."""
    found: list[tuple[Table, list[tuple[Any, Any]]]] = []
    for other in _tables().values():
        pairs = [
            (fk.parent, fk.column)
            for fk in other.foreign_keys
            if fk.column.table is table and other is not table
        ]
        if pairs:
            found.append((other, pairs))
    return sorted(found, key=lambda item: item[0].name)


def delete_rows(session: Session, table_name: str, condition: ColumnElement[bool]) -> Counter[str]:
    """Delete the rows of `table_name` matching `condition`, and everything that depends on them.

    Returns how many rows were deleted per table. Raises ErasureBlocked, before deleting anything of
    its own, when a protected table depends on the rows.
    """
    session.flush()
    counts = _delete(session, _tables()[table_name], condition, path=(table_name,))
    if counts["signal"] or counts["signal_subject"]:
        forget_in_search_index(session)
    return counts


def forget_in_search_index(session: Session) -> None:
    """On SQLite, FTS5 keeps a deleted signal's trigrams in older index segments until they are merged:
    the index is merged when this transaction commits, so erased words are gone from the file
    (secure_delete overwrites the freed pages). Once per transaction, however many signals it erases
    (retention erases many in one run; a merge rewrites the whole index). PostgreSQL's trigram index
    lives with the row and goes with it (bot/signals/search.py)."""
    if session.get_bind().dialect.name == "sqlite":
        session.info[_SEARCH_INDEX_TO_MERGE] = True


_SEARCH_INDEX_TO_MERGE: Final = "samen_search_index_to_merge"


@event.listens_for(Session, "before_commit")
def _merge_search_index(session: Session) -> None:
    if session.info.pop(_SEARCH_INDEX_TO_MERGE, False):
        session.execute(text("INSERT INTO signal_fts(signal_fts) VALUES ('optimize')"))


def _delete(
    session: Session, table: Table, condition: ColumnElement[bool], *, path: tuple[str, ...]
) -> Counter[str]:
    counts: Counter[str] = Counter()
    for child, pairs in children(table):
        if child.name in path:
            continue
        child_condition = _referring(child, pairs, table, condition)
        if child.name in PROTECTED_TABLES:
            if session.execute(select(child).where(child_condition).limit(1)).first() is not None:
                raise ErasureBlocked(child.name, table.name)
            continue
        counts += _delete(session, child, child_condition, path=(*path, child.name))
    result = session.execute(delete(table).where(condition))
    counts[table.name] += rowcount(result)
    return counts


def _referring(
    child: Table, pairs: list[tuple[Any, Any]], parent: Table, condition: ColumnElement[bool]
) -> ColumnElement[bool]:
    clauses = [child_col.in_(select(parent_col).where(condition)) for child_col, parent_col in pairs]
    return clauses[0] if len(clauses) == 1 else or_(*clauses)


def purge_messages(session: Session, refs: Iterable[str]) -> int:
    """Remove the text of every outbox row filed under these refs (or under `<ref>:…`).

    Pending rows are cancelled (they were about what is being erased); sent rows keep their key, channel
    and ts, so that a later edit or thread reply of another message can still find its place.
    """
    clauses = []
    for ref in refs:
        clauses += [
            col(OutboxMessage.ref) == ref,
            col(OutboxMessage.ref).like(_like_prefix(ref), escape="\\"),
        ]
    if not clauses:
        return 0
    which = or_(*clauses)
    session.execute(
        update(OutboxMessage)
        .where(which, col(OutboxMessage.status) == OutboxStatus.PENDING)
        .values(status=OutboxStatus.CANCELLED)
    )
    result = session.execute(
        update(OutboxMessage)
        .where(which, col(OutboxMessage.args) != PURGED_ARGS)
        .values(args=PURGED_ARGS, context=None)
    )
    return rowcount(result)


def _like_prefix(ref: str) -> str:
    escaped = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + ":%"


def is_purged(args: str) -> bool:
    return args == PURGED_ARGS


# --- what each kind of object loses ----------------------------------------------------------------


class Erased:
    """One erased object, for the audit entry and for what `samen retention` / `samen vergeet` print."""

    def __init__(self, object_type: str, object_id: int, how: str, rows: Counter[str] | None = None):
        self.object_type = object_type
        self.object_id = object_id
        self.how = how  # deleted | anonymised | unlinked
        self.rows: dict[str, int] = dict(sorted((rows or Counter()).items()))

    def __repr__(self) -> str:
        return f"Erased({self.object_type} {self.object_id} {self.how} {self.rows})"


# The title a case keeps once anonymised: its number says the rest.
ANONYMISED_TITLE: Final = "—"


def _ids(session: Session, statement: Any) -> list[int]:
    return [int(found) for found in session.execute(statement).scalars().all()]


def _exists(session: Session, statement: Any) -> bool:
    return session.execute(statement.limit(1)).first() is not None


def rowcount(result: Any) -> int:
    """How many rows an UPDATE or DELETE touched."""
    return int(getattr(result, "rowcount", 0) or 0)


def open_case_ids_of_signal(session: Session, signal_id: int) -> list[int]:
    from bot.cases.models import Case, CaseSignal, CaseStatus

    return _ids(
        session,
        select(col(Case.id))
        .join(CaseSignal, col(CaseSignal.case_id) == col(Case.id))
        .where(col(CaseSignal.signal_id) == signal_id, col(Case.status) == CaseStatus.OPEN)
        .order_by(col(Case.id)),
    )


def open_case_ids_of_subject(session: Session, subject_id: int) -> list[int]:
    """Open cases that need a subject: it is on the case, or on one of the case's signals."""
    from bot.cases.models import Case, CaseSignal, CaseStatus, CaseSubject
    from bot.signals.models import SignalSubject

    direct = select(col(CaseSubject.case_id)).where(col(CaseSubject.subject_id) == subject_id)
    signals = select(col(SignalSubject.signal_id)).where(col(SignalSubject.subject_id) == subject_id)
    through_signals = select(col(CaseSignal.case_id)).where(col(CaseSignal.signal_id).in_(signals))
    return _ids(
        session,
        select(col(Case.id))
        .where(
            col(Case.status) == CaseStatus.OPEN,
            or_(col(Case.id).in_(direct), col(Case.id).in_(through_signals)),
        )
        .order_by(col(Case.id)),
    )


def erase_signal(session: Session, signal_id: int) -> list[Erased]:
    """Delete a signal with its weighing, access and links; then its subjects that nothing else names."""
    from bot.signals.models import Signal, SignalSubject

    subject_ids = _ids(
        session, select(col(SignalSubject.subject_id)).where(col(SignalSubject.signal_id) == signal_id)
    )
    purge_messages(session, [f"signal:{signal_id}"])
    rows = delete_rows(session, "signal", col(Signal.id) == signal_id)
    erased = [Erased("signal", signal_id, "deleted", rows)]
    erased += erase_orphan_subjects(session, subject_ids)
    return erased


def erase_orphan_subjects(session: Session, subject_ids: Iterable[int]) -> list[Erased]:
    """Delete the subjects among these that no signal and no case names any more (their identity too)."""
    from bot.cases.models import CaseSubject
    from bot.signals.models import SignalSubject

    erased = []
    for subject_id in sorted(set(subject_ids)):
        named = _exists(
            session, select(col(SignalSubject.signal_id)).where(col(SignalSubject.subject_id) == subject_id)
        )
        on_case = _exists(
            session, select(col(CaseSubject.case_id)).where(col(CaseSubject.subject_id) == subject_id)
        )
        if not named and not on_case:
            erased.append(erase_subject(session, subject_id))
    return erased


def erase_subject(session: Session, subject_id: int) -> Erased:
    """Delete a subject: its identity, its links, and what hangs on it (alignment moments on it)."""
    from bot.subjects.models import Subject

    purge_messages(session, [f"subject:{subject_id}"])
    _purge_dependants_messages(session, subject_id)
    rows = delete_rows(session, "subject", col(Subject.id) == subject_id)
    return Erased("subject", subject_id, "deleted", rows)


def _purge_dependants_messages(session: Session, subject_id: int) -> None:
    """Messages about alignment moments on the subject go with them."""
    alignment = _tables().get("alignment")
    if alignment is None or "subject_id" not in alignment.c:
        return
    ids = _ids(session, select(alignment.c.id).where(alignment.c.subject_id == subject_id))
    purge_messages(session, [f"alignment:{found}" for found in ids])


def unlink_subject_from_signal(session: Session, signal_id: int, subject_id: int) -> Erased:
    """A signal about several subjects loses one: the link goes, and the restricted free text with it
    (details, what was kept out of the summary, the source message): it cannot be told which part of it
    is about whom. The summary was checked for personal data before it was stored and stays."""
    from bot.signals.models import Signal, SignalSubject

    counts: Counter[str] = Counter()
    counts["signal_subject"] += rowcount(
        session.execute(
            delete(SignalSubject).where(
                col(SignalSubject.signal_id) == signal_id, col(SignalSubject.subject_id) == subject_id
            )
        )
    )
    counts["signal"] += rowcount(
        session.execute(
            update(Signal)
            .where(col(Signal.id) == signal_id)
            .values(details=None, kept_out=None, source_permalink=None)
        )
    )
    purge_messages(session, [f"signal:{signal_id}"])
    forget_in_search_index(session)  # the signal's indexed subject codes were written anew without it
    return Erased("signal", signal_id, "unlinked", counts)


def unlink_subject_from_case(session: Session, case_id: int, subject_id: int) -> Erased:
    from bot.cases.models import CaseSubject

    counts: Counter[str] = Counter()
    counts["case_subject"] += rowcount(
        session.execute(
            delete(CaseSubject).where(
                col(CaseSubject.case_id) == case_id, col(CaseSubject.subject_id) == subject_id
            )
        )
    )
    return Erased("case", case_id, "unlinked", counts)


def anonymise_case(session: Session, case_id: int) -> list[Erased]:
    """A closed case keeps its number, lead partner, focus element, dates and the partners that joined
    (the reports count them); it loses its title, subjects, signals, scores and the reasons and results
    of its interventions. The lessons learnt stay: they are written to be shared, without names."""
    from bot.cases.models import Case, CaseScore, CaseSignal, CaseStatus, CaseSubject
    from bot.interventions.models import Intervention

    session.flush()
    status = session.execute(select(col(Case.status)).where(col(Case.id) == case_id)).scalar_one_or_none()
    if status is None:
        return []
    if status != CaseStatus.GESLOTEN:
        raise ErasureBlocked("case", f"case {case_id} (still open)")
    erased: list[Erased] = []
    counts: Counter[str] = Counter()
    signal_ids = _ids(session, select(col(CaseSignal.signal_id)).where(col(CaseSignal.case_id) == case_id))
    subject_ids = _ids(
        session, select(col(CaseSubject.subject_id)).where(col(CaseSubject.case_id) == case_id)
    )
    for signal_id in signal_ids:
        if [other for other in open_case_ids_of_signal(session, signal_id) if other != case_id]:
            counts["case_signal"] += rowcount(
                session.execute(
                    delete(CaseSignal).where(
                        col(CaseSignal.case_id) == case_id, col(CaseSignal.signal_id) == signal_id
                    )
                )
            )
        else:
            erased += erase_signal(session, signal_id)
    counts["case_subject"] += rowcount(
        session.execute(delete(CaseSubject).where(col(CaseSubject.case_id) == case_id))
    )
    counts["case_score"] += rowcount(
        session.execute(delete(CaseScore).where(col(CaseScore.case_id) == case_id))
    )
    intervention_ids = _ids(session, select(col(Intervention.id)).where(col(Intervention.case_id) == case_id))
    if intervention_ids:
        counts["intervention"] += rowcount(
            session.execute(
                update(Intervention)
                .where(col(Intervention.id).in_(intervention_ids))
                .values(
                    result=None,
                    effect=None,
                    cancel_reason=None,
                    capacity_override_reason=None,
                    second_round_override_reason=None,
                )
            )
        )
    counts["case"] += rowcount(
        session.execute(update(Case).where(col(Case.id) == case_id).values(title=ANONYMISED_TITLE))
    )
    purge_messages(session, [f"case:{case_id}", *(f"intervention:{found}" for found in intervention_ids)])
    erased.insert(0, Erased("case", case_id, "anonymised", +counts))
    erased += erase_orphan_subjects(session, subject_ids)
    return erased


def case_needs_anonymising() -> ColumnElement[bool]:
    """SQL: a case still holds something anonymising removes (so a case is anonymised once, not nightly)."""
    from bot.cases.models import Case, CaseScore, CaseSignal, CaseSubject
    from bot.interventions.models import Intervention

    def linked(column: Any) -> Any:
        return exists().where(column == col(Case.id))

    return or_(
        col(Case.title) != ANONYMISED_TITLE,
        linked(col(CaseSubject.case_id)),
        linked(col(CaseSignal.case_id)),
        linked(col(CaseScore.case_id)),
        exists().where(
            col(Intervention.case_id) == col(Case.id),
            or_(
                col(Intervention.result).is_not(None),
                col(Intervention.effect).is_not(None),
                col(Intervention.cancel_reason).is_not(None),
                col(Intervention.capacity_override_reason).is_not(None),
                col(Intervention.second_round_override_reason).is_not(None),
            ),
        ),
    )


def alert_needs_anonymising() -> ColumnElement[bool]:
    """SQL: a closed alert still holds restricted text. (Closing needs a summary, so every closed alert
    has one until it is anonymised; the reporter, sealed, cannot be looked at in SQL.)"""
    from bot.alerts.models import BackupAlert, SupportAction

    return or_(
        col(BackupAlert.summary).is_not(None),
        col(BackupAlert.description).is_not(None),
        col(BackupAlert.place).is_not(None),
        col(BackupAlert.show_reporter_name).is_(True),
        exists().where(
            col(SupportAction.alert_id) == col(BackupAlert.id), col(SupportAction.note).is_not(None)
        ),
    )


def anonymise_alert(session: Session, alert_id: int) -> Erased:
    """A closed backup alert keeps what the figures need (who acknowledged when, which supporting actions,
    the lesson, written to be shared); it loses who reported it, what happened and where, and the notes."""
    from bot.alerts.models import BackupAlert, SupportAction

    session.flush()
    counts: Counter[str] = Counter()
    counts["backup_alert"] += rowcount(
        session.execute(
            update(BackupAlert)
            .where(col(BackupAlert.id) == alert_id)
            .values(reporter="", show_reporter_name=False, description=None, place=None, summary=None)
        )
    )
    counts["backup_support_action"] += rowcount(
        session.execute(
            update(SupportAction)
            .where(col(SupportAction.alert_id) == alert_id, col(SupportAction.note).is_not(None))
            .values(note=None)
        )
    )
    purge_messages(session, [f"rugdekking:{alert_id}"])
    return Erased("backup_alert", alert_id, "anonymised", +counts)
