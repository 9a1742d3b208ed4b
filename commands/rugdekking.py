"""`/rugdekking`, the shortcut "Rugdekking vragen" and the alert's buttons: ask every partner for backup.

The listener parses and answers; the rules (who may, what is queued to whom, when it escalates) are in
bot.alerts.service. A form or command that raises an alert answers Slack only after the alert and all
its messages are committed: acknowledged means committed, so the fan-out completes whatever happens
to this process afterwards.
"""

from __future__ import annotations

import html
import json
import logging
import re
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, TypeVar

from babel.dates import format_datetime
from markupsafe import Markup
from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot import cldr
from bot.alerts import service
from bot.alerts.messages import alert_context, board_context
from bot.alerts.models import SERIOUSNESS_LABELS, SUPPORT_KIND_LABELS, Seriousness, SupportKind
from bot.authz import NotAllowed
from bot.i18n import N_, t
from bot.mrkdwn import mention
from bot.partners import service as partners
from bot.partners.models import Member, PersonRef
from bot.runtime import Services
from bot.slack.interaction import Interaction
from bot.slack.registry import HomeSection, Registry, Subcommand
from bot.slack.requests import Actor, CommandRequest, HomeRequest
from bot.vocabulary import INCIDENT_TYPE_LABELS, IncidentType
from commands.partner import people

logger = logging.getLogger(__name__)
E = TypeVar("E", bound=StrEnum)

COMMAND: Final = "/rugdekking"
SHORTCUT: Final = "rugdekking_vragen"
NOW_WORDS: Final = frozenset({"nu", "now", "direct"})
DRILL_WORDS: Final = frozenset({"oefening", "drill"})
OVERVIEW_WORDS: Final = frozenset({"overzicht", "cijfers", "overview", "figures"})
HOME_BOARDS: Final = 3
MAX_TYPED: Final = 400  # what is typed after /rugdekking and carried to the form
_CODE = re.compile(r"^(?:RD-?)?(\d{1,9})$", re.IGNORECASE)

NOT_A_MEMBER: Final = N_("Only members of the partnership can do this. Ask a coordinator to add you.")
NO_ACCESS: Final = N_(
    "Only the reporter's partner (%(partner)s), each partner's duty contacts and lead, and the "
    "coordinators see the details of %(code)s."
)


def register(app: App, registry: Registry) -> None:
    registry.add_subcommand(
        Subcommand(
            name="rugdekking",
            usage="[nu | oefening | overzicht] [omschrijving]",
            summary=N_(
                "Threatened or intimidated? Ask every partner for backup: a short form, or `nu` to alert "
                "everyone at once; `oefening` runs a drill, `overzicht` shows how fast everyone answered. "
                "Also as `/rugdekking` and the shortcut Rugdekking vragen."
            ),
            handler=handle_rugdekking,
        )
    )
    registry.add_home_section(HomeSection(name="rugdekking", order=10, render=home_section))

    @app.command(COMMAND)
    def rugdekking(context: BoltContext) -> None:
        request: Interaction = context["interaction"]
        request.args = (request.body.get("text") or "").strip()
        # Only members raise an alert: the partners feature's guard tells anyone else whom to ask.
        if not registry.admits(request):
            return
        handle_rugdekking(request)

    @app.shortcut(SHORTCUT)
    def shortcut(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        services: Services = context["services"]
        actor: Actor = context["actor"]
        with services.session() as session:
            member = partners.find_member(session, team_id=actor.team_id, user_id=actor.user_id)
            asked = [] if member else [m.person for m in partners.coordinators(session)[:5]]
        renderer = _Renderer(services, context["language"])
        if member is None:
            blocks = renderer("partner_not_a_member.json.j2", coordinators=people(asked))["blocks"]
            _open(client, body, renderer("rugdekking_notice.json.j2", as_modal=True, blocks=blocks))
            return
        _open(client, body, _form(renderer, drill=False, description=""))

    @app.view("rugdekking_raise")
    def raise_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        _submit_raise(ack, body, context)

    @app.action("rugdekking_ack")
    def acknowledge(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        _acknowledge(ack, body, respond, client, context, registry)

    @app.action("rugdekking_act")
    def take_action(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        _open_action_form(ack, body, respond, client, context)

    @app.view("rugdekking_action")
    def action_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        _submit_action(ack, body, context)

    @app.action("rugdekking_details")
    def details(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        _show_details(ack, body, respond, client, context)

    @app.action("rugdekking_close")
    def close(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        _open_close_form(ack, body, respond, client, context)

    @app.view("rugdekking_close")
    def close_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        _submit_close(ack, body, context)

    @app.view("rugdekking_lesson")
    def lesson_submitted(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        _submit_lesson(ack, body, context)

    @app.action("rugdekking_safe")
    def safe(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        _answer_safety(ack, body, respond, client, context, safe=True)

    @app.action("rugdekking_help")
    def need_help(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        _answer_safety(ack, body, respond, client, context, safe=False)


# --- /rugdekking and /samen rugdekking -------------------------------------------------------------


def handle_rugdekking(request: CommandRequest) -> None:
    words = html.unescape(request.args).split()
    first = words[0].lower() if words else ""
    if first in OVERVIEW_WORDS:
        show_figures(request, words[1:])
        return
    drill = first in DRILL_WORDS
    if drill:
        words = words[1:]
        first = words[0].lower() if words else ""
    if first in NOW_WORDS:
        raise_now(request, drill, " ".join(words[1:]))
        return
    request.ack()
    renderer = _Renderer(request.services, request.language)
    # private_metadata holds 3,000 characters: room for a short description, even if every one is escaped.
    description = " ".join(words)[:MAX_TYPED]
    _open(request.client, request.body, _form(renderer, drill=drill, description=description))


def raise_now(request: CommandRequest, drill: bool, description: str) -> None:
    """No time for a form: alert every partner at once with what is known."""
    services = request.services
    try:
        with services.session() as session:
            actor = _member(session, request.actor)
            raised = service.raise_alert(
                session,
                actor=actor,
                request=service.RaiseRequest(
                    incident_type=IncidentType.OVERIG,
                    seriousness=Seriousness.HOOG,
                    source_key=_command_key(request.body),
                    description=description or None,
                    drill=drill,
                ),
                settings=services.settings,
            )
            answer = _raised_context(raised, services)
    except (service.AlertError, NotAllowed, partners.PartnerError) as problem:
        request.ack_ephemeral("rugdekking_notice.json.j2", **_notice(problem))
        return
    # Committed: the alert and every message it sends are in the database before Slack hears "ok".
    request.ack_ephemeral("rugdekking_raised.json.j2", as_modal=False, **answer)


def show_figures(request: CommandRequest, words: list[str]) -> None:
    alert_id: int | None = None
    if words:
        found = _CODE.match(words[0])
        if found is None:
            request.ack_ephemeral(
                "rugdekking_notice.json.j2",
                message=N_("Write it like this: `/rugdekking overzicht` or `/rugdekking overzicht RD-12`."),
                values={},
                ask=None,
            )
            return
        alert_id = int(found.group(1))
    try:
        with request.services.session() as session:
            actor = _member(session, request.actor)
            items = [
                {
                    "code": f.code,
                    "drill": f.drill,
                    "raised_at": f.raised_at,
                    "partner": f.partner_name,
                    "incident_type": INCIDENT_TYPE_LABELS[f.incident_type],
                    "closed_at": f.closed_at,
                    "first": f.first_acknowledgement,
                    "all": f.all_acknowledged,
                    "acknowledged": f.acknowledged,
                    "total": f.total,
                    "partners": [
                        {"name": p.name, "after": p.acknowledged_after, "by": p.acknowledged_by or ""}
                        for p in f.partners
                    ],
                }
                for f in service.figures(session, actor=actor, alert_id=alert_id)
            ]
    except (service.AlertError, partners.PartnerError) as problem:
        request.ack_ephemeral("rugdekking_notice.json.j2", **_notice(problem))
        return
    request.ack_ephemeral("rugdekking_figures.json.j2", items=items, detail=alert_id is not None)


# --- the form ------------------------------------------------------------------------------------


def _form(renderer: _Renderer, *, drill: bool, description: str) -> Any:
    return renderer(
        "rugdekking_modal.json.j2",
        drill=drill,
        description=description,
        # What was typed after /rugdekking travels with the form and is added to the description.
        metadata=_metadata_json({"drill": drill, "description": description}),
        types=list(INCIDENT_TYPE_LABELS.items()),
        levels=list(SERIOUSNESS_LABELS.items()),
        default_level=Seriousness.MIDDEN.value,
    )


# Which field a problem with the form belongs to; anything else goes on the first field.
_FIELD_OF: Final = {
    service.TOO_LONG_DESCRIPTION: "rd_description",
    service.TOO_LONG_PLACE: "rd_place",
    service.TOO_LONG_NOTE: "rd_note",
    service.TOO_LONG_SUMMARY: "rd_summary",
    service.TOO_LONG_LESSON: "rd_lesson",
}


def _submit_raise(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    view = body["view"]
    values = view["state"]["values"]
    metadata = _metadata(view)
    incident = _enum(IncidentType, _choice(values, "rd_type", "type"))
    level = _enum(Seriousness, _choice(values, "rd_level", "level"))
    errors: dict[str, str] = {}
    if incident is None:
        errors["rd_type"] = t(language, "Choose what happened.")
    if level is None:
        errors["rd_level"] = t(language, "Choose how serious it is.")
    if incident is None or level is None:
        ack(response_action="errors", errors=errors)
        return
    safe = _choice(values, "rd_safe", "safe")
    request = service.RaiseRequest(
        incident_type=incident,
        seriousness=level,
        source_key=f"view:{view['id']}",
        safe=None if safe is None else safe == "yes",
        description="\n".join(
            filter(None, [metadata.get("description"), _typed(values, "rd_description", "description")])
        ),
        place=_typed(values, "rd_place", "place"),
        show_reporter_name="show" in _checked(values, "rd_name", "name"),
        drill=bool(metadata.get("drill")),
    )
    try:
        with services.session() as session:
            actor = _member(session, context["actor"])
            raised = service.raise_alert(session, actor=actor, request=request, settings=services.settings)
            answer = _raised_context(raised, services)
    except (service.AlertError, NotAllowed, partners.PartnerError) as problem:
        ack(
            response_action="errors",
            errors={_FIELD_OF.get(problem.message, "rd_type"): _plain(language, problem)},
        )
        return
    # Committed before Slack hears "ok": a retried submission finds this alert and raises nothing new.
    renderer = _Renderer(services, language)
    ack(response_action="update", view=renderer("rugdekking_raised.json.j2", as_modal=True, **answer))


def _raised_context(raised: service.Raised, services: Services) -> dict[str, Any]:
    alert = raised.alert
    minutes = (alert.safety_check_at - alert.raised_at).total_seconds() / 60
    return {
        "code": alert.code,
        "drill": alert.drill,
        "partners": raised.partners,
        "joined": raised.joined,
        "minutes": minutes,  # formatted per language by the template (bot.i18n.format_minutes)
    }


# --- buttons on the alert ------------------------------------------------------------------------


def _acknowledge(
    ack: Ack,
    body: dict[str, Any],
    respond: Respond,
    client: WebClient,
    context: BoltContext,
    registry: Registry,
) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    try:
        with services.session() as session:
            actor = _member(session, context["actor"])
            done = service.acknowledge(
                session, actor=actor, alert_id=_alert_id(body), settings=services.settings
            )
            row = done.partner
            if done.already:
                notice = _message(
                    N_(
                        "%(code)s was already acknowledged for *%(partner)s* by %(person)s at %(time)s: "
                        "nothing changed."
                    ),
                    code=done.alert.code,
                    partner=row.partner_name,
                    person=mention(row.acknowledged_by_user_id or ""),
                    time=_time(row.acknowledged_at, services, language),
                )
            else:
                notice = _message(
                    N_(
                        "Acknowledged for *%(partner)s*: its escalation stops. Thank you. "
                        "Record what your partner does with *We take action*."
                    ),
                    partner=row.partner_name,
                )
    except (service.AlertError, NotAllowed, partners.PartnerError) as problem:
        ack()
        _tell(body, respond, client, services, language, _notice(problem))
        return
    ack()
    if _in_home(body):
        _refresh_home(client, context["interaction"])
        return
    _tell(body, respond, client, services, language, notice)


def _open_action_form(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    try:
        with services.session() as session:
            actor = _member(session, context["actor"])
            alert, row = service.support_form(session, actor=actor, alert_id=_alert_id(body))
            form = _action_form(services, language, alert_context(session, alert), row.partner_name, 1)
    except (service.AlertError, NotAllowed, partners.PartnerError) as problem:
        ack()
        _tell(body, respond, client, services, language, _notice(problem))
        return
    ack()
    _open(client, body, form)


def _action_form(
    services: Services,
    language: str,
    alert: dict[str, Any],
    partner: str,
    round: int,
    recorded: str | None = None,
) -> Any:
    return _Renderer(services, language)(
        "rugdekking_action_modal.json.j2",
        alert=alert,
        partner=partner,
        round=round,
        recorded=recorded or "",
        kinds=list(SUPPORT_KIND_LABELS.items()),
        metadata=_metadata_json({"alert": alert["id"], "round": round}),
    )


def _submit_action(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    view = body["view"]
    values = view["state"]["values"]
    metadata = _metadata(view)
    kind = _enum(SupportKind, _choice(values, "rd_kind", "kind"))
    if kind is None:
        ack(response_action="errors", errors={"rd_kind": t(language, "Choose what your partner does.")})
        return
    round_ = 2 if metadata.get("round") == 2 else 1
    try:
        with services.session() as session:
            actor = _member(session, context["actor"])
            recorded = service.record_support_action(
                session,
                actor=actor,
                alert_id=_number(metadata.get("alert")),
                kind=kind,
                note=_typed(values, "rd_note", "note"),
                round=round_,
                source_key=f"view:{view['id']}:{round_}",
                settings=services.settings,
            )
            summary = alert_context(session, recorded.alert)
            partner = next(
                row.partner_name
                for row in service.partner_rows(session, recorded.alert)
                if row.partner_id == recorded.action.partner_id
            )
    except (service.AlertError, NotAllowed, partners.PartnerError) as problem:
        ack(
            response_action="errors",
            errors={_FIELD_OF.get(problem.message, "rd_kind"): _plain(language, problem)},
        )
        return
    if round_ == 1:
        # The bot asks for the second round in the same window: what if the intimidation goes on?
        label = SUPPORT_KIND_LABELS[recorded.action.kind]
        ack(response_action="update", view=_action_form(services, language, summary, partner, 2, label))
        return
    ack()


def _show_details(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    try:
        with services.session() as session:
            actor = _member(session, context["actor"])
            found = service.view_details(session, actor=actor, alert_id=_alert_id(body))
            view = _Renderer(services, language)(
                "rugdekking_details.json.j2",
                alert=alert_context(session, found.alert),
                reporter=found.reporter.user_id,
                description=found.description or "",
                place=found.place or "",
                summary=found.summary or "",
                lesson=found.lesson or "",
                actions=[
                    {
                        "partner": found.partner_names.get(a.partner_id, ""),
                        "round": a.round,
                        "kind": SUPPORT_KIND_LABELS[a.kind],
                        "note": a.note or "",
                    }
                    for a in found.actions
                ],
            )
    except NotAllowed:
        ack()
        _tell(body, respond, client, services, language, _refused_details(services, context, _alert_id(body)))
        return
    except (service.AlertError, partners.PartnerError) as problem:
        ack()
        _tell(body, respond, client, services, language, _notice(problem))
        return
    ack()
    _open(client, body, view)


def _refused_details(services: Services, context: BoltContext, alert_id: int) -> dict[str, Any]:
    """Who may see the details, and whom of those to ask: never a refusal without a name."""
    with services.session(read_only=True) as session:
        member = _member(session, context["actor"])
        alert = service.get_alert(session, alert_id=alert_id)
        ask = people(service.who_has_access(session, partner_id=member.partner_id))
        shown = alert_context(session, alert)
    return _message(NO_ACCESS, ask=ask or None, partner=shown["partner"], code=shown["code"])


def _open_close_form(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    try:
        with services.session() as session:
            actor = _member(session, context["actor"])
            alert = service.close_form(session, actor=actor, alert_id=_alert_id(body))
            form = _close_form(services, language, alert_context(session, alert), lesson_only=False)
    except (service.AlertError, NotAllowed, partners.PartnerError) as problem:
        ack()
        _tell(body, respond, client, services, language, _notice(problem))
        return
    ack()
    _open(client, body, form)


def _close_form(services: Services, language: str, alert: dict[str, Any], *, lesson_only: bool) -> Any:
    return _Renderer(services, language)(
        "rugdekking_close_modal.json.j2",
        alert=alert,
        lesson_only=lesson_only,
        metadata=_metadata_json({"alert": alert["id"]}),
    )


def _submit_close(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    view = body["view"]
    values = view["state"]["values"]
    lesson = _typed(values, "rd_lesson", "lesson")
    try:
        with services.session() as session:
            actor = _member(session, context["actor"])
            closed = service.close_alert(
                session,
                actor=actor,
                alert_id=_number(_metadata(view).get("alert")),
                summary=_typed(values, "rd_summary", "summary") or "",
                lesson=lesson,
                settings=services.settings,
            )
            summary = alert_context(session, closed.alert)
            has_lesson = bool(closed.alert.lesson)
    except (service.AlertError, NotAllowed, partners.PartnerError) as problem:
        ack(
            response_action="errors",
            errors={_FIELD_OF.get(problem.message, "rd_summary"): _plain(language, problem)},
        )
        return
    if not has_lesson:
        # Closing asks for a lesson: once more, in the same window.
        ack(response_action="update", view=_close_form(services, language, summary, lesson_only=True))
        return
    ack()


def _submit_lesson(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    view = body["view"]
    lesson = _typed(view["state"]["values"], "rd_lesson", "lesson")
    if lesson:
        try:
            with services.session() as session:
                actor = _member(session, context["actor"])
                service.record_lesson(
                    session, actor=actor, alert_id=_number(_metadata(view).get("alert")), lesson=lesson
                )
        except (service.AlertError, NotAllowed, partners.PartnerError) as problem:
            ack(response_action="errors", errors={"rd_lesson": _plain(language, problem)})
            return
    ack()


def _answer_safety(
    ack: Ack,
    body: dict[str, Any],
    respond: Respond,
    client: WebClient,
    context: BoltContext,
    *,
    safe: bool,
) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    try:
        with services.session() as session:
            actor = _member(session, context["actor"])
            answered = service.answer_safety(
                session, actor=actor, alert_id=_alert_id(body), safe=safe, settings=services.settings
            )
            code = answered.alert.code
    except (service.AlertError, NotAllowed, partners.PartnerError) as problem:
        ack()
        _tell(body, respond, client, services, language, _notice(problem))
        return
    ack()
    if safe:
        notice = _message(
            N_("Good to hear you are safe (%(code)s). The partners keep giving cover."), code=code
        )
    else:
        notice = _message(
            N_(
                "The coordinators and your own partner are alerted now (%(code)s) and will contact you. "
                "Immediate danger: call 112."
            ),
            code=code,
        )
    # The question is answered: replace it (and its buttons) with the answer.
    _tell(body, respond, client, services, language, notice, replace=True)


# --- the App Home --------------------------------------------------------------------------------


def home_section(request: HomeRequest) -> list[dict[str, Any]]:
    with request.services.session(read_only=True) as session:
        member = partners.find_member(session, team_id=request.actor.team_id, user_id=request.actor.user_id)
        if member is None:
            return []
        alerts = service.open_alerts(session, actor=member, limit=HOME_BOARDS)
        contexts = [board_context(session, alert) for alert in alerts]
        more = max(0, service.count_open(session) - len(contexts))
    boards = [request.render("rugdekking_board.json.j2", **ctx)["blocks"] for ctx in contexts]
    return list(request.render("rugdekking_home.json.j2", boards=boards, more=more)["blocks"])


def _refresh_home(client: WebClient, interaction: Interaction) -> None:
    from commands.home import publish_home

    try:
        publish_home(client, interaction.for_home(interaction.actor or Actor("", "")))
    except SlackApiError as exc:
        logger.warning("could not refresh the App Home: %s", exc.response.get("error"))


# --- helpers -------------------------------------------------------------------------------------


class _Renderer:
    def __init__(self, services: Services, language: str) -> None:
        self.services = services
        self.language = language

    def __call__(self, template: str, **context: Any) -> Any:
        return self.services.renderer.render(template, self.language, **context)


def _member(session: Session, actor: Actor | None) -> Member:
    if actor is None:
        raise partners.NotAMember(NOT_A_MEMBER)
    member = partners.find_member(session, team_id=actor.team_id, user_id=actor.user_id)
    if member is None:
        raise partners.NotAMember(NOT_A_MEMBER)
    return member


def _alert_id(body: dict[str, Any]) -> int:
    value = str((body.get("actions") or [{}])[0].get("value") or "")
    if not (value.isdecimal() and len(value) < 10):  # a number Samen could have made
        raise service.UnknownAlert(N_("There is no backup alert RD-%(number)s."), number=value[:12] or "?")
    return int(value)


def _number(value: object) -> int:
    """An alert number from a form's metadata; anything else (forged) is 0, which no alert has."""
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return int(text) if text.isdecimal() and len(text) < 10 else 0


def _command_key(body: dict[str, Any]) -> str:
    """One command, one alert: Slack gives every invocation its own trigger id."""
    return f"trigger:{body.get('trigger_id') or body.get('response_url')}"


def _metadata_json(value: dict[str, Any]) -> str:
    """JSON for private_metadata with <, > and & as \\u escapes: typed text never looks like mrkdwn."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except (ValueError, RecursionError):  # forged or corrupt: as if there were none
        return {}
    return found if isinstance(found, dict) else {}


def _enum(kind: type[E], value: str | None) -> E | None:
    """The member with this value, or None for nothing chosen or a value Samen never offered."""
    try:
        return kind(value) if value is not None else None
    except ValueError:
        return None


def _choice(values: dict[str, Any], block: str, action: str) -> str | None:
    selected = (values.get(block) or {}).get(action, {}).get("selected_option")
    return str(selected["value"]) if isinstance(selected, dict) and "value" in selected else None


def _checked(values: dict[str, Any], block: str, action: str) -> set[str]:
    options = (values.get(block) or {}).get(action, {}).get("selected_options") or []
    return {str(option.get("value")) for option in options if isinstance(option, dict)}


def _typed(values: dict[str, Any], block: str, action: str) -> str | None:
    value = (values.get(block) or {}).get(action, {}).get("value")
    return str(value) if value else None


def _in_home(body: dict[str, Any]) -> bool:
    return (body.get("view") or {}).get("type") == "home"


def _open(client: WebClient, body: dict[str, Any], view: Any) -> None:
    try:
        client.views_open(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as exc:
        # The trigger lives 3 seconds: a very slow moment in Slack. The person simply tries again.
        logger.warning("views.open failed: %s", exc.response.get("error"))


def _message(message: str, ask: Markup | None = None, **values: object) -> dict[str, Any]:
    return {"message": message, "values": values, "ask": ask}


def _notice(problem: Exception) -> dict[str, Any]:
    message = getattr(problem, "message", str(problem))
    values = getattr(problem, "values", {}) or {}
    return {"message": message, "values": _shown(values), "ask": None}


def _shown(values: dict[str, object]) -> dict[str, object]:
    return {k: mention(v.user_id) if isinstance(v, PersonRef) else v for k, v in values.items()}


def _plain(language: str, problem: Exception) -> str:
    """A problem as plain text, for a form field's error (Slack shows no mrkdwn there)."""
    values = {
        k: v.user_id if isinstance(v, PersonRef) else v
        for k, v in (getattr(problem, "values", {}) or {}).items()
    }
    return t(language, getattr(problem, "message", str(problem)), **values)


def _tell(
    body: dict[str, Any],
    respond: Respond,
    client: WebClient,
    services: Services,
    language: str,
    notice: dict[str, Any],
    *,
    replace: bool = False,
) -> None:
    """Answer the person who clicked: in the conversation (only they see it), or in a small window
    where there is no conversation (the App Home)."""
    renderer = _Renderer(services, language)
    if body.get("response_url"):
        message = renderer("rugdekking_notice.json.j2", as_modal=False, **notice)
        if replace:
            respond(text=message["text"], blocks=message["blocks"], replace_original=True)
        else:
            respond(
                text=message["text"],
                blocks=message["blocks"],
                response_type="ephemeral",
                replace_original=False,
            )
        return
    if body.get("trigger_id"):
        _open(client, body, renderer("rugdekking_notice.json.j2", as_modal=True, **notice))


def _time(moment: datetime | None, services: Services, language: str) -> str:
    if moment is None:
        return "–"
    return format_datetime(moment, "HH:mm", tzinfo=services.settings.timezone, locale=cldr.locale(language))
