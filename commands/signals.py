"""Signals in Slack: `/samen signaal [tekst]` and the "Registreer als signaal" message shortcut open the
registration modal; the signal's weigh button opens the weighing modal; `/samen signalen` and
`/samen subject` look things up; the access button shares a signal's details with a partner.

Parse → call the domain (bot.signals, bot.weighing, bot.cases.subjects) → render; a change commits
before Slack hears "ok". Who may see or do what is decided in the domain; a problem it raises is shown
by the Interaction (bot/slack/interaction.py).
"""

from __future__ import annotations

import logging
from typing import Any, Final

from pydantic import BaseModel
from slack_bolt import App
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from sqlmodel import Session

from bot.cases import service as cases
from bot.cases.subjects import subject_view
from bot.i18n import N_, t
from bot.mrkdwn import readable
from bot.partners import service as partners
from bot.partners.models import Member
from bot.pii import KIND_LABELS
from bot.signals import cards, registering
from bot.signals.models import Recency
from bot.signals.notices import Outbound
from bot.signals.registering import SignalInput, SubjectInput
from bot.slack.interaction import Interaction, Number, listener, metadata_json
from bot.slack.registry import HomeSection, Registry, Subcommand
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
from bot.weighing import service as weighing
from bot.weighing.service import WeighingInput

logger = logging.getLogger(__name__)

REGISTER_VIEW: Final = "signal_register"
WEIGH_VIEW: Final = "signal_weigh"
SHORTCUT: Final = "register_signal"  # the message shortcut "Registreer als signaal"
MAX_PREFILL_SUMMARY: Final = registering.MAX_SUMMARY
LOOKUP_PURPOSE: Final = "look-up of a signal's details (/samen signalen)"
SUBJECT_PURPOSE: Final = "look-up of a subject's identity (/samen subject)"
WEIGH_PURPOSE: Final = "weighing a signal (the weighing form shows its details)"


class RegistrationMetadata(BaseModel):
    """What the registration form carries: where to confirm (Slack's response URL), the channel, and the
    permalink of the message it was registered from."""

    r: str | None = None
    c: str | None = None
    p: str | None = None


class WeighingMetadata(BaseModel):
    """The signal the weighing form is about."""

    s: Number


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
    app.view(REGISTER_VIEW)(listener(submit_registration))
    app.shortcut(SHORTCUT)(listener(registration_from_message))
    app.action("signal_weigh")(listener(open_weighing))
    app.view(WEIGH_VIEW)(listener(submit_weighing))
    # The match notice's button "alignment_request" is handled by commands/alignment.py (issue 6).
    app.action("signal_grant_access")(listener(grant_access))


# --- registering ----------------------------------------------------------------------------------


def open_registration(i: Interaction) -> None:
    summary, details = _prefill(i.args.strip())
    metadata = RegistrationMetadata(r=i.response_url, c=i.channel_id)
    with i.session(read_only=True) as session:
        view = registration_view(i, session, i.member, summary, details, metadata)
    i.open(view)


def registration_from_message(i: Interaction) -> None:
    """The message shortcut: the message's text, and a link to it, fill the modal."""
    i.ack()
    with i.session(read_only=True) as session:
        member = i.require_member(session)
    message = i.body.get("message") or {}
    permalink = None
    if i.channel_id and message.get("ts"):
        try:
            found = i.client.chat_getPermalink(channel=i.channel_id, message_ts=message["ts"])
            permalink = found.get("permalink")
        except SlackApiError as exc:
            logger.warning("chat.getPermalink failed: %s", exc.response.get("error"))
    summary, details = _prefill(str(message.get("text") or ""))
    metadata = RegistrationMetadata(r=i.response_url, c=i.channel_id, p=permalink)
    with i.session(read_only=True) as session:
        view = registration_view(i, session, member, summary, details, metadata)
    i.open(view)


def _prefill(text: str) -> tuple[str, str]:
    """The summary and details a typed or shared text fills: a long text is cut in the summary and kept
    whole in the details."""
    if len(text) <= MAX_PREFILL_SUMMARY:
        return text, ""
    return text[: MAX_PREFILL_SUMMARY - 1] + "…", text


def registration_view(
    i: Interaction,
    session: Session,
    member: Member,
    summary: str,
    details: str,
    metadata: RegistrationMetadata,
) -> Any:
    others = [p for p in partners.list_partners(session) if p.id != member.partner_id]
    return i.render(
        "signal_modal.json.j2",
        summary=summary,
        details=details[: registering.MAX_DETAILS],
        metadata=metadata_json(metadata.model_dump(exclude_none=True)),
        categories=options(i.language, [(c.value, CATEGORY_LABELS[c]) for c in SignalCategory]),
        kinds=options(i.language, [(k.value, SUBJECT_KIND_LABELS[k]) for k in SubjectKind]),
        roles=options(i.language, [(r.value, SUBJECT_ROLE_LABELS[r]) for r in SubjectRole]),
        focus_elements=options(i.language, [(f.value, FOCUS_LABELS[f]) for f in FocusElement]),
        partners=options(i.language, [(str(p.id), p.name) for p in others], translate=False),
        own_partner=partners.get_partner(session, partner_id=member.partner_id).name,
    )


def submit_registration(i: Interaction) -> None:
    form = i.form
    metadata = i.metadata(RegistrationMetadata)
    kind = form.enum("new_kind", SubjectKind)
    role = form.enum("subject_role", SubjectRole) or SubjectRole.BETROKKENE
    identity = form.text("new_identity")
    data = SignalInput(
        summary=form.text("summary") or "",
        category=form.enum("category", SignalCategory),
        subject_codes=form.text("subject_codes") or "",
        role=role,
        new_subject=SubjectInput(kind, role, identity) if kind else None,
        new_subject_incomplete=kind is None and identity is not None,
        location_or_sector=form.text("location"),
        focus_element=form.enum("focus", FocusElement),
        details=form.text("details"),
        shared_with=[int(v) for v in form.choices("share") if v.isdecimal() and len(v) < 10],
        share_with_coordinators="yes" in form.choices("coordinators") or "coordinators" not in form.values,
        source_permalink=metadata.p,
        submission_key=str(i.view.get("id") or "")[:64] or None,
    )
    with i.session() as session:
        member = i.require_member(session)
        result = registering.register(
            session, actor=member, data=data, outbound=Outbound.of(i.services.settings)
        )
    answer = i.render(
        "signal_registered.json.j2",
        signal=result.card,
        kept_out=[(KIND_LABELS[k], n) for k, n in result.kept_out.items()],
        matches=result.matches,
        announced=bool(i.services.settings.samen_partnership_channel),
    )
    _confirm(i, metadata.r, answer)


def _confirm(i: Interaction, response_url: str | None, answer: Any) -> None:
    """The registration's confirmation: ephemeral where the person started, else in the modal itself."""
    if not is_response_url(response_url, i.services.settings):  # none, or not Slack's: in the modal
        i.update_view(i.render("info_modal.json.j2", title=N_("Signal registered"), blocks=answer["blocks"]))
        return
    i.ack()
    try:
        WebhookClient(str(response_url)).send(
            text=answer["text"], blocks=answer["blocks"], response_type="ephemeral", replace_original=False
        )
    except Exception:  # the signal is registered; the confirmation is best-effort
        logger.warning("could not deliver the registration's confirmation")


# --- weighing -------------------------------------------------------------------------------------


def open_weighing(i: Interaction) -> None:
    signal_id = i.number()
    with i.session() as session:  # the form shows the details: that reading is audited
        member = i.require_member(session)
        shown = weighing.weighing_form(session, actor=member, signal_id=signal_id, purpose=WEIGH_PURPOSE)
        everyone = [(str(p.id), p.name) for p in partners.list_partners(session)]
    i.open(
        "signal_weigh_modal.json.j2",
        signal=shown,
        current={a.step: a for a in shown.assessments},
        metadata=metadata_json(WeighingMetadata(s=signal_id)),
        verdicts=options(i.language, [(v.value, cards.VERDICT_LABELS[v]) for v in cards.Verdict]),
        partners=options(i.language, everyone, translate=False),
        seriousness=options(i.language, [(str(n), str(n)) for n in range(1, 6)], translate=False),
        recencies=options(i.language, [(r.value, cards.RECENCY_LABELS[r]) for r in Recency]),
        outcomes=options(i.language, [(o.value, cards.OUTCOME_LABELS[o]) for o in cards.Outcome]),
        focus_elements=options(i.language, [(f.value, FOCUS_LABELS[f]) for f in FocusElement]),
    )


def submit_weighing(i: Interaction) -> None:
    form = i.form
    signal_id = i.metadata(WeighingMetadata).s
    data = WeighingInput(
        verdict=form.enum("verdict", cards.Verdict),
        verdict_reason=form.text("verdict_reason"),
        task_partner_id=form.number("task_partner"),
        legal_basis=form.text("legal_basis"),
        task_reason=form.text("task_reason"),
        seriousness=form.number("seriousness"),
        recency=form.enum("recency", Recency),
        seriousness_reason=form.text("seriousness_reason"),
        outcome=form.enum("outcome", cards.Outcome),
        outcome_reason=form.text("outcome_reason"),
        case_focus=form.enum("case_focus", FocusElement),
        case_title=form.text("case_title"),
    )
    with i.session() as session:
        member = i.require_member(session)
        result = weighing.weigh(
            session, actor=member, signal_id=signal_id, data=data, outbound=Outbound.of(i.services.settings)
        )
        shown = cards.card(session, result.signal)
    done = i.render(
        "notice.json.j2",
        message=N_("Signal %(number)s: %(status)s.")
        if result.steps or result.duplicate
        else N_("Nothing was changed: it was already like this."),
        values={"number": shown.id, "status": t(i.language, shown.status_label)},
    )
    i.update_view(i.render("info_modal.json.j2", title=N_("Signal weighed"), blocks=done["blocks"]))


# --- sharing --------------------------------------------------------------------------------------


def grant_access(i: Interaction) -> None:
    signal_text, _, partner_text = i.value.partition(":")
    signal_id, partner_id = i.number(signal_text), i.number(partner_text)
    with i.session() as session:
        member = i.require_member(session)
        granted = registering.grant_access(
            session,
            actor=member,
            signal_id=signal_id,
            partner_id=partner_id,
            outbound=Outbound.of(i.services.settings),
        )
        partner = partners.get_partner(session, partner_id=partner_id).name
    message = (
        N_("%(partner)s can now see the details of signal %(number)s; they have been told.")
        if granted
        else N_("%(partner)s could already see the details of signal %(number)s.")
    )
    i.reply("notice.json.j2", message=message, values={"partner": partner, "number": signal_id})


# --- looking up -----------------------------------------------------------------------------------


def show_signals(i: Interaction) -> None:
    term = " ".join(i.args.split())
    number = term.lstrip("#")
    if number.isascii() and number.isdecimal() and len(number) < 10:
        with i.session() as session:  # one signal's details: the reading is audited, so this writes
            member = i.require_member(session)
            shown = cards.detail(session, actor=member, signal_id=int(number), purpose=LOOKUP_PURPOSE)
        i.ack_ephemeral("signal_detail.json.j2", signal=shown)
        return
    with i.session(read_only=True) as session:
        member = i.require_member(session)
        found = cards.search(session, actor=member, term=term)
    i.ack_ephemeral("signal_list.json.j2", signals=found, term=term)


def show_subject(i: Interaction) -> None:
    code = i.args.strip()
    if not code:
        i.ack_ephemeral(
            "notice.json.j2",
            message=N_("Name the subject's code, e.g. `/samen subject S-2026-0042`."),
            values={},
        )
        return
    with i.session() as session:  # the identity, where it may be seen, is an audited reading
        member = i.require_member(session)
        shown = subject_view(session, actor=member, code=code, purpose=SUBJECT_PURPOSE)
    i.ack_ephemeral("signal_subject.json.j2", view=shown)


def home_section(i: Interaction) -> list[dict[str, Any]]:
    with i.session(read_only=True) as session:
        member = partners.find_member(session, team_id=i.actor.team_id, user_id=i.actor.user_id)
        if member is None:
            return []
        overview = cards.home_overview(session, actor=member)
        open_cases = cases.home_cases(session, actor=member)
    rendered = i.render("signal_home.json.j2", overview=overview, cases=open_cases)
    return list(rendered["blocks"])


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
