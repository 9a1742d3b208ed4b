"""`/samen interventie`, `/samen mijn`, `/samen lessen`, `/samen doelen`, the buttons on interventions
(in messages, reminders and the App Home) and their modals.

Parse → ack → call bot.interventions → render. Who may do what, capacity, the second round and the
chains are decided in the domain; this module only reads what was typed or clicked and shows answers.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Final, Literal

from markupsafe import Markup
from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlmodel import Session

from bot import clock
from bot.authz import NotAllowed
from bot.cases.models import Case
from bot.i18n import N_, t
from bot.interventions import goals as goal_service
from bot.interventions import lessons as lesson_service
from bot.interventions import messages
from bot.interventions import service as interventions
from bot.interventions.dates import Window, WindowError, parse_window, window_from_pickers
from bot.interventions.models import STATUS_LABELS, Goal, Intervention, InterventionStatus, next_steps
from bot.mrkdwn import escape, mention
from bot.partners import service as partners
from bot.partners.models import Member, Partner, PersonRef
from bot.partners.service import PartnerError
from bot.runtime import Services
from bot.slack.registry import HomeSection, Registry, Subcommand
from bot.slack.requests import Actor, CommandRequest, HomeRequest
from bot.slack.unfurl import NoUnfurlRespond
from bot.slack.urls import is_response_url
from bot.vocabulary import (
    CONTRIBUTION_LABELS,
    FOCUS_LABELS,
    INSTRUMENT_TYPE_LABELS,
    Contribution,
    FocusElement,
    InstrumentType,
)

logger = logging.getLogger(__name__)

S = InterventionStatus
CODE: Final = re.compile(r"^(?:i-?|#)?(\d{1,9})$", re.IGNORECASE)
INTERVENTION: Final = re.compile(r"^i-?(\d{1,9})$", re.IGNORECASE)
CASE: Final = re.compile(r"^(?:casus\s+|case\s+|c-?|#)?(\d{1,9})$", re.IGNORECASE)
STEP_ACTION: Final = "intervention_to_"
NO_CASE: Final = "none"  # the form's "no case" option: an independent intervention
USAGE: Final = N_(
    "Write it like this: `/samen interventie` or `/samen interventie <case number>` for a new one; "
    "`/samen interventie I-7` to see one; `/samen interventie I-7 na I-5` to let it wait for another; "
    "`/samen interventie I-7 wanneer dinsdag 08:15-08:45` to give it a time window; "
    "`/samen interventie I-7 koppel 12` to attach it to case 12."
)
Values = dict[str, dict[str, Any]]


class BadInput(Exception):
    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message)
        self.message = message
        self.values = values


# --- registration ------------------------------------------------------------------------------------


def register(app: App, registry: Registry) -> None:
    registry.add_subcommand(
        Subcommand(
            name="interventie",
            aliases=("intervention", "interventies"),
            usage="[casus | I-<nr> [na I-<nr> | wanneer <dag tijd> | koppel <casus>]]",
            summary=N_(
                "Plan an intervention, on a case or on its own, with an owner, a round and a time window; "
                "see one and move it on."
            ),
            handler=handle_intervention,
        )
    )
    registry.add_subcommand(
        Subcommand(
            name="mijn",
            aliases=("mine",),
            usage="",
            summary=N_("Your open interventions and your partner's, with their next date."),
            handler=show_mine,
        )
    )
    registry.add_subcommand(
        Subcommand(
            name="lessen",
            aliases=("lessons", "leerpunten"),
            usage="[zoekterm]",
            summary=N_("Search the lessons learnt from finished interventions."),
            handler=show_lessons,
        )
    )
    registry.add_subcommand(
        Subcommand(
            name="doelen",
            aliases=("goals",),
            usage="[nieuw]",
            summary=N_("The partners' goals per focus element and how far they are; add one."),
            handler=handle_goals,
        )
    )
    registry.add_home_section(HomeSection(name="interventions", order=30, render=home_section))

    app.view("intervention_new")(submit_new)
    app.view("intervention_confirm")(submit_confirm)
    app.view("intervention_finish")(submit_finish)
    app.view("intervention_reason")(submit_reason)
    app.view("intervention_handover")(submit_handover)
    app.view("goal_new")(submit_goal)
    app.action(re.compile(f"^{STEP_ACTION}"))(click_step)
    app.action("intervention_done")(click_done)
    app.action(re.compile(r"^intervention_snooze_(day|week)$"))(click_snooze)
    app.action("intervention_handover")(click_handover)
    app.action("intervention_override")(click_override)
    app.action("intervention_plan_round2")(click_plan_round2)
    app.action("intervention_window_confirm")(click_window_confirm)
    app.action("intervention_join")(click_join)


# --- helpers -------------------------------------------------------------------------------------------


def _member(session: Session, actor: Actor | None) -> Member:
    if actor is None:
        raise partners.NotAMember(N_("%(person)s is not a member of the partnership."), person="?")
    return partners.require_member(session, team_id=actor.team_id, user_id=actor.user_id)


def _shown(values: dict[str, object], language: str) -> dict[str, object]:
    """Values of a message as Slack shows them: a person becomes a mention, a label is translated."""
    shown: dict[str, object] = {}
    for key, value in values.items():
        if isinstance(value, PersonRef):
            shown[key] = mention(value.user_id)
        elif isinstance(value, interventions.Label):
            shown[key] = escape(t(language, str(value)))
        else:
            shown[key] = value
    return shown


def _steps(intervention: Intervention) -> list[str]:
    return [status.value for status in next_steps(intervention)]


def _item(session: Session, intervention: Intervention) -> dict[str, Any]:
    return {"iv": messages.summary(session, intervention, for_channel=False), "steps": _steps(intervention)}


def _problem_context(
    session: Session, problem: Exception, language: str, actor: Member | None = None
) -> dict[str, Any]:
    """What intervention_problem.json.j2 needs to say what went wrong and what to do next."""
    context: dict[str, Any] = {
        "message": getattr(problem, "message", N_("The intervention could not be changed.")),
        "values": _shown(getattr(problem, "values", {}), language),
        "usage": None,
        "open": [],
        "override": None,
        "plan_round2": None,
        "ask": None,
    }
    if isinstance(problem, interventions.CapacityExceeded):
        context["open"] = problem.open
    if isinstance(problem, interventions.SecondRoundMissing):
        context["plan_round2"] = str(problem.case_id)
    limits = interventions.CapacityExceeded | interventions.SecondRoundMissing
    must_ask = isinstance(problem, limits) and not problem.can_override
    if must_ask or isinstance(problem, NotAllowed | interventions.NotOwner):
        found = [m.person for m in partners.coordinators(session)[:5]]
        context["ask"] = _people(found) if found else None
    return context


def _people(persons: Iterable[PersonRef]) -> Markup:
    return Markup(", ").join(mention(p.user_id) for p in persons)


def _with_override(context: dict[str, Any], problem: Exception, intervention_id: int, to: str) -> None:
    """Offer a coordinator the override button; members are told whom to ask."""
    kind = (
        "capacity"
        if isinstance(problem, interventions.CapacityExceeded)
        else "second_round"
        if isinstance(problem, interventions.SecondRoundMissing)
        else None
    )
    if kind is None:
        return
    if getattr(problem, "can_override", False):
        context["override"] = json.dumps({"id": intervention_id, "to": to, "kind": kind})


def _render(services: Services, language: str, template: str, **context: Any) -> Any:
    return services.renderer.render(template, language, **context)


def _errors(problems: Iterable[Exception], language: str, fallback: str) -> dict[str, str]:
    """Modal field errors: block id → text, in the person's language (plain text: no mentions)."""
    errors: dict[str, str] = {}
    for problem in problems:
        field = getattr(problem, "field", None) or fallback
        values: dict[str, object] = {}
        for key, value in getattr(problem, "values", {}).items():
            if isinstance(value, PersonRef):
                values[key] = "@" + value.user_id
            elif isinstance(value, interventions.Label):
                values[key] = t(language, str(value))
            else:
                values[key] = value
        message = getattr(problem, "message", N_("The intervention could not be changed."))
        errors.setdefault(_block_of(field), t(language, message, **values)[:1900])
    return errors


def _block_of(field: str) -> str:
    return {"joining": "joining_SPELER_IN_POSITIE", "after": "after", "window": "window_day"}.get(
        field, field
    )


def _selected(values: Values, block: str) -> str | None:
    element = values.get(block, {}).get("value") or {}
    if element.get("type") in ("static_select", "external_select"):
        option = element.get("selected_option")
        return option.get("value") if option else None
    if element.get("type") == "users_select":
        return element.get("selected_user")
    if element.get("type") == "checkboxes":
        return ",".join(o.get("value", "") for o in element.get("selected_options") or [])
    return element.get("value")


def _multi(values: Values, block: str) -> list[str]:
    element = values.get(block, {}).get("value") or {}
    return [o.get("value") for o in element.get("selected_options") or [] if o.get("value")]


def _person(session: Session, user_id: str, team_id: str) -> PersonRef:
    member = partners.find_member_by_user(session, user_id=user_id)
    return member.person if member is not None else PersonRef(team_id, user_id)


def _int(value: object, default: int = 0) -> int:
    """A number from a form, a button or metadata. Anything else (forged or mistyped) is `default`:
    no object has number 0, so the domain answers "not found" instead of the listener failing."""
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return int(text) if text.isdecimal() and len(text) < 10 else default


def _enum_or_none(kind: Any, value: object) -> Any:
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def _code(word: str) -> int | None:
    found = CODE.match(word.strip())
    return int(found.group(1)) if found else None


def _metadata_json(data: dict[str, Any]) -> str:
    """JSON for a view's private_metadata or a button's value; `<`, `>` and `&` as unicode escapes, so
    text a person typed never reaches Slack as markup, not even where nobody sees it."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _labels(labels: dict[Any, str]) -> list[tuple[str, str]]:
    return [(key.value, label) for key, label in labels.items()]


# --- /samen interventie --------------------------------------------------------------------------------


def handle_intervention(request: CommandRequest) -> None:
    words = request.args.split()
    try:
        if not words or CASE.match(request.args.strip()):
            found = CASE.match(request.args.strip()) if words else None
            open_form(request, case_id=int(found.group(1)) if found else None)
            return
        found = INTERVENTION.match(words[0])
        if found is None:
            raise BadInput(USAGE)
        number = int(found.group(1))
        if len(words) == 1:
            show_card(request, number)
            return
        verb = words[1].lower()
        rest = " ".join(words[2:])
        if verb in ("na", "after"):
            set_after(request, number, rest)
        elif verb in ("wanneer", "when", "venster", "window"):
            propose_window(request, number, rest)
        elif verb in ("koppel", "attach", "casus", "case"):
            attach_to_case(request, number, rest)
        else:
            raise BadInput(USAGE)
    except BadInput as bad:
        request.ack_ephemeral(
            "intervention_problem.json.j2",
            **{
                **_blank_problem(),
                "message": bad.message,
                "values": bad.values,
            },
        )
    except (interventions.InterventionError, NotAllowed, PartnerError, WindowError) as problem:
        with request.services.session() as session:
            context = _problem_context(session, problem, request.language)
        request.ack_ephemeral("intervention_problem.json.j2", **context)


def _blank_problem() -> dict[str, Any]:
    return {
        "message": "",
        "values": {},
        "usage": None,
        "open": [],
        "override": None,
        "plan_round2": None,
        "ask": None,
    }


def open_form(request: CommandRequest, *, case_id: int | None, round_: int = 1) -> None:
    with request.services.session() as session:
        actor = _member(session, request.actor)
        view = _form_view(session, request.services, request.language, actor, case_id=case_id, round_=round_)
    request.client.views_open(trigger_id=request.body["trigger_id"], view=view)
    request.ack()


def _form_view(
    session: Session,
    services: Services,
    language: str,
    actor: Member,
    *,
    case_id: int | None,
    round_: int,
) -> dict[str, Any]:
    """The new-intervention form. Without a case typed, "no case" is chosen: an independent
    intervention of the person's own partner, owned by them unless they choose another member."""
    cases = interventions.cases_for(session, actor=actor)
    if case_id is not None and case_id not in {c.id for c in cases}:
        raise interventions.InterventionError(
            N_("Case %(number)s does not exist, is closed, or your partner is not on it."), number=case_id
        )
    return _render(
        services,
        language,
        "intervention_modal.json.j2",
        cases=[{"id": c.id, "title": c.title} for c in cases],
        partners=[{"id": p.id, "name": p.name} for p in partners.list_partners(session)],
        goals=_goal_options(session),
        instrument_types=_labels(INSTRUMENT_TYPE_LABELS),
        focus_elements=_labels(FOCUS_LABELS),
        contributions=_labels(CONTRIBUTION_LABELS),
        case_id=case_id,
        round=round_,
        owner_partner_id=actor.partner_id,
        owner=actor.user_id,
    )


def _goal_options(session: Session) -> list[dict[str, Any]]:
    names = {p.id: p.name for p in partners.list_partners(session)}
    return [
        {
            "id": goal.id,
            "label": f"{names.get(goal.partner_id, '?')}: {goal.description}",
            "focus": FOCUS_LABELS[goal.focus_element],
        }
        for goal in interventions.goals_for(session, year=clock.now(session).year)
    ]


def show_card(request: CommandRequest, number: int) -> None:
    with request.services.session() as session:
        actor = _member(session, request.actor)
        intervention = interventions.get(session, intervention_id=number)
        interventions.check_may_see(session, actor=actor, intervention=intervention)
        context = _card_context(session, actor, intervention)
    request.ack_ephemeral("intervention_card.json.j2", **context)


def _card_context(session: Session, actor: Member | None, intervention: Intervention) -> dict[str, Any]:
    shown = interventions.read_result(session, actor=actor, intervention=intervention) if actor else None
    before = session.get(Intervention, intervention.depends_on_id) if intervention.depends_on_id else None
    names = {p.id: p.name for p in partners.list_partners(session)}
    joining = [
        {"partner": names.get(j.partner_id, "?"), "contribution": CONTRIBUTION_LABELS[j.contribution]}
        for j in interventions.joining_of(session, intervention_id=intervention.id or 0)
    ]
    asked = [
        {"partner": names.get(a.partner_id, "?"), "contribution": CONTRIBUTION_LABELS[a.contribution]}
        for a in interventions.asked_of(session, intervention_id=intervention.id or 0)
        if a.accepted_at is None
    ]
    return {
        "asked": asked,
        "subject": interventions.subject_code_of(session, intervention_id=intervention.id or 0),
        "iv": messages.summary(session, intervention, for_channel=False),
        "steps": _steps(intervention),
        "after": {"code": before.code, "status": STATUS_LABELS[before.status]} if before else None,
        "joining": joining,
        "result": shown[0] if shown else None,
        "effect": shown[1] if shown else None,
        "reason": intervention.cancel_reason,
    }


def set_after(request: CommandRequest, number: int, rest: str) -> None:
    target: int | None
    if rest.strip().lower() in ("-", "geen", "none", "niets", "nothing"):
        target = None
    else:
        target = _code(rest)
        if target is None:
            raise BadInput(USAGE)
    with request.services.session() as session:
        actor = _member(session, request.actor)
        outcome = interventions.set_dependency(
            session,
            actor=actor,
            intervention_id=number,
            depends_on_id=target,
            settings=request.services.settings,
        )
        iv = messages.summary(session, outcome.intervention, for_channel=False)
    request.ack_ephemeral(
        "intervention_done.json.j2",
        kind="after_set" if target else "after_cleared",
        iv=iv,
        changed=outcome.changed,
        after=f"I-{target}" if target else None,
        window=None,
    )


def attach_to_case(request: CommandRequest, number: int, rest: str) -> None:
    """`/samen interventie I-12 koppel 7`: an independent intervention joins a case's work."""
    found = CASE.match(rest.strip())
    if found is None:
        raise BadInput(USAGE)
    with request.services.session() as session:
        actor = _member(session, request.actor)
        outcome = interventions.attach(
            session,
            actor=actor,
            intervention_id=number,
            case_id=int(found.group(1)),
            settings=request.services.settings,
        )
        context = _card_context(session, actor, outcome.intervention)
    request.ack_ephemeral("intervention_card.json.j2", **context, changed=outcome.changed)


def propose_window(request: CommandRequest, number: int, text: str) -> None:
    """Read the window and show it back, resolved, with a button to confirm it."""
    settings = request.services.settings
    window = parse_window(text, now=request.services.clock.now(), zone=settings.timezone)
    with request.services.session() as session:
        actor = _member(session, request.actor)
        intervention = interventions.get(session, intervention_id=number)
        interventions.check_may_update(session, actor=actor, intervention=intervention)
        iv = messages.summary(session, intervention, for_channel=False)
    request.ack_ephemeral(
        "intervention_done.json.j2",
        kind="window_proposed",
        iv=iv,
        changed=True,
        after=None,
        window={
            "start": window.start.isoformat(),
            "end": window.end.isoformat() if window.end else None,
            "has_time": window.has_time,
            "value": json.dumps(
                {
                    "id": number,
                    "s": window.start.isoformat(),
                    "e": window.end.isoformat() if window.end else None,
                    "t": window.has_time,
                }
            ),
        },
    )


# --- the new-intervention modal ------------------------------------------------------------------------


def submit_new(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    values: Values = body["view"]["state"]["values"]
    problems: list[Exception] = []
    window: Window | None = None
    try:
        window = window_from_pickers(
            _picked(values, "window_day"),
            _picked(values, "window_from"),
            _picked(values, "window_to"),
            now=services.clock.now(),
            zone=services.settings.timezone,
        )
    except WindowError as bad:
        problems.append(interventions.InterventionError(bad.message, field="window_day", **bad.values))
    after_text = (_selected(values, "after") or "").strip()
    depends_on = _code(after_text) if after_text else None
    if after_text and depends_on is None:
        problems.append(
            interventions.InterventionError(
                N_("Write the intervention to wait for as I-12 (or leave it empty)."), field="after"
            )
        )
    with services.session() as session:
        try:
            actor = _member(session, context["actor"])
        except PartnerError as stranger:
            ack(response_action="errors", errors=_errors([stranger], language, "instrument"))
            return
        draft = _draft(session, values, actor, window, depends_on, problems)
        if draft is not None:
            problems += interventions.check_draft(session, actor=actor, draft=draft, now=clock.now(session))
        if problems or draft is None:
            ack(response_action="errors", errors=_errors(problems, language, "instrument"))
            return
        view = _confirm_view(session, services, language, draft)
    ack(response_action="update", view=view)


def _draft(
    session: Session,
    values: Values,
    actor: Member,
    window: Window | None,
    depends_on: int | None,
    problems: list[Exception],
) -> interventions.Draft | None:
    def required(block: str, message: str) -> str | None:
        value = _selected(values, block)
        if not value:
            problems.append(interventions.InterventionError(message, field=block))
        return value

    chosen_case = _selected(values, "case")
    case_id = None if chosen_case in (None, "", NO_CASE) else _int(chosen_case)
    instrument_type = required("instrument_type", N_("Choose the kind of instrument."))
    owner_partner = required("owner_partner", N_("Choose the partner that owns it."))
    owner = required("owner", N_("Choose the person who owns it."))
    if not (instrument_type and owner_partner and owner):
        return None
    kind = _enum_or_none(InstrumentType, instrument_type)
    if kind is None:  # not one of the options the form offered
        problems.append(
            interventions.InterventionError(N_("Choose the kind of instrument."), field="instrument_type")
        )
        return None
    case = session.get(Case, case_id) if case_id is not None else None
    goal_id = _int(_selected(values, "goal")) or None
    goal = session.get(Goal, goal_id) if goal_id else None
    focus = _enum_or_none(FocusElement, _selected(values, "focus")) or (
        goal.focus_element if goal else case.focus_element if case else None
    )
    if focus is None:
        problems.append(
            interventions.InterventionError(
                N_("Choose the focus element: without a case or a goal there is none to take."), field="focus"
            )
        )
        return None
    joining: list[tuple[int, Contribution]] = []
    for contribution in Contribution:
        joining += [(_int(p), contribution) for p in _multi(values, f"joining_{contribution.value}")]
    return interventions.Draft(
        case_id=case_id,
        instrument_type=kind,
        instrument=_selected(values, "instrument") or "",
        focus_element=focus,
        owner_partner_id=_int(owner_partner),
        owner=_person(session, owner, actor.team_id),
        round=_int(_selected(values, "round"), 1),
        window=window,
        depends_on_id=depends_on,
        joining=tuple(joining),
        subject_code=(_selected(values, "subject") or "").strip().upper() or None,
        goal_id=goal_id,
    )


def _picked(values: Values, block: str) -> str | None:
    """A picker's choice (datepicker: selected_date, timepicker: selected_time), or None."""
    element = values.get(block, {}).get("value") or {}
    picked = element.get("selected_date") or element.get("selected_time")
    return picked if isinstance(picked, str) else None


def _confirm_view(session: Session, services: Services, language: str, draft: interventions.Draft) -> Any:
    case = session.get(Case, draft.case_id) if draft.case_id is not None else None
    partner = session.get(Partner, draft.owner_partner_id)
    goal = session.get(Goal, draft.goal_id) if draft.goal_id else None
    names = {p.id: p.name for p in partners.list_partners(session)}
    on_case = interventions.partners_on_case(session, draft.case_id)
    metadata = {
        "case": draft.case_id,
        "type": draft.instrument_type.value,
        "what": draft.instrument,
        "focus": draft.focus_element.value,
        "partner": draft.owner_partner_id,
        "owner": [draft.owner.team_id, draft.owner.user_id],
        "round": draft.round,
        "window": [
            draft.window.start.isoformat(),
            draft.window.end.isoformat() if draft.window.end else None,
            draft.window.has_time,
        ]
        if draft.window
        else None,
        "after": draft.depends_on_id,
        "joining": [[p, c.value] for p, c in draft.joining],
        "subject": draft.subject_code,
        "goal": draft.goal_id,
    }
    return _render(
        services,
        language,
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
        metadata=_metadata_json(metadata),
    )


def _draft_from_metadata(raw: str) -> interventions.Draft:
    data = json.loads(raw)
    window = None
    if data.get("window"):
        start, end, has_time = data["window"]
        window = Window(
            start=datetime.fromisoformat(start),
            end=datetime.fromisoformat(end) if end else None,
            has_time=bool(has_time),
        )
    return interventions.Draft(
        case_id=int(data["case"]) if data.get("case") is not None else None,
        instrument_type=InstrumentType(data["type"]),
        instrument=str(data["what"]),
        focus_element=FocusElement(data["focus"]),
        owner_partner_id=int(data["partner"]),
        owner=PersonRef(*data["owner"]),
        round=int(data["round"]),
        window=window,
        depends_on_id=data.get("after"),
        joining=tuple((int(p), Contribution(c)) for p, c in data.get("joining") or []),
        subject_code=str(data["subject"]) if data.get("subject") else None,
        goal_id=int(data["goal"]) if data.get("goal") else None,
    )


def submit_confirm(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    view = body["view"]
    try:
        draft = _draft_from_metadata(view.get("private_metadata") or "")
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):  # forged or corrupt metadata
        ack(
            response_action="update",
            view=_notice(
                services, language, N_("That form has expired. Start again with `/samen interventie`.")
            ),
        )
        return
    try:
        with services.session() as session:
            actor = _member(session, context["actor"])
            outcome = interventions.create(
                session,
                actor=actor,
                draft=draft,
                settings=services.settings,
                submission_key=view.get("root_view_id") or view.get("id"),
            )
            iv = messages.summary(session, outcome.intervention, for_channel=False)
    except (interventions.InterventionError, NotAllowed, PartnerError) as problem:
        with services.session() as session:
            problem_context = _problem_context(session, problem, language)
        ack(response_action="update", view=_notice_from(services, language, problem_context))
        return
    ack(
        response_action="update",
        view=_render(
            services, language, "intervention_saved.json.j2", iv=iv, kind="created", changed=outcome.changed
        ),
    )


def _notice(services: Services, language: str, message: str, **values: object) -> Any:
    return _notice_from(services, language, {**_blank_problem(), "message": message, "values": values})


def _notice_from(services: Services, language: str, problem_context: dict[str, Any]) -> Any:
    blocks = _render(services, language, "intervention_problem.json.j2", **problem_context)["blocks"]
    return _render(
        services,
        language,
        "intervention_saved.json.j2",
        iv=None,
        kind="problem",
        changed=False,
        blocks=blocks,
    )


# --- buttons ---------------------------------------------------------------------------------------------


def _answered_after_the_change(listener: Callable[..., None]) -> Callable[..., None]:
    """A button's change is committed (and its answer sent) before Slack gets the acknowledgement.

    The work takes milliseconds, well inside Slack's 3 seconds, and whatever the person (or a test)
    does next finds the change made. Bolt passes arguments by name, so the wrapper keeps the signature.
    """

    @functools.wraps(listener)
    def acknowledged(**kwargs: Any) -> None:
        ack: Ack = kwargs["ack"]
        try:
            listener(**kwargs)
        finally:
            ack()

    return acknowledged


@_answered_after_the_change
def click_step(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    action = body["actions"][0]
    to = _enum_or_none(S, action["action_id"].removeprefix(STEP_ACTION))
    if to is None:
        return  # not a step Samen offers
    number = _int(action.get("value"))
    _step(ack, body, client, context, number, to)


@_answered_after_the_change
def click_done(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    number = _int(body["actions"][0].get("value"))
    _step(ack, body, client, context, number, S.UITGEVOERD)


def _step(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    number: int,
    to: InterventionStatus,
) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    if to in (S.UITGEVOERD, S.GEANNULEERD):
        # Both ask something first (the result; the reason): open the form while the trigger is fresh.
        _open_closing_form(body, client, context, number, to)
        return
    try:
        with services.session() as session:
            actor = _member(session, context["actor"])
            outcome = interventions.advance(
                session, actor=actor, intervention_id=number, to=to, settings=services.settings
            )
            card = _card_context(session, actor, outcome.intervention)
    except (interventions.InterventionError, NotAllowed, PartnerError) as problem:
        with services.session() as session:
            problem_context = _problem_context(session, problem, language)
        _with_override(problem_context, problem, number, to.value)
        _answer_problem(body, client, context, problem_context)
        return
    _answer_card(body, client, context, card, changed=outcome.changed)


def _open_closing_form(
    body: dict[str, Any], client: WebClient, context: BoltContext, number: int, to: InterventionStatus
) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    try:
        with services.session() as session:
            actor = _member(session, context["actor"])
            intervention = interventions.get(session, intervention_id=number)
            interventions.check_may_close(session, actor=actor, intervention=intervention, to=to)
            iv = messages.summary(session, intervention, for_channel=False)
    except (interventions.InterventionError, NotAllowed, PartnerError) as problem:
        with services.session() as session:
            problem_context = _problem_context(session, problem, language)
        _answer_problem(body, client, context, problem_context)
        return
    origin = _origin(body)
    if to is S.UITGEVOERD:
        view = _render(
            services,
            language,
            "intervention_finish.json.j2",
            iv=iv,
            metadata=_metadata_json({"id": number, "origin": origin}),
        )
    else:
        view = _render(
            services,
            language,
            "intervention_reason.json.j2",
            iv=iv,
            kind="cancel",
            metadata=_metadata_json({"id": number, "to": to.value, "kind": "cancel", "origin": origin}),
        )
    _open_view(body, client, view)


def _origin(body: dict[str, Any]) -> dict[str, Any]:
    """Where the click came from, so the answer can go back there (a message's response_url, the Home)."""
    container = body.get("container") or {}
    if container.get("type") == "view" and (body.get("view") or {}).get("type") == "home":
        return {"home": True}
    return {"response_url": body.get("response_url")} if body.get("response_url") else {}


def _open_view(body: dict[str, Any], client: WebClient, view: dict[str, Any]) -> None:
    if (body.get("view") or {}).get("type") == "modal":
        client.views_push(trigger_id=body["trigger_id"], view=view)
    else:
        client.views_open(trigger_id=body["trigger_id"], view=view)


def _answer_problem(
    body: dict[str, Any], client: WebClient, context: BoltContext, problem_context: dict[str, Any]
) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    if body.get("response_url"):
        message = _render(services, language, "intervention_problem.json.j2", **problem_context)
        client_respond(body, message, replace=False)
        return
    _open_view(body, client, _notice_from(services, language, problem_context))


def _answer_card(
    body: dict[str, Any], client: WebClient, context: BoltContext, card: dict[str, Any], *, changed: bool
) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    origin = _origin(body)
    if origin.get("home"):
        refresh_home(client, context)
        return
    message = _render(services, language, "intervention_card.json.j2", **card, changed=changed)
    if body.get("response_url"):
        # A card or a reminder is replaced by the intervention as it is now; a list gets a new message.
        block_id = str((body.get("actions") or [{}])[0].get("block_id") or "")
        client_respond(body, message, replace=not block_id.startswith("ivlist_"))


def client_respond(body: dict[str, Any], message: dict[str, Any], *, replace: bool) -> None:
    """Answer through the click's response_url (only the person who clicked sees an ephemeral answer)."""
    NoUnfurlRespond(response_url=body["response_url"])(
        text=message.get("text", ""),
        blocks=message.get("blocks"),
        response_type="ephemeral",
        replace_original=replace,
    )


def refresh_home(client: WebClient, context: BoltContext) -> None:
    from commands.home import publish_home

    publish_home(client, context["interaction"].for_home(context["actor"], context["language"]))


@_answered_after_the_change
def click_snooze(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    action = body["actions"][0]
    span: Literal["day", "week"] = "day" if action["action_id"].endswith("day") else "week"
    number = _int(action.get("value"))
    try:
        with services.session() as session:
            actor = _member(session, context["actor"])
            outcome = interventions.snooze(
                session, actor=actor, intervention_id=number, span=span, settings=services.settings
            )
            iv = messages.summary(session, outcome.intervention, for_channel=False)
            until = outcome.intervention.snoozed_until
    except (interventions.InterventionError, NotAllowed, PartnerError) as problem:
        with services.session() as session:
            problem_context = _problem_context(session, problem, language)
        _answer_problem(body, client, context, problem_context)
        return
    message = _render(
        services,
        language,
        "intervention_done.json.j2",
        kind="snoozed",
        iv=iv,
        changed=outcome.changed,
        after=None,
        window=None,
        until=until.isoformat() if until else None,
    )
    if body.get("response_url"):
        client_respond(body, message, replace=True)


@_answered_after_the_change
def click_handover(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    number = _int(body["actions"][0].get("value"))
    try:
        with services.session() as session:
            actor = _member(session, context["actor"])
            intervention = interventions.get(session, intervention_id=number)
            interventions.check_may_close(session, actor=actor, intervention=intervention, to=None)
            iv = messages.summary(session, intervention, for_channel=False)
    except (interventions.InterventionError, NotAllowed, PartnerError) as problem:
        with services.session() as session:
            problem_context = _problem_context(session, problem, language)
        _answer_problem(body, client, context, problem_context)
        return
    view = _render(
        services,
        language,
        "intervention_handover.json.j2",
        iv=iv,
        metadata=_metadata_json({"id": number, "origin": _origin(body)}),
    )
    _open_view(body, client, view)


@_answered_after_the_change
def click_override(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    try:
        data = json.loads(body["actions"][0].get("value") or "{}")
        number, kind, to = int(data["id"]), str(data["kind"]), S(data["to"])
    except (ValueError, KeyError, TypeError, RecursionError):
        return
    with services.session() as session:
        try:
            intervention = interventions.get(session, intervention_id=number)
        except interventions.InterventionError:
            return
        iv = messages.summary(session, intervention, for_channel=False)
    view = _render(
        services,
        language,
        "intervention_reason.json.j2",
        iv=iv,
        kind=kind,
        metadata=_metadata_json({"id": number, "to": to.value, "kind": kind, "origin": _origin(body)}),
    )
    _open_view(body, client, view)


@_answered_after_the_change
def click_plan_round2(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    try:
        case_id = int(body["actions"][0].get("value") or 0)
        with services.session() as session:
            actor = _member(session, context["actor"])
            view = _form_view(session, services, language, actor, case_id=case_id, round_=2)
    except (interventions.InterventionError, NotAllowed, PartnerError, ValueError):
        return
    if view is not None:
        _open_view(body, client, view)


@_answered_after_the_change
def click_window_confirm(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    try:
        data = json.loads(body["actions"][0].get("value") or "{}")
        number = int(data["id"])
        window = Window(
            start=datetime.fromisoformat(data["s"]),
            end=datetime.fromisoformat(data["e"]) if data.get("e") else None,
            has_time=bool(data["t"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return
    try:
        with services.session() as session:
            actor = _member(session, context["actor"])
            outcome = interventions.set_window(
                session, actor=actor, intervention_id=number, window=window, settings=services.settings
            )
            iv = messages.summary(session, outcome.intervention, for_channel=False)
    except (interventions.InterventionError, NotAllowed, PartnerError) as problem:
        with services.session() as session:
            problem_context = _problem_context(session, problem, language)
        _answer_problem(body, client, context, problem_context)
        return
    message = _render(
        services,
        language,
        "intervention_done.json.j2",
        kind="window_set",
        iv=iv,
        changed=outcome.changed,
        after=None,
        window=None,
    )
    if body.get("response_url"):
        client_respond(body, message, replace=True)


@_answered_after_the_change
def click_join(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """An asked partner accepts: it joins with the contribution it was asked for."""
    services: Services = context["services"]
    language: str = context["language"]
    number = _int(body["actions"][0].get("value"))
    try:
        with services.session() as session:
            actor = _member(session, context["actor"])
            outcome = interventions.accept_ask(
                session, actor=actor, intervention_id=number, settings=services.settings
            )
            card = _card_context(session, actor, outcome.intervention)
    except (interventions.InterventionError, NotAllowed, PartnerError) as problem:
        with services.session() as session:
            problem_context = _problem_context(session, problem, language)
        _answer_problem(body, client, context, problem_context)
        return
    _answer_card(body, client, context, card, changed=outcome.changed)


# --- the closing forms -----------------------------------------------------------------------------------


def _origin_of(data: dict[str, Any]) -> dict[str, Any]:
    origin = data.get("origin")
    return origin if isinstance(origin, dict) else {}


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except (ValueError, RecursionError):  # forged or corrupt: as if there were none
        return {}
    return data if isinstance(data, dict) else {}


def _after_change(
    client: WebClient, context: BoltContext, origin: dict[str, Any], card: dict[str, Any]
) -> None:
    """Show the intervention as it is now where the person clicked: their Home, or the message."""
    services: Services = context["services"]
    language: str = context["language"]
    if origin.get("home"):
        refresh_home(client, context)
    elif is_response_url(origin.get("response_url"), services.settings):  # Slack's, not a forged one
        message = _render(services, language, "intervention_card.json.j2", **card, changed=True)
        try:
            client_respond({"response_url": origin["response_url"]}, message, replace=True)
        except Exception:  # the response_url may have expired (30 minutes): the change stands
            logger.info("could not update the message the change came from")


def submit_finish(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    view = body["view"]
    values: Values = view["state"]["values"]
    data = _metadata(view)
    success = "success" in (_selected(values, "success") or "").split(",")
    try:
        with services.session() as session:
            actor = _member(session, context["actor"])
            outcome = interventions.finish(
                session,
                actor=actor,
                intervention_id=_int(data.get("id")),
                settings=services.settings,
                result=_selected(values, "result") or "",
                effect=_selected(values, "effect"),
                success=success,
                lesson=_selected(values, "lesson"),
            )
            card = _card_context(session, actor, outcome.intervention)
    except (interventions.InterventionError, NotAllowed, PartnerError) as problem:
        ack(response_action="errors", errors=_errors([problem], language, "result"))
        return
    ack(
        response_action="update",
        view=_render(
            services,
            language,
            "intervention_saved.json.j2",
            iv=card["iv"],
            kind="finished",
            changed=outcome.changed,
            told=list(outcome.told),
        ),
    )
    _after_change(client, context, _origin_of(data), card)


def submit_reason(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    view = body["view"]
    data = _metadata(view)
    reason = _selected(view["state"]["values"], "reason") or ""
    number = _int(data.get("id"))
    kind = data.get("kind")
    try:
        with services.session() as session:
            actor = _member(session, context["actor"])
            if kind == "cancel":
                outcome = interventions.cancel(
                    session, actor=actor, intervention_id=number, reason=reason, settings=services.settings
                )
            else:
                to = _enum_or_none(S, data.get("to")) or S.IN_UITVOERING
                if to in interventions.CLOSING or to is S.VOORGESTELD:  # not a step this form takes
                    to = S.IN_UITVOERING
                outcome = interventions.advance(
                    session,
                    actor=actor,
                    intervention_id=number,
                    to=to,
                    settings=services.settings,
                    capacity_override=reason if kind == "capacity" else None,
                    second_round_override=reason if kind == "second_round" else None,
                )
            card = _card_context(session, actor, outcome.intervention)
    except (interventions.InterventionError, NotAllowed, PartnerError) as problem:
        ack(response_action="errors", errors=_errors([problem], language, "reason"))
        return
    ack(
        response_action="update",
        view=_render(
            services,
            language,
            "intervention_saved.json.j2",
            iv=card["iv"],
            kind="changed",
            changed=outcome.changed,
        ),
    )
    _after_change(client, context, _origin_of(data), card)


def submit_handover(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    view = body["view"]
    data = _metadata(view)
    values: Values = view["state"]["values"]
    user_id = _selected(values, "owner")
    if not user_id:
        ack(response_action="errors", errors={"owner": t(language, "Choose the person who owns it.")})
        return
    try:
        with services.session() as session:
            actor = _member(session, context["actor"])
            outcome = interventions.hand_over(
                session,
                actor=actor,
                intervention_id=_int(data.get("id")),
                to=_person(session, user_id, actor.team_id),
                settings=services.settings,
                capacity_override=_selected(values, "override"),
            )
            card = _card_context(session, actor, outcome.intervention)
    except interventions.CapacityExceeded as full:
        listing = ", ".join(f"{iv['code']} {iv['instrument']}" for iv in full.open)
        text = t(language, full.message, **full.values) + " " + listing
        ack(response_action="errors", errors={"owner": text[:1900]})
        return
    except (interventions.InterventionError, NotAllowed, PartnerError) as problem:
        ack(response_action="errors", errors=_errors([problem], language, "owner"))
        return
    ack(
        response_action="update",
        view=_render(
            services,
            language,
            "intervention_saved.json.j2",
            iv=card["iv"],
            kind="handed_over",
            changed=outcome.changed,
        ),
    )
    _after_change(client, context, _origin_of(data), card)


# --- /samen mijn and the App Home -----------------------------------------------------------------------


def show_mine(request: CommandRequest) -> None:
    with request.services.session(read_only=True) as session:
        actor = _member(session, request.actor)
        work = interventions.my_work(session, actor=actor)
        # Two blocks each: ten of each list keep the answer inside Slack's 50 blocks.
        mine = [_item(session, iv) for iv in work.mine[:10]]
        others = [_item(session, iv) for iv in work.partner[:10]]
    request.ack_ephemeral(
        "intervention_list.json.j2", mine=mine, partner=others, partner_name=work.partner_name or ""
    )


def home_section(request: HomeRequest) -> list[dict[str, Any]]:
    with request.services.session(read_only=True) as session:
        member = partners.find_member(session, team_id=request.actor.team_id, user_id=request.actor.user_id)
        if member is None:
            return []
        work = interventions.my_work(session, actor=member)
        mine = [_item(session, iv) for iv in work.mine[:10]]
        others = [_item(session, iv) for iv in work.partner[:10]]
    rendered = request.render(
        "intervention_home.json.j2", mine=mine, partner=others, partner_name=work.partner_name or ""
    )
    return list(rendered["blocks"])


# --- /samen lessen ---------------------------------------------------------------------------------------


def show_lessons(request: CommandRequest) -> None:
    term = request.args.strip() or None
    with request.services.session(read_only=True) as session:
        found = lesson_service.search(session, term=term)
        names = {p.id: p.name for p in partners.list_partners(session)}
        lessons = [
            {
                "text": lesson.text,
                "code": f"I-{lesson.intervention_id}",
                "partner": names.get(lesson.partner_id, "?"),
                "focus": FOCUS_LABELS[lesson.focus_element],
                "instrument_type": INSTRUMENT_TYPE_LABELS[lesson.instrument_type],
                "at": lesson.created_at.isoformat(),
            }
            for lesson in found
        ]
    request.ack_ephemeral("lesson_list.json.j2", lessons=lessons, term=term)


# --- /samen doelen -----------------------------------------------------------------------------------------


def handle_goals(request: CommandRequest) -> None:
    verb = request.args.strip().lower()
    if verb in ("nieuw", "new", "toevoegen", "add"):
        with request.services.session(read_only=True) as session:
            actor = _member(session, request.actor)
            view = _render(
                request.services,
                request.language,
                "goal_modal.json.j2",
                partners=[{"id": p.id, "name": p.name} for p in partners.list_partners(session)],
                focus_elements=_labels(FOCUS_LABELS),
                instrument_types=_labels(INSTRUMENT_TYPE_LABELS),
                partner_id=actor.partner_id,
            )
        request.client.views_open(trigger_id=request.body["trigger_id"], view=view)
        request.ack()
        return
    if verb:
        request.ack_ephemeral(
            "intervention_problem.json.j2",
            **{
                **_blank_problem(),
                "message": N_("Write `/samen doelen` to see the goals, or `/samen doelen nieuw` to add one."),
            },
        )
        return
    with request.services.session(read_only=True) as session:
        progress = goal_service.progress(session)
        goals = [
            {
                "partner": item.partner,
                "focus": FOCUS_LABELS[item.goal.focus_element],
                "instrument_type": INSTRUMENT_TYPE_LABELS[item.goal.instrument_type]
                if item.goal.instrument_type
                else None,
                "description": item.goal.description,
                "target": item.goal.target,
                "done": item.done,
                "percent": item.percent,
            }
            for item in progress
        ]
    request.ack_ephemeral("goal_list.json.j2", goals=goals, year=request.services.clock.now().year)


def submit_goal(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    view = body["view"]
    values: Values = view["state"]["values"]
    target_text = (_selected(values, "target") or "").strip()
    if not re.fullmatch(r"\d{1,5}", target_text):
        ack(
            response_action="errors",
            errors={"target": t(language, "Write the target as a whole number, e.g. 10.")},
        )
        return
    instrument = _selected(values, "instrument_type")
    try:
        with services.session() as session:
            actor = _member(session, context["actor"])
            goal_service.add_goal(
                session,
                actor=actor,
                partner_id=_int(_selected(values, "partner")),
                focus_element=_enum_or_none(FocusElement, _selected(values, "focus"))
                or FocusElement.OPROLLEN,
                description=_selected(values, "description") or "",
                target=int(target_text),
                instrument_type=_enum_or_none(InstrumentType, instrument),
                submission_key=view.get("id"),
            )
    except (interventions.InterventionError, NotAllowed, PartnerError) as problem:
        ack(response_action="errors", errors=_errors([problem], language, "partner"))
        return
    ack(
        response_action="update",
        view=_render(services, language, "intervention_saved.json.j2", iv=None, kind="goal", changed=True),
    )
