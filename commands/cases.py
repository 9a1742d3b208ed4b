"""Cases and the work queue in Slack: `/samen casus <nummer>`, `/samen werkvoorraad`, `/samen criteria`;
the case message's "join with …" menu and "Score" button (a modal: one score and one reason per criterion).

Parse → ack → call bot.cases.service → render. Who may do what is decided there.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.authz import NotAllowed
from bot.cases import service
from bot.i18n import N_, t
from bot.partners import service as partners
from bot.runtime import Services
from bot.signals.notices import Outbound
from bot.signals.service import NotFound, SignalError
from bot.slack.registry import Registry, Subcommand
from bot.slack.requests import CommandRequest
from bot.vocabulary import CONTRIBUTION_LABELS, Contribution
from commands.partner import tokenize
from commands.signals import (
    _ack_problem,
    _field_errors,
    _find_member,
    _info_view,
    _metadata,
    _not_a_member,
    _number,
    _open,
    _require,
    _say,
    _tell,
    _value,
    shown_values,
)

SCORE_VIEW: Final = "case_score"
CASE_PURPOSE: Final = "look-up of a case and the details of its signals (/samen casus)"
USAGE_CRITERIA: Final = N_(
    'Write it like this: `/samen criteria "<name>" <weight 1-10> <scale 1-10>` to add or change one, '
    '`/samen criteria uit "<name>"` to stop using one, `/samen criteria` to list them.'
)
_QUOTES = "\"'“”„‘’"


def register(app: App, registry: Registry) -> None:
    registry.add_subcommand(
        Subcommand(
            name="casus",
            aliases=("case",),
            usage="<nummer>",
            summary=N_("One case: lead partner, focus, subjects, who joined with what, its scores and rank."),
            handler=show_case,
        )
    )
    registry.add_subcommand(
        Subcommand(
            name="werkvoorraad",
            aliases=("queue", "workqueue"),
            usage="",
            summary=N_("The shared work queue: open cases in rank order, with the reasons for each score."),
            handler=show_queue,
        )
    )
    registry.add_subcommand(
        Subcommand(
            name="criteria",
            aliases=("criterium",),
            usage='["naam" gewicht schaal | uit "naam"]',
            summary=N_("The selection criteria the partnership ranks cases by; coordinators set them."),
            handler=handle_criteria,
        )
    )
    app.action("case_join")(join_case)
    app.action("case_score")(open_scoring)
    app.view(SCORE_VIEW)(submit_scoring)


def show_case(request: CommandRequest) -> None:
    number = _number(request.args.strip().lstrip("#"))
    if number is None:
        request.ack_ephemeral(
            "signal_notice.json.j2",
            message=N_("Name the case's number, e.g. `/samen casus 3`; `/samen werkvoorraad` lists them."),
            values={},
            usage=None,
        )
        return
    try:
        # Only a view that shows a signal's details writes (its audit entry): the rest reads without
        # the write lock (docs/ARCHITECTURE.md, Database).
        with request.services.session(read_only=True) as session:
            member = _require(session, request.actor)
            audited = service.shows_details(session, actor=member, case_id=number)
            if not audited:
                shown = service.case_view(session, actor=member, case_id=number, purpose=CASE_PURPOSE)
        if audited:
            with request.services.session() as session:
                member = _require(session, request.actor)
                shown = service.case_view(session, actor=member, case_id=number, purpose=CASE_PURPOSE)
        options = service.contribution_options(number)
    except (SignalError, NotAllowed, partners.PartnerError) as problem:
        _ack_problem(request, problem)
        return
    request.ack_ephemeral("case_detail.json.j2", view=shown, contributions=options)


def show_queue(request: CommandRequest) -> None:
    with request.services.session(read_only=True) as session:
        _require(session, request.actor)
        entries, count = service.work_queue(session)
        criteria = service.criteria(session)
    request.ack_ephemeral("case_queue.json.j2", entries=entries, count=count, criteria=criteria)


def handle_criteria(request: CommandRequest) -> None:
    words = [w.strip(_QUOTES) if len(w) >= 2 and w[0] in _QUOTES else w for w in tokenize(request.args)]
    try:
        with request.services.session() as session:
            member = _require(session, request.actor)
            if not words:
                listed = service.criteria(session)
                request.ack_ephemeral(
                    "case_criteria.json.j2", criteria=listed, changed=None, usage=USAGE_CRITERIA
                )
                return
            if words[0].lower() in ("uit", "off", "retire") and len(words) > 1:
                name = " ".join(words[1:])
                retired = service.retire_criterion(session, actor=member, name=name)
                message = (
                    N_("“%(name)s” no longer counts in the work queue; its scores are kept.")
                    if retired
                    else N_("“%(name)s” was already not in use.")
                )
                request.ack_ephemeral(
                    "signal_notice.json.j2", message=message, values={"name": name}, usage=None
                )
                return
            if len(words) < 3 or not all(re.fullmatch(r"\d{1,3}", w) for w in words[-2:]):
                raise SignalError(N_("Name the criterion, its weight and its scale."))
            criterion, change = service.set_criterion(
                session,
                actor=member,
                name=" ".join(words[:-2]),
                weight=int(words[-2]),
                scale_max=int(words[-1]),
            )
            listed = service.criteria(session)
            changed = {"name": criterion.name, "change": change.value}
    except (SignalError, NotAllowed, partners.PartnerError) as problem:
        request.ack_ephemeral(
            "signal_notice.json.j2",
            message=problem.message,
            values=shown_values(request.language, getattr(problem, "values", {})),
            usage=USAGE_CRITERIA,
        )
        return
    request.ack_ephemeral("case_criteria.json.j2", criteria=listed, changed=changed, usage=None)


def join_case(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    """The case message's menu: "join with: a player in position | strike power | information"."""
    ack()
    services: Services = context["services"]
    language: str = context["language"]
    action = (body.get("actions") or [{}])[0]
    chosen = str((action.get("selected_option") or {}).get("value") or "")
    case_text, _, contribution_text = chosen.partition(":")
    case_id = _number(case_text)
    try:
        contribution = Contribution(contribution_text)
    except ValueError:
        contribution = None
    try:
        with services.session() as session:
            member = _find_member(session, context["actor"])
            if member is None:
                _not_a_member(session, services, language, respond=respond, client=client, body=body)
                return
            if case_id is None or contribution is None:
                raise NotFound(N_("There is no case with number %(number)s."), number="?")
            change = service.join(
                session,
                actor=member,
                case_id=case_id,
                contribution=contribution,
                outbound=Outbound.of(services.settings),
            )
            partner = partners.get_partner(session, partner_id=member.partner_id).name
    except (SignalError, NotAllowed, partners.PartnerError) as problem:
        _tell(services, language, problem, respond=respond, client=client, body=body)
        return
    message = {
        service.Change.ADDED: N_("%(partner)s joined case %(number)s: %(contribution)s."),
        service.Change.UPDATED: N_("%(partner)s now brings to case %(number)s: %(contribution)s."),
        service.Change.UNCHANGED: N_("%(partner)s had already joined case %(number)s: %(contribution)s."),
    }[change]
    values = {
        "partner": partner,
        "number": case_id,
        "contribution": t(language, CONTRIBUTION_LABELS[contribution]),
    }
    _say(services, language, message, values, respond=respond, client=client, body=body)


def open_scoring(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    services: Services = context["services"]
    language: str = context["language"]
    action = (body.get("actions") or [{}])[0]
    case_id = _number(str(action.get("value") or ""))
    try:
        with services.session() as session:
            member = _find_member(session, context["actor"])
            if member is None:
                _not_a_member(session, services, language, respond=respond, client=client, body=body)
                return
            if case_id is None:
                raise NotFound(N_("There is no case with number %(number)s."), number="?")
            case = service.get_case(session, case_id)
            from bot.authz import Action, authorize

            authorize(member, Action.SCORE_CASE, relation=service.case_relation(session, member, case))
            criteria = service.criteria(session)
            if not criteria:
                raise SignalError(
                    N_(
                        "The partnership has no selection criteria yet: "
                        "a coordinator sets them with `/samen criteria`."
                    )
                )
            lines = service.score_lines(session, case_id, criteria)
            shown = service.card(session, case)
    except (SignalError, NotAllowed, partners.PartnerError) as problem:
        _tell(services, language, problem, respond=respond, client=client, body=body)
        return
    view = services.renderer.render(
        "case_score_modal.json.j2", language, case=shown, lines=lines, metadata=json.dumps({"c": case_id})
    )
    _open(client, body.get("trigger_id"), view)


def submit_scoring(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    services: Services = context["services"]
    language: str = context["language"]
    values = view.get("state", {}).get("values", {})
    case_id = _number(str(_metadata(view).get("c", "")))
    scores: dict[int, tuple[int | None, str | None]] = {}
    for block_id in values:
        found = re.fullmatch(r"(?:criterion|reason)_(\d+)", block_id)
        if found:
            criterion_id = int(found.group(1))
            scores[criterion_id] = (
                _number(_value(values, f"criterion_{criterion_id}")),
                _value(values, f"reason_{criterion_id}"),
            )
    first = next(iter(values), "criterion_0")
    try:
        with services.session() as session:
            member = _find_member(session, context["actor"])
            if member is None:
                raise SignalError(
                    N_("You are not (yet) a member of the partnership: ask a coordinator to add you.")
                )
            if case_id is None:
                raise NotFound(N_("There is no case with number %(number)s."), number="?")
            changed = service.score(session, actor=member, case_id=case_id, scores=scores)
            place = service.queue_place(session, case_id)
    except (SignalError, NotAllowed, partners.PartnerError) as problem:
        ack(response_action="errors", errors=_field_errors(view, language, problem, default=first))
        return
    done = services.renderer.render(
        "signal_notice.json.j2",
        language,
        message=N_("Case %(number)s now ranks %(rank)s in the work queue, with %(total)s of 100.")
        if changed
        else N_("Nothing was changed: it was already like this."),
        values={
            "number": case_id,
            "rank": place[0] if place else "-",
            "total": round(place[1]) if place else 0,
        },
        usage=None,
    )
    ack(response_action="update", view=_info_view(services, language, N_("Case scores"), done["blocks"]))
