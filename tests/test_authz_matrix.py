"""The authorisation table, end to end: every action the features decide, for every role, on objects of
the actor's own partner, of another partner, of a partner that gave access, and as a coordinator —
decided by the real domain functions on a real database, compared with docs/authorisation.md.

tests/test_authz.py checks `authorize` against the document cell by cell; this file checks that each
feature asks `authorize` the right question: the right action, with the relation the document says the
object has to the actor ("What counts as own, given access and other" in docs/authorisation.md).

The partnership: the gemeente (A) owns every object; the OM (C) was given access to them (a shared
signal, a case it joined, an alert on which its people are duty contacts); the politie (B) was given
nothing. Each partner has a member, a coordinator and an admin. Every probe runs in a transaction
that is rolled back, so each starts from the same state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import Session
from test_authz import DOCUMENTED, expected_from_document

from bot.alerts import details as alert_details
from bot.alerts import service as alerts
from bot.alerts.models import Seriousness
from bot.alerts.problems import AlertError
from bot.authz import CLI_ACTOR, Action, NotAllowed, Relation, Role
from bot.cases import service as cases
from bot.checkins import alignment
from bot.clock import utcnow
from bot.interventions import goals
from bot.interventions import service as interventions
from bot.interventions.models import Intervention, InterventionStatus
from bot.operations import service as operations
from bot.partners import service as partners
from bot.partners.importer import import_partners
from bot.partners.models import Member, PersonRef
from bot.privacy import overview
from bot.runtime import Services
from bot.signals import cards
from bot.signals import registering as signals
from bot.signals.errors import SignalError
from bot.signals.models import Recency
from bot.signals.notices import Outbound
from bot.vocabulary import (
    Contribution,
    FocusElement,
    IncidentType,
    InstrumentType,
    SignalCategory,
    SubjectKind,
    SubjectRole,
)
from bot.weighing import service as weighing

TEAM = "T0SAMEN"
PARTNERS = {
    "A": ("Gemeente Breda", "GEMEENTE"),
    "B": ("Politie", "POLITIE"),
    "C": ("Openbaar Ministerie", "OM"),
}
ROLES = (Role.MEMBER, Role.COORDINATOR, Role.ADMIN)


def user(partner: str, role: Role) -> str:
    return f"U0{partner}{role.value[:3].upper()}001"


PARTNERSHIP = f"team: {TEAM}\npartners:\n" + "".join(
    f"  - name: {name}\n    type: {kind}\n    capacity: 20\n"
    + (f"    duty_contacts: [{', '.join(user('C', r) for r in ROLES)}]\n" if key == "C" else "")
    + "    members:\n"
    + "".join(f"      - {{user: {user(key, r)}, role: {r.value}}}\n" for r in ROLES)
    for key, (name, kind) in PARTNERS.items()
)


@dataclass
class Objects:
    shared_signal: int  # A's, shared with C, coordinators may see it
    private_signal: int  # A's, shared with nobody, not even the coordinators
    subject_code: str  # described by A in the shared signal
    case: int  # led by A, joined by C
    proposed: int  # A's intervention on the case, proposed (VOORGESTELD): owner A's member
    finished: int  # A's intervention, carried out, with a restricted result
    alert: int  # raised by A's member, every partner told; C's people are duty contacts
    partner_ids: dict[str, int]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Services, Objects]]:
    from conftest import make_settings

    from bot.db import make_engine, upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('matrix')}/samen.db"
    upgrade(url)
    services = Services.build(make_settings(url), engine=make_engine(url))
    settings = services.settings
    outbound = Outbound.of(settings)
    with services.session() as session:
        import_partners(session, actor=CLI_ACTOR, source=PARTNERSHIP, purpose="test: the matrix")
        ids = {
            key: int(partners.require_partner(session, name=name).id or 0)
            for key, (name, _) in PARTNERS.items()
        }
        a_member, a_coordinator = actor(session, "A", Role.MEMBER), actor(session, "A", Role.COORDINATOR)
        shared = signals.register(
            session,
            actor=a_member,
            data=signals.SignalInput(
                summary="Loods met busjes",
                category=SignalCategory.VASTGOED,
                new_subject=signals.SubjectInput(SubjectKind.LOCATIE, SubjectRole.BETROKKENE, "Loods 12"),
                details="details",
                shared_with=[ids["C"]],
            ),
            outbound=outbound,
        )
        private = signals.register(
            session,
            actor=a_member,
            data=signals.SignalInput(
                summary="Alleen voor de gemeente",
                category=SignalCategory.OVERIG,
                details="details",
                share_with_coordinators=False,
            ),
            outbound=outbound,
        )
        for_case = signals.register(
            session,
            actor=a_member,
            data=signals.SignalInput(summary="Woning", category=SignalCategory.DRUGS, details="d"),
            outbound=outbound,
        )
        weighed = weighing.weigh(
            session,
            actor=a_coordinator,
            signal_id=int(for_case.signal.id or 0),
            data=weighing.WeighingInput(
                verdict=cards.Verdict.JA,
                verdict_reason="r",
                task_partner_id=ids["A"],
                legal_basis="art. 13b Opiumwet",
                task_reason="r",
                seriousness=3,
                recency=Recency.MAAND,
                seriousness_reason="r",
                outcome=cards.Outcome.CASUS,
                outcome_reason="r",
                case_focus=FocusElement.OPROLLEN,
            ),
            outbound=outbound,
        )
        case_id = int(weighed.case_id or 0)
        cases.join(
            session,
            actor=actor(session, "C", Role.MEMBER),
            case_id=case_id,
            contribution=Contribution.INFORMATIEPOSITIE,
            outbound=outbound,
        )
        made = [
            interventions.create(
                session,
                actor=a_member,
                draft=draft(case_id, ids["A"], a_member.person, name),
                settings=settings,
            ).intervention
            for name in ("Sluiting pand", "Bibob-toets")
        ]
        finished = int(made[1].id or 0)
        interventions.advance(
            session,
            actor=a_member,
            intervention_id=finished,
            to=InterventionStatus.TOEGEZEGD,
            settings=settings,
            second_round_override="t",
        )
        interventions.finish(
            session,
            actor=a_member,
            intervention_id=finished,
            settings=settings,
            result="resultaat",
            effect="effect",
            second_round_override="t",
        )
        raised = alerts.raise_alert(
            session,
            actor=a_member,
            request=alerts.RaiseRequest(
                IncidentType.INTIMIDATIE, Seriousness.MIDDEN, "test:matrix", description="d"
            ),
            settings=settings,
        )
        objects = Objects(
            shared_signal=int(shared.signal.id or 0),
            private_signal=int(private.signal.id or 0),
            subject_code=shared.card.subjects[0].code,
            case=case_id,
            proposed=int(made[0].id or 0),
            finished=finished,
            alert=int(raised.alert.id or 0),
            partner_ids=ids,
        )
    yield services, objects
    services.engine.dispose()


def actor(session: Session, partner: str, role: Role) -> Member:
    return partners.require_member(session, team_id=TEAM, user_id=user(partner, role))


def draft(case_id: int, partner_id: int, owner: PersonRef, name: str) -> interventions.Draft:
    return interventions.Draft(
        case_id=case_id,
        instrument_type=InstrumentType.BESTUURSRECHTELIJK,
        instrument=name,
        focus_element=FocusElement.OPROLLEN,
        owner_partner_id=partner_id,
        owner=owner,
    )


# -- what counts as own, given access and other (docs/authorisation.md) ---------------------------------


def documented_relation(kind: str, partner: str, role: Role) -> Relation:
    """The relation of A's object of this kind to an actor of `partner` with `role`, as documented."""
    managing = role in (Role.COORDINATOR, Role.ADMIN)
    if kind == "intervention owner":  # finishing, calling off: "own" is the owner person (A's member)
        return Relation.OWN if (partner, role) == ("A", Role.MEMBER) else Relation.OTHER
    if partner == "A":
        return Relation.OWN
    if kind in ("partner", "intervention partner", "alert reporter"):  # own partner or not: nothing shared
        return Relation.OTHER
    if kind == "signal":  # shared with C; the coordinators may see it (the reporter did not opt out)
        return Relation.GIVEN_ACCESS if partner == "C" or managing else Relation.OTHER
    if kind == "private signal":  # shared with nobody, coordinators excluded
        return Relation.OTHER
    if kind in ("case", "intervention"):  # C joined the case; the coordinators keep the work queue
        return Relation.GIVEN_ACCESS if partner == "C" or managing else Relation.OTHER
    if kind == "alert details":  # C's people are duty contacts
        return Relation.GIVEN_ACCESS if partner == "C" else Relation.OTHER
    if kind == "subject":  # the partners that have something on it; coordinators call for all
        return Relation.GIVEN_ACCESS if managing else Relation.OTHER
    raise AssertionError(kind)


# -- the probes: one real domain call per action -----------------------------------------------------------

Probe = Callable[[Session, Member, Objects, Services], Any]


def allowed_by(result: Any) -> bool:
    return bool(result) if isinstance(result, bool) else True


NOBODY_TO_ASK = "There is nobody to ask: no other partner has anything on %(code)s yet."


def call_alignment(session: Session, actor: Any, objects: Objects, services: Services) -> None:
    """Only partner A holds the world's subject, so an allowed call gets past authorisation and then
    finds nobody to ask: that refusal comes after the decision this matrix tests."""
    try:
        alignment.call(
            session,
            actor=actor,
            code=objects.subject_code,
            topic=None,
            settings=services.settings,
            language="nl",
        )
    except alignment.CheckinError as refused:
        if refused.message != NOBODY_TO_ASK:
            raise


PROBES: dict[Action, tuple[str | None, Probe]] = {
    Action.VIEW_SIGNAL_DETAILS: (
        "signal",
        lambda s, a, o, sv: cards.detail(s, actor=a, signal_id=o.shared_signal, purpose="t").may_see,
    ),
    Action.WEIGH_SIGNAL: (
        "signal",
        lambda s, a, o, sv: weighing.weighing_form(s, actor=a, signal_id=o.shared_signal, purpose="t"),
    ),
    Action.GRANT_ACCESS: (
        "signal",
        lambda s, a, o, sv: signals.grant_access(
            s,
            actor=a,
            signal_id=o.shared_signal,
            partner_id=o.partner_ids["B"],
            outbound=Outbound.of(sv.settings),
        ),
    ),
    Action.CALL_ALIGNMENT: (
        "subject",
        lambda s, a, o, sv: call_alignment(s, a, o, sv),
    ),
    Action.SCORE_CASE: ("case", lambda s, a, o, sv: cases.score(s, actor=a, case_id=o.case, scores={})),
    Action.CREATE_INTERVENTION: (
        "case",
        lambda s, a, o, sv: interventions.create(
            s, actor=a, draft=draft(o.case, a.partner_id, a.person, "Nieuw"), settings=sv.settings
        ),
    ),
    Action.UPDATE_INTERVENTION: (
        "intervention partner",
        lambda s, a, o, sv: interventions.advance(
            s, actor=a, intervention_id=o.proposed, to=InterventionStatus.TOEGEZEGD, settings=sv.settings
        ),
    ),
    Action.CLOSE_INTERVENTION: (
        "intervention owner",
        lambda s, a, o, sv: interventions.cancel(
            s, actor=a, intervention_id=o.proposed, reason="test", settings=sv.settings
        ),
    ),
    Action.VIEW_INTERVENTION_RESULT: (
        "intervention",
        lambda s, a, o, sv: (
            interventions.read_result(s, actor=a, intervention=s.get(Intervention, o.finished)) is not None
        ),
    ),
    Action.MANAGE_GOALS: (
        "partner",
        lambda s, a, o, sv: goals.add_goal(
            s,
            actor=a,
            partner_id=o.partner_ids["A"],
            focus_element=FocusElement.AFPAKKEN,
            description="Naheffen bij 10 sleutelpersonen",
            target=10,
        ),
    ),
    Action.CLOSE_BACKUP_ALERT: (
        "alert reporter",
        lambda s, a, o, sv: alerts.close_form(s, actor=a, alert_id=o.alert),
    ),
    Action.VIEW_BACKUP_ALERT_DETAILS: (
        "alert details",
        lambda s, a, o, sv: alert_details.view_details(s, actor=a, alert_id=o.alert),
    ),
    # Role-only actions: the object does not matter.
    Action.REGISTER_SIGNAL: (
        None,
        lambda s, a, o, sv: signals.register(
            s,
            actor=a,
            data=signals.SignalInput(summary="Iets", category=SignalCategory.OVERIG),
            outbound=Outbound.of(sv.settings),
        ),
    ),
    Action.JOIN_CASE: (
        None,
        lambda s, a, o, sv: cases.join(
            s,
            actor=a,
            case_id=o.case,
            contribution=Contribution.SLAGKRACHT,
            outbound=Outbound.of(sv.settings),
        ),
    ),
    Action.MANAGE_CRITERIA: (
        None,
        lambda s, a, o, sv: cases.set_criterion(s, actor=a, name="Ernst", weight=2, scale_max=5),
    ),
    Action.MANAGE_MEMBERS: (
        None,
        lambda s, a, o, sv: partners.add_member(
            s, actor=a, partner_id=o.partner_ids["B"], team_id=TEAM, user_id="U0NEWBIE01", purpose="t"
        ),
    ),
    Action.MANAGE_ADMINS: (
        None,
        lambda s, a, o, sv: partners.add_member(
            s,
            actor=a,
            partner_id=o.partner_ids["B"],
            team_id=TEAM,
            user_id="U0NEWADM01",
            purpose="t",
            role=Role.ADMIN,
        ),
    ),
    Action.MANAGE_PARTNERS: (
        None,
        lambda s, a, o, sv: partners.update_partner(
            s, actor=a, partner_id=o.partner_ids["B"], purpose="t", name="Politie ZWB"
        ),
    ),
    Action.SET_CAPACITY: (
        None,
        lambda s, a, o, sv: partners.set_capacity(
            s, actor=a, partner_id=o.partner_ids["B"], capacity=3, purpose="t"
        ),
    ),
    Action.SET_DUTY_CONTACTS: (
        None,
        lambda s, a, o, sv: partners.set_duty_contacts(
            s,
            actor=a,
            partner_id=o.partner_ids["B"],
            contacts=[PersonRef(TEAM, user("B", Role.MEMBER))],
            purpose="t",
        ),
    ),
    Action.RAISE_BACKUP_ALERT: (
        None,
        lambda s, a, o, sv: alerts.raise_alert(
            s,
            actor=a,
            request=alerts.RaiseRequest(IncidentType.ONLINE, Seriousness.LAAG, f"test:{a.user_id}"),
            settings=sv.settings,
        ),
    ),
    Action.ACKNOWLEDGE_BACKUP_ALERT: (
        None,
        lambda s, a, o, sv: alerts.acknowledge(s, actor=a, alert_id=o.alert, settings=sv.settings),
    ),
    Action.VIEW_OPERATIONS: (None, lambda s, a, o, sv: operations.status(s, actor=a, settings=sv.settings)),
    Action.VIEW_RETENTION: (
        None,
        lambda s, a, o, sv: overview.overview(s, actor=a, settings=sv.settings, now=utcnow()).may_see_due,
    ),
}


def decide(services: Services, objects: Objects, action: Action, partner: str, role: Role) -> bool:
    """Run the probe in a transaction that is rolled back; True unless authorisation refused it."""
    _kind, probe = PROBES[action]
    session = Session(services.engine, expire_on_commit=False)
    try:
        who = actor(session, partner, role)
        try:
            return allowed_by(probe(session, who, objects, services))
        except NotAllowed:
            return False
        except interventions.NotOwner:  # closing someone else's intervention: refused with whose it is
            return False
        except (SignalError, cases.InvalidInput, interventions.InterventionError, AlertError):
            return True  # past the authorisation: a rule of the feature itself said no
        except partners.PartnerError:
            return True
    finally:
        session.rollback()
        session.close()


CASES = [
    pytest.param(action, partner, role, id=f"{action.name}-{partner}-{role.value}")
    for action in PROBES
    for partner in ("A", "B", "C")
    for role in ROLES
]


@pytest.mark.parametrize(("action", "partner", "role"), CASES)
def test_the_domain_decides_as_the_table_says(
    world: tuple[Services, Objects], action: Action, partner: str, role: Role
) -> None:
    services, objects = world
    kind, _probe = PROBES[action]
    relation = documented_relation(kind, partner, role) if kind else None
    expected = expected_from_document(DOCUMENTED[action.name][role.value], relation)
    assert expected is not None
    where = {"A": "own partner's", "B": "another partner's", "C": "a partner's that gave access"}[partner]
    assert decide(services, objects, action, partner, role) is expected, (
        f"{action.name} by a {role.value} on {where} {kind or 'anything'} ({relation}): the table says "
        f"{'allowed' if expected else 'refused'}"
    )


def test_every_action_a_feature_decides_is_probed() -> None:
    """Actions left out here are decided by the command line, or only inside another action's flow."""
    elsewhere = {
        Action.VIEW_PARTNERS,  # a list everyone sees; no check in the domain
        Action.IMPORT_PARTNERS,  # the command line (system actor)
        Action.VERIFY_AUDIT,  # the command line
        Action.EXPORT_AUDIT,  # the command line
        Action.MANAGE_CASES,  # checked while a weighing makes a case (signals.weigh)
        Action.OVERRIDE_CAPACITY,  # inside advance/create, when a limit is reached
        Action.OVERRIDE_SECOND_ROUND,  # inside advance, when round 2 is missing
        Action.RECORD_LESSON,  # inside finish, after CLOSE_INTERVENTION
        Action.RECORD_SUPPORT_ACTION,  # needs an open alert the actor's partner is on
        Action.PLAN_CHECKIN,  # tests/test_checkins.py
        Action.ANSWER_CHECKIN,  # tests/test_checkins.py
        Action.RECORD_AGREEMENT,  # tests/test_checkins.py
        Action.VIEW_DIGEST,  # tests/test_digest.py
        Action.EXPORT_REPORT,  # tests/test_digest.py
        Action.RETRY_OUTBOX,  # the command line
    }
    missing = set(Action) - set(PROBES) - elsewhere
    assert not missing, f"actions without a probe in the end-to-end matrix: {sorted(a.name for a in missing)}"


def test_the_matrix_covers_all_four_relations() -> None:
    seen = {
        documented_relation(kind, partner, role)
        for kind, _ in PROBES.values()
        if kind
        for partner in ("A", "B", "C")
        for role in ROLES
    }
    assert seen == {Relation.OWN, Relation.OTHER, Relation.GIVEN_ACCESS}
    # … and "as a coordinator": another partner's shared-with-coordinators signal, for B's coordinator.
    assert documented_relation("signal", "B", Role.COORDINATOR) is Relation.GIVEN_ACCESS
    assert documented_relation("signal", "B", Role.MEMBER) is Relation.OTHER
