"""The rules every change to partners and members obeys, and the problems they raise.

A person belongs to one partner; the partnership always keeps a coordinator or admin; a duty contact or
lead is replaced before they leave; names, capacities and Slack ids are checked before anything is written.
"""

from __future__ import annotations

import re
from typing import Final

from sqlmodel import Session, col, func, select

from bot.authz import Role
from bot.chat import MATRIX_ROOM_ID, MATRIX_USER_ID
from bot.i18n import N_
from bot.partners.models import DutyContact, Member, Partner
from bot.problems import Problem

MANAGING_ROLES: Final = (Role.COORDINATOR, Role.ADMIN)
MAX_CAPACITY: Final = 999
MAX_NAME_LENGTH: Final = 100
# Slack's ids, or Matrix's (issue 18): a person `@name:server`, whose team is their server; a room
# `!id:server` or `!id`. Which chat a partners file is for, the importer checks.
USER_ID: Final = re.compile(rf"^[UW][A-Z0-9]{{2,30}}$|{MATRIX_USER_ID.pattern}")
TEAM_ID: Final = re.compile(r"^[TE][A-Z0-9]{2,30}$|^[A-Za-z0-9.\-]{1,255}(?::[0-9]{1,5})?$")
CHANNEL_ID: Final = re.compile(rf"^[CG][A-Z0-9]{{2,30}}$|{MATRIX_ROOM_ID.pattern}")


class PartnerError(Problem):
    """A problem the person can fix about partners and members. A value that is a PersonRef is a person:
    it is shown as a mention."""


class NotAMember(PartnerError):
    """The person is not a member of the partnership (or not of the partner that was named)."""


class UnknownPartner(PartnerError):
    pass


class LastCoordinator(PartnerError):
    pass


class MemberElsewhere(PartnerError):
    pass


class MemberStillNeeded(PartnerError):
    pass


class InvalidValue(PartnerError):
    pass


def refuse_if_last_coordinator(session: Session, member: Member) -> None:
    """The partnership always keeps someone who can add members; else nobody could, from Slack."""
    others = session.exec(
        select(func.count())
        .select_from(Member)
        .where(col(Member.role).in_(MANAGING_ROLES), Member.id != member.id)
    ).one()
    if others == 0:
        raise LastCoordinator(
            N_(
                "%(person)s is the last coordinator or admin of the partnership. "
                "Make someone else coordinator first."
            ),
            person=member.person,
        )


def refuse_if_still_needed(session: Session, member: Member, partner: Partner) -> None:
    """A duty contact or lead who leaves would leave an emergency without an answer: replace them first."""
    duty = session.exec(
        select(DutyContact).where(
            DutyContact.partner_id == member.partner_id,
            DutyContact.team_id == member.team_id,
            DutyContact.user_id == member.user_id,
        )
    ).first()
    if duty is not None:
        raise MemberStillNeeded(
            N_(
                "%(person)s is a duty contact of %(partner)s. Choose other duty contacts first with "
                "`/samen partner duty`."
            ),
            person=member.person,
            partner=partner.name,
        )
    if partner.lead == member.person:
        raise MemberStillNeeded(
            N_(
                "%(person)s is the lead of %(partner)s. An admin names another lead first "
                "(in the partners file, with `samen partners import`)."
            ),
            person=member.person,
            partner=partner.name,
        )


def valid_capacity(capacity: int) -> int:
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not 0 <= capacity <= MAX_CAPACITY:
        raise InvalidValue(
            N_("Capacity must be a whole number from 0 to %(maximum)s, not “%(value)s”."),
            value=capacity,
            maximum=MAX_CAPACITY,
        )
    return capacity


def valid_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidValue(
            N_("A partner's name must be 1 to %(maximum)s characters long."), maximum=MAX_NAME_LENGTH
        )
    return name


def valid_user(user_id: str) -> str:
    if not USER_ID.match(user_id or ""):
        raise InvalidValue(N_("“%(value)s” is not a Slack user id (such as U0123ABCD)."), value=user_id)
    return user_id


def valid_team(team_id: str) -> str:
    if not TEAM_ID.match(team_id or ""):
        raise InvalidValue(N_("“%(value)s” is not a Slack team id (such as T0123ABCD)."), value=team_id)
    return team_id
