"""The buttons on a backup alert, and the forms they open: the partners answer it.

*Ontvangen* acknowledges for the person's partner, *We komen in actie* records a supporting action (and
asks for the second round), *Details bekijken* shows what only those who need to know may read, the
reporter answers "Ben je veilig?", and *Afsluiten* closes the alert with a summary and a lesson. Each is
parse → domain (bot.alerts) → answer; an answer follows the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final, Literal

from babel.dates import format_datetime
from pydantic import BaseModel
from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot import cldr
from bot.alerts import service
from bot.alerts.details import view_details, who_has_access
from bot.alerts.messages import alert_context
from bot.alerts.models import SUPPORT_KIND_LABELS, SupportKind
from bot.alerts.reading import get_alert, partner_rows
from bot.authz import NotAllowed
from bot.i18n import N_
from bot.mrkdwn import mention
from bot.problems import Problem, shown_values
from bot.slack.interaction import Interaction, Number, listener, metadata_json
from commands.home import publish_home

logger = logging.getLogger(__name__)

NOTICE: Final = "notice.json.j2"
NO_ACCESS: Final = N_(
    "Only the reporter's partner (%(partner)s), each partner's duty contacts and lead, and the "
    "coordinators see the details of %(code)s."
)


class AlertMetadata(BaseModel):
    """What a form about one alert carries: the alert, and which round of supporting actions."""

    alert: Number
    round: Literal[1, 2] = 1


def register(app: App) -> None:
    app.action("rugdekking_ack")(listener(acknowledge))
    app.action("rugdekking_act")(listener(open_action_form))
    app.view("rugdekking_action")(listener(showing_fields(submit_action)))
    app.action("rugdekking_details")(listener(show_details))
    app.action("rugdekking_close")(listener(open_close_form))
    app.view("rugdekking_close")(listener(showing_fields(submit_close)))
    app.view("rugdekking_lesson")(listener(showing_fields(submit_lesson)))
    app.action("rugdekking_safe")(listener(answered_safe))
    app.action("rugdekking_help")(listener(answered_help))


def showing_fields(handler: Callable[[Interaction], None]) -> Callable[[Interaction], None]:
    """A form's listener whose problems go under the field they name: `description` under the block
    `rd_description`, and anything else under the form's first field."""

    def submitted(i: Interaction) -> None:
        try:
            handler(i)
        except Problem as problem:
            i.show(problem, block_of=lambda field: f"rd_{field}")

    submitted.__name__ = handler.__name__
    return submitted


# --- acknowledging -------------------------------------------------------------------------------


def acknowledge(i: Interaction) -> None:
    alert_id = i.number()
    with i.session() as session:
        done = service.acknowledge(
            session, actor=i.require_member(session), alert_id=alert_id, settings=i.services.settings
        )
        row = done.partner
        if done.already:
            message = N_(
                "%(code)s was already acknowledged for *%(partner)s* by %(person)s at %(time)s: "
                "nothing changed."
            )
            values = {
                "code": done.alert.code,
                "partner": row.partner_name,
                "person": mention(row.acknowledged_by_user_id or ""),
                "time": _clock_time(i, row.acknowledged_at),
            }
        else:
            message = N_(
                "Acknowledged for *%(partner)s*: its escalation stops. Thank you. "
                "Record what your partner does with *We take action*."
            )
            values = {"partner": row.partner_name}
    if i.in_home:
        i.ack()
        _refresh_home(i)
        return
    i.reply(NOTICE, message=message, values=values)


def _refresh_home(i: Interaction) -> None:
    try:
        publish_home(i.client, i.for_home(i.actor))
    except SlackApiError as exc:
        logger.warning("could not refresh the App Home: %s", exc.response.get("error"))


def _clock_time(i: Interaction, moment: datetime | None) -> str:
    if moment is None:
        return "–"
    settings = i.services.settings
    return format_datetime(moment, "HH:mm", tzinfo=settings.timezone, locale=cldr.locale(i.language))


# --- supporting actions --------------------------------------------------------------------------


def open_action_form(i: Interaction) -> None:
    alert_id = i.number()
    with i.session(read_only=True) as session:
        alert, row = service.support_form(session, actor=i.require_member(session), alert_id=alert_id)
        form = _action_form(i, alert_context(session, alert), row.partner_name, 1)
    i.open(form)


def _action_form(
    i: Interaction, alert: dict[str, Any], partner: str, round: Literal[1, 2], recorded: str | None = None
) -> Any:
    return i.render(
        "rugdekking_action_modal.json.j2",
        alert=alert,
        partner=partner,
        round=round,
        recorded=recorded or "",
        kinds=list(SUPPORT_KIND_LABELS.items()),
        metadata=metadata_json(AlertMetadata(alert=alert["id"], round=round)),
    )


def submit_action(i: Interaction) -> None:
    metadata = i.metadata(AlertMetadata)
    kind = i.form.enum("rd_kind", SupportKind)
    if kind is None:
        raise Problem(N_("Choose what your partner does."), field="kind")
    with i.session() as session:
        recorded = service.record_support_action(
            session,
            actor=i.require_member(session),
            alert_id=metadata.alert,
            kind=kind,
            note=i.form.text("rd_note"),
            round=metadata.round,
            source_key=f"view:{i.view.get('id')}:{metadata.round}",
            settings=i.services.settings,
        )
        summary = alert_context(session, recorded.alert)
        partner = next(
            row.partner_name
            for row in partner_rows(session, recorded.alert)
            if row.partner_id == recorded.action.partner_id
        )
        label = SUPPORT_KIND_LABELS[recorded.action.kind]
    if metadata.round == 1:
        # The bot asks for the second round in the same window: what if the intimidation goes on?
        i.update_view(_action_form(i, summary, partner, 2, label))


# --- need to know --------------------------------------------------------------------------------


def show_details(i: Interaction) -> None:
    alert_id = i.number()
    try:
        with i.session() as session:  # every view is in the audit log
            found = view_details(session, actor=i.require_member(session), alert_id=alert_id)
            view = i.render(
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
        _refuse_details(i, alert_id)
        return
    i.open(view)


def _refuse_details(i: Interaction, alert_id: int) -> None:
    """Who may see the details, and whom of those to ask: never a refusal without a name."""
    with i.session(read_only=True) as session:
        member = i.require_member(session)
        shown = alert_context(session, get_alert(session, alert_id=alert_id))
        ask = tuple(who_has_access(session, partner_id=member.partner_id))
    values = shown_values({"ask": ask}, i.language)
    i.show(Problem(NO_ACCESS, partner=shown["partner"], code=shown["code"]), ask=values["ask"] or None)


# --- the reporter's safety -----------------------------------------------------------------------


def answered_safe(i: Interaction) -> None:
    _answer_safety(i, safe=True)


def answered_help(i: Interaction) -> None:
    _answer_safety(i, safe=False)


def _answer_safety(i: Interaction, *, safe: bool) -> None:
    alert_id = i.number()
    with i.session() as session:
        answered = service.answer_safety(
            session,
            actor=i.require_member(session),
            alert_id=alert_id,
            safe=safe,
            settings=i.services.settings,
        )
        code = answered.alert.code
    if safe:
        message = N_("Good to hear you are safe (%(code)s). The partners keep giving cover.")
    else:
        message = N_(
            "The coordinators and your own partner are alerted now (%(code)s) and will contact you. "
            "Immediate danger: call 112."
        )
    # The question is answered: replace it (and its buttons) with the answer.
    i.reply(NOTICE, replace=True, message=message, values={"code": code})


# --- closing -------------------------------------------------------------------------------------


def open_close_form(i: Interaction) -> None:
    alert_id = i.number()
    with i.session(read_only=True) as session:
        alert = service.close_form(session, actor=i.require_member(session), alert_id=alert_id)
        form = _close_form(i, alert_context(session, alert), lesson_only=False)
    i.open(form)


def _close_form(i: Interaction, alert: dict[str, Any], *, lesson_only: bool) -> Any:
    return i.render(
        "rugdekking_close_modal.json.j2",
        alert=alert,
        lesson_only=lesson_only,
        metadata=metadata_json(AlertMetadata(alert=alert["id"])),
    )


def submit_close(i: Interaction) -> None:
    metadata = i.metadata(AlertMetadata)
    with i.session() as session:
        closed = service.close_alert(
            session,
            actor=i.require_member(session),
            alert_id=metadata.alert,
            summary=i.form.text("rd_summary") or "",
            lesson=i.form.text("rd_lesson"),
            settings=i.services.settings,
        )
        summary = alert_context(session, closed.alert)
        has_lesson = bool(closed.alert.lesson)
    if not has_lesson:
        # Closing asks for a lesson: once more, in the same window.
        i.update_view(_close_form(i, summary, lesson_only=True))


def submit_lesson(i: Interaction) -> None:
    lesson = i.form.text("rd_lesson")
    if not lesson:
        return
    metadata = i.metadata(AlertMetadata)
    with i.session() as session:
        service.record_lesson(
            session, actor=i.require_member(session), alert_id=metadata.alert, lesson=lesson
        )
