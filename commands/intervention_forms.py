"""The new-intervention form, in two steps: the form (`new_intervention_view`, also opened from a
check-in's agreement), then what was filled in shown back, resolved, to confirm before it is saved."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session

from bot import clock
from bot.cases.models import Case
from bot.i18n import N_
from bot.interventions import messages
from bot.interventions.dates import Window, WindowError, window_from_pickers
from bot.interventions.models import Goal
from bot.interventions.planning import Draft, check_draft, create
from bot.interventions.problems import InterventionError
from bot.interventions.reading import cases_for, goals_for, partners_on_case
from bot.partners import service as partners
from bot.partners.models import Member, Partner, PersonRef
from bot.problems import Problem, Problems
from bot.slack.interaction import Interaction, Number, metadata_json
from bot.vocabulary import (
    CONTRIBUTION_LABELS,
    FOCUS_LABELS,
    INSTRUMENT_TYPE_LABELS,
    Contribution,
    FocusElement,
    InstrumentType,
)
from commands.intervention_cards import code_number

NO_CASE = "none"  # the form's "no case" option: an independent intervention


class DraftData(BaseModel):
    """A checked draft in the confirmation's private_metadata, saved when the person confirms."""

    case: Number | None = None
    type: InstrumentType
    what: str
    focus: FocusElement
    partner: Number
    owner: tuple[str, str]
    round: int
    window: tuple[datetime, datetime | None, bool] | None = None
    after: Number | None = None
    joining: list[tuple[Number, Contribution]] = []
    subject: str | None = None
    goal: Number | None = None

    @classmethod
    def of(cls, draft: Draft) -> DraftData:
        window = draft.window
        return cls(
            case=draft.case_id,
            type=draft.instrument_type,
            what=draft.instrument,
            focus=draft.focus_element,
            partner=draft.owner_partner_id,
            owner=(draft.owner.team_id, draft.owner.user_id),
            round=draft.round,
            window=(window.start, window.end, window.has_time) if window else None,
            after=draft.depends_on_id,
            joining=list(draft.joining),
            subject=draft.subject_code,
            goal=draft.goal_id,
        )

    def draft(self) -> Draft:
        window = (
            Window(start=self.window[0], end=self.window[1], has_time=self.window[2]) if self.window else None
        )
        return Draft(
            case_id=self.case,
            instrument_type=self.type,
            instrument=self.what,
            focus_element=self.focus,
            owner_partner_id=self.partner,
            owner=PersonRef(*self.owner),
            round=self.round,
            window=window,
            depends_on_id=self.after,
            joining=tuple(self.joining),
            subject_code=self.subject,
            goal_id=self.goal,
        )


def label_options(labels: dict[Any, str]) -> list[tuple[str, str]]:
    """A form's options from labelled enum members: (value, message id)."""
    return [(key.value, label) for key, label in labels.items()]


def new_intervention_view(
    session: Session,
    i: Interaction,
    actor: Member,
    *,
    case_id: int | None,
    round_: int = 1,
    what: str | None = None,
    owner_user_id: str | None = None,
    owner_partner_id: int | None = None,
    day: date | None = None,
) -> dict[str, Any]:
    """The new-intervention form. Without a case typed, "no case" is chosen: an independent
    intervention of the person's own partner, owned by them unless they choose another member.
    `what`, the owner and `day` (the window's day) fill it in, e.g. from a check-in's agreement."""
    cases = cases_for(session, actor=actor)
    if case_id is not None and case_id not in {c.id for c in cases}:
        raise InterventionError(
            N_("Case %(number)s does not exist, is closed, or your partner is not on it."), number=case_id
        )
    view: dict[str, Any] = i.render(
        "intervention_modal.json.j2",
        cases=[{"id": c.id, "title": c.title} for c in cases],
        partners=[{"id": p.id, "name": p.name} for p in partners.list_partners(session)],
        goals=_goal_options(session),
        instrument_types=label_options(INSTRUMENT_TYPE_LABELS),
        focus_elements=label_options(FOCUS_LABELS),
        contributions=label_options(CONTRIBUTION_LABELS),
        case_id=case_id,
        round=round_,
        owner_partner_id=owner_partner_id or actor.partner_id,
        owner=owner_user_id or actor.user_id,
        what=what,
        day=day.isoformat() if day else None,
    )
    return view


def _goal_options(session: Session) -> list[dict[str, Any]]:
    names = {p.id: p.name for p in partners.list_partners(session)}
    return [
        {
            "id": goal.id,
            "label": f"{names.get(goal.partner_id, '?')}: {goal.description}",
            "focus": FOCUS_LABELS[goal.focus_element],
        }
        for goal in goals_for(session, year=clock.now(session).year)
    ]


def open_form(i: Interaction, *, case_id: int | None, round_: int = 1) -> None:
    with i.session(read_only=True) as session:
        view = new_intervention_view(session, i, i.require_member(session), case_id=case_id, round_=round_)
    i.open(view)


def submit_new(i: Interaction) -> None:
    """The form, checked: every problem under its field, or what was filled in shown back to confirm."""
    form = i.form
    problems: list[Problem] = []
    window: Window | None = None
    try:
        window = window_from_pickers(
            form.choice("window_day"),
            form.choice("window_from"),
            form.choice("window_to"),
            now=i.services.clock.now(),
            zone=i.services.settings.timezone,
        )
    except WindowError as bad:
        problems.append(InterventionError(bad.message, field="window_day", **bad.values))
    after = form.text("after")
    depends_on = code_number(after) if after else None
    if after and depends_on is None:
        problems.append(
            InterventionError(
                N_("Write the intervention to wait for as I-12 (or leave it empty)."), field="after"
            )
        )
    with i.session(read_only=True) as session:
        actor = i.require_member(session)
        draft = _draft(i, session, actor, window, depends_on, problems)
        if draft is not None:
            problems += check_draft(session, actor=actor, draft=draft, now=clock.now(session))
        if problems:
            raise Problems(problems)
        view = _confirm_view(i, session, draft) if draft is not None else None
    if view is not None:
        i.update_view(view)


def _draft(
    i: Interaction,
    session: Session,
    actor: Member,
    window: Window | None,
    depends_on: int | None,
    problems: list[Problem],
) -> Draft | None:
    form = i.form
    chosen_case = form.choice("case")
    case_id = None if chosen_case == NO_CASE else form.number("case")
    kind = form.enum("instrument_type", InstrumentType)
    owner_partner = form.number("owner_partner")
    owner = form.choice("owner")
    for block, value, message in (
        ("instrument_type", kind, N_("Choose the kind of instrument.")),
        ("owner_partner", owner_partner, N_("Choose the partner that owns it.")),
        ("owner", owner, N_("Choose the person who owns it.")),
    ):
        if value is None:
            problems.append(InterventionError(message, field=block))
    if kind is None or owner_partner is None or owner is None:
        return None
    case = session.get(Case, case_id) if case_id is not None else None
    goal_id = form.number("goal") or None
    goal = session.get(Goal, goal_id) if goal_id else None
    focus = form.enum("focus", FocusElement) or (
        goal.focus_element if goal else case.focus_element if case else None
    )
    if focus is None:
        problems.append(
            InterventionError(
                N_("Choose the focus element: without a case or a goal there is none to take."), field="focus"
            )
        )
        return None
    joining = [
        (i.number(partner), contribution)
        for contribution in Contribution
        for partner in form.choices(f"joining_{contribution.value}")
    ]
    member = partners.find_member_by_user(session, user_id=owner)
    return Draft(
        case_id=case_id,
        instrument_type=kind,
        instrument=form.text("instrument") or "",
        focus_element=focus,
        owner_partner_id=owner_partner,
        owner=member.person if member is not None else PersonRef(actor.team_id, owner),
        round=form.number("round") or 1,
        window=window,
        depends_on_id=depends_on,
        joining=tuple(joining),
        subject_code=(form.text("subject") or "").upper() or None,
        goal_id=goal_id,
    )


def _confirm_view(i: Interaction, session: Session, draft: Draft) -> Any:
    case = session.get(Case, draft.case_id) if draft.case_id is not None else None
    partner = session.get(Partner, draft.owner_partner_id)
    goal = session.get(Goal, draft.goal_id) if draft.goal_id else None
    names = {p.id: p.name for p in partners.list_partners(session)}
    on_case = partners_on_case(session, draft.case_id)
    return i.render(
        "intervention_confirm.json.j2",
        case_title=case.title if case else None,
        case_id=draft.case_id,
        subject=draft.subject_code,
        goal=f"{names.get(goal.partner_id, '?')}: {goal.description}" if goal else None,
        instrument=draft.instrument,
        instrument_type=INSTRUMENT_TYPE_LABELS[draft.instrument_type],
        focus=FOCUS_LABELS[draft.focus_element],
        partner=partner.name if partner else "?",
        owner=draft.owner.user_id,
        round=draft.round,
        start=draft.window.start if draft.window else None,
        end=draft.window.end if draft.window else None,
        has_time=draft.window.has_time if draft.window else False,
        after=f"I-{draft.depends_on_id}" if draft.depends_on_id else None,
        joining=[
            {"partner": names.get(p, "?"), "contribution": CONTRIBUTION_LABELS[c], "asked": p not in on_case}
            for p, c in draft.joining
            if p != draft.owner_partner_id
        ],
        metadata=metadata_json(DraftData.of(draft)),
    )


def submit_confirm(i: Interaction) -> None:
    """Confirmed: saved as proposed; its owner is asked to commit to it."""
    draft = i.metadata(DraftData).draft()
    with i.session() as session:
        actor = i.require_member(session)
        outcome = create(
            session,
            actor=actor,
            draft=draft,
            settings=i.services.settings,
            submission_key=i.view.get("root_view_id") or i.view.get("id"),
        )
        iv = messages.summary(session, outcome.intervention, for_channel=False)
    i.update_view(i.render("intervention_saved.json.j2", iv=iv, kind="created", changed=outcome.changed))
