"""Registering a signal, matching its subjects (hit/no-hit) and sharing its details. Nothing here knows Slack.

Every change is authorised and audited in the caller's transaction, with the notices it causes queued in
the outbox in that same transaction. A match tells the coordinators and the reporters of both partners
that another partner has something on a subject (bot/subjects/holders.py): codes and partner names only,
never what the other knows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot import audit, clock, pii
from bot.authz import Action, Principal, SystemActor, authorize
from bot.calendar import local_date
from bot.i18n import N_
from bot.partners import service as partners
from bot.partners.models import Partner, PersonRef
from bot.signals import notices
from bot.signals.access import access_partner_ids, get_signal, partner_name, signal_relation, signals_on
from bot.signals.cards import SignalCard, card
from bot.signals.errors import InvalidInput
from bot.signals.models import Signal, SignalAccess, SignalSubject
from bot.signals.notices import Outbound
from bot.subjects import codes as subjects
from bot.subjects.holders import holders as subject_holders
from bot.subjects.models import Subject
from bot.vocabulary import SUBJECT_KIND_LABELS, FocusElement, SignalCategory, SubjectKind, SubjectRole

MAX_SUMMARY: Final = 300
MAX_LOCATION: Final = 200
MAX_DETAILS: Final = 3000
MAX_IDENTITY: Final = 500
MAX_CODES: Final = 10


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
    identity = optional_text(
        data.new_subject.identity if data.new_subject else None, MAX_IDENTITY, "new_identity"
    )
    location = optional_text(data.location_or_sector, MAX_LOCATION, "location")
    details = optional_text(data.details, MAX_DETAILS, "details")
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


def optional_text(text: str | None, maximum: int, field_name: str) -> str | None:
    """What was typed, stripped; None when nothing was; an `InvalidInput` on `field_name` when too long."""
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
        holders = subject_holders(session, subject_id=_id(subject))
        others = [p for p in holders if p != signal.partner_id]
        if not others:
            continue
        matches.append(Match(subject.code, tuple(sorted(partner_name(session, p) for p in others))))
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
                "partners": sorted([partner_name(session, signal.partner_id), partner_name(session, other)]),
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


def _reporter(signal: Signal) -> PersonRef:
    return PersonRef(signal.reporter_team_id, signal.reporter_user_id)


def _id(row: Signal | Subject) -> int:
    assert row.id is not None, "flushed before use"
    return row.id
