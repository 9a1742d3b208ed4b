"""Backup alerts (Rugdekking): one alert, the partners that must acknowledge it, their supporting actions.

What the broadcast shows (the partner, the type, the seriousness) is separate from what is restricted:
the reporter's identity, the description, the place, the notes on supporting actions and the closing
summary are `Sealed` (encrypted at rest) and shown only through "Details" to those who need to know
(docs/domain.md rule 7; docs/rugdekking.md).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Final

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.clock import utcnow
from bot.crypto import Sealed
from bot.i18n import N_
from bot.people import CHAT_ID_LENGTH
from bot.vocabulary import IncidentType, enum_column


class Seriousness(StrEnum):
    HOOG = "HOOG"  # danger now: the shortest escalation times
    MIDDEN = "MIDDEN"
    LAAG = "LAAG"


SERIOUSNESS_LABELS: Final[dict[Seriousness, str]] = {
    Seriousness.HOOG: N_("High: danger now"),
    Seriousness.MIDDEN: N_("Medium: serious, no danger right now"),
    Seriousness.LAAG: N_("Low: worrying, keep an eye on it"),
}


class SupportKind(StrEnum):
    EXTRA_TOEZICHT = "EXTRA_TOEZICHT"
    AANGIFTE = "AANGIFTE"
    SNELRECHT = "SNELRECHT"
    BESCHERMING = "BESCHERMING"
    NAZORG = "NAZORG"
    INFORMATIE = "INFORMATIE"
    OVERIG = "OVERIG"


SUPPORT_KIND_LABELS: Final[dict[SupportKind, str]] = {
    SupportKind.EXTRA_TOEZICHT: N_("Extra surveillance"),
    SupportKind.AANGIFTE: N_("Police report (aangifte) by the employer"),
    SupportKind.SNELRECHT: N_("Fast-track prosecution"),
    SupportKind.BESCHERMING: N_("Protection measures (security, safe address)"),
    SupportKind.NAZORG: N_("Aftercare for the person threatened"),
    SupportKind.INFORMATIE: N_("Information shared with the partners"),
    SupportKind.OVERIG: N_("Another supporting action"),
}


class SafetyState(StrEnum):
    """What the reporter last said about their safety."""

    ONBEKEND = "ONBEKEND"  # not asked yet, or no answer yet
    VEILIG = "VEILIG"
    NIET_VEILIG = "NIET_VEILIG"  # said so in the form
    HULP_NODIG = "HULP_NODIG"  # answered "I need help" to the check
    GEEN_ANTWOORD = "GEEN_ANTWOORD"  # kept for reports; the no-answer follow-up is an outbox row


class BackupAlert(SQLModel, table=True):
    __tablename__ = "backup_alert"

    id: int | None = Field(default=None, primary_key=True)
    # What raised it: "view:<view id>" for the form, "trigger:<trigger id>" for `/rugdekking nu`. A
    # retried or double-submitted form finds its alert here instead of raising a second one.
    source_key: str = Field(max_length=128, unique=True)
    drill: bool = Field(default=False)
    reporter_partner_id: int = Field(foreign_key="partner.id", index=True)
    # "team_id/user_id": an identity, restricted (rule 7); compared after decryption, never searched.
    reporter: str = Field(sa_type=Sealed())
    show_reporter_name: bool = Field(default=False)
    incident_type: IncidentType = Field(sa_type=enum_column(IncidentType, 16))
    seriousness: Seriousness = Field(sa_type=enum_column(Seriousness, 8))
    safe_at_raise: bool | None = None  # "are you safe right now?" in the form; None: not answered
    description: str | None = Field(default=None, sa_type=Sealed())  # restricted
    place: str | None = Field(default=None, sa_type=Sealed())  # restricted
    raised_at: datetime = Field(default_factory=utcnow, index=True)
    # The partnership channel the live board was posted to (None: no SAMEN_PARTNERSHIP_CHANNEL then).
    board_channel: str | None = Field(default=None, max_length=CHAT_ID_LENGTH)
    # Raised with every change that the board shows: each board version is its own outbox row.
    board_version: int = Field(default=0)
    # The escalation plan in minutes after raised_at, as configured when it was raised.
    escalate_t1: float
    escalate_t2: float
    escalate_t3: float
    safety_check_at: datetime
    safety_deadline_at: datetime
    safety: SafetyState = Field(default=SafetyState.ONBEKEND, sa_type=enum_column(SafetyState, 16))
    safety_answered_at: datetime | None = None
    closed_at: datetime | None = Field(default=None, index=True)
    closed_by_team_id: str | None = Field(default=None, max_length=CHAT_ID_LENGTH)
    closed_by_user_id: str | None = Field(default=None, max_length=CHAT_ID_LENGTH)
    summary: str | None = Field(default=None, sa_type=Sealed())  # restricted: it tells what happened
    # The lesson is meant to be shared and found again: plain text, and the form asks for no names.
    lesson: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))

    @property
    def code(self) -> str:
        return f"RD-{self.id}"


class AlertPartner(SQLModel, table=True):
    """A partner that must acknowledge an alert: every partner there was when it was raised."""

    __tablename__ = "backup_alert_partner"

    alert_id: int = Field(foreign_key="backup_alert.id", primary_key=True)
    partner_id: int = Field(foreign_key="partner.id", primary_key=True)
    partner_name: str = Field(max_length=100)  # as it was when raised: the board never changes names
    alert_channel_id: str | None = Field(default=None, max_length=CHAT_ID_LENGTH)  # where its copy was posted
    # What was missing when it was raised: "channel", "duty", "lead" (comma-separated), or empty.
    gaps: str = Field(default="", max_length=64)
    acknowledged_at: datetime | None = None
    acknowledged_by_team_id: str | None = Field(default=None, max_length=CHAT_ID_LENGTH)
    acknowledged_by_user_id: str | None = Field(default=None, max_length=CHAT_ID_LENGTH)
    # By which way the acknowledgement came: "chat" (a button), "sms" (a reply), "email" (the link).
    acknowledged_via: str | None = Field(default=None, max_length=8)


class SupportAction(SQLModel, table=True):
    """What a partner did to give cover (Rugdekkingsactie), in the first round or prepared for the second."""

    __tablename__ = "backup_support_action"

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="backup_alert.id", index=True)
    partner_id: int = Field(foreign_key="partner.id")
    round: int = Field(default=1)
    kind: SupportKind = Field(sa_type=enum_column(SupportKind, 16))
    note: str | None = Field(default=None, sa_type=Sealed())  # restricted: may name people or places
    # "view:<view id>:<round>": a double-submitted form records one action.
    source_key: str = Field(max_length=128, unique=True)
    recorded_by_team_id: str = Field(max_length=CHAT_ID_LENGTH)
    recorded_by_user_id: str = Field(max_length=CHAT_ID_LENGTH)
    recorded_at: datetime = Field(default_factory=utcnow)
