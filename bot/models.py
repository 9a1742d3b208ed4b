"""Every table of the domains and the core, imported in one place so that Alembic, erasure and the tests
see the whole schema.

A feature adds its tables here with one import line, and its migration in bot/migrations/versions/. The
chat edge's installation tables (bot/slack/workspaces/tables.py) are not imported here: bot.privacy,
below the chat edge, reads this module (no foreign key points at them). Where every table counts —
Alembic (bot/migrations/env.py), key rotation (bot/keyrotation.py) — they are imported beside it.
"""

# Backup alerts: the alert, the partners that must acknowledge it, their supporting actions (issue 7).
from bot.alerts.models import AlertPartner, BackupAlert, SupportAction

# Partners, members and the audit log (issue 3).
from bot.audit import AuditEntry

# Subjects, signals, weighing, cases and the work queue (issue 4).
from bot.cases.models import Case, CasePartner, CaseScore, CaseSignal, CaseSubject, SelectionCriterion

# Check-ins and ad-hoc alignment on a subject (issue 6).
from bot.checkins.models import (
    Alignment,
    AlignmentAgreement,
    AlignmentInvite,
    AlignmentVote,
    CheckinAnswer,
    CheckinMoment,
    CheckinSchedule,
)

# Interventions, the partners joining them, lessons and goals (issue 5).
from bot.interventions.models import (
    Goal,
    Intervention,
    InterventionAsk,
    InterventionPartner,
    InterventionSubject,
    Lesson,
)

# The outbox, its lanes and Slack event ids already handled (issue 3).
from bot.outbox.models import OutboxLane, OutboxMessage, ProcessedEvent
from bot.partners.models import DutyContact, Member, Partner

# Slack identities with their locale (issue 2).
from bot.people import Person

# The one-time acknowledgement links of e-mails that reach people outside chat (issue 19).
from bot.reach.models import ReachLink

# Scheduled job runs, one per slot across workers (issue 3).
from bot.scheduler import JobRun
from bot.signals.models import Assessment, Signal, SignalAccess, SignalSubject

# The subjects signals, cases and interventions are about, by code (issue 17: below them all).
from bot.subjects.models import Subject

__all__ = [
    "AlertPartner",
    "Alignment",
    "AlignmentAgreement",
    "AlignmentInvite",
    "AlignmentVote",
    "Assessment",
    "AuditEntry",
    "BackupAlert",
    "Case",
    "CasePartner",
    "CaseScore",
    "CaseSignal",
    "CaseSubject",
    "CheckinAnswer",
    "CheckinMoment",
    "CheckinSchedule",
    "DutyContact",
    "Goal",
    "Intervention",
    "InterventionAsk",
    "InterventionPartner",
    "InterventionSubject",
    "JobRun",
    "Lesson",
    "Member",
    "OutboxLane",
    "OutboxMessage",
    "Partner",
    "Person",
    "ProcessedEvent",
    "ReachLink",
    "SelectionCriterion",
    "Signal",
    "SignalAccess",
    "SignalSubject",
    "Subject",
    "SupportAction",
]
