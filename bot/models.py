"""Every table, imported in one place so that Alembic and the tests see the whole schema."""

from bot.outbox.models import JobRun, OutboxLane, OutboxMessage, ProcessedEvent
from bot.people import Person

__all__ = ["JobRun", "OutboxLane", "OutboxMessage", "Person", "ProcessedEvent"]

# Partners, members and the audit log (issue 3).
from bot.audit import AuditEntry
from bot.partners.models import DutyContact, Member, Partner

__all__ += ["AuditEntry", "DutyContact", "Member", "Partner"]

# Subjects, signals, weighing, cases and the work queue (issue 4).
from bot.cases.models import Case, CasePartner, CaseScore, CaseSignal, CaseSubject, SelectionCriterion
from bot.signals.models import Assessment, Signal, SignalAccess, SignalSubject, Subject

__all__ += [
    "Assessment", "Case", "CasePartner", "CaseScore", "CaseSignal", "CaseSubject", "SelectionCriterion",
    "Signal", "SignalAccess", "SignalSubject", "Subject",
]
