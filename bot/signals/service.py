"""Signals: register, match (hit/no-hit), weigh, look up, share. Nothing here knows Slack.

Need to know (docs/domain.md rules 1–3): a signal's summary, category and subject codes may be seen by the
whole partnership (the summary only after personal data was taken out of it); its details, the
identities of its subjects, the message it came from and the weighing's reasons only by the
originating partner, the partners it gave access, and the coordinators unless the reporter chose
otherwise. Every read of those is audited with its purpose; every change is authorised and audited in
the caller's transaction, with the notices it causes queued in the outbox in that same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import or_, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from bot import audit, clock, pii
from bot.authz import Action, Principal, Relation, Role, SystemActor, authorize, is_allowed, relation_to
from bot.calendar import local_date
from bot.i18n import N_
from bot.partners import service as partners
from bot.partners.models import Partner, PersonRef
from bot.signals import notices
from bot.signals import search as signal_search
from bot.signals.models import (
    Assessment,
    Recency,
    Signal,
    SignalAccess,
    SignalStatus,
    SignalSubject,
    WeighingStep,
)
from bot.signals.notices import Outbound
from bot.subjects import codes as subjects
from bot.subjects.holders import holders as partner_holders
from bot.subjects.models import Subject
from bot.vocabulary import (
    CATEGORY_LABELS,
    FOCUS_LABELS,
    SUBJECT_KIND_LABELS,
    SUBJECT_ROLE_LABELS,
    FocusElement,
    SignalCategory,
    SubjectKind,
    SubjectRole,
)

MAX_SUMMARY: Final = 300
MAX_LOCATION: Final = 200
MAX_DETAILS: Final = 3000
MAX_IDENTITY: Final = 500
MAX_REASON: Final = 1000
MAX_LEGAL_BASIS: Final = 200
MAX_CODES: Final = 10
SEARCH_LIMIT: Final = 15
HOME_LIMIT: Final = 5
MANAGING_ROLES: Final = (Role.COORDINATOR, Role.ADMIN)
CLOSED: Final = (SignalStatus.GEEN_ACTIE, SignalStatus.DOORVERWEZEN, SignalStatus.CASUS)

STATUS_LABELS: Final[dict[SignalStatus, str]] = {
    SignalStatus.NIEUW: N_("new, not yet weighed"),
    SignalStatus.IN_WEGING: N_("being weighed"),
    SignalStatus.GEEN_ACTIE: N_("weighed, no action"),
    SignalStatus.DOORVERWEZEN: N_("weighed, referred"),
    SignalStatus.CASUS: N_("weighed, now a case"),
}

RECENCY_LABELS: Final[dict[Recency, str]] = {
    Recency.WEEK: N_("within the last week"),
    Recency.MAAND: N_("within the last month"),
    Recency.JAAR: N_("within the last year"),
    Recency.OUDER: N_("longer ago"),
}

STEP_LABELS: Final[dict[WeighingStep, str]] = {
    WeighingStep.ONDERMIJNING: N_("Is it ondermijning?"),
    WeighingStep.TAAK: N_("Whose task, on what legal basis?"),
    WeighingStep.ERNST: N_("How serious, how recent?"),
    WeighingStep.UITKOMST: N_("Outcome of the weighing"),
}


class Verdict(StrEnum):
    """The answer to "is it ondermijning?"."""

    JA = "ja"
    NEE = "nee"
    TWIJFEL = "twijfel"


VERDICT_LABELS: Final[dict[Verdict, str]] = {
    Verdict.JA: N_("yes, ondermijning"),
    Verdict.NEE: N_("no, not ondermijning"),
    Verdict.TWIJFEL: N_("in doubt"),
}


class Outcome(StrEnum):
    GEEN_ACTIE = "GEEN_ACTIE"
    DOORVERWIJZEN = "DOORVERWIJZEN"
    CASUS = "CASUS"


OUTCOME_LABELS: Final[dict[Outcome, str]] = {
    Outcome.GEEN_ACTIE: N_("No action"),
    Outcome.DOORVERWIJZEN: N_("Refer to a partner"),
    Outcome.CASUS: N_("Make it a case"),
}
OUTCOME_STATUS: Final[dict[Outcome, SignalStatus]] = {
    Outcome.GEEN_ACTIE: SignalStatus.GEEN_ACTIE,
    Outcome.DOORVERWIJZEN: SignalStatus.DOORVERWEZEN,
    Outcome.CASUS: SignalStatus.CASUS,
}


# --- errors ---------------------------------------------------------------------------------------


class SignalError(Exception):
    """A problem the person can fix. `message` is a message id, `values` fill it; `field` names the
    modal field it is about (a block id), if any."""

    def __init__(self, message: str, *, field: str | None = None, **values: object) -> None:
        super().__init__(message % values if values else message)
        self.message = message
        self.field = field
        self.values = values


class InvalidInput(SignalError):
    pass


class NotFound(SignalError):
    pass


class AlreadyWeighed(SignalError):
    pass


# --- what people see ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectRef:
    """A subject as channels show it: its code, kind and role."""

    code: str
    kind: str
    kind_label: str
    role: str
    role_label: str
    new: bool = False


@dataclass(frozen=True)
class SignalCard:
    """What the whole partnership may see of a signal (plain JSON, so it can ride in an outbox row)."""

    id: int
    partner: str
    category: str
    category_label: str
    focus_label: str | None
    status: str
    status_label: str
    summary: str
    location: str | None
    subjects: list[SubjectRef]
    case_id: int | None = None
    referred_to: str | None = None

    def as_context(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AssessmentView:
    step: str
    step_label: str
    answer_label: str
    extra_label: str | None  # the recency, for the ERNST step
    recency: str | None
    answer: str
    legal_basis: str | None
    reason: str
    by_user_id: str
    at: datetime


@dataclass
class SignalDetail:
    """One signal for one person: the card, and the restricted part when they may see it."""

    card: SignalCard
    created_at: datetime
    may_see: bool
    own: bool
    details: str | None = None
    kept_out: dict[str, str] = field(default_factory=dict)
    permalink: str | None = None
    reporter_user_id: str | None = None
    shared_with: list[str] = field(default_factory=list)
    share_with_coordinators: bool = True
    assessments: list[AssessmentView] = field(default_factory=list)
    identities: dict[str, str] = field(default_factory=dict)  # code → identity, where it may be seen
    may_weigh: bool = False


@dataclass(frozen=True)
class Match:
    """A hit: another partner already has something on a subject this signal is about."""

    code: str
    partners: tuple[str, ...]  # the other partners that have something on it


@dataclass
class Registered:
    signal: Signal
    card: SignalCard
    kept_out: dict[pii.Kind, int]
    matches: list[Match]
    duplicate: bool = False


@dataclass
class SubjectInput:
    """A new subject described in the registration: its kind, its role, and who or what it is."""

    kind: SubjectKind
    role: SubjectRole
    identity: str | None


@dataclass
class SignalInput:
    summary: str
    category: SignalCategory | None
    subject_codes: str = ""  # as typed: codes separated by commas or spaces
    role: SubjectRole = SubjectRole.BETROKKENE  # the role of the subjects in this signal
    new_subject: SubjectInput | None = None
    new_subject_incomplete: bool = False  # a description or role was given without a kind
    location_or_sector: str | None = None
    focus_element: FocusElement | None = None
    details: str | None = None
    shared_with: Sequence[int] = ()  # partner ids given access besides the own partner
    share_with_coordinators: bool = True
    source_permalink: str | None = None
    submission_key: str | None = None  # the modal's view id: a second submission registers nothing


# --- access ---------------------------------------------------------------------------------------


def access_partner_ids(session: Session, signal_id: int) -> frozenset[int]:
    return frozenset(
        session.exec(select(SignalAccess.partner_id).where(SignalAccess.signal_id == signal_id)).all()
    )


def signal_relation(session: Session, actor: Principal, signal: Signal) -> Relation:
    """OWN for the originating partner; GIVEN_ACCESS for partners it shared with and, unless the reporter
    chose otherwise, the coordinators; OTHER for everyone else."""
    assert signal.id is not None
    relation = relation_to(actor, signal.partner_id, shared_with=access_partner_ids(session, signal.id))
    coordinator = not isinstance(actor, SystemActor) and Role(actor.role) in MANAGING_ROLES
    if relation is Relation.OTHER and signal.share_with_coordinators and coordinator:
        return Relation.GIVEN_ACCESS
    return relation


def may_see_details(session: Session, actor: Principal, signal: Signal) -> bool:
    return is_allowed(actor, Action.VIEW_SIGNAL_DETAILS, relation=signal_relation(session, actor, signal))


def subject_relation(session: Session, actor: Principal, subject: Subject) -> Relation:
    """Who or what a subject is was told by the partner that described it, in one of its signals:
    whoever may see the details of such a signal may see the identity too."""
    if isinstance(actor, SystemActor) or actor.partner_id == subject.partner_id:
        return Relation.OWN
    for signal in signals_on(session, subject_id=_id(subject), partner_id=subject.partner_id):
        if signal_relation(session, actor, signal) is not Relation.OTHER:
            return Relation.GIVEN_ACCESS
    return Relation.OTHER


# --- registering ----------------------------------------------------------------------------------


def register(session: Session, *, actor: Principal, data: SignalInput, outbound: Outbound) -> Registered:
    """Register a signal; queue its message to the partnership and any match notices."""
    authorize(actor, Action.REGISTER_SIGNAL)
    if isinstance(actor, SystemActor):
        raise InvalidInput(N_("A signal is registered by a member of the partnership."))
    if data.submission_key:
        earlier = session.exec(select(Signal).where(Signal.submission_key == data.submission_key)).first()
        if earlier is not None:
            return Registered(earlier, card(session, earlier), {}, [], duplicate=True)

    summary = _valid_summary(data.summary)
    if data.category is None:
        raise InvalidInput(N_("Choose a category."), field="category")
    existing = _existing_subjects(session, data.subject_codes)
    if data.new_subject_incomplete:
        raise InvalidInput(
            N_("Choose what kind of subject you describe: a person, company, location or network."),
            field="new_kind",
        )
    identity = _optional_text(
        data.new_subject.identity if data.new_subject else None, MAX_IDENTITY, "new_identity"
    )
    location = _optional_text(data.location_or_sector, MAX_LOCATION, "location")
    details = _optional_text(data.details, MAX_DETAILS, "details")
    shared_with = _valid_partners(session, data.shared_with, own=actor.partner_id)

    shown_summary = pii.clean(summary)
    shown_location = pii.clean(location) if location else None
    kept_out: dict[str, str] = {}
    if shown_summary.changed:
        kept_out["summary"] = summary
    if shown_location is not None and shown_location.changed:
        kept_out["location_or_sector"] = location or ""
    signal = Signal(
        summary=shown_summary.shown[:MAX_SUMMARY],
        category=data.category,
        focus_element=data.focus_element,
        location_or_sector=shown_location.shown[:MAX_LOCATION] if shown_location else None,
        details=details,
        source_permalink=(data.source_permalink or None),
        kept_out=json.dumps(kept_out, ensure_ascii=False) if kept_out else None,
        partner_id=actor.partner_id,
        reporter_team_id=actor.team_id,
        reporter_user_id=actor.user_id,
        share_with_coordinators=data.share_with_coordinators,
        submission_key=data.submission_key,
    )
    try:
        with session.begin_nested():
            session.add(signal)
            session.flush()
    except IntegrityError:
        # The same modal submitted twice at the same moment: the other request registered it.
        earlier = session.exec(select(Signal).where(Signal.submission_key == data.submission_key)).first()
        if earlier is None:
            raise
        return Registered(earlier, card(session, earlier), {}, [], duplicate=True)
    signal_id = _id(signal)

    linked: list[tuple[Subject, bool]] = []
    for subject in existing:
        if data.role is not SubjectRole.BETROKKENE and subject.role is SubjectRole.BETROKKENE:
            subject.role = data.role  # a sharper role refines a subject that was only "involved"
            session.add(subject)
        linked.append((subject, False))
    if data.new_subject is not None:
        new = Subject(
            code="",
            kind=data.new_subject.kind,
            role=data.new_subject.role,
            identity=identity,
            partner_id=actor.partner_id,
            created_by_team_id=actor.team_id,
            created_by_user_id=actor.user_id,
        )
        subjects.add_with_new_code(session, new, year=local_date(clock.now(session), outbound.timezone).year)
        linked.append((new, True))
    for subject, is_new in linked:
        role = data.new_subject.role if is_new and data.new_subject else data.role
        session.add(SignalSubject(signal_id=signal_id, subject_id=_id(subject), role=role))
    for partner_id in shared_with:
        session.add(SignalAccess(signal_id=signal_id, partner_id=partner_id))
    session.flush()

    found = list(shown_summary.findings) + (list(shown_location.findings) if shown_location else [])
    kept_counts = pii.counts(found)
    audit.record(
        session,
        actor=actor,
        action="signal.registered",
        object_type="signal",
        object_id=signal_id,
        purpose="registering a signal",
        details={
            "partner_id": actor.partner_id,
            "category": data.category.value,
            "subjects": [s.code for s, _ in linked],
            "new_subjects": [s.code for s, is_new in linked if is_new],
            "shared_with": sorted(shared_with),
            "share_with_coordinators": data.share_with_coordinators,
            "personal_data_kept_out": {kind.value: n for kind, n in kept_counts.items()},
        },
    )
    shown = card(session, signal, new_codes={s.code for s, is_new in linked if is_new})
    _announce(session, outbound, signal, shown)
    matches = _notify_matches(session, outbound, signal, [s for s, is_new in linked if not is_new])
    return Registered(signal, shown, kept_counts, matches)


def _valid_summary(text: str | None) -> str:
    summary = " ".join((text or "").split())
    if not summary:
        raise InvalidInput(N_("Write a short summary: what did you see?"), field="summary")
    if len(summary) > MAX_SUMMARY:
        raise InvalidInput(
            N_(
                "The summary is %(length)s characters long; keep it under %(maximum)s and put the rest "
                "in the details."
            ),
            field="summary",
            length=len(summary),
            maximum=MAX_SUMMARY,
        )
    return summary


def _optional_text(text: str | None, maximum: int, field_name: str) -> str | None:
    value = (text or "").strip()
    if not value:
        return None
    if len(value) > maximum:
        raise InvalidInput(
            N_("This is %(length)s characters long; the most is %(maximum)s."),
            field=field_name,
            length=len(value),
            maximum=maximum,
        )
    return value


def _existing_subjects(session: Session, typed: str) -> list[Subject]:
    words = [w for w in typed.replace(",", " ").replace(";", " ").split() if w]
    if len(words) > MAX_CODES:
        raise InvalidInput(
            N_("Name at most %(maximum)s subject codes in one signal."),
            field="subject_codes",
            maximum=MAX_CODES,
        )
    found: list[Subject] = []
    for word in words:
        code = subjects.normalise(word)
        if code is None:
            raise InvalidInput(
                N_("“%(word)s” is not a subject code; a code looks like S-2026-0042."),
                field="subject_codes",
                word=word[:40],
            )
        subject = subjects.find(session, code)
        if subject is None:
            raise InvalidInput(
                N_("%(code)s is not a known subject code. Check it, or describe a new subject below."),
                field="subject_codes",
                code=code,
            )
        if subject not in found:
            found.append(subject)
    return found


def _valid_partners(session: Session, partner_ids: Sequence[int], *, own: int) -> set[int]:
    valid: set[int] = set()
    for partner_id in partner_ids:
        if session.get(Partner, partner_id) is None:
            raise InvalidInput(
                N_("There is no partner with number %(partner_id)s."), field="share", partner_id=partner_id
            )
        if partner_id != own:
            valid.add(partner_id)
    return valid


def message_key(signal_id: int) -> str:
    return f"signal:{signal_id}:message"


def _announce(session: Session, outbound: Outbound, signal: Signal, shown: SignalCard) -> None:
    """The signal's message: in the partnership channel, else to each coordinator, with its weigh button."""
    context = {"signal": shown.as_context()}
    ref = f"signal:{_id(signal)}"
    if outbound.channel:
        signal.message_channel = outbound.channel
        session.add(signal)
        notices.to_channel(
            session,
            outbound,
            key=message_key(_id(signal)),
            channel=outbound.channel,
            template="signal_message.json.j2",
            context=context,
            ref=ref,
        )
        return
    for person in notices.coordinator_people(session):
        notices.to_person(
            session,
            outbound,
            key=f"{message_key(_id(signal))}:{notices.person_key(person)}",
            person=person,
            template="signal_message.json.j2",
            context=context,
            ref=ref,
        )


def _notify_matches(
    session: Session, outbound: Outbound, signal: Signal, existing: list[Subject]
) -> list[Match]:
    """Hit/no-hit: for each subject another partner already has something on, tell the coordinators and
    the reporters of both partners: codes and partner names, never the other partner's content."""
    matches: list[Match] = []
    for subject in existing:
        holders = partner_holders(session, subject_id=_id(subject))
        others = [p for p in holders if p != signal.partner_id]
        if not others:
            continue
        matches.append(Match(subject.code, tuple(sorted(_partner_name(session, p) for p in others))))
        for other in others:
            pair = "-".join(str(p) for p in sorted((signal.partner_id, other)))
            reporters = [
                PersonRef(s.reporter_team_id, s.reporter_user_id)
                for s in signals_on(session, subject_id=_id(subject), partner_id=other)
            ]
            recipients = notices.distinct(
                [
                    PersonRef(signal.reporter_team_id, signal.reporter_user_id),
                    *reporters,
                    *notices.coordinator_people(session),
                ]
            )
            context = {
                "code": subject.code,
                "kind_label": SUBJECT_KIND_LABELS[subject.kind],
                "partners": sorted(
                    [_partner_name(session, signal.partner_id), _partner_name(session, other)]
                ),
            }
            for person in recipients:
                notices.to_person(
                    session,
                    outbound,
                    key=f"match:{_id(subject)}:{pair}:{notices.person_key(person)}",
                    person=person,
                    template="signal_match.json.j2",
                    context=context,
                    ref=f"subject:{_id(subject)}",
                )
        audit.record(
            session,
            actor=_reporter(signal),
            action="subject.matched",
            object_type="subject",
            object_id=_id(subject),
            purpose="hit/no-hit: telling the partners that share a subject",
            details={"signal_id": _id(signal), "partners": sorted(holders)},
        )
    return matches


def signals_on(session: Session, *, subject_id: int, partner_id: int | None = None) -> list[Signal]:
    query = (
        select(Signal)
        .join(SignalSubject, col(SignalSubject.signal_id) == col(Signal.id))
        .where(SignalSubject.subject_id == subject_id)
    )
    if partner_id is not None:
        query = query.where(Signal.partner_id == partner_id)
    return list(session.exec(query.order_by(col(Signal.id))).all())


# --- weighing -------------------------------------------------------------------------------------


@dataclass
class WeighingInput:
    """What a coordinator answered in the weighing modal; any step may be left for later."""

    verdict: Verdict | None = None
    verdict_reason: str | None = None
    task_partner_id: int | None = None
    legal_basis: str | None = None
    task_reason: str | None = None
    seriousness: int | None = None
    recency: Recency | None = None
    seriousness_reason: str | None = None
    outcome: Outcome | None = None
    outcome_reason: str | None = None
    case_focus: FocusElement | None = None
    case_title: str | None = None


@dataclass
class Weighed:
    signal: Signal
    steps: list[WeighingStep]
    outcome: Outcome | None
    case_id: int | None = None
    duplicate: bool = False


def weigh(
    session: Session, *, actor: Principal, signal_id: int, data: WeighingInput, outbound: Outbound
) -> Weighed:
    signal = get_signal(session, signal_id)
    authorize(actor, Action.WEIGH_SIGNAL, relation=signal_relation(session, actor, signal))
    current = {a.step: a for a in assessments_of(session, signal_id)}
    if signal.status in CLOSED:
        uitkomst = current.get(WeighingStep.UITKOMST)
        if (
            data.outcome is not None
            and uitkomst is not None
            and uitkomst.answer == data.outcome.value
            and uitkomst.reason == (data.outcome_reason or "").strip()
        ):
            return Weighed(signal, [], data.outcome, _case_of(session, signal_id), duplicate=True)
        raise AlreadyWeighed(
            N_("Signal %(number)s has already been weighed (%(status)s); it cannot be weighed again."),
            number=signal_id,
            status=STATUS_LABELS[signal.status],
        )

    answers: dict[WeighingStep, dict[str, Any]] = {}
    if data.verdict is not None or data.verdict_reason:
        if data.verdict is None:
            raise InvalidInput(N_("Answer the question, or leave the reason empty too."), field="verdict")
        answers[WeighingStep.ONDERMIJNING] = {
            "answer": data.verdict.value,
            "reason": _reason(data.verdict_reason, "verdict_reason"),
        }
    if data.task_partner_id is not None or data.legal_basis or data.task_reason:
        if data.task_partner_id is None:
            raise InvalidInput(N_("Choose whose task it is, or leave this step empty."), field="task_partner")
        partners.get_partner(session, partner_id=data.task_partner_id)
        answers[WeighingStep.TAAK] = {
            "answer": str(data.task_partner_id),
            "legal_basis": _required(data.legal_basis, MAX_LEGAL_BASIS, "legal_basis"),
            "reason": _reason(data.task_reason, "task_reason"),
        }
    if data.seriousness is not None or data.recency is not None or data.seriousness_reason:
        if data.seriousness is None or not 1 <= data.seriousness <= 5:
            raise InvalidInput(N_("Choose how serious it is, from 1 to 5."), field="seriousness")
        if data.recency is None:
            raise InvalidInput(N_("Choose how recent it is."), field="recency")
        answers[WeighingStep.ERNST] = {
            "answer": str(data.seriousness),
            "recency": data.recency.value,
            "reason": _reason(data.seriousness_reason, "seriousness_reason"),
        }

    changed: list[WeighingStep] = []
    for step, values in answers.items():
        existing = current.get(step)
        if existing is not None and all(getattr(existing, k) == v for k, v in values.items()):
            continue
        assessment = existing or Assessment(
            signal_id=signal_id, step=step, answer="", reason="", by_team_id="", by_user_id=""
        )
        assessment.answer = values["answer"]
        assessment.reason = values["reason"]
        assessment.legal_basis = values.get("legal_basis")
        assessment.recency = values.get("recency")
        assessment.by_team_id, assessment.by_user_id = actor.team_id, actor.user_id
        assessment.at = clock.now(session)
        session.add(assessment)
        current[step] = assessment
        changed.append(step)

    case_id: int | None = None
    case_plan: tuple[FocusElement, str] | None = None
    if data.outcome is not None:
        missing = [
            s for s in (WeighingStep.ONDERMIJNING, WeighingStep.TAAK, WeighingStep.ERNST) if s not in current
        ]
        if missing:
            raise InvalidInput(N_("Answer the three questions before choosing the outcome."), field="outcome")
        reason = _reason(data.outcome_reason, "outcome_reason")
        task_partner = int(current[WeighingStep.TAAK].answer)
        if data.outcome is Outcome.CASUS:
            if current[WeighingStep.ONDERMIJNING].answer != Verdict.JA.value:
                raise InvalidInput(
                    N_(
                        "Only ondermijning becomes a joint case: refer the signal, "
                        "or close it without action."
                    ),
                    field="outcome",
                )
            focus = data.case_focus or signal.focus_element
            if focus is None:
                raise InvalidInput(N_("Choose the case's focus element."), field="case_focus")
            case_plan = (focus, _case_title(data.case_title, signal))
        session.add(
            Assessment(
                signal_id=signal_id,
                step=WeighingStep.UITKOMST,
                answer=data.outcome.value,
                reason=reason,
                by_team_id=actor.team_id,
                by_user_id=actor.user_id,
            )
        )
        changed.append(WeighingStep.UITKOMST)
        signal.status = OUTCOME_STATUS[data.outcome]
        if data.outcome is Outcome.CASUS and case_plan is not None:
            from bot.cases import service as cases

            case = cases.create_from_signal(
                session,
                actor=actor,
                signal=signal,
                lead_partner_id=task_partner,
                focus=case_plan[0],
                title=case_plan[1],
                outbound=outbound,
            )
            case_id = case.id
        else:
            signal.closed_at = clock.now(session)  # the retention clock starts
            if data.outcome is Outcome.DOORVERWIJZEN:
                signal.referred_to_partner_id = task_partner
    elif changed and signal.status is SignalStatus.NIEUW:
        signal.status = SignalStatus.IN_WEGING
    if not changed:
        return Weighed(signal, [], None, duplicate=True)
    session.add(signal)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="signal.weighed",
        object_type="signal",
        object_id=signal_id,
        purpose="weighing a signal",
        details={
            "steps": [s.value for s in changed],
            "outcome": data.outcome.value if data.outcome else None,
            "status": signal.status.value,
            "case_id": case_id,
        },
    )
    _after_weighing(session, outbound, signal, data.outcome, case_id)
    return Weighed(signal, changed, data.outcome, case_id)


def _after_weighing(
    session: Session, outbound: Outbound, signal: Signal, outcome: Outcome | None, case_id: int | None
) -> None:
    shown = card(session, signal)
    signal_id = _id(signal)
    ref = f"signal:{signal_id}"
    if signal.message_channel:
        notices.update_in_channel(
            session,
            outbound,
            key=f"{message_key(signal_id)}:update:{signal.status.value}",
            channel=signal.message_channel,
            message_key=message_key(signal_id),
            template="signal_message.json.j2",
            context={"signal": shown.as_context()},
            ref=ref,
        )
    if outcome is None:
        return
    reporter = PersonRef(signal.reporter_team_id, signal.reporter_user_id)
    referred = (
        session.get(Partner, signal.referred_to_partner_id)
        if signal.referred_to_partner_id is not None
        else None
    )
    needs_access = (
        referred is not None
        and referred.id != signal.partner_id
        and referred.id not in access_partner_ids(session, signal_id)
    )
    notices.to_person(
        session,
        outbound,
        key=f"signal:{signal_id}:outcome:{notices.person_key(reporter)}",
        person=reporter,
        template="signal_outcome.json.j2",
        context={
            "signal": shown.as_context(),
            "outcome": outcome.value,
            "case_id": case_id,
            "grant_partner": {"id": referred.id, "name": referred.name}
            if referred and needs_access
            else None,
        },
        ref=ref,
    )
    if referred is not None and referred.id != signal.partner_id:
        for person in notices.contacts_of(session, referred):
            notices.to_person(
                session,
                outbound,
                key=f"signal:{signal_id}:referred:{notices.person_key(person)}",
                person=person,
                template="signal_referred.json.j2",
                context={"signal": shown.as_context(), "has_access": not needs_access},
                ref=ref,
            )


def _reason(text: str | None, field_name: str) -> str:
    return _required(text, MAX_REASON, field_name)


def _required(text: str | None, maximum: int, field_name: str) -> str:
    value = (text or "").strip()
    if not value:
        raise InvalidInput(N_("Give a short reason: the partners read it later."), field=field_name)
    if len(value) > maximum:
        raise InvalidInput(
            N_("This is %(length)s characters long; the most is %(maximum)s."),
            field=field_name,
            length=len(value),
            maximum=maximum,
        )
    return value


def _case_title(typed: str | None, signal: Signal) -> str:
    title = " ".join((typed or "").split()) or signal.summary
    cleaned = pii.clean(title)
    if cleaned.changed and typed:
        raise InvalidInput(
            N_(
                "The title is shown in the partnership channel: take out the personal data "
                "(%(kinds)s) and use subject codes."
            ),
            field="case_title",
            kinds=tuple(pii.counts(list(cleaned.findings))),
        )
    return cleaned.shown[:200]


# --- granting access ------------------------------------------------------------------------------


def grant_access(
    session: Session, *, actor: Principal, signal_id: int, partner_id: int, outbound: Outbound
) -> bool:
    """The originating partner shares a signal's details with another partner; False if it had them."""
    signal = get_signal(session, signal_id)
    authorize(actor, Action.GRANT_ACCESS, relation=signal_relation(session, actor, signal))
    partner = partners.get_partner(session, partner_id=partner_id)
    if partner_id == signal.partner_id or partner_id in access_partner_ids(session, signal_id):
        return False
    session.add(SignalAccess(signal_id=signal_id, partner_id=partner_id))
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="signal.access_granted",
        object_type="signal",
        object_id=signal_id,
        purpose="sharing a signal's details with a partner (originator control)",
        details={"partner_id": partner_id},
    )
    shown = card(session, signal)
    for person in notices.contacts_of(session, partner):
        notices.to_person(
            session,
            outbound,
            key=f"signal:{signal_id}:access:{partner_id}:{notices.person_key(person)}",
            person=person,
            template="signal_access_granted.json.j2",
            context={"signal": shown.as_context()},
            ref=f"signal:{signal_id}",
        )
    return True


# --- looking up -----------------------------------------------------------------------------------


def get_signal(session: Session, signal_id: int) -> Signal:
    signal = session.get(Signal, signal_id)
    if signal is None:
        raise NotFound(N_("There is no signal with number %(number)s."), number=signal_id)
    return signal


def require_subject(session: Session, code: str) -> Subject:
    normalised = subjects.normalise(code)
    if normalised is None:
        raise InvalidInput(
            N_("“%(word)s” is not a subject code; a code looks like S-2026-0042."), word=code[:40]
        )
    subject = subjects.find(session, normalised)
    if subject is None:
        raise NotFound(N_("There is no subject %(code)s."), code=normalised)
    return subject


def assessments_of(session: Session, signal_id: int) -> list[Assessment]:
    return list(
        session.exec(
            select(Assessment).where(Assessment.signal_id == signal_id).order_by(col(Assessment.id))
        ).all()
    )


def card(
    session: Session, signal: Signal, *, new_codes: set[str] | frozenset[str] = frozenset()
) -> SignalCard:
    return cards(session, [signal], new_codes=new_codes)[0]


def cards(
    session: Session, shown: Sequence[Signal], *, new_codes: set[str] | frozenset[str] = frozenset()
) -> list[SignalCard]:
    """Cards for a list of signals in three queries (subjects, cases, partner names), not per signal."""
    from bot.cases.models import CaseSignal

    ids = [_id(signal) for signal in shown]
    subjects: dict[int, list[tuple[Subject, str]]] = {signal_id: [] for signal_id in ids}
    for signal_id, subject, role in session.exec(
        select(SignalSubject.signal_id, Subject, SignalSubject.role)
        .join(SignalSubject, col(SignalSubject.subject_id) == col(Subject.id))
        .where(col(SignalSubject.signal_id).in_(ids))
        .order_by(col(Subject.code))
        .options(defer(Subject.identity))  # type: ignore[arg-type]  # sealed, and not on a card
    ).all():
        subjects[signal_id].append((subject, role))
    case_of: dict[int, int] = {}
    for signal_id, case_id in session.exec(
        select(CaseSignal.signal_id, CaseSignal.case_id)
        .where(col(CaseSignal.signal_id).in_(ids))
        .order_by(col(CaseSignal.case_id))
    ).all():
        case_of.setdefault(signal_id, case_id)  # the first case it became part of
    wanted = {s.partner_id for s in shown} | {
        s.referred_to_partner_id for s in shown if s.referred_to_partner_id
    }
    names = dict(session.exec(select(Partner.id, Partner.name).where(col(Partner.id).in_(wanted))).all())
    return [
        SignalCard(
            id=_id(signal),
            partner=names.get(signal.partner_id, "-"),
            category=signal.category.value,
            category_label=CATEGORY_LABELS[signal.category],
            focus_label=FOCUS_LABELS[signal.focus_element] if signal.focus_element else None,
            status=signal.status.value,
            status_label=STATUS_LABELS[signal.status],
            summary=signal.summary,
            location=signal.location_or_sector,
            subjects=[
                subject_ref(subject, SubjectRole(role), new=subject.code in new_codes)
                for subject, role in subjects[_id(signal)]
            ],
            case_id=case_of.get(_id(signal)),
            referred_to=names.get(signal.referred_to_partner_id, "-")
            if signal.referred_to_partner_id
            else None,
        )
        for signal in shown
    ]


def subject_ref(subject: Subject, role: SubjectRole | None = None, *, new: bool = False) -> SubjectRef:
    role = role or subject.role
    return SubjectRef(
        code=subject.code,
        kind=subject.kind.value,
        kind_label=SUBJECT_KIND_LABELS[subject.kind],
        role=role.value,
        role_label=SUBJECT_ROLE_LABELS[role],
        new=new,
    )


def search(session: Session, *, actor: Principal, term: str = "") -> list[SignalCard]:
    """The newest signals matching a term in their summary, location, category or subject codes.

    Only what the whole partnership may see; details need `detail` (one signal, audited).
    """
    # Substring, case and accents ignored, through the search index (bot/signals/search.py).
    return cards(session, signal_search.newest_matching(session, term.split(), SEARCH_LIMIT))


def detail(session: Session, *, actor: Principal, signal_id: int, purpose: str) -> SignalDetail:
    """One signal; its restricted part only for those who may see it, and that reading is audited."""
    signal = get_signal(session, signal_id)
    relation = signal_relation(session, actor, signal)
    allowed = is_allowed(actor, Action.VIEW_SIGNAL_DETAILS, relation=relation)
    shown = SignalDetail(
        card=card(session, signal),
        created_at=signal.created_at,
        may_see=allowed,
        own=relation is Relation.OWN,
        may_weigh=is_allowed(actor, Action.WEIGH_SIGNAL, relation=relation) and signal.status not in CLOSED,
    )
    if not allowed:
        return shown
    shown.details = signal.details
    shown.kept_out = json.loads(signal.kept_out) if signal.kept_out else {}
    shown.permalink = signal.source_permalink
    shown.reporter_user_id = signal.reporter_user_id
    shown.shared_with = sorted(_partner_name(session, p) for p in access_partner_ids(session, signal_id))
    shown.share_with_coordinators = signal.share_with_coordinators
    shown.assessments = [_assessment_view(session, a) for a in assessments_of(session, signal_id)]
    for link in session.exec(select(SignalSubject).where(SignalSubject.signal_id == signal_id)).all():
        subject = session.get(Subject, link.subject_id)
        if (
            subject is not None
            and subject.identity
            and subject_relation(session, actor, subject) is not Relation.OTHER
        ):
            shown.identities[subject.code] = subject.identity
    audit.record(
        session,
        actor=actor,
        action="signal.details_viewed",
        object_type="signal",
        object_id=signal_id,
        purpose=purpose,
        details={"relation": relation.value, "identities": sorted(shown.identities)},
    )
    return shown


def _assessment_view(session: Session, assessment: Assessment) -> AssessmentView:
    step = assessment.step
    extra = None
    if step is WeighingStep.ONDERMIJNING:
        label = VERDICT_LABELS.get(Verdict(assessment.answer), assessment.answer)
    elif step is WeighingStep.TAAK:
        label = _partner_name(session, int(assessment.answer))
    elif step is WeighingStep.ERNST:
        label = assessment.answer
        extra = RECENCY_LABELS[Recency(assessment.recency)] if assessment.recency else None
    else:
        label = OUTCOME_LABELS[Outcome(assessment.answer)]
    return AssessmentView(
        step=step.value,
        step_label=STEP_LABELS[step],
        answer_label=label,
        extra_label=extra,
        recency=assessment.recency,
        answer=assessment.answer,
        legal_basis=assessment.legal_basis,
        reason=assessment.reason,
        by_user_id=assessment.by_user_id,
        at=assessment.at,
    )


@dataclass
class SubjectView:
    subject: SubjectRef
    created_at: datetime
    described_by: str
    partners: list[str]  # every partner that has something on it: the hit/no-hit
    signals: list[SignalCard]
    cases: list[dict[str, Any]]  # {"id", "title", "lead", "status"}
    may_see_identity: bool
    identity: str | None = None


def subject_view(session: Session, *, actor: Principal, code: str, purpose: str) -> SubjectView:
    from bot.cases.models import Case, CaseSubject

    subject = require_subject(session, code)
    subject_id = _id(subject)
    relation = subject_relation(session, actor, subject)
    allowed = is_allowed(actor, Action.VIEW_SIGNAL_DETAILS, relation=relation)
    cases = session.exec(
        select(Case)
        .join(CaseSubject, col(CaseSubject.case_id) == col(Case.id))
        .where(CaseSubject.subject_id == subject_id)
        .order_by(col(Case.id))
    ).all()
    view = SubjectView(
        subject=subject_ref(subject),
        created_at=subject.created_at,
        described_by=_partner_name(session, subject.partner_id),
        partners=sorted(_partner_name(session, p) for p in partner_holders(session, subject_id=subject_id)),
        signals=[card(session, s) for s in signals_on(session, subject_id=subject_id)],
        cases=[
            {
                "id": c.id,
                "title": c.title,
                "lead": _partner_name(session, c.lead_partner_id),
                "status": c.status.value,
            }
            for c in cases
        ],
        may_see_identity=allowed,
    )
    if allowed and subject.identity:
        view.identity = subject.identity
        audit.record(
            session,
            actor=actor,
            action="subject.identity_viewed",
            object_type="subject",
            object_id=subject_id,
            purpose=purpose,
            details={"relation": relation.value},
        )
    return view


@dataclass
class HomeOverview:
    partner: str
    recent: list[SignalCard]
    to_weigh: list[SignalCard]


def home_overview(session: Session, *, actor: Principal) -> HomeOverview:
    """My partner's recent signals and, for coordinators, the signals waiting to be weighed."""
    assert not isinstance(actor, SystemActor)
    recent = session.exec(
        select(Signal)
        .where(Signal.partner_id == actor.partner_id)
        .order_by(col(Signal.created_at).desc(), col(Signal.id).desc())
        .limit(HOME_LIMIT)
    ).all()
    to_weigh: list[SignalCard] = []
    if Role(actor.role) in MANAGING_ROLES:
        to_weigh = cards(session, _waiting_for(session, actor))
    return HomeOverview(
        partner=_partner_name(session, actor.partner_id),
        recent=cards(session, recent),
        to_weigh=to_weigh,
    )


def _waiting_for(session: Session, actor: Principal) -> list[Signal]:
    """The oldest signals waiting to be weighed that this coordinator may weigh, at most HOME_LIMIT.

    `signal_relation` in SQL (own partner's, shared with it, or shared with the coordinators), so the
    database stops at the fifth instead of Python loading every open signal; one ordered walk of
    ix_signal_status_created per status (with `status IN (…)` PostgreSQL walked every signal by date)."""
    assert not isinstance(actor, SystemActor)
    shared = select(SignalAccess.signal_id).where(SignalAccess.partner_id == actor.partner_id)
    may_weigh = or_(
        col(Signal.partner_id) == actor.partner_id,
        col(Signal.share_with_coordinators).is_(True),
        col(Signal.id).in_(shared),
    )
    oldest = (col(Signal.created_at), col(Signal.id))
    per_status = [
        select(col(Signal.id), col(Signal.created_at))
        .where(Signal.status == status, may_weigh)
        .order_by(*oldest)
        .limit(HOME_LIMIT)
        .subquery()  # SQLite takes no LIMIT inside a UNION's member itself
        for status in (SignalStatus.NIEUW, SignalStatus.IN_WEGING)
    ]
    each: Any = union_all  # (mypy 2.4 crashes inferring union_all(*list))
    both: Any = each(*(select(part.c.id, part.c.created_at) for part in per_status)).subquery()
    ids = session.exec(select(both.c.id).order_by(both.c.created_at, both.c.id).limit(HOME_LIMIT)).all()
    found = {s.id: s for s in session.exec(select(Signal).where(col(Signal.id).in_(ids))).all()}
    # The rule itself still decides each row shown: SQL only narrows what is read.
    return [
        found[i]
        for i in ids
        if is_allowed(actor, Action.WEIGH_SIGNAL, relation=signal_relation(session, actor, found[i]))
    ]


def weighing_form(session: Session, *, actor: Principal, signal_id: int, purpose: str) -> SignalDetail:
    """What the weighing modal shows: the signal with its details (the weigher may see them: same rule)."""
    signal = get_signal(session, signal_id)
    authorize(actor, Action.WEIGH_SIGNAL, relation=signal_relation(session, actor, signal))
    if signal.status in CLOSED:
        raise AlreadyWeighed(
            N_("Signal %(number)s has already been weighed (%(status)s); it cannot be weighed again."),
            number=signal_id,
            status=STATUS_LABELS[signal.status],
        )
    return detail(session, actor=actor, signal_id=signal_id, purpose=purpose)


# --- helpers --------------------------------------------------------------------------------------


def _case_of(session: Session, signal_id: int) -> int | None:
    from bot.cases.models import CaseSignal

    return session.exec(select(CaseSignal.case_id).where(CaseSignal.signal_id == signal_id)).first()


def _partner_name(session: Session, partner_id: int | None) -> str:
    if partner_id is None:
        return "-"
    partner = session.get(Partner, partner_id)
    return partner.name if partner else "-"


def _reporter(signal: Signal) -> PersonRef:
    return PersonRef(signal.reporter_team_id, signal.reporter_user_id)


def _id(row: Signal | Subject) -> int:
    assert row.id is not None, "flushed before use"
    return row.id
