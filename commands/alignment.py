"""Ad-hoc alignment in Slack: `/samen afstemmen <subject-code> [onderwerp]` and the match notice's button.

The partners that have something on the subject are asked privately (bot/checkins/alignment.py); the
invitation's join and decline buttons, starting the group conversation, its time slots, its agreements,
and "make it an intervention" (the interventions' own form, filled in) are answered here.

Each listener parses what arrived, calls bot.checkins in one transaction, and answers once it committed;
a refusal is a Problem the Interaction shows. The one Slack call made here besides answering the person
is `conversations.open`: the group conversation, whose id the domain then records.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from typing import Final

from pydantic import BaseModel
from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.checkins import alignment as alignments
from bot.checkins import alignment_group
from bot.i18n import N_
from bot.partners.models import PersonRef
from bot.slack.interaction import Interaction, Number, listener, metadata_json
from bot.slack.registry import Registry, Subcommand
from commands.checkins import NOTICE, show_done
from commands.intervention_forms import new_intervention_view

logger = logging.getLogger(__name__)

AGREEMENT_VIEW: Final = "alignment_agreement"
USAGE: Final = N_(
    "Write it like this: `/samen afstemmen S-2026-0042 [what it is about]`: the partners that have "
    "something on that subject are asked privately whether they join."
)


class AgreementMetadata(BaseModel):
    """The agreement form's private_metadata: which alignment it records an agreement for."""

    a: Number


def register(app: App, registry: Registry) -> None:
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
    app.view(AGREEMENT_VIEW)(listener(submit_agreement))
    # The match notice's button (templates/signal_match.json.j2): an ad-hoc alignment on its subject.
    app.action("alignment_request")(listener(click_alignment_request))
    app.action("alignment_join")(listener(click_join))
    app.action("alignment_decline")(listener(click_decline))
    app.action("alignment_start")(listener(click_start))
    app.action("alignment_slot")(listener(click_slot))
    app.action("alignment_agree")(listener(open_agreement))
    app.action("alignment_to_intervention")(listener(click_to_intervention))


# --- calling it ---------------------------------------------------------------------------------------------


def handle_alignment(i: Interaction) -> None:
    code, _, topic = i.args.strip().partition(" ")
    if not code:
        i.reply(NOTICE, message=N_("Name the subject’s code."), values={}, usage=USAGE)
        return
    _call(i, code, topic)


def click_alignment_request(i: Interaction) -> None:
    _call(i, i.value[:20], None)


def _call(i: Interaction, code: str, topic: str | None) -> None:
    with i.session() as session:
        called = alignments.call(
            session,
            actor=i.require_member(session),
            code=code,
            topic=topic,
            settings=i.services.settings,
            language=i.language,
        )
    if called.created:
        message = N_(
            "The partners that have something on %(code)s are asked privately whether they join. "
            "You will hear who joins; then the group conversation opens."
        )
    else:
        message = N_("Your partner already called an alignment on %(code)s today; those asked are answering.")
    i.reply(NOTICE, message=message, values={"code": called.code})


# --- joining ------------------------------------------------------------------------------------------------


def click_join(i: Interaction) -> None:
    _answer_invite(i, join=True)


def click_decline(i: Interaction) -> None:
    _answer_invite(i, join=False)


def _answer_invite(i: Interaction, *, join: bool) -> None:
    alignment_id = i.number()
    with i.session() as session:
        outcome = alignments.answer_invite(
            session,
            actor=i.require_member(session),
            alignment_id=alignment_id,
            join=join,
            settings=i.services.settings,
        )
    # The answer is committed: acknowledge before Slack is asked to open the group conversation.
    i.ack()
    opened = _open_group(i, alignment_id, outcome.group) if outcome.group else None
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
    i.reply(NOTICE, message=message, values={"code": outcome.code, "partner": outcome.partner})


def click_start(i: Interaction) -> None:
    alignment_id = i.number()
    with i.session(read_only=True) as session:
        people = alignments.group_of(session, actor=i.require_member(session), alignment_id=alignment_id)
    i.ack()  # nothing changed yet; opening the group asks Slack first, then records it
    if _open_group(i, alignment_id, people):
        message = N_("The group conversation is open.")
    else:
        message = N_("The group conversation could not be opened just now. Try again in a moment.")
    i.reply(NOTICE, message=message, values={})


def _open_group(i: Interaction, alignment_id: int, people: Iterable[PersonRef]) -> bool:
    """Open (or find) the group conversation of these people with Samen, and let the domain record it."""
    try:
        opened = i.client.conversations_open(users=",".join(p.user_id for p in people))
    except SlackApiError as exc:
        logger.warning("conversations.open for an alignment failed: %s", exc.response.get("error"))
        return False
    conversation = str((opened.get("channel") or {}).get("id") or "")
    if not conversation:
        return False
    with i.session() as session:
        alignment_group.started(
            session,
            actor=i.require_member(session),
            alignment_id=alignment_id,
            conversation_id=conversation,
            settings=i.services.settings,
        )
    return True


# --- in the group -------------------------------------------------------------------------------------------


def click_slot(i: Interaction) -> None:
    """A time slot suits me (or no longer): committed before Slack hears the acknowledgement, so whoever
    looks next sees it; the group's message is edited through the outbox."""
    alignment_text, _, slot_text = i.value.partition(":")
    alignment_id, slot = i.number(alignment_text), i.number(slot_text)
    with i.session() as session:
        alignment_group.vote(
            session,
            actor=i.require_member(session),
            alignment_id=alignment_id,
            slot=slot,
            settings=i.services.settings,
        )


def open_agreement(i: Interaction) -> None:
    alignment_id = i.number()
    with i.session(read_only=True) as session:
        member = i.require_member(session)
        alignments.check_takes_part(session, actor=member, alignment_id=alignment_id)
    metadata = metadata_json(AgreementMetadata(a=alignment_id))
    i.open("alignment_agreement_modal.json.j2", owner=member.user_id, metadata=metadata)


def submit_agreement(i: Interaction) -> None:
    alignment_id = i.metadata(AgreementMetadata).a
    form = i.form
    owner = form.choice("who") or i.actor.user_id
    try:
        due = date.fromisoformat(form.choice("when") or "")
    except ValueError:
        due = None
    data = alignment_group.AgreementInput(
        what=form.text("what") or "",
        owner=PersonRef(i.actor.team_id, owner),
        due_on=due,
        submission_key=str(i.view.get("id") or "")[:64] or None,
    )
    with i.session() as session:
        _agreement, created = alignment_group.record_agreement(
            session,
            actor=i.require_member(session),
            alignment_id=alignment_id,
            data=data,
            settings=i.services.settings,
        )
    if created:
        message = N_("Recorded: it is on the alignment’s message, with a button to make it an intervention.")
    else:
        message = N_("Nothing changed: this agreement was already recorded.")
    show_done(i, N_("Agreement"), message)


def click_to_intervention(i: Interaction) -> None:
    """One click from an agreement to the interventions' own form (issue 5), filled in: the case on the
    subject, what will be done, the owner and their partner, and the date as its window."""
    agreement_id = i.number()
    with i.session(read_only=True) as session:
        actor = i.require_member(session)
        found = alignment_group.agreement_to_intervention(session, actor=actor, agreement_id=agreement_id)
        view = new_intervention_view(
            session,
            i,
            actor,
            case_id=found.case_id,
            what=found.agreement.what,
            owner_user_id=found.agreement.owner_user_id,
            owner_partner_id=found.owner_partner_id,
            day=found.agreement.due_on,
        )
    i.open(view)
