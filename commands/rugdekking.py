"""`/rugdekking`, the shortcut "Rugdekking vragen" and its form: ask every partner for backup.

The listener parses and answers; the rules (who may, what is queued to whom, when it escalates) are in
bot.alerts.service. A form or command that raises an alert answers Slack only after the alert and all
its messages are committed: acknowledged means committed, so the fan-out completes whatever happens
to this process afterwards. The buttons on the alert itself are in commands/rugdekking_answers.py.
"""

from __future__ import annotations

import html
import re
from typing import Any, Final

from pydantic import BaseModel
from slack_bolt import App

from bot.alerts import service
from bot.alerts.messages import board_context
from bot.alerts.models import SERIOUSNESS_LABELS, Seriousness
from bot.alerts.reading import count_open, figures, open_alerts
from bot.i18n import N_
from bot.partners import service as partners
from bot.problems import Problem, Problems
from bot.reach import outbox as reach
from bot.slack.interaction import Interaction, listener, metadata_json
from bot.slack.registry import HomeSection, Registry, Subcommand
from bot.vocabulary import INCIDENT_TYPE_LABELS, IncidentType
from commands import rugdekking_answers as answers

COMMAND: Final = "/rugdekking"
SHORTCUT: Final = "rugdekking_vragen"
NOW_WORDS: Final = frozenset({"nu", "now", "direct"})
DRILL_WORDS: Final = frozenset({"oefening", "drill"})
OVERVIEW_WORDS: Final = frozenset({"overzicht", "cijfers", "overview", "figures"})
HOME_BOARDS: Final = 3
MAX_TYPED: Final = 400  # what is typed after /rugdekking and carried to the form
RAISED: Final = "rugdekking_raised.json.j2"
_CODE = re.compile(r"^(?:RD-?)?(\d{1,9})$", re.IGNORECASE)


class RaiseMetadata(BaseModel):
    """What the form to raise an alert carries: a drill or not, and what was typed after /rugdekking."""

    drill: bool = False
    description: str = ""


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
    app.command(COMMAND)(listener(rugdekking_command))
    app.shortcut(SHORTCUT)(listener(open_raise_form))
    app.view("rugdekking_raise")(listener(answers.showing_fields(submit_raise)))
    answers.register(app)


# --- /rugdekking and /samen rugdekking -------------------------------------------------------------


def rugdekking_command(i: Interaction) -> None:
    i.args = (i.body.get("text") or "").strip()
    # Only members raise an alert: the partners feature's guard tells anyone else whom to ask.
    if i.registry.admits(i):
        handle_rugdekking(i)


def handle_rugdekking(i: Interaction) -> None:
    words = html.unescape(i.args).split()
    first = words[0].lower() if words else ""
    if first in OVERVIEW_WORDS:
        show_figures(i, words[1:])
        return
    drill = first in DRILL_WORDS
    if drill:
        words = words[1:]
        first = words[0].lower() if words else ""
    if first in NOW_WORDS:
        raise_now(i, drill, " ".join(words[1:]))
        return
    # private_metadata holds 3,000 characters: room for a short description, even if every one is escaped.
    i.open(_raise_form(i, drill=drill, description=" ".join(words)[:MAX_TYPED]))


def raise_now(i: Interaction, drill: bool, description: str) -> None:
    """No time for a form: alert every partner at once with what is known."""
    request = service.RaiseRequest(
        incident_type=IncidentType.OVERIG,
        seriousness=Seriousness.HOOG,
        # One command, one alert: Slack gives every invocation its own trigger id.
        source_key=f"trigger:{i.trigger_id or i.body.get('response_url')}",
        description=description or None,
        drill=drill,
    )
    with i.session() as session:
        raised = service.raise_alert(
            session, actor=i.require_member(session), request=request, settings=i.services.settings
        )
        reach.queue_alert(session, alert=raised.alert, settings=i.services.settings)
        answer = _raised_context(raised)
    # Committed: the alert and every message it sends are in the database before Slack hears "ok".
    i.ack_ephemeral(RAISED, as_modal=False, **answer)


_WAY_LABELS: Final = {"chat": "chat", "sms": "SMS", "email": "e-mail"}  # the same in Dutch and English


def show_figures(i: Interaction, words: list[str]) -> None:
    alert_id: int | None = None
    if words:
        found = _CODE.match(words[0])
        if found is None:
            raise Problem(N_("Write it like this: `/rugdekking overzicht` or `/rugdekking overzicht RD-12`."))
        alert_id = int(found.group(1))
    with i.session(read_only=True) as session:
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
                    {
                        "name": p.name,
                        "after": p.acknowledged_after,
                        "by": p.acknowledged_by or "",
                        "via": _WAY_LABELS.get(p.via or "", ""),
                    }
                    for p in f.partners
                ],
                # time to acknowledge per channel (chat, SMS, e-mail): how the drill reached people
                "ways": [
                    {"way": _WAY_LABELS[w.way], "count": w.count, "first": w.first, "last": w.last}
                    for w in f.ways
                ],
            }
            for f in figures(session, actor=i.require_member(session), alert_id=alert_id)
        ]
    i.ack_ephemeral("rugdekking_figures.json.j2", items=items, detail=alert_id is not None)


# --- the form ------------------------------------------------------------------------------------


def open_raise_form(i: Interaction) -> None:
    """The shortcut: the same form as `/rugdekking`, for members (anyone else is told whom to ask)."""
    with i.session(read_only=True) as session:
        i.require_member(session)
    i.open(_raise_form(i, drill=False, description=""))


def _raise_form(i: Interaction, *, drill: bool, description: str) -> Any:
    return i.render(
        "rugdekking_modal.json.j2",
        drill=drill,
        description=description,
        # What was typed after /rugdekking travels with the form and is added to the description.
        metadata=metadata_json(RaiseMetadata(drill=drill, description=description)),
        types=list(INCIDENT_TYPE_LABELS.items()),
        levels=list(SERIOUSNESS_LABELS.items()),
        default_level=Seriousness.MIDDEN.value,
    )


def submit_raise(i: Interaction) -> None:
    form, metadata = i.form, i.metadata(RaiseMetadata)
    incident, level = form.enum("rd_type", IncidentType), form.enum("rd_level", Seriousness)
    missing = [
        Problem(message, field=field)
        for message, field, chosen in (
            (N_("Choose what happened."), "type", incident),
            (N_("Choose how serious it is."), "level", level),
        )
        if chosen is None
    ]
    if incident is None or level is None:
        raise Problems(missing)
    safe = form.choice("rd_safe")
    request = service.RaiseRequest(
        incident_type=incident,
        seriousness=level,
        source_key=f"view:{i.view.get('id')}",
        safe=None if safe is None else safe == "yes",
        description="\n".join(filter(None, [metadata.description, form.text("rd_description")])),
        place=form.text("rd_place"),
        show_reporter_name="show" in form.choices("rd_name"),
        drill=metadata.drill,
    )
    with i.session() as session:
        raised = service.raise_alert(
            session, actor=i.require_member(session), request=request, settings=i.services.settings
        )
        reach.queue_alert(session, alert=raised.alert, settings=i.services.settings)
        answer = _raised_context(raised)
    # Committed before Slack hears "ok": a retried submission finds this alert and raises nothing new.
    i.update_view(i.render(RAISED, as_modal=True, **answer))


def _raised_context(raised: service.Raised) -> dict[str, Any]:
    alert = raised.alert
    return {
        "code": alert.code,
        "drill": alert.drill,
        "partners": raised.partners,
        "joined": raised.joined,
        # formatted per language by the template (bot.i18n.format_minutes)
        "minutes": (alert.safety_check_at - alert.raised_at).total_seconds() / 60,
    }


# --- the App Home --------------------------------------------------------------------------------


def home_section(i: Interaction) -> list[dict[str, Any]]:
    with i.session(read_only=True) as session:
        member = partners.find_member(session, team_id=i.actor.team_id, user_id=i.actor.user_id)
        if member is None:
            return []
        contexts = [board_context(session, a) for a in open_alerts(session, actor=member, limit=HOME_BOARDS)]
        more = max(0, count_open(session) - len(contexts))
    boards = [i.render("rugdekking_board.json.j2", **ctx)["blocks"] for ctx in contexts]
    return list(i.render("rugdekking_home.json.j2", boards=boards, more=more)["blocks"])
