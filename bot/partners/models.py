"""Partner, Member and DutyContact tables, and the labels people see for their enumerations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Final, NamedTuple

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.authz import Role
from bot.clock import utcnow
from bot.crypto import Sealed
from bot.i18n import N_
from bot.people import CHAT_ID_LENGTH


class PartnerType(StrEnum):
    GEMEENTE = "GEMEENTE"
    PROVINCIE = "PROVINCIE"
    POLITIE = "POLITIE"
    OM = "OM"
    BELASTINGDIENST = "BELASTINGDIENST"
    FIOD = "FIOD"
    DOUANE = "DOUANE"
    KMAR = "KMAR"
    UWV = "UWV"
    ISZW = "ISZW"
    IND = "IND"
    RIEC = "RIEC"
    WONINGCORPORATIE = "WONINGCORPORATIE"
    PRIVATE_PARTNER = "PRIVATE_PARTNER"
    OTHER = "OTHER"


PARTNER_TYPE_LABELS: Final[dict[PartnerType, str]] = {
    PartnerType.GEMEENTE: N_("Municipality"),
    PartnerType.PROVINCIE: N_("Province"),
    PartnerType.POLITIE: N_("Police"),
    PartnerType.OM: N_("Public Prosecution Service"),
    PartnerType.BELASTINGDIENST: N_("Tax and Customs Administration"),
    PartnerType.FIOD: N_("FIOD"),
    PartnerType.DOUANE: N_("Customs"),
    PartnerType.KMAR: N_("Royal Netherlands Marechaussee"),
    PartnerType.UWV: N_("UWV"),
    PartnerType.ISZW: N_("Labour Inspectorate"),
    PartnerType.IND: N_("Immigration and Naturalisation Service"),
    PartnerType.RIEC: N_("RIEC"),
    PartnerType.WONINGCORPORATIE: N_("Housing association"),
    PartnerType.PRIVATE_PARTNER: N_("Private partner"),
    PartnerType.OTHER: N_("Other partner"),
}

ROLE_LABELS: Final[dict[Role, str]] = {
    Role.MEMBER: N_("member"),
    Role.COORDINATOR: N_("coordinator"),
    Role.ADMIN: N_("admin"),
}

# The words people type for a role, in Dutch and English (commands and the partners file).
ROLE_WORDS: Final[dict[str, Role]] = {
    "member": Role.MEMBER,
    "deelnemer": Role.MEMBER,
    "lid": Role.MEMBER,
    "coordinator": Role.COORDINATOR,
    "coördinator": Role.COORDINATOR,
    "admin": Role.ADMIN,
    "beheerder": Role.ADMIN,
}


def _enum_type(enum: type[StrEnum], length: int) -> sa.Enum:
    # Stored as the enum's value in a plain VARCHAR (no native PostgreSQL type to migrate later);
    # read back as the enum member.
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class PersonRef(NamedTuple):
    """A Slack person, as the domain speaks of them: never by name."""

    team_id: str
    user_id: str


class Partner(SQLModel, table=True):
    __tablename__ = "partner"
    __table_args__ = (
        sa.CheckConstraint("capacity >= 0", name="ck_partner_capacity"),
        # Names are typed in commands case-insensitively, so "Politie" and "politie" are one partner.
        sa.Index("uq_partner_name_lower", sa.func.lower(sa.column("name")), unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    type: PartnerType = Field(sa_type=_enum_type(PartnerType, 32))
    alert_channel_id: str | None = Field(default=None, max_length=CHAT_ID_LENGTH)
    lead_team_id: str | None = Field(default=None, max_length=CHAT_ID_LENGTH)
    lead_user_id: str | None = Field(default=None, max_length=CHAT_ID_LENGTH)
    # How many open interventions the partner can carry at once (its work-in-progress limit).
    capacity: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def lead(self) -> PersonRef | None:
        if self.lead_user_id is None:
            return None
        return PersonRef(self.lead_team_id or "", self.lead_user_id)


class Member(SQLModel, table=True):
    """A Slack person who belongs to one partner, with a role in the partnership."""

    __tablename__ = "member"
    __table_args__ = (sa.UniqueConstraint("team_id", "user_id", name="uq_member_person"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=CHAT_ID_LENGTH)
    user_id: str = Field(max_length=CHAT_ID_LENGTH)
    partner_id: int = Field(foreign_key="partner.id", index=True)
    role: Role = Field(default=Role.MEMBER, sa_type=_enum_type(Role, 16))
    display_name: str | None = Field(default=None, max_length=100)
    # How to reach the person outside chat (bot/reach/: escalations by SMS and e-mail). Personal data:
    # sealed at rest, shown only to coordinators, never logged; compared after decryption, never searched.
    phone: str | None = Field(default=None, sa_type=Sealed())  # E.164, as the partners file writes it
    email: str | None = Field(default=None, sa_type=Sealed())
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def person(self) -> PersonRef:
        return PersonRef(self.team_id, self.user_id)


class DutyContact(SQLModel, table=True):
    """The people of a partner to reach first in an emergency, in order (position 0 first)."""

    __tablename__ = "duty_contact"
    __table_args__ = (sa.UniqueConstraint("partner_id", "team_id", "user_id", name="uq_duty_contact_person"),)

    partner_id: int = Field(foreign_key="partner.id", primary_key=True)
    position: int = Field(primary_key=True)
    team_id: str = Field(max_length=CHAT_ID_LENGTH)
    user_id: str = Field(max_length=CHAT_ID_LENGTH)

    @property
    def person(self) -> PersonRef:
        return PersonRef(self.team_id, self.user_id)
