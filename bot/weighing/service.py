"""Weighing a signal: is it ondermijning, whose task on what legal basis, how serious and how recent, and
the outcome (no action, refer to a partner, or a case). Coordinators only (`WEIGH_SIGNAL`); any step may be
left for later; a weighed signal is not weighed again. Nothing here knows Slack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlmodel import Session, select

from bot import audit, clock, pii
from bot.authz import Action, Principal, authorize
from bot.cases import service as cases
from bot.i18n import N_
from bot.partners import service as partners
from bot.partners.models import Partner, PersonRef
from bot.problems import Label
from bot.signals import notices
from bot.signals.access import access_partner_ids, get_signal, signal_relation
from bot.signals.cards import (
    CLOSED,
    STATUS_LABELS,
    Outcome,
    SignalDetail,
    Verdict,
    assessments_of,
    card,
    detail,
)
from bot.signals.errors import InvalidInput, SignalError
from bot.signals.models import Assessment, CaseSignal, Recency, Signal, SignalStatus, WeighingStep
from bot.signals.notices import Outbound
from bot.signals.registering import message_key, optional_text
from bot.vocabulary import FocusElement

MAX_REASON: Final = 1000
MAX_LEGAL_BASIS: Final = 200

OUTCOME_STATUS: Final[dict[Outcome, SignalStatus]] = {
    Outcome.GEEN_ACTIE: SignalStatus.GEEN_ACTIE,
    Outcome.DOORVERWIJZEN: SignalStatus.DOORVERWEZEN,
    Outcome.CASUS: SignalStatus.CASUS,
}


class AlreadyWeighed(SignalError):
    """A signal that was weighed to an outcome is not weighed again."""


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
            status=Label(STATUS_LABELS[signal.status]),
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
    value = optional_text(text, maximum, field_name)
    if value is None:
        raise InvalidInput(N_("Give a short reason: the partners read it later."), field=field_name)
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
            kinds=tuple(Label(pii.KIND_LABELS[kind]) for kind in pii.counts(list(cleaned.findings))),
        )
    return cleaned.shown[:200]


def weighing_form(session: Session, *, actor: Principal, signal_id: int, purpose: str) -> SignalDetail:
    """What the weighing modal shows: the signal with its details (the weigher may see them: same rule)."""
    signal = get_signal(session, signal_id)
    authorize(actor, Action.WEIGH_SIGNAL, relation=signal_relation(session, actor, signal))
    if signal.status in CLOSED:
        raise AlreadyWeighed(
            N_("Signal %(number)s has already been weighed (%(status)s); it cannot be weighed again."),
            number=signal_id,
            status=Label(STATUS_LABELS[signal.status]),
        )
    return detail(session, actor=actor, signal_id=signal_id, purpose=purpose)


def _case_of(session: Session, signal_id: int) -> int | None:
    return session.exec(select(CaseSignal.case_id).where(CaseSignal.signal_id == signal_id)).first()


def _id(row: Signal) -> int:
    assert row.id is not None, "flushed before use"
    return row.id
