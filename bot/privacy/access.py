"""Requests under the AVG about one subject: what is stored about it (`samen inzage`), and erasing it
where the law allows (`samen vergeet`).

Both are run on the server by an administrator for the privacy officer (FG), never from Slack: the
report holds everything, restricted data included, across every partner. What may be handed over to
the person who asked is for the FG to decide (AVG art. 15 and 23, and the Wpg for police data); the
report says so at its top. Both are audited: the report with the purpose given, the erasure with one
entry per erased object.

Erasure is refused while an open case needs the subject (it is on the case, or on one of its signals)
and while a signal about it is still being weighed: the command says which, so the coordinators can
finish or close it first. What goes:
- the subject itself: its identity, and what hangs on it (alignment moments on it);
- every signal about it alone, with its weighing and sharing; a signal that is also about other
  subjects loses the link and its restricted free text (details, what was kept out of the summary,
  the source message), since it cannot be told which part is about whom;
- its link to closed cases; a closed case left without subjects is anonymised (bot/privacy/erase.py);
- the text of Samen's messages about all of these.
The audit log keeps its entries: they hold the subject's code and numbers, never its identity, and
are themselves the record that the erasure happened (docs/domain.md rule 4).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any, Final

from sqlalchemy import Table, or_
from sqlmodel import Session, SQLModel, col, select

from bot import audit, clock
from bot.authz import SystemActor
from bot.privacy import erase
from bot.privacy.erase import Erased

REPORT_VERSION: Final = 1
NOTICE: Final = (
    "For the privacy officer (FG) only. This report holds everything Samen stores about this subject, "
    "restricted data of every partner included. Decide per item what may be handed over to the person "
    "who asked (AVG art. 15 and 23; the Wpg for police data) before anything leaves the organisation."
)


class AccessRequestError(Exception):
    """A request that cannot be carried out, with the reason (shown to the administrator)."""


def _subject(session: Session, code: str) -> Any:
    from bot.subjects import codes as subjects
    from bot.subjects.models import Subject

    normalised = subjects.normalise(code)
    if normalised is None:
        raise AccessRequestError(
            f"{code.strip()[:40]!r} is not a subject code; a code looks like S-2026-0042"
        )
    found = session.exec(select(Subject).where(Subject.code == normalised)).first()
    if found is None:
        raise AccessRequestError(f"there is no subject {normalised}")
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _row(row: SQLModel) -> dict[str, Any]:
    """Every column of a row, restricted ones decrypted (Sealed decrypts on load)."""
    table: Table = row.__table__  # type: ignore[attr-defined]
    return {column.name: _plain(getattr(row, column.key, None)) for column in table.columns}


def _table_row(table: Table, row: Any) -> dict[str, Any]:
    return {column.name: _plain(value) for column, value in zip(table.columns, row, strict=True)}


# --- inzage -------------------------------------------------------------------------------------------


def report(session: Session, *, actor: SystemActor, code: str, purpose: str) -> dict[str, Any]:
    """Everything stored about a subject, as plain JSON; the reading is audited with `purpose`."""
    from bot.cases.models import Case, CasePartner, CaseScore, CaseSignal, CaseSubject, SelectionCriterion
    from bot.interventions.models import Intervention, InterventionPartner, Lesson
    from bot.partners.models import Partner
    from bot.signals.models import Assessment, Signal, SignalAccess, SignalSubject
    from bot.subjects.models import Subject

    subject: Subject = _subject(session, code)
    subject_id = int(subject.id or 0)
    names = {p.id: p.name for p in session.exec(select(Partner)).all()}

    signal_rows = session.exec(
        select(Signal)
        .join(SignalSubject, col(SignalSubject.signal_id) == col(Signal.id))
        .where(SignalSubject.subject_id == subject_id)
        .order_by(col(Signal.id))
    ).all()
    signals = []
    for signal in signal_rows:
        signal_id = int(signal.id or 0)
        shown = _row(signal)
        shown["partner"] = names.get(signal.partner_id)
        shown["subjects"] = [
            {"code": other.code, "role": _plain(role)}
            for other, role in session.exec(
                select(Subject, SignalSubject.role)
                .join(SignalSubject, col(SignalSubject.subject_id) == col(Subject.id))
                .where(SignalSubject.signal_id == signal_id)
                .order_by(col(Subject.code))
            ).all()
        ]
        shown["shared_with"] = sorted(
            names.get(access.partner_id, str(access.partner_id))
            for access in session.exec(select(SignalAccess).where(SignalAccess.signal_id == signal_id)).all()
        )
        shown["weighing"] = [
            _row(a)
            for a in session.exec(
                select(Assessment).where(Assessment.signal_id == signal_id).order_by(col(Assessment.id))
            ).all()
        ]
        signals.append(shown)

    signal_ids = [int(s.id or 0) for s in signal_rows]
    case_ids = set(
        session.exec(select(CaseSubject.case_id).where(CaseSubject.subject_id == subject_id)).all()
    )
    if signal_ids:
        case_ids |= set(
            session.exec(select(CaseSignal.case_id).where(col(CaseSignal.signal_id).in_(signal_ids))).all()
        )
    criteria = {c.id: c.name for c in session.exec(select(SelectionCriterion)).all()}
    cases, interventions = [], []
    for case in session.exec(select(Case).where(col(Case.id).in_(sorted(case_ids))).order_by(col(Case.id))):
        case_id = int(case.id or 0)
        shown = _row(case)
        shown["lead_partner"] = names.get(case.lead_partner_id)
        shown["subject_on_case"] = (
            session.exec(
                select(CaseSubject).where(
                    CaseSubject.case_id == case_id, CaseSubject.subject_id == subject_id
                )
            ).first()
            is not None
        )
        shown["signals"] = sorted(
            session.exec(select(CaseSignal.signal_id).where(CaseSignal.case_id == case_id)).all()
        )
        shown["partners"] = [
            {"partner": names.get(j.partner_id), "contribution": _plain(j.contribution)}
            for j in session.exec(select(CasePartner).where(CasePartner.case_id == case_id)).all()
        ]
        shown["scores"] = [
            {**_row(s), "criterion": criteria.get(s.criterion_id)}
            for s in session.exec(select(CaseScore).where(CaseScore.case_id == case_id)).all()
        ]
        cases.append(shown)
        for intervention in session.exec(
            select(Intervention).where(Intervention.case_id == case_id).order_by(col(Intervention.id))
        ).all():
            item = _row(intervention)
            item["owner_partner"] = names.get(intervention.owner_partner_id)
            item["partners"] = [
                {"partner": names.get(j.partner_id), "contribution": _plain(j.contribution)}
                for j in session.exec(
                    select(InterventionPartner).where(InterventionPartner.intervention_id == intervention.id)
                ).all()
            ]
            lesson = session.exec(select(Lesson).where(Lesson.intervention_id == intervention.id)).first()
            item["lesson"] = _row(lesson) if lesson is not None else None
            interventions.append(item)

    other = _other_records(session, subject_id)
    refs = (
        [f"subject:{subject_id}"]
        + [f"signal:{s}" for s in signal_ids]
        + [f"case:{c}" for c in sorted(case_ids)]
        + [f"intervention:{i['id']}" for i in interventions]
        + [f"alignment:{row['id']}" for row in other.get("alignment", [])]
    )
    found: dict[str, Any] = {
        "notice": NOTICE,
        "report_version": REPORT_VERSION,
        "generated_at": clock.now(session).isoformat(),
        "generated_by": actor.user_id,
        "purpose": purpose,
        "subject": {**_row(subject), "described_by": names.get(subject.partner_id)},
        "signals": signals,
        "cases": cases,
        "interventions": interventions,
        "other_records": other,
        "messages": _messages(session, refs),
        "audit_log": _audit_entries(session, subject.code, subject_id, signal_ids, sorted(case_ids)),
    }
    audit.record(
        session,
        actor=actor,
        action="subject.access_report",
        object_type="subject",
        object_id=subject_id,
        purpose=purpose,
        details={
            "signals": len(signals),
            "cases": len(cases),
            "interventions": len(interventions),
            "messages": len(found["messages"]),
        },
    )
    return found


# Tables the report shows in their own sections, or that hold no personal data.
_SHOWN_ELSEWHERE: Final = frozenset({"signal_subject", "case_subject"})


def _other_records(session: Session, subject_id: int) -> dict[str, list[dict[str, Any]]]:
    """Rows of any other table that refers to the subject (e.g. alignment moments on it), and the rows
    that depend on those: found through the schema's foreign keys, so new features are included."""
    from bot.subjects.models import Subject

    found: dict[str, list[dict[str, Any]]] = {}
    subject_table: Table = Subject.__table__  # type: ignore[attr-defined]
    _collect(session, subject_table, [subject_id], found, path=("subject",))
    return found


def _collect(
    session: Session,
    parent: Table,
    ids: list[Any],
    found: dict[str, list[dict[str, Any]]],
    *,
    path: tuple[str, ...],
) -> None:
    if not ids:
        return
    for child, pairs in erase.children(parent):
        if child.name in path or child.name in _SHOWN_ELSEWHERE or child.name in erase.PROTECTED_TABLES:
            continue
        conditions = [child_col.in_(ids) for child_col, parent_col in pairs if parent_col.primary_key]
        if not conditions:
            continue
        rows = session.execute(child.select().where(or_(*conditions))).all()
        if not rows:
            continue
        found.setdefault(child.name, []).extend(_table_row(child, row) for row in rows)
        keys = list(child.primary_key.columns)
        if len(keys) == 1:
            child_ids = [row[list(child.columns).index(keys[0])] for row in rows]
            _collect(session, child, child_ids, found, path=(*path, child.name))


def _messages(session: Session, refs: list[str]) -> list[dict[str, Any]]:
    from bot.outbox.models import OutboxMessage

    if not refs:
        return []
    clauses = []
    for ref in refs:
        clauses += [col(OutboxMessage.ref) == ref, col(OutboxMessage.ref).like(ref + ":%")]
    rows = session.exec(select(OutboxMessage).where(or_(*clauses)).order_by(col(OutboxMessage.id))).all()
    shown = []
    for row in rows:
        item = {
            name: _plain(getattr(row, name))
            for name in ("id", "key", "ref", "method", "lane", "status", "template", "created_at", "sent_at")
        }
        item["text_removed"] = erase.is_purged(row.args)
        item["args"] = None if item["text_removed"] else json.loads(row.args)
        item["context"] = json.loads(row.context) if row.context else None
        shown.append(item)
    return shown


def _audit_entries(
    session: Session, code: str, subject_id: int, signal_ids: list[int], case_ids: list[int]
) -> list[dict[str, Any]]:
    from bot.audit import AuditEntry

    about = [
        (col(AuditEntry.object_type) == "subject") & (col(AuditEntry.object_id) == str(subject_id)),
        col(AuditEntry.details).like(f'%"{code}"%'),
    ]
    if signal_ids:
        about.append(
            (col(AuditEntry.object_type) == "signal")
            & col(AuditEntry.object_id).in_([str(s) for s in signal_ids])
        )
    if case_ids:
        about.append(
            (col(AuditEntry.object_type) == "case")
            & col(AuditEntry.object_id).in_([str(c) for c in case_ids])
        )
    rows = session.exec(select(AuditEntry).where(or_(*about)).order_by(col(AuditEntry.seq))).all()
    return [
        {
            **{name: _plain(getattr(row, name)) for name in audit.CONTENT_FIELDS if name != "details"},
            "details": json.loads(row.details),
        }
        for row in rows
    ]


def to_markdown(found: dict[str, Any]) -> str:
    """The report for people: headings per section, each item as its fields."""
    subject = found["subject"]
    lines = [
        f"# Inzage: {subject['code']}",
        "",
        f"> {found['notice']}",
        "",
        f"- Generated: {found['generated_at']} by {found['generated_by']}",
        f"- Purpose: {found['purpose']}",
        "",
        "## Subject",
        *_fields(subject),
    ]
    sections = (
        ("Signals", "signals"),
        ("Cases", "cases"),
        ("Interventions", "interventions"),
        ("Messages Samen sent about it", "messages"),
        ("Audit log", "audit_log"),
    )
    for title, key in sections:
        lines += ["", f"## {title} ({len(found[key])})"]
        for item in found[key]:
            label = item.get("id", item.get("seq", ""))
            lines += [
                "",
                f"### {title.rstrip('s') if key != 'messages' else 'Message'} {label}",
                *_fields(item),
            ]
    for table, rows in found["other_records"].items():
        lines += ["", f"## Other records: {table} ({len(rows)})"]
        for row in rows:
            lines += ["", *_fields(row)]
    return "\n".join(lines) + "\n"


def _fields(item: dict[str, Any]) -> list[str]:
    shown = []
    for name, value in item.items():
        if isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        text = "" if value is None else str(value)
        shown.append(f"- **{name}**: {text}".rstrip())
    return shown


# --- vergeet ------------------------------------------------------------------------------------------


@dataclass
class ErasurePlan:
    code: str
    subject_id: int
    blocked: list[str] = field(default_factory=list)  # why it cannot be erased now
    signals_deleted: list[int] = field(default_factory=list)
    signals_unlinked: list[int] = field(default_factory=list)  # also about other subjects
    cases_anonymised: list[int] = field(default_factory=list)  # closed, about this subject alone
    cases_unlinked: list[int] = field(default_factory=list)  # closed, with other subjects too
    erased: list[Erased] = field(default_factory=list)  # what was done (empty for a plan)

    @property
    def allowed(self) -> bool:
        return not self.blocked


def plan_erasure(session: Session, *, code: str) -> ErasurePlan:
    """What `vergeet` would do, or why it cannot now."""
    from bot.cases.models import Case, CaseStatus, CaseSubject
    from bot.signals.models import Signal, SignalStatus, SignalSubject

    subject = _subject(session, code)
    subject_id = int(subject.id or 0)
    found = ErasurePlan(code=subject.code, subject_id=subject_id)
    open_cases = erase.open_case_ids_of_subject(session, subject_id)
    if open_cases:
        numbers = ", ".join(str(c) for c in open_cases)
        found.blocked.append(
            f"an open case needs it (case {numbers}): close the case, or take the subject and its signals "
            "off it, first"
        )
    signals = session.exec(
        select(Signal)
        .join(SignalSubject, col(SignalSubject.signal_id) == col(Signal.id))
        .where(SignalSubject.subject_id == subject_id)
        .order_by(col(Signal.id))
    ).all()
    for signal in signals:
        signal_id = int(signal.id or 0)
        if signal.status in (SignalStatus.NIEUW, SignalStatus.IN_WEGING):
            found.blocked.append(
                f"signal {signal_id} is still being weighed: the coordinators finish the weighing first "
                "(no action is an outcome too)"
            )
        others = session.exec(
            select(SignalSubject.subject_id).where(
                SignalSubject.signal_id == signal_id, SignalSubject.subject_id != subject_id
            )
        ).first()
        (found.signals_unlinked if others is not None else found.signals_deleted).append(signal_id)
    for case in session.exec(
        select(Case)
        .join(CaseSubject, col(CaseSubject.case_id) == col(Case.id))
        .where(CaseSubject.subject_id == subject_id, Case.status == CaseStatus.GESLOTEN)
        .order_by(col(Case.id))
    ).all():
        case_id = int(case.id or 0)
        others = session.exec(
            select(CaseSubject.subject_id).where(
                CaseSubject.case_id == case_id, CaseSubject.subject_id != subject_id
            )
        ).first()
        (found.cases_unlinked if others is not None else found.cases_anonymised).append(case_id)
    return found


def forget(session: Session, *, actor: SystemActor, code: str, purpose: str) -> ErasurePlan:
    """Erase the subject as planned, in the caller's transaction; AccessRequestError when it is blocked."""
    audit.lock_chain(session, refresh=True)  # decide and erase on one state of the database
    found = plan_erasure(session, code=code)
    if not found.allowed:
        raise AccessRequestError(f"{found.code} cannot be erased now: " + "; ".join(found.blocked))
    erased: list[Erased] = []
    for signal_id in found.signals_unlinked:
        erased.append(erase.unlink_subject_from_signal(session, signal_id, found.subject_id))
    for signal_id in found.signals_deleted:
        erased += erase.erase_signal(session, signal_id)
    for case_id in found.cases_unlinked:
        erased.append(erase.unlink_subject_from_case(session, case_id, found.subject_id))
    for case_id in found.cases_anonymised:
        erased.append(erase.unlink_subject_from_case(session, case_id, found.subject_id))
        erased += erase.anonymise_case(session, case_id)
    if not any(e.object_type == "subject" and e.object_id == found.subject_id for e in erased):
        erased.append(erase.erase_subject(session, found.subject_id))
    session.expire_all()
    why = f"erasure request (AVG art. 17) for {found.code}: {purpose}"[: audit.MAX_PURPOSE]
    for item in erased:
        audit.record(
            session,
            actor=actor,
            action=f"{item.object_type}.{item.how}",
            object_type=item.object_type,
            object_id=item.object_id,
            purpose=why,
            details={"request": "erasure", "subject": found.code, "rows": item.rows},
        )
    found.erased = erased
    return found
