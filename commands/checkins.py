"""Check-ins in Slack: `/samen afstemming plan | lijst | pauzeer <nr> | hervat <nr> | verwijder <nr>`.

Scheduled check-ins in a channel; the prompt's button (and the reminder's, and the App Home's) opens the
answer form; its "Close now" closes the moment early (coordinators; anyone else is told whom to ask). The
ad-hoc alignment on one subject is commands/alignment.py.

Each listener parses what arrived, calls bot.checkins in one transaction, and answers once it committed;
who may do what is decided there, and a refusal is a Problem the Interaction shows. The only Slack call
made here besides answering the person is `conversations.info` (is Samen in the channel a check-in is
planned in?).
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

from pydantic import BaseModel, Field
from slack_bolt import App
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.checkins import answers, closing, service, timing
from bot.i18n import N_
from bot.interventions.models import STATUS_LABELS
from bot.mrkdwn import channel_link
from bot.partners import service as partners
from bot.partners.models import PersonRef
from bot.partners.rules import CHANNEL_ID
from bot.people import CHAT_ID_LENGTH
from bot.slack.interaction import Interaction, Number, listener, metadata_json
from bot.slack.registry import HomeSection, Registry, Subcommand

logger = logging.getLogger(__name__)

PLAN_VIEW: Final = "checkin_plan"
ANSWER_VIEW: Final = "checkin_answer_form"
NOTICE: Final = "notice.json.j2"
NUMBER: Final = re.compile(r"^(?:#|a-?)?(\d{1,9})$", re.IGNORECASE)
USAGE: Final = N_(
    "Write it like this: `/samen afstemming plan` in the channel of the check-in (coordinators), "
    "`/samen afstemming lijst`, or `/samen afstemming pauzeer|hervat|verwijder <number>`."
)


class PlanMetadata(BaseModel):
    """The planning form's private_metadata: the channel it was opened in, and that channel's team."""

    c: str = Field("", max_length=CHAT_ID_LENGTH)  # a Slack channel or a Matrix room
    t: str = Field("", max_length=CHAT_ID_LENGTH)


class MomentMetadata(BaseModel):
    """The answer form's private_metadata: which moment it answers."""

    m: Number


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
    registry.add_home_section(HomeSection(name="checkins", order=35, render=home_section))
    app.view(PLAN_VIEW)(listener(submit_plan))
    app.view(ANSWER_VIEW)(listener(submit_answer))
    app.action("checkin_answer")(listener(open_answer))
    app.action("checkin_close")(listener(click_close))


# --- /samen afstemming ----------------------------------------------------------------------------------


def handle_checkins(i: Interaction) -> None:
    words = i.args.split()
    verb = words[0].lower() if words else "lijst"
    if verb in ("plan", "nieuw", "new"):
        open_plan(i)
    elif verb in ("lijst", "list"):
        show_list(i)
    elif verb in CHANGES:
        change(i, verb, words[1:])
    else:
        message = N_("“%(word)s” is not something a check-in can do.")
        i.reply(NOTICE, message=message, values={"word": verb[:30]}, usage=USAGE)


def open_plan(i: Interaction) -> None:
    channel = i.channel_id or ""
    with i.session(read_only=True) as session:
        service.check_may_plan(i.require_member(session))
        choices = _plan_choices(session, i)
    if not CHANNEL_ID.match(channel):  # a Slack channel or a Matrix room; not a direct conversation
        i.reply(NOTICE, message=N_("Plan a check-in from the channel where it should take place."), values={})
    elif not _samen_is_in(i, channel):
        message = N_(
            "Samen is not in %(channel)s yet: type `/invite @Samen` in that channel, then plan again."
        )
        i.reply(NOTICE, message=message, values={"channel": channel_link(channel)})
    else:
        team = str(i.body.get("team_id") or i.actor.team_id)
        metadata = metadata_json(PlanMetadata(c=channel, t=team))
        i.open("checkin_plan_modal.json.j2", channel=channel, metadata=metadata, **choices)


def _plan_choices(session: Session, i: Interaction) -> dict[str, Any]:
    zone = i.services.settings.samen_timezone
    zones = list(timing.ZONES) if zone in timing.ZONES else [zone, *timing.ZONES]
    return {
        "weekdays": [(str(d), label) for d, label in enumerate(service.WEEKDAY_LABELS)],
        "chosen_days": [str(d) for d in sorted(service.DEFAULT_WEEKDAYS)],
        "clock": service.DEFAULT_CLOCK,
        "zones": zones,
        "zone": zone,
        "questions": service.default_questions(i.language),
        "partners": [(str(p.id), p.name) for p in partners.list_partners(session)],
        "windows": [(str(minutes), label) for minutes, label in service.WINDOWS.items()],
        "window": str(service.DEFAULT_WINDOW),
    }


def _samen_is_in(i: Interaction, channel: str) -> bool:
    """Whether Samen can post in the channel: `conversations.info` says so (a private channel Samen is not
    in is not found at all)."""
    try:
        info = i.client.conversations_info(channel=channel).get("channel") or {}
    except SlackApiError as exc:
        logger.info("conversations.info for a check-in channel: %s", exc.response.get("error"))
        return False
    return bool(info.get("is_member")) and not info.get("is_im") and not info.get("is_mpim")


def show_list(i: Interaction) -> None:
    with i.session(read_only=True) as session:
        i.require_member(session)
        found = service.schedules(session, language=i.language)
    i.reply("checkin_list.json.j2", schedules=found)


PAUSED: Final = N_("Check-in %(number)s is paused: no moments until it is resumed.")
RESUMED: Final = N_("Check-in %(number)s runs again: next moment %(when)s.")
DELETED: Final = N_("Check-in %(number)s is deleted.")
CHANGES: Final = {
    "pauzeer": (service.pause, PAUSED),
    "pause": (service.pause, PAUSED),
    "hervat": (service.resume, RESUMED),
    "resume": (service.resume, RESUMED),
    "verwijder": (service.delete, DELETED),
    "delete": (service.delete, DELETED),
}


def change(i: Interaction, verb: str, words: list[str]) -> None:
    found = NUMBER.match(words[0]) if len(words) == 1 else None
    if found is None:
        i.reply(NOTICE, message=N_("Name the check-in by its number."), values={}, usage=USAGE)
        return
    number = int(found.group(1))
    function, done = CHANGES[verb]
    with i.session() as session:
        changed = function(session, actor=i.require_member(session), schedule_id=number)
        shown = (
            None
            if done == DELETED
            else service.view_of(session, service.get_schedule(session, number), i.language)
        )
    message = done if changed else N_("Nothing changed: check-in %(number)s was already like that.")
    i.reply(NOTICE, message=message, values={"number": number, "when": shown.next_at if shown else ""})


def submit_plan(i: Interaction) -> None:
    metadata = i.metadata(PlanMetadata)
    form = i.form
    team = metadata.t or i.actor.team_id
    window = form.choice("window")
    data = service.PlanInput(
        channel_id=metadata.c,
        team_id=team,
        weekdays=frozenset(i.number(v) for v in form.choices("days")),
        clock=form.choice("time") or "",
        timezone=form.choice("zone") or i.services.settings.samen_timezone,
        include_holidays="yes" in form.choices("holidays"),
        questions=form.text("questions") or "",
        ask_partner_need="yes" in form.choices("partner_question"),
        partner_ids=tuple(i.number(v) for v in form.choices("partners")),
        people=tuple(PersonRef(team, user) for user in form.choices("people")),
        window_minutes=i.number(window) if window else None,
        language=i.language,
        submission_key=str(i.view.get("id") or "")[:64] or None,
    )
    with i.session() as session:
        planned = service.plan(session, actor=i.require_member(session), data=data)
        shown = service.view_of(session, planned.schedule, i.language)
    message = N_("Check-in %(number)s is planned in %(channel)s. The first moment: %(when)s.")
    values = {"number": shown.id, "channel": channel_link(shown.channel_id), "when": shown.next_at or ""}
    show_done(i, N_("Check-in planned"), message, values)


def show_done(i: Interaction, title: str, message: str, values: dict[str, object] | None = None) -> None:
    """The submitted form becomes a small window titled `title` that says what was done."""
    notice = i.render(NOTICE, message=message, values=values or {})
    i.update_view(i.render("info_modal.json.j2", title=title, blocks=notice["blocks"]))


# --- answering --------------------------------------------------------------------------------------------


def open_answer(i: Interaction) -> None:
    moment_id = i.number()
    with i.session(read_only=True) as session:
        form = answers.answer_form(
            session,
            actor=i.require_member(session),
            moment_id=moment_id,
            settings=i.services.settings,
            language=i.language,
        )
    i.open(
        "checkin_answer_modal.json.j2",
        form=form,
        metadata=metadata_json(MomentMetadata(m=moment_id)),
        status_labels={status.value: label for status, label in STATUS_LABELS.items()},
    )


def submit_answer(i: Interaction) -> None:
    moment_id = i.metadata(MomentMetadata).m
    form = i.form
    texts: list[str] = []
    while f"q{len(texts)}" in form.values:
        texts.append(form.text(f"q{len(texts)}") or "")
    statuses = {
        i.number(block.removeprefix("iv_")): chosen
        for block in form.values
        if block.startswith("iv_") and (chosen := form.choice(block))
    }
    data = answers.AnswerInput(
        answers=tuple(texts),
        need_partner_ids=tuple(i.number(v) for v in form.choices("need_partners")),
        need_text=form.text("need_text") or "",
        statuses=statuses,
        view_id=str(i.view.get("id") or "")[:64] or None,
    )
    with i.session() as session:
        outcome = answers.answer(
            session,
            actor=i.require_member(session),
            moment_id=moment_id,
            data=data,
            settings=i.services.settings,
        )
    if not outcome.changed:
        message = N_("Nothing changed: your answer was already like this.")
    elif outcome.closed:
        message = N_("Thank you. Everyone has answered now: the summary follows in the thread.")
    elif outcome.version == 1:
        message = N_("Thank you. Your answer is posted in the check-in’s thread.")
    else:
        message = N_("Your answer in the thread is changed.")
    show_done(i, N_("Check-in"), message)


def click_close(i: Interaction) -> None:
    """The prompt's "Close now": a coordinator closes the moment before its window ends; anyone else is
    told, only to themselves, whom to ask. Committed before the answer, so the summary is on its way."""
    moment_id = i.number()
    with i.session() as session:
        closed = closing.close_now(
            session, actor=i.require_member(session), moment_id=moment_id, language=i.language
        )
    message = (
        N_("The check-in is closed: the summary follows in the thread.")
        if closed
        else N_("This check-in is closed; the summary is in its thread.")
    )
    i.reply(NOTICE, message=message, values={})


# --- the App Home -------------------------------------------------------------------------------------------


def home_section(i: Interaction) -> list[dict[str, Any]]:
    with i.session(read_only=True) as session:
        member = partners.find_member(session, team_id=i.actor.team_id, user_id=i.actor.user_id)
        if member is None:
            return []
        overview = service.home_overview(session, actor=member, language=i.language)
    return list(i.render("checkin_home.json.j2", overview=overview)["blocks"])
