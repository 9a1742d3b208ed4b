"""Partners and members: the rules, with the actor passed in. Nothing here knows Slack.

Every change is authorised (bot.authz) and audited (bot.audit) in the caller's transaction, so a
refused or failed change leaves nothing behind, and a change that commits always has its log entry.
A change that changes nothing writes nothing, not even a log entry: running the same command or import
twice is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import case, delete, func, or_
from sqlmodel import Session, col, select

from bot import audit, clock
from bot.authz import Action, Principal, Role, authorize, is_allowed
from bot.i18n import N_
from bot.partners import rules
from bot.partners.models import DutyContact, Member, Partner, PartnerType, PersonRef
from bot.partners.rules import (
    CHANNEL_ID,
    MANAGING_ROLES,
    MAX_NAME_LENGTH,
    InvalidValue,
    MemberElsewhere,
    NotAMember,
    PartnerError,
    UnknownPartner,
)


class Change(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class MemberResult:
    member: Member
    change: Change
    fields: tuple[str, ...] = ()
    previous_partner_id: int | None = None


@dataclass
class PartnerOverview:
    """One partner with its people, for lists."""

    partner: Partner
    members: list[Member] = field(default_factory=list)
    duty_contacts: list[DutyContact] = field(default_factory=list)


# --- reading -------------------------------------------------------------------------------------


def find_member(session: Session, *, team_id: str, user_id: str) -> Member | None:
    return session.exec(select(Member).where(Member.team_id == team_id, Member.user_id == user_id)).first()


def require_member(session: Session, *, team_id: str, user_id: str) -> Member:
    member = find_member(session, team_id=team_id, user_id=user_id)
    if member is None:
        raise NotAMember(
            N_("%(person)s is not a member of the partnership."), person=PersonRef(team_id, user_id)
        )
    return member


def find_member_by_user(session: Session, *, user_id: str) -> Member | None:
    """A member by Slack user id alone: a mention in a message carries no team id.

    Slack user ids are unique across workspaces, so at most one member matches in practice; should two
    teams ever share one, nobody is guessed.
    """
    found = session.exec(select(Member).where(Member.user_id == user_id).limit(2)).all()
    return found[0] if len(found) == 1 else None


def get_partner(session: Session, *, partner_id: int) -> Partner:
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise UnknownPartner(N_("There is no partner with number %(partner_id)s."), partner_id=partner_id)
    return partner


def find_partner(session: Session, *, name: str) -> Partner | None:
    """A partner by name, case-insensitively (names are unique that way too)."""
    return session.exec(select(Partner).where(func.lower(Partner.name) == name.strip().lower())).first()


def require_partner(session: Session, *, name: str) -> Partner:
    partner = find_partner(session, name=name)
    if partner is None:
        known = ", ".join(p.name for p in list_partners(session)) or "-"
        raise UnknownPartner(
            N_("There is no partner called “%(name)s”. The partners are: %(known)s."), name=name, known=known
        )
    return partner


def list_partners(session: Session) -> list[Partner]:
    return list(session.exec(select(Partner).order_by(func.lower(Partner.name))).all())


def members_of(session: Session, *, partner_id: int) -> list[Member]:
    return list(
        session.exec(
            select(Member)
            .where(Member.partner_id == partner_id)
            .order_by(col(Member.created_at), col(Member.id))
        ).all()
    )


def duty_contacts(session: Session, *, partner_id: int) -> list[DutyContact]:
    return list(
        session.exec(
            select(DutyContact)
            .where(DutyContact.partner_id == partner_id)
            .order_by(col(DutyContact.position))
        ).all()
    )


def coordinators(session: Session) -> list[Member]:
    """The coordinators and admins of the partnership: whom to ask to be added, or for a change."""
    return list(
        session.exec(
            select(Member)
            .where(col(Member.role).in_(MANAGING_ROLES))
            # Coordinators first: they run the partnership day to day; admins look after Samen.
            .order_by(case((col(Member.role) == Role.COORDINATOR, 0), else_=1), col(Member.id))
        ).all()
    )


def reach_of(
    session: Session, *, actor: Principal, purpose: str
) -> dict[PersonRef, tuple[str | None, str | None]] | None:
    """How members are reached outside chat, (phone, email) per person, for coordinators and admins only
    (None for anyone else). Personal data: reading it is audited, with how many it showed."""
    if not is_allowed(actor, Action.MANAGE_MEMBERS):
        return None
    found = {
        member.person: (member.phone, member.email)
        for member in session.exec(
            select(Member).where(or_(col(Member.phone).is_not(None), col(Member.email).is_not(None)))
        ).all()
    }
    if found:
        audit.record(
            session,
            actor=actor,
            action="member.reach_viewed",
            object_type="member",
            object_id="*",
            purpose=purpose,
            details={"members": len(found)},
        )
    return found


def overview(session: Session) -> list[PartnerOverview]:
    return [
        PartnerOverview(
            partner=partner,
            members=members_of(session, partner_id=_id(partner)),
            duty_contacts=duty_contacts(session, partner_id=_id(partner)),
        )
        for partner in list_partners(session)
    ]


# --- changing ------------------------------------------------------------------------------------


def create_partner(
    session: Session,
    *,
    actor: Principal,
    name: str,
    partner_type: PartnerType,
    purpose: str,
    capacity: int = 0,
) -> Partner:
    actor = _begin_change(session, actor)
    authorize(actor, Action.MANAGE_PARTNERS)
    name = rules.valid_name(name)
    if find_partner(session, name=name) is not None:
        raise InvalidValue(N_("There is already a partner called “%(name)s”."), name=name)
    partner = Partner(name=name, type=partner_type, capacity=rules.valid_capacity(capacity))
    session.add(partner)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="partner.created",
        object_type="partner",
        object_id=_id(partner),
        purpose=purpose,
        details={"type": partner.type.value, "capacity": partner.capacity},
    )
    return partner


def update_partner(
    session: Session,
    *,
    actor: Principal,
    partner_id: int,
    purpose: str,
    name: str | None = None,
    partner_type: PartnerType | None = None,
) -> tuple[str, ...]:
    """Rename a partner or change its type; return the fields that changed."""
    actor = _begin_change(session, actor)
    authorize(actor, Action.MANAGE_PARTNERS)
    partner = get_partner(session, partner_id=partner_id)
    changed: list[str] = []
    if name is not None and rules.valid_name(name) != partner.name:
        other = find_partner(session, name=name)
        if other is not None and other.id != partner.id:
            raise InvalidValue(N_("There is already a partner called “%(name)s”."), name=name)
        partner.name = rules.valid_name(name)
        changed.append("name")
    if partner_type is not None and partner_type != partner.type:
        partner.type = partner_type
        changed.append("type")
    if changed:
        _touch(session, partner)
        audit.record(
            session,
            actor=actor,
            action="partner.updated",
            object_type="partner",
            object_id=partner_id,
            purpose=purpose,
            details={"fields": changed, "type": partner.type.value},
        )
    return tuple(changed)


def add_member(
    session: Session,
    *,
    actor: Principal,
    partner_id: int,
    team_id: str,
    user_id: str,
    purpose: str,
    role: Role | None = None,
    display_name: str | None = None,
    allow_move: bool = False,
) -> MemberResult:
    """Make a person a member of a partner with a role, or change their role.

    Without a role, a new member becomes a member and an existing one keeps theirs: adding a
    coordinator again must not quietly demote them.

    A person belongs to one partner. Someone already with another partner is refused unless
    `allow_move` (the partners file, which describes the whole partnership, moves people): moving a
    person changes which partner's items they see, which should never happen by a slip of the keyboard.
    A caller that moves people checks `broken_links` afterwards: a moved person may still be named as
    their old partner's duty contact or lead until the same import names others.
    """
    actor = _begin_change(session, actor)
    partner = get_partner(session, partner_id=partner_id)
    person = PersonRef(rules.valid_team(team_id), rules.valid_user(user_id))
    existing = find_member(session, team_id=team_id, user_id=user_id)
    was = existing.role if existing is not None else None
    role = role or was or Role.MEMBER
    # Making or unmaking an admin is an admin's decision: a coordinator cannot raise anyone above itself.
    touches_admin = (role is Role.ADMIN) != (was is Role.ADMIN)
    authorize(actor, Action.MANAGE_ADMINS if touches_admin else Action.MANAGE_MEMBERS)
    if display_name is not None:
        display_name = " ".join(display_name.split())[:MAX_NAME_LENGTH] or None

    if existing is None:
        member = Member(
            team_id=team_id, user_id=user_id, partner_id=partner_id, role=role, display_name=display_name
        )
        session.add(member)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="member.added",
            object_type="member",
            object_id=_person_id(person),
            purpose=purpose,
            details={"partner_id": partner_id, "role": role.value},
        )
        return MemberResult(member, Change.ADDED, ("partner_id", "role"))

    changed: list[str] = []
    previous_partner_id = existing.partner_id
    if existing.partner_id != partner_id:
        if not allow_move:
            old = get_partner(session, partner_id=existing.partner_id)
            raise MemberElsewhere(
                N_(
                    "%(person)s is already a member of %(partner)s. A person belongs to one partner: "
                    "remove them there first, then add them here."
                ),
                person=person,
                partner=old.name,
            )
        existing.partner_id = partner_id
        changed.append("partner_id")
    if existing.role != role:
        if existing.role in MANAGING_ROLES and role not in MANAGING_ROLES:
            rules.refuse_if_last_coordinator(session, existing)
        existing.role = role
        changed.append("role")
    if display_name is not None and display_name != existing.display_name:
        existing.display_name = display_name
        changed.append("display_name")
    if not changed:
        return MemberResult(existing, Change.UNCHANGED)
    session.add(existing)
    session.flush()
    details: dict[str, object] = {"fields": changed, "partner_id": partner.id, "role": existing.role.value}
    if "partner_id" in changed:
        details["previous_partner_id"] = previous_partner_id
    audit.record(
        session,
        actor=actor,
        action="member.updated",
        object_type="member",
        object_id=_person_id(person),
        purpose=purpose,
        details=details,
    )
    return MemberResult(existing, Change.UPDATED, tuple(changed), previous_partner_id)


def remove_member(session: Session, *, actor: Principal, team_id: str, user_id: str, purpose: str) -> Member:
    """Remove a person from the partnership; return the removed member (no longer in the database)."""
    actor = _begin_change(session, actor)
    member = find_member(session, team_id=team_id, user_id=user_id)
    if member is None:
        raise NotAMember(
            N_("%(person)s is not a member of the partnership, so there is nobody to remove."),
            person=PersonRef(team_id, user_id),
        )
    authorize(actor, Action.MANAGE_ADMINS if member.role is Role.ADMIN else Action.MANAGE_MEMBERS)
    if member.role in MANAGING_ROLES:
        rules.refuse_if_last_coordinator(session, member)
    rules.refuse_if_still_needed(session, member, get_partner(session, partner_id=member.partner_id))
    details = {"partner_id": member.partner_id, "role": member.role.value}
    session.delete(member)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="member.removed",
        object_type="member",
        object_id=_person_id(member.person),
        purpose=purpose,
        details=details,
    )
    return member


def set_reach(
    session: Session, *, actor: Principal, member: Member, purpose: str, **given: str | None
) -> tuple[str, ...]:
    """Set how a member is reached outside chat (`phone`, `email`: only those given; None clears one);
    return the fields that changed. The values are personal data: the audit entry names the fields,
    never what they hold. Checked by the caller (the partners file: E.164, an address)."""
    actor = _begin_change(session, actor)
    authorize(actor, Action.MANAGE_MEMBERS)
    changed = tuple(
        name for name in ("phone", "email") if name in given and getattr(member, name) != given[name]
    )
    if not changed:
        return ()
    for name in changed:
        setattr(member, name, given[name])
    session.add(member)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="member.reach_set",
        object_type="member",
        object_id=_person_id(member.person),
        purpose=purpose,
        details={"fields": list(changed), "cleared": [name for name in changed if given[name] is None]},
    )
    return changed


def set_duty_contacts(
    session: Session, *, actor: Principal, partner_id: int, contacts: Sequence[PersonRef], purpose: str
) -> bool:
    """Set a partner's duty contacts, first to reach first; return whether anything changed.

    Duty contacts must be members of that partner: in an emergency the partner's own people answer.
    """
    actor = _begin_change(session, actor)
    authorize(actor, Action.SET_DUTY_CONTACTS)
    partner = get_partner(session, partner_id=partner_id)
    wanted: list[PersonRef] = []
    for contact in contacts:
        if contact in wanted:
            continue  # named twice: once is enough
        member = find_member(session, team_id=contact.team_id, user_id=contact.user_id)
        if member is None or member.partner_id != partner_id:
            raise NotAMember(
                N_(
                    "%(person)s is not a member of %(partner)s; duty contacts must be. "
                    "Add them first with `/samen partner add-member`."
                ),
                person=contact,
                partner=partner.name,
            )
        wanted.append(PersonRef(contact.team_id, contact.user_id))
    current = [c.person for c in duty_contacts(session, partner_id=partner_id)]
    if current == wanted:
        return False
    session.execute(delete(DutyContact).where(col(DutyContact.partner_id) == partner_id))
    session.flush()
    for position, person in enumerate(wanted):
        session.add(
            DutyContact(
                partner_id=partner_id, position=position, team_id=person.team_id, user_id=person.user_id
            )
        )
    _touch(session, partner)
    audit.record(
        session,
        actor=actor,
        action="partner.duty_contacts_set",
        object_type="partner",
        object_id=partner_id,
        purpose=purpose,
        details={"contacts": [_person_id(p) for p in wanted]},
    )
    return True


def set_capacity(session: Session, *, actor: Principal, partner_id: int, capacity: int, purpose: str) -> bool:
    actor = _begin_change(session, actor)
    authorize(actor, Action.SET_CAPACITY)
    partner = get_partner(session, partner_id=partner_id)
    capacity = rules.valid_capacity(capacity)
    if partner.capacity == capacity:
        return False
    previous = partner.capacity
    partner.capacity = capacity
    _touch(session, partner)
    audit.record(
        session,
        actor=actor,
        action="partner.capacity_set",
        object_type="partner",
        object_id=partner_id,
        purpose=purpose,
        details={"from": previous, "to": capacity},
    )
    return True


def set_lead(
    session: Session, *, actor: Principal, partner_id: int, lead: PersonRef | None, purpose: str
) -> bool:
    """Set (or clear) the partner's lead, who must be one of its members."""
    actor = _begin_change(session, actor)
    authorize(actor, Action.MANAGE_PARTNERS)
    partner = get_partner(session, partner_id=partner_id)
    if lead is not None:
        member = find_member(session, team_id=lead.team_id, user_id=lead.user_id)
        if member is None or member.partner_id != partner_id:
            raise NotAMember(
                N_("%(person)s is not a member of %(partner)s, so cannot be its lead."),
                person=lead,
                partner=partner.name,
            )
    if partner.lead == lead:
        return False
    partner.lead_team_id = lead.team_id if lead else None
    partner.lead_user_id = lead.user_id if lead else None
    _touch(session, partner)
    audit.record(
        session,
        actor=actor,
        action="partner.lead_set",
        object_type="partner",
        object_id=partner_id,
        purpose=purpose,
        details={"lead": _person_id(lead) if lead else None},
    )
    return True


def set_alert_channel(
    session: Session, *, actor: Principal, partner_id: int, channel_id: str | None, purpose: str
) -> bool:
    """Set (or clear) the channel where the partner receives alerts such as a backup alert."""
    actor = _begin_change(session, actor)
    authorize(actor, Action.MANAGE_PARTNERS)
    partner = get_partner(session, partner_id=partner_id)
    if channel_id is not None and not CHANNEL_ID.match(channel_id):
        raise InvalidValue(N_("“%(value)s” is not a Slack channel id (such as C0123ABCD)."), value=channel_id)
    if partner.alert_channel_id == channel_id:
        return False
    partner.alert_channel_id = channel_id
    _touch(session, partner)
    audit.record(
        session,
        actor=actor,
        action="partner.alert_channel_set",
        object_type="partner",
        object_id=partner_id,
        purpose=purpose,
        details={"channel_id": channel_id},
    )
    return True


def broken_links(session: Session) -> list[PartnerError]:
    """Duty contacts and leads who are not (or no longer) members of their partner."""
    problems: list[PartnerError] = []
    for partner in list_partners(session):
        people = {m.person for m in members_of(session, partner_id=_id(partner))}
        for contact in duty_contacts(session, partner_id=_id(partner)):
            if contact.person not in people:
                problems.append(
                    NotAMember(
                        N_("%(person)s is a duty contact of %(partner)s but not one of its members."),
                        person=contact.person,
                        partner=partner.name,
                    )
                )
        if partner.lead is not None and partner.lead not in people:
            problems.append(
                NotAMember(
                    N_("%(person)s is the lead of %(partner)s but not one of its members."),
                    person=partner.lead,
                    partner=partner.name,
                )
            )
    return problems


def _begin_change(session: Session, actor: Principal) -> Principal:
    """Serialise with other audited changes, then read the actor's role as it is now.

    Two coordinators demoting each other at the same moment must not both succeed; and a coordinator
    who was just made a member may not finish a change they started as coordinator.
    """
    audit.lock_chain(session, refresh=True)
    if not isinstance(actor, Member):
        return actor
    current = session.exec(
        select(Member)
        .where(Member.team_id == actor.team_id, Member.user_id == actor.user_id)
        .execution_options(populate_existing=True)
    ).first()
    if current is None:
        raise NotAMember(N_("%(person)s is not a member of the partnership."), person=actor.person)
    return current


def _touch(session: Session, partner: Partner) -> None:
    partner.updated_at = clock.now(session)
    session.add(partner)
    session.flush()


def _id(partner: Partner) -> int:
    assert partner.id is not None, "a partner is flushed before it is used"
    return partner.id


def _person_id(person: PersonRef) -> str:
    return f"{person.team_id}/{person.user_id}"
