"""Signals in Slack: `/samen signaal [tekst]` and the "Registreer als signaal" message shortcut open the
registration modal; the signal's weigh button opens the weighing modal; `/samen signalen` and
`/samen subject` look things up; the match notice's button asks for an alignment moment.

Parse → ack → call bot.signals.service → render. Who may see or do what is decided there.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Final

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from sqlmodel import Session

from bot.authz import NotAllowed
from bot.i18n import N_, t
from bot.mrkdwn import readable
from bot.partners import service as partners
from bot.partners.models import Member, PersonRef
from bot.pii import KIND_LABELS, Kind
from bot.runtime import Services
from bot.signals import service
from bot.signals.models import Recency
from bot.signals.notices import Outbound
from bot.signals.service import (
    OUTCOME_LABELS,
    RECENCY_LABELS,
    VERDICT_LABELS,
    Outcome,
    SignalError,
    SignalInput,
    SubjectInput,
    Verdict,
    WeighingInput,
)
from bot.slack.registry import HomeSection, Registry, Subcommand
from bot.slack.requests import Actor, CommandRequest, HomeRequest
from bot.slack.urls import is_response_url
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

logger = logging.getLogger(__name__)

REGISTER_VIEW: Final = "signal_register"
WEIGH_VIEW: Final = "signal_weigh"
SHORTCUT: Final = "register_signal"  # the message shortcut "Registreer als signaal"
MAX_PREFILL_SUMMARY: Final = service.MAX_SUMMARY
LOOKUP_PURPOSE: Final = "look-up of a signal's details (/samen signalen)"
SUBJECT_PURPOSE: Final = "look-up of a subject's identity (/samen subject)"
WEIGH_PURPOSE: Final = "weighing a signal (the weighing form shows its details)"


def register(app: App, registry: Registry) -> None:
    registry.add_subcommand(
        Subcommand(
            name="signaal",
            aliases=("signal",),
            usage="[tekst]",
            summary=N_(
                "Register a signal: what you saw, in seconds (also from any message: “Register as signal”)."
            ),
            handler=open_registration,
        )
    )
    registry.add_subcommand(
        Subcommand(
            name="signalen",
            aliases=("signals",),
            usage="[zoekterm | nummer]",
            summary=N_("Find signals; with a number, one signal with the details you may see."),
            handler=show_signals,
        )
    )
    registry.add_subcommand(
        Subcommand(
            name="subject",
            aliases=("subjecten",),
            usage="<code>",
            summary=N_("Which partners have something on a subject (hit/no-hit), by its code."),
            handler=show_subject,
        )
    )
    registry.add_home_section(HomeSection(name="signals", order=20, render=home_section))
    app.view(REGISTER_VIEW)(submit_registration)
    app.shortcut(SHORTCUT)(registration_from_message)
    app.action("signal_weigh")(open_weighing)
    app.view(WEIGH_VIEW)(submit_weighing)
    # The match notice's button "alignment_request" is handled by commands/checkins.py (issue 6).
    app.action("signal_grant_access")(grant_access)


# --- registering ----------------------------------------------------------------------------------


def open_registration(request: CommandRequest) -> None:
    request.ack()
    text = request.args.strip()
    summary, details = (
        (text, "") if len(text) <= MAX_PREFILL_SUMMARY else (text[: MAX_PREFILL_SUMMARY - 1] + "…", text)
    )
    metadata = {"r": request.body.get("response_url"), "c": request.channel_id}
    with request.services.session() as session:
        view = registration_view(
            request.services, session, request.member, request.language, summary, details, metadata
        )
    _open(request.client, request.body.get("trigger_id"), view)


def registration_from_message(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    """The message shortcut: the message's text, and a link to it, fill the modal."""
    ack()
    services: Services = context["services"]
    language: str = context["language"]
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id")
    with services.session() as session:
        member = _find_member(session, context["actor"])
        if member is None:
            _not_a_member(session, services, language, respond=respond, client=client, body=body)
            return
    permalink = None
    if channel and message.get("ts"):
        try:
            permalink = client.chat_getPermalink(channel=channel, message_ts=message["ts"]).get("permalink")
        except SlackApiError as exc:
            logger.warning("chat.getPermalink failed: %s", exc.response.get("error"))
    text = str(message.get("text") or "")
    summary, details = (
        (text, "") if len(text) <= MAX_PREFILL_SUMMARY else (text[: MAX_PREFILL_SUMMARY - 1] + "…", text)
    )
    metadata = {"r": body.get("response_url"), "c": channel, "p": permalink}
    with services.session() as session:
        view = registration_view(services, session, member, language, summary, details, metadata)
    _open(client, body.get("trigger_id"), view)


def registration_view(
    services: Services,
    session: Session,
    member: Member,
    language: str,
    summary: str,
    details: str,
    metadata: dict[str, Any],
) -> Any:
    others = [p for p in partners.list_partners(session) if p.id != member.partner_id]
    return services.renderer.render(
        "signal_modal.json.j2",
        language,
        summary=summary,
        details=details[: service.MAX_DETAILS],
        metadata=json.dumps({k: v for k, v in metadata.items() if v}),
        categories=options(language, [(c.value, CATEGORY_LABELS[c]) for c in SignalCategory]),
        kinds=options(language, [(k.value, SUBJECT_KIND_LABELS[k]) for k in SubjectKind]),
        roles=options(language, [(r.value, SUBJECT_ROLE_LABELS[r]) for r in SubjectRole]),
        focus_elements=options(language, [(f.value, FOCUS_LABELS[f]) for f in FocusElement]),
        partners=options(language, [(str(p.id), p.name) for p in others], translate=False),
        own_partner=partners.get_partner(session, partner_id=member.partner_id).name,
    )


def submit_registration(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    values = view.get("state", {}).get("values", {})
    metadata = _metadata(view)
    kind = _enum(SubjectKind, _value(values, "new_kind"))
    identity = _value(values, "new_identity")
    data = SignalInput(
        summary=_value(values, "summary") or "",
        category=_enum(SignalCategory, _value(values, "category")),
        subject_codes=_value(values, "subject_codes") or "",
        role=_enum(SubjectRole, _value(values, "subject_role")) or SubjectRole.BETROKKENE,
        new_subject=SubjectInput(
            kind, _enum(SubjectRole, _value(values, "subject_role")) or SubjectRole.BETROKKENE, identity
        )
        if kind
        else None,
        new_subject_incomplete=kind is None and bool((identity or "").strip()),
        location_or_sector=_value(values, "location"),
        focus_element=_enum(FocusElement, _value(values, "focus")),
        details=_value(values, "details"),
        shared_with=[
            int(v) for v in _value(values, "share") or [] if str(v).isdecimal() and len(str(v)) < 10
        ],
        share_with_coordinators="yes" in (_value(values, "coordinators") or [])
        or "coordinators" not in values,
        source_permalink=metadata.get("p"),
        submission_key=str(view.get("id") or "")[:64] or None,
    )
    try:
        with services.session() as session:
            member = _find_member(session, context["actor"])
            if member is None:
                raise SignalError(
                    N_("You are not (yet) a member of the partnership: ask a coordinator to add you.")
                )
            result = service.register(
                session, actor=member, data=data, outbound=Outbound.of(services.settings)
            )
            answer = services.renderer.render(
                "signal_registered.json.j2",
                language,
                signal=result.card,
                kept_out=[(KIND_LABELS[k], n) for k, n in result.kept_out.items()],
                matches=result.matches,
                announced=bool(services.settings.samen_partnership_channel),
            )
    except (SignalError, NotAllowed, partners.PartnerError) as problem:
        ack(response_action="errors", errors=_field_errors(view, language, problem, default="summary"))
        return
    _confirm(ack, services, language, metadata, answer)


# --- weighing -------------------------------------------------------------------------------------


def open_weighing(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    services: Services = context["services"]
    language: str = context["language"]
    signal_id = _number(_action_value(body))
    try:
        with services.session() as session:
            member = _find_member(session, context["actor"])
            if member is None:
                _not_a_member(session, services, language, respond=respond, client=client, body=body)
                return
            if signal_id is None:
                raise service.NotFound(N_("There is no signal with number %(number)s."), number="?")
            shown = service.weighing_form(session, actor=member, signal_id=signal_id, purpose=WEIGH_PURPOSE)
            current = {a.step: a for a in shown.assessments}
            view = services.renderer.render(
                "signal_weigh_modal.json.j2",
                language,
                signal=shown,
                current=current,
                metadata=json.dumps({"s": signal_id}),
                verdicts=options(language, [(v.value, VERDICT_LABELS[v]) for v in Verdict]),
                partners=options(
                    language, [(str(p.id), p.name) for p in partners.list_partners(session)], translate=False
                ),
                seriousness=options(language, [(str(n), str(n)) for n in range(1, 6)], translate=False),
                recencies=options(language, [(r.value, RECENCY_LABELS[r]) for r in Recency]),
                outcomes=options(language, [(o.value, OUTCOME_LABELS[o]) for o in Outcome]),
                focus_elements=options(language, [(f.value, FOCUS_LABELS[f]) for f in FocusElement]),
            )
    except (SignalError, NotAllowed, partners.PartnerError) as problem:
        _tell(services, language, problem, respond=respond, client=client, body=body)
        return
    _open(client, body.get("trigger_id"), view)


def submit_weighing(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    values = view.get("state", {}).get("values", {})
    signal_id = _number(str(_metadata(view).get("s", "")))
    seriousness = _value(values, "seriousness")
    data = WeighingInput(
        verdict=_enum(Verdict, _value(values, "verdict")),
        verdict_reason=_value(values, "verdict_reason"),
        task_partner_id=_number(_value(values, "task_partner")),
        legal_basis=_value(values, "legal_basis"),
        task_reason=_value(values, "task_reason"),
        seriousness=_number(seriousness),
        recency=_enum(Recency, _value(values, "recency")),
        seriousness_reason=_value(values, "seriousness_reason"),
        outcome=_enum(Outcome, _value(values, "outcome")),
        outcome_reason=_value(values, "outcome_reason"),
        case_focus=_enum(FocusElement, _value(values, "case_focus")),
        case_title=_value(values, "case_title"),
    )
    try:
        with services.session() as session:
            member = _find_member(session, context["actor"])
            if member is None:
                raise SignalError(
                    N_("You are not (yet) a member of the partnership: ask a coordinator to add you.")
                )
            if signal_id is None:
                raise service.NotFound(N_("There is no signal with number %(number)s."), number="?")
            result = service.weigh(
                session, actor=member, signal_id=signal_id, data=data, outbound=Outbound.of(services.settings)
            )
            shown = service.card(session, result.signal)
    except (SignalError, NotAllowed, partners.PartnerError) as problem:
        ack(response_action="errors", errors=_field_errors(view, language, problem, default="verdict"))
        return
    done = services.renderer.render(
        "signal_notice.json.j2",
        language,
        message=N_("Signal %(number)s: %(status)s.")
        if result.steps or result.duplicate
        else N_("Nothing was changed: it was already like this."),
        values={"number": shown.id, "status": t(language, shown.status_label)},
        usage=None,
    )
    ack(response_action="update", view=_info_view(services, language, N_("Signal weighed"), done["blocks"]))


# --- sharing and alignment ------------------------------------------------------------------------


def grant_access(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    services: Services = context["services"]
    language: str = context["language"]
    signal_text, _, partner_text = _action_value(body).partition(":")
    signal_id, partner_id = _number(signal_text), _number(partner_text)
    try:
        with services.session() as session:
            member = _find_member(session, context["actor"])
            if member is None:
                _not_a_member(session, services, language, respond=respond, client=client, body=body)
                return
            if signal_id is None or partner_id is None:
                raise service.NotFound(N_("There is no signal with number %(number)s."), number="?")
            granted = service.grant_access(
                session,
                actor=member,
                signal_id=signal_id,
                partner_id=partner_id,
                outbound=Outbound.of(services.settings),
            )
            partner = partners.get_partner(session, partner_id=partner_id).name
    except (SignalError, NotAllowed, partners.PartnerError) as problem:
        _tell(services, language, problem, respond=respond, client=client, body=body)
        return
    message = (
        N_("%(partner)s can now see the details of signal %(number)s; they have been told.")
        if granted
        else N_("%(partner)s could already see the details of signal %(number)s.")
    )
    _say(
        services,
        language,
        message,
        {"partner": partner, "number": signal_id},
        respond=respond,
        client=client,
        body=body,
    )


# --- looking up -----------------------------------------------------------------------------------


def show_signals(request: CommandRequest) -> None:
    term = " ".join(request.args.split())
    number = _number(term.lstrip("#"))
    try:
        if number is not None:  # one signal's details: the reading is audited, so this writes
            with request.services.session() as session:
                member = _require(session, request.actor)
                shown = service.detail(session, actor=member, signal_id=number, purpose=LOOKUP_PURPOSE)
            request.ack_ephemeral("signal_detail.json.j2", signal=shown)
            return
        with request.services.session(read_only=True) as session:
            member = _require(session, request.actor)
            found = service.search(session, actor=member, term=term)
    except (SignalError, NotAllowed, partners.PartnerError) as problem:
        _ack_problem(request, problem)
        return
    request.ack_ephemeral("signal_list.json.j2", signals=found, term=term)


def show_subject(request: CommandRequest) -> None:
    code = request.args.strip()
    if not code:
        request.ack_ephemeral(
            "signal_notice.json.j2",
            message=N_("Name the subject's code, e.g. `/samen subject S-2026-0042`."),
            values={},
            usage=None,
        )
        return
    try:
        with request.services.session() as session:
            member = _require(session, request.actor)
            shown = service.subject_view(session, actor=member, code=code, purpose=SUBJECT_PURPOSE)
    except (SignalError, NotAllowed, partners.PartnerError) as problem:
        _ack_problem(request, problem)
        return
    request.ack_ephemeral("signal_subject.json.j2", view=shown)


def home_section(request: HomeRequest) -> list[dict[str, Any]]:
    from bot.cases import service as cases

    with request.services.session(read_only=True) as session:
        member = _find_member(session, request.actor)
        if member is None:
            return []
        overview = service.home_overview(session, actor=member)
        open_cases = cases.home_cases(session, actor=member)
    rendered = request.render("signal_home.json.j2", overview=overview, cases=open_cases)
    return list(rendered["blocks"])


# --- helpers (also used by commands/cases.py) -----------------------------------------------------


def options(language: str, items: list[tuple[str, str]], *, translate: bool = True) -> list[dict[str, Any]]:
    """Block Kit options for a select: labels translated (message ids) or as they are (names)."""
    made = []
    for value, label in items:
        text = t(language, label) if translate else readable(label)
        made.append(
            {
                "text": {"type": "plain_text", "text": text if len(text) <= 75 else text[:74] + "…"},
                "value": value,
            }
        )
    return made


def _find_member(session: Session, actor: Actor | None) -> Member | None:
    if actor is None:
        return None
    return partners.find_member(session, team_id=actor.team_id, user_id=actor.user_id)


def _require(session: Session, actor: Actor) -> Member:
    # Read inside this transaction: the decision uses the role as it is now, not as the guard saw it.
    return partners.require_member(session, team_id=actor.team_id, user_id=actor.user_id)


def _value(values: dict[str, Any], block: str, action: str = "value") -> Any:
    element = (values.get(block) or {}).get(action) or {}
    if "selected_option" in element:
        option = element["selected_option"]
        return option.get("value") if option else None
    if "selected_options" in element:
        return [o.get("value") for o in element.get("selected_options") or []]
    return element.get("value")


def _enum(enum: Any, value: Any) -> Any:
    try:
        return enum(value) if value else None
    except ValueError:
        return None


def _number(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdecimal() and len(text) < 10 else None


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        loaded = json.loads(view.get("private_metadata") or "{}")
    except (ValueError, RecursionError):  # forged or corrupt: as if there were none
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _action_value(body: dict[str, Any]) -> str:
    action = (body.get("actions") or [{}])[0]
    if action.get("selected_option"):
        return str(action["selected_option"].get("value") or "")
    return str(action.get("value") or "")


def shown_values(language: str, values: dict[str, object]) -> dict[str, object]:
    """A problem's values as people read them: a person is a mention, kinds of personal data are named."""
    from bot.mrkdwn import mention

    shown: dict[str, object] = {}
    for key, value in values.items():
        if isinstance(value, PersonRef):
            shown[key] = mention(value.user_id)
        elif isinstance(value, tuple) and all(isinstance(v, Kind) for v in value):
            shown[key] = ", ".join(t(language, KIND_LABELS[v]) for v in value)
        elif isinstance(value, str) and value in _LABEL_IDS:
            shown[key] = t(language, value)
        else:
            shown[key] = value
    return shown


_LABEL_IDS: Final = frozenset(service.STATUS_LABELS.values())


def _plain_values(language: str, values: dict[str, object]) -> dict[str, object]:
    return {
        k: (v.user_id if isinstance(v, PersonRef) else v) for k, v in shown_values(language, values).items()
    }


def _field_errors(view: dict[str, Any], language: str, problem: Any, *, default: str) -> dict[str, str]:
    """response_action "errors": the message under the field it is about (or the first field)."""
    blocks = {b.get("block_id") for b in view.get("blocks") or []}
    block = getattr(problem, "field", None)
    if block not in blocks:
        block = default
    text = t(language, problem.message, **_plain_values(language, getattr(problem, "values", {})))
    return {str(block): text[:150] if len(text) <= 150 else text[:149] + "…"}


def _ack_problem(request: CommandRequest, problem: Any) -> None:
    request.ack_ephemeral(
        "signal_notice.json.j2",
        message=problem.message,
        values=shown_values(request.language, getattr(problem, "values", {})),
        usage=None,
    )


def _tell(
    services: Services,
    language: str,
    problem: Any,
    *,
    respond: Respond,
    client: WebClient,
    body: dict[str, Any],
) -> None:
    _say(
        services,
        language,
        problem.message,
        getattr(problem, "values", {}),
        respond=respond,
        client=client,
        body=body,
    )


def _say(
    services: Services,
    language: str,
    message: str,
    values: dict[str, object],
    *,
    respond: Respond,
    client: WebClient,
    body: dict[str, Any],
) -> None:
    """Answer the person who clicked: ephemerally under a message, or in a small modal from the App Home."""
    rendered = services.renderer.render(
        "signal_notice.json.j2", language, message=message, values=shown_values(language, values), usage=None
    )
    if body.get("response_url"):
        respond(
            text=rendered["text"],
            blocks=rendered["blocks"],
            response_type="ephemeral",
            replace_original=False,
        )
        return
    _open(client, body.get("trigger_id"), _info_view(services, language, N_("Samen"), rendered["blocks"]))


def _not_a_member(
    session: Session,
    services: Services,
    language: str,
    *,
    respond: Respond,
    client: WebClient,
    body: dict[str, Any],
) -> None:
    _say(
        services,
        language,
        N_("You are not (yet) a member of the partnership: ask a coordinator to add you."),
        {},
        respond=respond,
        client=client,
        body=body,
    )


def _info_view(services: Services, language: str, title: str, blocks: list[dict[str, Any]]) -> Any:
    return services.renderer.render("signal_info_modal.json.j2", language, title=title, blocks=blocks)


def _open(client: WebClient, trigger_id: str | None, view: Any) -> None:
    try:
        client.views_open(trigger_id=trigger_id or "", view=view)
    except SlackApiError as exc:
        # The trigger lived 3 seconds; nothing was changed, so the person can simply try again.
        logger.warning("views.open failed: %s", exc.response.get("error"))


def _confirm(ack: Ack, services: Services, language: str, metadata: dict[str, Any], answer: Any) -> None:
    """The registration's confirmation: ephemeral where the person started, else in the modal itself."""
    response_url = metadata.get("r")
    if not is_response_url(response_url, services.settings):  # none, or not Slack's: answer in the modal
        ack(
            response_action="update",
            view=_info_view(services, language, N_("Signal registered"), answer["blocks"]),
        )
        return
    ack()
    try:
        WebhookClient(str(response_url)).send(
            text=answer["text"], blocks=answer["blocks"], response_type="ephemeral", replace_original=False
        )
    except Exception:  # the signal is registered; the confirmation is best-effort
        logger.warning("could not deliver the registration's confirmation")
