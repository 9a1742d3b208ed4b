"""Alignment moments in Slack.

- `/samen afstemming plan | lijst | pauzeer <nr> | hervat <nr> | verwijder <nr>`: scheduled check-ins in a
  channel; the prompt's button (and the reminder's, and the App Home's) opens the answer form; its "Close
  now" closes the moment early (coordinators; anyone else is told whom to ask).
- `/samen afstemmen <subject-code> [onderwerp]` and the match notice's button (`alignment_request`): an
  ad-hoc alignment on one subject; the invitation's join/decline buttons, the group's time slots, its
  agreements, and "make it an intervention".

Parse → ack → call bot.checkins → render. Who may do what is decided there. The only Slack calls made
here besides answering the person are `conversations.info` (is Samen in the channel a check-in is planned
in?) and `conversations.open` (the group conversation of an alignment, whose id the domain then records).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import date
from typing import Any, Final, TypeGuard

from markupsafe import Markup
from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.authz import NotAllowed
from bot.checkins import alignment as alignments
from bot.checkins import closing, service, timing
from bot.checkins.service import CheckinError, Problems
from bot.i18n import N_, t
from bot.mrkdwn import escape, mention
from bot.partners import service as partners
from bot.partners.models import Member, PersonRef
from bot.pii import KIND_LABELS, Kind
from bot.runtime import Services
from bot.slack.registry import HomeSection, Registry, Subcommand
from bot.slack.requests import Actor, CommandRequest, HomeRequest

logger = logging.getLogger(__name__)

PLAN_VIEW: Final = "checkin_plan"
ANSWER_VIEW: Final = "checkin_answer_form"
AGREEMENT_VIEW: Final = "alignment_agreement"
NUMBER: Final = re.compile(r"^(?:#|a-?)?(\d{1,9})$", re.IGNORECASE)
USAGE: Final = N_(
    "Write it like this: `/samen afstemming plan` in the channel of the check-in (coordinators), "
    "`/samen afstemming lijst`, or `/samen afstemming pauzeer|hervat|verwijder <number>`."
)
ALIGN_USAGE: Final = N_(
    "Write it like this: `/samen afstemmen S-2026-0042 [what it is about]`: the partners that have "
    "something on that subject are asked privately whether they join."
)
NOT_A_MEMBER: Final = N_("You are not (yet) a member of the partnership: ask a coordinator to add you.")
Values = dict[str, dict[str, Any]]


def register(app: App, registry: Registry) -> None:
    registry.add_subcommand(
        Subcommand(
            name="afstemming",
            aliases=("afstemmingen", "checkin", "checkins", "check-in"),
            usage="[plan | lijst | pauzeer <nr> | hervat <nr> | verwijder <nr>]",
            summary=N_(
                "Short, regular check-ins in a channel: coordinators plan them; everyone answers in "
                "the thread."
            ),
            handler=handle_checkins,
        )
    )
    registry.add_subcommand(
        Subcommand(
            name="afstemmen",
            aliases=("align", "alignment"),
            usage="<subject-code> [onderwerp]",
            summary=N_(
                "A short alignment on one subject with exactly the partners that have something on it; "
                "they are asked privately."
            ),
            handler=handle_alignment,
        )
    )
    registry.add_home_section(HomeSection(name="checkins", order=35, render=home_section))
    app.view(PLAN_VIEW)(submit_plan)
    app.view(ANSWER_VIEW)(submit_answer)
    app.view(AGREEMENT_VIEW)(submit_agreement)
    app.action("checkin_answer")(open_answer)
    app.action("checkin_close")(click_close)
    # The match notice's button (templates/signal_match.json.j2): an ad-hoc alignment on its subject.
    app.action("alignment_request")(click_alignment_request)
    app.action("alignment_join")(click_join)
    app.action("alignment_decline")(click_decline)
    app.action("alignment_start")(click_start)
    app.action("alignment_slot")(click_slot)
    app.action("alignment_agree")(open_agreement)
    app.action("alignment_to_intervention")(click_to_intervention)


# --- /samen afstemming ----------------------------------------------------------------------------------


def handle_checkins(request: CommandRequest) -> None:
    words = request.args.split()
    verb = words[0].lower() if words else "lijst"
    try:
        if verb in ("plan", "nieuw", "new"):
            open_plan(request)
        elif verb in ("lijst", "list"):
            show_list(request)
        elif verb in ("pauzeer", "pause", "hervat", "resume", "verwijder", "delete"):
            change(request, verb, words[1:])
        else:
            _ack_notice(
                request, N_("“%(word)s” is not something a check-in can do."), {"word": verb[:30]}, USAGE
            )
    except (CheckinError, NotAllowed, partners.PartnerError) as problem:
        _ack_problem(request, problem)


def open_plan(request: CommandRequest) -> None:
    channel = request.channel_id or ""
    with request.services.session() as session:
        actor = _require(session, request.actor)
        service.check_may_plan(actor)
        choices = _plan_choices(session, request.services, request.language)
    if not channel.startswith(("C", "G")):
        _ack_notice(request, N_("Plan a check-in from the channel where it should take place."), {}, None)
        return
    if not _samen_is_in(request.client, channel):
        _ack_notice(
            request,
            N_("Samen is not in %(channel)s yet: type `/invite @Samen` in that channel, then plan again."),
            {"channel": _channel(channel)},
            None,
        )
        return
    metadata = json.dumps({"c": channel, "t": request.body.get("team_id") or request.actor.team_id})
    view = request.render("checkin_plan_modal.json.j2", channel=channel, metadata=metadata, **choices)
    _open_view(request.client, request.body.get("trigger_id"), view)
    request.ack()


def _plan_choices(session: Session, services: Services, language: str) -> dict[str, Any]:
    zone = services.settings.samen_timezone
    zones = list(timing.ZONES) if zone in timing.ZONES else [zone, *timing.ZONES]
    return {
        "weekdays": [(str(i), label) for i, label in enumerate(service.WEEKDAY_LABELS)],
        "chosen_days": [str(d) for d in sorted(service.DEFAULT_WEEKDAYS)],
        "clock": service.DEFAULT_CLOCK,
        "zones": zones,
        "zone": zone,
        "questions": service.default_questions(language),
        "partners": [(str(p.id), p.name) for p in partners.list_partners(session)],
        "windows": [(str(minutes), label) for minutes, label in service.WINDOWS.items()],
        "window": str(service.DEFAULT_WINDOW),
    }


def _samen_is_in(client: WebClient, channel: str) -> bool:
    """Whether Samen can post in the channel: `conversations.info` says so (a private channel Samen is not
    in is not found at all)."""
    try:
        info = client.conversations_info(channel=channel).get("channel") or {}
    except SlackApiError as exc:
        logger.info("conversations.info for a check-in channel: %s", exc.response.get("error"))
        return False
    return bool(info.get("is_member")) and not info.get("is_im") and not info.get("is_mpim")


def show_list(request: CommandRequest) -> None:
    with request.services.session() as session:
        _require(session, request.actor)
        found = service.schedules(session, language=request.language)
    request.ack_ephemeral("checkin_list.json.j2", schedules=found)


CHANGES: Final = {
    "pauzeer": (service.pause, N_("Check-in %(number)s is paused: no moments until it is resumed.")),
    "pause": (service.pause, N_("Check-in %(number)s is paused: no moments until it is resumed.")),
    "hervat": (service.resume, N_("Check-in %(number)s runs again: next moment %(when)s.")),
    "resume": (service.resume, N_("Check-in %(number)s runs again: next moment %(when)s.")),
    "verwijder": (service.delete, N_("Check-in %(number)s is deleted.")),
    "delete": (service.delete, N_("Check-in %(number)s is deleted.")),
}


def change(request: CommandRequest, verb: str, words: list[str]) -> None:
    found = NUMBER.match(words[0]) if len(words) == 1 else None
    if found is None:
        _ack_notice(request, N_("Name the check-in by its number."), {}, USAGE)
        return
    number = int(found.group(1))
    function, done = CHANGES[verb]
    with request.services.session() as session:
        actor = _require(session, request.actor)
        changed = function(session, actor=actor, schedule_id=number)
        deleted = verb in ("verwijder", "delete")
        shown = (
            None
            if deleted
            else service.view_of(session, service.get_schedule(session, number), request.language)
        )
    message = done if changed else N_("Nothing changed: check-in %(number)s was already like that.")
    _ack_notice(request, message, {"number": number, "when": shown.next_at if shown else ""}, None)


def submit_plan(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    values: Values = view.get("state", {}).get("values", {})
    metadata = _metadata(view)
    team = str(metadata.get("t") or (context["actor"].team_id if context.get("actor") else ""))
    window = _value(values, "window")
    data = service.PlanInput(
        channel_id=str(metadata.get("c") or ""),
        team_id=team,
        weekdays=frozenset(int(v) for v in _value(values, "days") or [] if _small_number(v)),
        clock=_value(values, "time") or "",
        timezone=_value(values, "zone") or services.settings.samen_timezone,
        include_holidays="yes" in (_value(values, "holidays") or []),
        questions=_value(values, "questions") or "",
        ask_partner_need="yes" in (_value(values, "partner_question") or []),
        partner_ids=tuple(int(v) for v in _value(values, "partners") or [] if _small_number(v)),
        people=tuple(PersonRef(team, str(u)) for u in _value(values, "people") or []),
        window_minutes=int(window) if _small_number(window) else None,
        language=language,
        submission_key=str(view.get("id") or "")[:64] or None,
    )
    try:
        with services.session() as session:
            actor = _require(session, context["actor"])
            planned = service.plan(session, actor=actor, data=data)
            shown = service.view_of(session, planned.schedule, language)
    except (Problems, CheckinError, NotAllowed, partners.PartnerError) as problem:
        ack(response_action="errors", errors=_errors(view, language, problem, default="days"))
        return
    message = _render_notice(
        services,
        language,
        N_("Check-in %(number)s is planned in %(channel)s. The first moment: %(when)s."),
        {"number": shown.id, "channel": _channel(shown.channel_id), "when": shown.next_at or ""},
    )
    ack(
        response_action="update",
        view=_info_view(services, language, N_("Check-in planned"), message["blocks"]),
    )


# --- answering --------------------------------------------------------------------------------------------


def open_answer(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    services: Services = context["services"]
    language: str = context["language"]
    moment_id = _number(_action_value(body))
    try:
        with services.session() as session:
            actor = _require(session, context["actor"])
            if moment_id is None:
                raise CheckinError(N_("This check-in does not exist (any more)."))
            form = service.answer_form(
                session, actor=actor, moment_id=moment_id, settings=services.settings, language=language
            )
    except (CheckinError, NotAllowed, partners.PartnerError) as problem:
        _tell(services, language, problem, respond=respond, client=client, body=body)
        return
    from bot.interventions.models import STATUS_LABELS

    view = services.renderer.render(
        "checkin_answer_modal.json.j2",
        language,
        form=form,
        metadata=json.dumps({"m": moment_id}),
        status_labels={status.value: label for status, label in STATUS_LABELS.items()},
    )
    _open_view(client, body.get("trigger_id"), view)


def submit_answer(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    values: Values = view.get("state", {}).get("values", {})
    moment_id = _number(str(_metadata(view).get("m", "")))
    texts = []
    index = 0
    while f"q{index}" in values:
        texts.append(str(_value(values, f"q{index}") or ""))
        index += 1
    statuses = {
        int(block[3:]): str(_value(values, block))
        for block in values
        if block.startswith("iv_") and _small_number(block[3:]) and _value(values, block)
    }
    data = service.AnswerInput(
        answers=tuple(texts),
        need_partner_ids=tuple(int(v) for v in _value(values, "need_partners") or [] if _small_number(v)),
        need_text=str(_value(values, "need_text") or ""),
        statuses=statuses,
        view_id=str(view.get("id") or "")[:64] or None,
    )
    try:
        with services.session() as session:
            actor = _require(session, context["actor"])
            if moment_id is None:
                raise CheckinError(N_("This check-in does not exist (any more)."))
            outcome = service.answer(
                session, actor=actor, moment_id=moment_id, data=data, settings=services.settings
            )
    except (Problems, CheckinError, NotAllowed, partners.PartnerError) as problem:
        first = next((b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"), "q0")
        ack(response_action="errors", errors=_errors(view, language, problem, default=first))
        return
    if not outcome.changed:
        message = N_("Nothing changed: your answer was already like this.")
    elif outcome.closed:
        message = N_("Thank you. Everyone has answered now: the summary follows in the thread.")
    elif outcome.version == 1:
        message = N_("Thank you. Your answer is posted in the check-in’s thread.")
    else:
        message = N_("Your answer in the thread is changed.")
    rendered = _render_notice(services, language, message, {})
    ack(response_action="update", view=_info_view(services, language, N_("Check-in"), rendered["blocks"]))


def click_close(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    """The prompt's "Close now": a coordinator closes the moment before its window ends; anyone else is
    told, only to themselves, whom to ask. Committed before the answer, so the summary is on its way."""
    ack()
    services: Services = context["services"]
    language: str = context["language"]
    moment_id = _number(_action_value(body))
    try:
        with services.session() as session:
            actor = _require(session, context["actor"])
            if moment_id is None:
                raise CheckinError(N_("This check-in does not exist (any more)."))
            closed = closing.close_now(session, actor=actor, moment_id=moment_id, language=language)
    except (CheckinError, NotAllowed, partners.PartnerError) as problem:
        _tell(services, language, problem, respond=respond, client=client, body=body)
        return
    message = (
        N_("The check-in is closed: the summary follows in the thread.")
        if closed
        else N_("This check-in is closed; the summary is in its thread.")
    )
    _say(services, language, message, {}, respond=respond, client=client, body=body)


# --- /samen afstemmen and the match notice's button --------------------------------------------------------


def handle_alignment(request: CommandRequest) -> None:
    code, _, topic = request.args.strip().partition(" ")
    if not code:
        _ack_notice(request, N_("Name the subject’s code."), {}, ALIGN_USAGE)
        return
    try:
        with request.services.session() as session:
            actor = _require(session, request.actor)
            called = alignments.call(
                session,
                actor=actor,
                code=code,
                topic=topic,
                settings=request.services.settings,
                language=request.language,
            )
    except (CheckinError, NotAllowed, partners.PartnerError) as problem:
        _ack_problem(request, problem)
        return
    _ack_notice(request, _called_message(called), {"code": called.code}, None)


def _called_message(called: alignments.Called) -> str:
    if called.created:
        return N_(
            "The partners that have something on %(code)s are asked privately whether they join. "
            "You will hear who joins; then the group conversation opens."
        )
    return N_("Your partner already called an alignment on %(code)s today; those asked are answering.")


def click_alignment_request(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    services: Services = context["services"]
    language: str = context["language"]
    code = _action_value(body)[:20]
    try:
        with services.session() as session:
            actor = _require(session, context["actor"])
            called = alignments.call(
                session, actor=actor, code=code, topic=None, settings=services.settings, language=language
            )
    except (CheckinError, NotAllowed, partners.PartnerError) as problem:
        _tell(services, language, problem, respond=respond, client=client, body=body)
        return
    _say(
        services,
        language,
        _called_message(called),
        {"code": called.code},
        respond=respond,
        client=client,
        body=body,
    )


def click_join(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    _answer_invite(ack, body, client, respond, context, join=True)


def click_decline(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    _answer_invite(ack, body, client, respond, context, join=False)


def _answer_invite(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, *, join: bool
) -> None:
    ack()
    services: Services = context["services"]
    language: str = context["language"]
    alignment_id = _number(_action_value(body)) or 0
    try:
        with services.session() as session:
            actor = _require(session, context["actor"])
            outcome = alignments.answer_invite(
                session, actor=actor, alignment_id=alignment_id, join=join, settings=services.settings
            )
            code = _code_of(session, outcome.alignment.subject_id)
            partner = partners.get_partner(session, partner_id=actor.partner_id).name
    except (CheckinError, NotAllowed, partners.PartnerError) as problem:
        _tell(services, language, problem, respond=respond, client=client, body=body)
        return
    opened = (
        _open_group(services, client, context["actor"], alignment_id, outcome.group)
        if outcome.group
        else None
    )
    if not outcome.changed:
        message = N_("You had already answered this invitation.")
    elif not join:
        message = N_("Understood: %(partner)s does not join the alignment on %(code)s. Nobody is told.")
    elif opened is False:
        message = N_(
            "You join the alignment on %(code)s. The group conversation could not be opened just now; "
            "the person who called it can start it."
        )
    elif outcome.group:
        message = N_("You join the alignment on %(code)s: the group conversation is open.")
    else:
        message = N_(
            "You join the alignment on %(code)s. The group conversation opens when everyone asked has "
            "answered."
        )
    _say(
        services,
        language,
        message,
        {"code": code, "partner": partner},
        respond=respond,
        client=client,
        body=body,
    )


def click_start(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    services: Services = context["services"]
    language: str = context["language"]
    alignment_id = _number(_action_value(body)) or 0
    try:
        with services.session() as session:
            actor = _require(session, context["actor"])
            people = alignments.group_of(session, actor=actor, alignment_id=alignment_id)
    except (CheckinError, NotAllowed, partners.PartnerError) as problem:
        _tell(services, language, problem, respond=respond, client=client, body=body)
        return
    opened = _open_group(services, client, context["actor"], alignment_id, people)
    message = (
        N_("The group conversation is open.")
        if opened
        else N_("The group conversation could not be opened just now. Try again in a moment.")
    )
    _say(services, language, message, {}, respond=respond, client=client, body=body)


def _open_group(
    services: Services, client: WebClient, actor: Actor, alignment_id: int, people: Iterable[PersonRef]
) -> bool:
    """Open (or find) the group conversation of these people with Samen, and let the domain record it."""
    try:
        opened = client.conversations_open(users=",".join(p.user_id for p in people))
    except SlackApiError as exc:
        logger.warning("conversations.open for an alignment failed: %s", exc.response.get("error"))
        return False
    conversation = str((opened.get("channel") or {}).get("id") or "")
    if not conversation:
        return False
    with services.session() as session:
        member = _require(session, actor)
        alignments.started(
            session,
            actor=member,
            alignment_id=alignment_id,
            conversation_id=conversation,
            settings=services.settings,
        )
    return True


def click_slot(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    """A time slot suits me (or no longer): committed before Slack hears the acknowledgement, so whoever
    looks next sees it; the group's message is edited through the outbox."""
    services: Services = context["services"]
    language: str = context["language"]
    alignment_text, _, slot_text = _action_value(body).partition(":")
    slot = _number(slot_text)
    refused: Exception | None = None
    try:
        with services.session() as session:
            actor = _require(session, context["actor"])
            alignments.vote(
                session,
                actor=actor,
                alignment_id=_number(alignment_text) or 0,
                slot=slot if slot is not None else -1,
                settings=services.settings,
            )
    except (CheckinError, NotAllowed, partners.PartnerError) as problem:
        refused = problem
    finally:
        ack()
    if refused is not None:
        _tell(services, language, refused, respond=respond, client=client, body=body)


def open_agreement(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    services: Services = context["services"]
    language: str = context["language"]
    alignment_id = _number(_action_value(body)) or 0
    try:
        with services.session() as session:
            member = _require(session, context["actor"])
            alignments.check_takes_part(session, actor=member, alignment_id=alignment_id)
    except (CheckinError, NotAllowed, partners.PartnerError) as problem:
        _tell(services, language, problem, respond=respond, client=client, body=body)
        return
    view = services.renderer.render(
        "alignment_agreement_modal.json.j2",
        language,
        owner=member.user_id,
        metadata=json.dumps({"a": alignment_id}),
    )
    _open_view(client, body.get("trigger_id"), view)


def submit_agreement(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    values: Values = view.get("state", {}).get("values", {})
    alignment_id = _number(str(_metadata(view).get("a", ""))) or 0
    actor: Actor = context["actor"]
    owner = str(_value(values, "who", "value", "selected_user") or actor.user_id)
    due_text = str(_value(values, "when", "value", "selected_date") or "")
    try:
        due = date.fromisoformat(due_text) if due_text else None
    except ValueError:
        due = None
    try:
        with services.session() as session:
            member = _require(session, actor)
            _agreement, created = alignments.record_agreement(
                session,
                actor=member,
                alignment_id=alignment_id,
                data=alignments.AgreementInput(
                    what=str(_value(values, "what") or ""),
                    owner=PersonRef(actor.team_id, owner),
                    due_on=due,
                    submission_key=str(view.get("id") or "")[:64] or None,
                ),
                settings=services.settings,
            )
    except (Problems, CheckinError, NotAllowed, partners.PartnerError) as problem:
        ack(response_action="errors", errors=_errors(view, language, problem, default="what"))
        return
    message = (
        N_("Recorded: it is on the alignment’s message, with a button to make it an intervention.")
        if created
        else N_("Nothing changed: this agreement was already recorded.")
    )
    rendered = _render_notice(services, language, message, {})
    ack(response_action="update", view=_info_view(services, language, N_("Agreement"), rendered["blocks"]))


def click_to_intervention(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    """One click from an agreement to the interventions' own form (issue 5), filled in: the case on the
    subject, what will be done, the owner and their partner, and the date as its window."""
    ack()
    services: Services = context["services"]
    language: str = context["language"]
    agreement_id = _number(_action_value(body)) or 0
    from bot.interventions import service as interventions
    from commands import interventions as intervention_commands

    try:
        with services.session() as session:
            actor = _require(session, context["actor"])
            found = alignments.agreement_to_intervention(session, actor=actor, agreement_id=agreement_id)
            view = intervention_commands._form_view(
                session, services, language, actor, case_id=found.case_id, round_=1
            )
    except (CheckinError, NotAllowed, partners.PartnerError, interventions.InterventionError) as problem:
        _tell(services, language, problem, respond=respond, client=client, body=body)
        return
    if view is None:
        return
    agreement = found.agreement
    _prefill(view, "instrument", initial_value=agreement.what)
    _prefill(view, "owner", initial_user=agreement.owner_user_id)
    _prefill_option(view, "owner_partner", str(found.owner_partner_id))
    if agreement.due_on is not None:
        _prefill(view, "window_day", initial_date=agreement.due_on.isoformat())  # the form's datepicker
    _open_view(client, body.get("trigger_id"), view)


def _prefill(view: dict[str, Any], block_id: str, **element: Any) -> None:
    for block in view.get("blocks") or []:
        if block.get("block_id") == block_id and isinstance(block.get("element"), dict):
            block["element"].update(element)


def _prefill_option(view: dict[str, Any], block_id: str, value: str) -> None:
    for block in view.get("blocks") or []:
        if block.get("block_id") == block_id and isinstance(block.get("element"), dict):
            for option in block["element"].get("options") or []:
                if option.get("value") == value:
                    block["element"]["initial_option"] = option


# --- the App Home -------------------------------------------------------------------------------------------


def home_section(request: HomeRequest) -> list[dict[str, Any]]:
    with request.services.session(read_only=True) as session:
        member = partners.find_member(session, team_id=request.actor.team_id, user_id=request.actor.user_id)
        if member is None:
            return []
        overview = service.home_overview(session, actor=member, language=request.language)
    return list(request.render("checkin_home.json.j2", overview=overview)["blocks"])


# --- helpers ------------------------------------------------------------------------------------------------


def _require(session: Session, actor: Actor | None) -> Member:
    if actor is None:
        raise CheckinError(NOT_A_MEMBER)
    member = partners.find_member(session, team_id=actor.team_id, user_id=actor.user_id)
    if member is None:
        raise CheckinError(NOT_A_MEMBER)
    return member


def _code_of(session: Session, subject_id: int) -> str:
    from bot.signals.models import Subject

    subject = session.get(Subject, subject_id)
    return subject.code if subject else "?"


def _channel(channel_id: str) -> Any:
    from bot.mrkdwn import channel_link

    return channel_link(channel_id)


def _value(values: Values, block: str, action: str = "value", key: str | None = None) -> Any:
    element = (values.get(block) or {}).get(action) or {}
    if key is not None:
        return element.get(key)
    if "selected_option" in element:
        option = element["selected_option"]
        return option.get("value") if option else None
    if "selected_options" in element:
        return [o.get("value") for o in element.get("selected_options") or []]
    if "selected_users" in element:
        return list(element.get("selected_users") or [])
    for picked in ("selected_time", "selected_date"):  # a timepicker's "09:00", a datepicker's ISO date
        if picked in element:
            return element.get(picked)
    return element.get("value")


def _number(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdecimal() and len(text) < 10 else None


def _small_number(value: object) -> bool:
    """Digits only ("²" passes isdigit() but not int()), and few enough for the database."""
    return isinstance(value, str | int) and str(value).isdecimal() and len(str(value)) < 10


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        loaded = json.loads(view.get("private_metadata") or "{}")
    except (ValueError, RecursionError):  # forged or corrupt: as if there were none
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _action_value(body: dict[str, Any]) -> str:
    action = (body.get("actions") or [{}])[0]
    return str(action.get("value") or "")


def _shown(language: str, values: dict[str, object]) -> dict[str, object]:
    """A problem's values as people read them: a person is a mention, kinds of data and labels are named."""
    from bot.interventions.service import Label

    shown: dict[str, object] = {}
    for key, value in values.items():
        if isinstance(value, PersonRef):
            shown[key] = mention(value.user_id)
        elif _people(value):
            shown[key] = Markup(", ").join(mention(p.user_id) for p in value)
        elif isinstance(value, tuple) and all(isinstance(v, Kind) for v in value):
            shown[key] = ", ".join(t(language, KIND_LABELS[v]) for v in value)
        elif isinstance(value, Label):
            shown[key] = escape(t(language, str(value)))
        else:
            shown[key] = value
    return shown


def _plain_values(language: str, values: dict[str, object]) -> dict[str, object]:
    """The same for a modal's field errors, which Slack shows as plain text: a person is their id."""
    from bot.interventions.service import Label

    plain: dict[str, object] = {}
    for key, value in values.items():
        if isinstance(value, PersonRef):
            plain[key] = value.user_id
        elif _people(value):
            plain[key] = ", ".join(p.user_id for p in value)
        elif isinstance(value, tuple) and all(isinstance(v, Kind) for v in value):
            plain[key] = ", ".join(t(language, KIND_LABELS[v]) for v in value)
        elif isinstance(value, Label):
            plain[key] = t(language, str(value))
        else:
            plain[key] = value
    return plain


def _people(value: object) -> TypeGuard[tuple[PersonRef, ...]]:
    """A tuple of people (e.g. whom to ask); an empty tuple is nobody, shown as nothing."""
    return isinstance(value, tuple) and bool(value) and all(isinstance(v, PersonRef) for v in value)


def _problems(problem: Exception) -> list[Any]:
    return list(problem.problems) if isinstance(problem, Problems) else [problem]


def _errors(view: dict[str, Any], language: str, problem: Exception, *, default: str) -> dict[str, str]:
    """response_action "errors": each message under the field it is about (or the default field)."""
    blocks = {b.get("block_id") for b in view.get("blocks") or []}
    errors: dict[str, str] = {}
    for found in _problems(problem):
        block = getattr(found, "field", None)
        if block is None or block not in blocks:
            block = default
        text = t(language, found.message, **_plain_values(language, getattr(found, "values", {})))
        errors.setdefault(str(block), text if len(text) <= 150 else text[:149] + "…")
    return errors


def _render_notice(services: Services, language: str, message: str, values: dict[str, object]) -> Any:
    return services.renderer.render(
        "checkin_notice.json.j2", language, message=message, values=_shown(language, values), usage=None
    )


def _ack_notice(request: CommandRequest, message: str, values: dict[str, object], usage: str | None) -> None:
    request.ack_ephemeral(
        "checkin_notice.json.j2", message=message, values=_shown(request.language, values), usage=usage
    )


def _ack_problem(request: CommandRequest, problem: Any) -> None:
    first = _problems(problem)[0]
    _ack_notice(request, first.message, getattr(first, "values", {}), None)


def _tell(
    services: Services,
    language: str,
    problem: Any,
    *,
    respond: Respond,
    client: WebClient,
    body: dict[str, Any],
) -> None:
    first = _problems(problem)[0]
    _say(
        services,
        language,
        first.message,
        getattr(first, "values", {}),
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
    rendered = _render_notice(services, language, message, values)
    if body.get("response_url"):
        respond(
            text=rendered["text"],
            blocks=rendered["blocks"],
            response_type="ephemeral",
            replace_original=False,
        )
        return
    _open_view(
        client, body.get("trigger_id"), _info_view(services, language, N_("Samen"), rendered["blocks"])
    )


def _info_view(services: Services, language: str, title: str, blocks: list[dict[str, Any]]) -> Any:
    return services.renderer.render("checkin_info_modal.json.j2", language, title=title, blocks=blocks)


def _open_view(client: WebClient, trigger_id: str | None, view: Any) -> None:
    try:
        client.views_open(trigger_id=trigger_id or "", view=view)
    except SlackApiError as exc:
        # The trigger lived 3 seconds; nothing was changed, so the person can simply try again.
        logger.warning("views.open failed: %s", exc.response.get("error"))
