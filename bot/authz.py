"""Authorisation: who may do what, decided in the domain layer with the actor passed in.

One table, `PERMISSIONS`, says for every action what each role may do. A cell is a `Scope`:

- `yes`: allowed, whatever the object;
- `own`: only on objects of the actor's own partner (originator control: re-sharing an item needs the
  partner it came from);
- `own+access`: on objects of the actor's own partner or of a partner that gave the actor's partner
  access (need to know: others see only that an item exists);
- `no`: never.

`docs/authorisation.md` holds the same table; tests/test_authz.py compares the two cell by cell so that
the document people read is the rule the code enforces.

Roles are ordered (member < coordinator < admin) and a higher role never has fewer rights than a lower
one; the coordinator is the partnership's (e.g. the RIEC's), not one partner's. The `SystemActor` is the
command line on the server (`samen partners import`): whoever runs it holds the database's credentials
and could change any row anyway, so it is not authorised here, only recorded in the audit log under its
own name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final, Union

from bot.i18n import N_
from bot.problems import Problem

if TYPE_CHECKING:
    from bot.partners.models import Member


class Role(StrEnum):
    MEMBER = "member"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


ROLE_ORDER: Final = (Role.MEMBER, Role.COORDINATOR, Role.ADMIN)


class Relation(StrEnum):
    """How the object of an action relates to the actor's partner."""

    OWN = "own"  # the object belongs to (originated with) the actor's own partner
    GIVEN_ACCESS = "given_access"  # another partner's object, shared with the actor's partner
    OTHER = "other"  # another partner's object, not shared


class Scope(StrEnum):
    YES = "yes"
    OWN = "own"
    OWN_OR_GIVEN_ACCESS = "own+access"
    NO = "no"

    def admits(self, relation: Relation | None) -> bool:
        if self is Scope.YES:
            return True
        if self is Scope.NO:
            return False
        if relation is None:
            # A scoped rule without an object is a programming error, not a refusal to show a person.
            raise ValueError(f"a rule scoped '{self.value}' needs the relation to the object")
        if self is Scope.OWN:
            return relation is Relation.OWN
        return relation in (Relation.OWN, Relation.GIVEN_ACCESS)


class Action(StrEnum):
    # Partners and members (issue 3)
    VIEW_PARTNERS = "view_partners"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_ADMINS = "manage_admins"
    MANAGE_PARTNERS = "manage_partners"
    SET_DUTY_CONTACTS = "set_duty_contacts"
    SET_CAPACITY = "set_capacity"
    IMPORT_PARTNERS = "import_partners"
    # The audit log
    VERIFY_AUDIT = "verify_audit"
    EXPORT_AUDIT = "export_audit"
    # Signals and cases
    REGISTER_SIGNAL = "register_signal"
    VIEW_SIGNAL_DETAILS = "view_signal_details"
    WEIGH_SIGNAL = "weigh_signal"
    GRANT_ACCESS = "grant_access"
    MANAGE_CASES = "manage_cases"
    JOIN_CASE = "join_case"
    SCORE_CASE = "score_case"
    MANAGE_CRITERIA = "manage_criteria"
    # Interventions
    CREATE_INTERVENTION = "create_intervention"
    OVERRIDE_CAPACITY = "override_capacity"
    OVERRIDE_SECOND_ROUND = "override_second_round"
    RECORD_LESSON = "record_lesson"
    UPDATE_INTERVENTION = "update_intervention"
    CLOSE_INTERVENTION = "close_intervention"
    VIEW_INTERVENTION_RESULT = "view_intervention_result"
    MANAGE_GOALS = "manage_goals"
    # Alignment moments
    PLAN_CHECKIN = "plan_checkin"
    CALL_ALIGNMENT = "call_alignment"
    ANSWER_CHECKIN = "answer_checkin"
    RECORD_AGREEMENT = "record_agreement"
    # Backup alerts (rugdekking)
    RAISE_BACKUP_ALERT = "raise_backup_alert"
    ACKNOWLEDGE_BACKUP_ALERT = "acknowledge_backup_alert"
    RECORD_SUPPORT_ACTION = "record_support_action"
    CLOSE_BACKUP_ALERT = "close_backup_alert"
    VIEW_BACKUP_ALERT_DETAILS = "view_backup_alert_details"
    # Reporting and operations
    VIEW_DIGEST = "view_digest"
    EXPORT_REPORT = "export_report"
    RETRY_OUTBOX = "retry_outbox"
    VIEW_OPERATIONS = "view_operations"
    # Privacy and security (issue 10)
    VIEW_RETENTION = "view_retention"


@dataclass(frozen=True)
class Rule:
    member: Scope
    coordinator: Scope
    admin: Scope

    def for_role(self, role: Role) -> Scope:
        return {Role.MEMBER: self.member, Role.COORDINATOR: self.coordinator, Role.ADMIN: self.admin}[role]


_Y, _O, _A, _N = Scope.YES, Scope.OWN, Scope.OWN_OR_GIVEN_ACCESS, Scope.NO

# Keep in step with docs/authorisation.md (a test compares them cell by cell).
PERMISSIONS: Final[dict[Action, Rule]] = {
    Action.VIEW_PARTNERS: Rule(_Y, _Y, _Y),
    Action.MANAGE_MEMBERS: Rule(_N, _Y, _Y),
    Action.MANAGE_ADMINS: Rule(_N, _N, _Y),
    Action.MANAGE_PARTNERS: Rule(_N, _Y, _Y),
    Action.SET_DUTY_CONTACTS: Rule(_N, _Y, _Y),
    Action.SET_CAPACITY: Rule(_N, _Y, _Y),
    Action.IMPORT_PARTNERS: Rule(_N, _N, _Y),
    Action.VERIFY_AUDIT: Rule(_N, _Y, _Y),
    Action.EXPORT_AUDIT: Rule(_N, _N, _Y),
    Action.REGISTER_SIGNAL: Rule(_Y, _Y, _Y),
    Action.VIEW_SIGNAL_DETAILS: Rule(_A, _A, _A),
    Action.WEIGH_SIGNAL: Rule(_N, _A, _A),
    Action.GRANT_ACCESS: Rule(_O, _O, _O),
    Action.MANAGE_CASES: Rule(_O, _A, _A),
    Action.JOIN_CASE: Rule(_Y, _Y, _Y),
    Action.SCORE_CASE: Rule(_A, _A, _A),
    Action.MANAGE_CRITERIA: Rule(_N, _Y, _Y),
    Action.CREATE_INTERVENTION: Rule(_A, _A, _A),
    Action.OVERRIDE_CAPACITY: Rule(_N, _Y, _Y),
    Action.OVERRIDE_SECOND_ROUND: Rule(_N, _Y, _Y),
    Action.RECORD_LESSON: Rule(_A, _A, _A),
    Action.UPDATE_INTERVENTION: Rule(_O, _Y, _Y),
    Action.CLOSE_INTERVENTION: Rule(_O, _Y, _Y),
    Action.VIEW_INTERVENTION_RESULT: Rule(_A, _A, _A),
    Action.MANAGE_GOALS: Rule(_O, _Y, _Y),
    Action.PLAN_CHECKIN: Rule(_N, _Y, _Y),
    Action.CALL_ALIGNMENT: Rule(_A, _A, _A),
    Action.ANSWER_CHECKIN: Rule(_Y, _Y, _Y),
    Action.RECORD_AGREEMENT: Rule(_Y, _Y, _Y),
    Action.RAISE_BACKUP_ALERT: Rule(_Y, _Y, _Y),
    Action.ACKNOWLEDGE_BACKUP_ALERT: Rule(_Y, _Y, _Y),
    Action.RECORD_SUPPORT_ACTION: Rule(_Y, _Y, _Y),
    Action.CLOSE_BACKUP_ALERT: Rule(_O, _Y, _Y),
    Action.VIEW_BACKUP_ALERT_DETAILS: Rule(_A, _Y, _Y),
    Action.VIEW_DIGEST: Rule(_Y, _Y, _Y),
    Action.EXPORT_REPORT: Rule(_N, _Y, _Y),
    Action.RETRY_OUTBOX: Rule(_N, _N, _Y),
    Action.VIEW_OPERATIONS: Rule(_N, _Y, _Y),
    Action.VIEW_RETENTION: Rule(_N, _Y, _Y),
}


@dataclass(frozen=True)
class SystemActor:
    """Samen itself or its command line, acting without a Slack person: e.g. `samen:cli`.

    It has the shape the audit log needs (`team_id`, `user_id`) so it can be recorded like a person.
    """

    name: str

    @property
    def team_id(self) -> str:
        return ""

    @property
    def user_id(self) -> str:
        return self.name


CLI_ACTOR: Final = SystemActor("samen:cli")

# Whoever acts: a member of the partnership, or Samen's own command line.
Principal = Union["Member", SystemActor]


class NotAllowed(Problem):
    """The actor's role (or relation to the object) does not allow the action.

    `message` is a message id (English, translated when shown) saying what is needed; `action`, `role`
    and `relation` say what was refused, for the log and for a caller that offers whom to ask.
    """

    def __init__(self, action: Action, role: Role, relation: Relation | None, message: str) -> None:
        super().__init__(message)
        # The exception's own text names the rule, not the message: for a test or a debugger.
        self.args = (f"{role.value} may not {action.value} ({relation.value if relation else '-'})",)
        self.action = action
        self.role = role
        self.relation = relation


def is_allowed(actor: Principal, action: Action, *, relation: Relation | None = None) -> bool:
    if isinstance(actor, SystemActor):
        return True
    return PERMISSIONS[action].for_role(Role(actor.role)).admits(relation)


def authorize(actor: Principal, action: Action, *, relation: Relation | None = None) -> None:
    """Return when `actor` may do `action` (on an object with this relation); raise NotAllowed otherwise."""
    if is_allowed(actor, action, relation=relation):
        return
    assert not isinstance(actor, SystemActor)
    role = Role(actor.role)
    raise NotAllowed(action, role, relation, _why_not(PERMISSIONS[action], role))


def _why_not(rule: Rule, role: Role) -> str:
    """The message id that tells the person what would allow it."""
    # The lowest role that may do it at all (for some objects, if scoped): whom to ask.
    lowest = next((r for r in ROLE_ORDER if rule.for_role(r) is not Scope.NO), None)
    own_role_scope = rule.for_role(role)
    if own_role_scope is Scope.OWN:
        return N_("Only your own partner may do this with this item: it came from another partner.")
    if own_role_scope is Scope.OWN_OR_GIVEN_ACCESS:
        return N_(
            "This item belongs to another partner that has not given your partner access. "
            "Ask that partner to share it with you."
        )
    if lowest is Role.COORDINATOR:
        return N_("Only a coordinator or an admin of the partnership may do this.")
    if lowest is Role.ADMIN:
        return N_("Only an admin of the partnership may do this.")
    return N_("Your role does not allow this.")


def relation_to(
    actor: Principal, owner_partner_id: int, *, shared_with: frozenset[int] = frozenset()
) -> Relation:
    """The relation of an object owned by `owner_partner_id` (and shared with those partners) to the actor."""
    if isinstance(actor, SystemActor):
        return Relation.OWN
    if actor.partner_id == owner_partner_id:
        return Relation.OWN
    if actor.partner_id in shared_with:
        return Relation.GIVEN_ACCESS
    return Relation.OTHER


def cli_actor() -> SystemActor:
    """The command line, with the operating-system account that ran it: the audit log's "who"."""
    import getpass

    try:
        account = getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return CLI_ACTOR
    return SystemActor(f"{CLI_ACTOR.name}:{account}"[:64])
