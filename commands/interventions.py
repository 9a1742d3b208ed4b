"""`/samen interventie`, `/samen mijn` and the interventions' App Home section; the registration of the
interventions' buttons (commands/intervention_buttons.py) and forms (commands/intervention_forms.py).

Parse → call bot.interventions → render. Who may do what, capacity, the second round and the chains are
decided in the domain; these modules only read what was typed or clicked and show answers.
"""

from __future__ import annotations

import re
from typing import Any, Final

from slack_bolt import App
from sqlmodel import Session

from bot.i18n import N_
from bot.interventions import messages, planning, reading, rules, timing
from bot.interventions.dates import parse_window
from bot.partners import service as partners
from bot.problems import Problem
from bot.slack.interaction import Interaction, listener, metadata_json
from bot.slack.registry import HomeSection, Registry, Subcommand
from commands import goals, lessons
from commands import intervention_buttons as buttons
from commands.intervention_cards import answering, card_context, code_number, list_item
from commands.intervention_forms import open_form, submit_confirm, submit_new

INTERVENTION: Final = re.compile(r"^i-?(\d{1,9})$", re.IGNORECASE)
CASE: Final = re.compile(r"^(?:casus\s+|case\s+|c-?|#)?(\d{1,9})$", re.IGNORECASE)
USAGE: Final = N_(
    "Write it like this: `/samen interventie` or `/samen interventie <case number>` for a new one; "
    "`/samen interventie I-7` to see one; `/samen interventie I-7 na I-5` to let it wait for another; "
    "`/samen interventie I-7 wanneer dinsdag 08:15-08:45` to give it a time window; "
    "`/samen interventie I-7 koppel 12` to attach it to case 12."
)
NOTHING: Final = ("-", "geen", "none", "niets", "nothing")
# Two blocks each: ten of each list keep `/samen mijn` and the Home section inside Slack's 50 blocks.
PAGE: Final = 10


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
            handler=answering(handle_intervention),
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
    lessons.register(app, registry)
    goals.register(app, registry)
    registry.add_home_section(HomeSection(name="interventions", order=30, render=home_section))

    app.view("intervention_new")(listener(answering(submit_new, default_field="instrument")))
    app.view("intervention_confirm")(listener(answering(submit_confirm)))
    app.view("intervention_finish")(listener(answering(buttons.submit_finish, default_field="result")))
    app.view("intervention_reason")(listener(answering(buttons.submit_reason, default_field="reason")))
    app.view("intervention_handover")(listener(answering(buttons.submit_handover, default_field="owner")))
    app.action(re.compile(f"^{buttons.STEP_ACTION}"))(listener(answering(buttons.click_step)))
    app.action("intervention_done")(listener(answering(buttons.click_done)))
    app.action(re.compile(r"^intervention_snooze_(day|week)$"))(listener(answering(buttons.click_snooze)))
    app.action("intervention_handover")(listener(answering(buttons.click_handover)))
    app.action("intervention_override")(listener(answering(buttons.click_override)))
    app.action("intervention_plan_round2")(listener(answering(buttons.click_plan_round2)))
    app.action("intervention_window_confirm")(listener(answering(buttons.click_window_confirm)))
    app.action("intervention_join")(listener(answering(buttons.click_join)))


# --- /samen interventie --------------------------------------------------------------------------------


def handle_intervention(i: Interaction) -> None:
    words = i.args.split()
    found_case = CASE.match(i.args.strip())
    if not words or found_case:
        open_form(i, case_id=int(found_case.group(1)) if found_case else None)
        return
    found = INTERVENTION.match(words[0])
    if found is None:
        raise Problem(USAGE)
    number = int(found.group(1))
    if len(words) == 1:
        show_card(i, number)
        return
    verb, rest = words[1].lower(), " ".join(words[2:])
    if verb in ("na", "after"):
        set_after(i, number, rest)
    elif verb in ("wanneer", "when", "venster", "window"):
        propose_window(i, number, rest)
    elif verb in ("koppel", "attach", "casus", "case"):
        attach_to_case(i, number, rest)
    else:
        raise Problem(USAGE)


def show_card(i: Interaction, number: int) -> None:
    with i.session() as session:
        actor = i.require_member(session)
        intervention = reading.get(session, intervention_id=number)
        reading.check_may_see(session, actor=actor, intervention=intervention)
        context = card_context(session, actor, intervention)  # a restricted result's read is logged
    i.ack_ephemeral("intervention_card.json.j2", **context)


def set_after(i: Interaction, number: int, rest: str) -> None:
    """`/samen interventie I-7 na I-5`: I-7 starts when I-5 is carried out (`na -`: no longer waits)."""
    cleared = rest.strip().lower() in NOTHING
    target = None if cleared else code_number(rest)
    if target is None and not cleared:
        raise Problem(USAGE)
    with i.session() as session:
        outcome = timing.set_dependency(
            session,
            actor=i.require_member(session),
            intervention_id=number,
            depends_on_id=target,
            settings=i.services.settings,
        )
        iv = messages.summary(session, outcome.intervention, for_channel=False)
    i.ack_ephemeral(
        "intervention_done.json.j2",
        kind="after_set" if target else "after_cleared",
        iv=iv,
        changed=outcome.changed,
        after=f"I-{target}" if target else None,
        window=None,
    )


def attach_to_case(i: Interaction, number: int, rest: str) -> None:
    """`/samen interventie I-12 koppel 7`: an independent intervention joins a case's work."""
    found = CASE.match(rest.strip())
    if found is None:
        raise Problem(USAGE)
    with i.session() as session:
        actor = i.require_member(session)
        outcome = planning.attach(
            session,
            actor=actor,
            intervention_id=number,
            case_id=int(found.group(1)),
            settings=i.services.settings,
        )
        context = card_context(session, actor, outcome.intervention)
    i.ack_ephemeral("intervention_card.json.j2", **context, changed=outcome.changed)


def propose_window(i: Interaction, number: int, text: str) -> None:
    """Read the window and show it back, resolved, with a button to confirm it."""
    window = parse_window(text, now=i.services.clock.now(), zone=i.services.settings.timezone)
    with i.session(read_only=True) as session:
        actor = i.require_member(session)
        intervention = reading.get(session, intervention_id=number)
        rules.check_may_update(session, actor=actor, intervention=intervention)
        iv = messages.summary(session, intervention, for_channel=False)
    end = window.end.isoformat() if window.end else None
    i.ack_ephemeral(
        "intervention_done.json.j2",
        kind="window_proposed",
        iv=iv,
        changed=True,
        after=None,
        window={
            "start": window.start.isoformat(),
            "end": end,
            "has_time": window.has_time,
            "value": metadata_json(
                {"id": number, "s": window.start.isoformat(), "e": end, "t": window.has_time}
            ),
        },
    )


# --- /samen mijn and the App Home ----------------------------------------------------------------------


def show_mine(i: Interaction) -> None:
    with i.session(read_only=True) as session:
        work = reading.my_work(session, actor=i.require_member(session), limit=PAGE)
        mine, others = _shown(session, work)
    i.ack_ephemeral(
        "intervention_list.json.j2", mine=mine, partner=others, partner_name=work.partner_name or ""
    )


def home_section(i: Interaction) -> list[dict[str, Any]]:
    with i.session(read_only=True) as session:
        member = partners.find_member(session, team_id=i.actor.team_id, user_id=i.actor.user_id)
        if member is None:
            return []
        work = reading.my_work(session, actor=member, limit=PAGE)
        mine, others = _shown(session, work)
    rendered = i.render(
        "intervention_home.json.j2", mine=mine, partner=others, partner_name=work.partner_name or ""
    )
    return list(rendered["blocks"])


def _shown(session: Session, work: reading.MyWork) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each list's page, their partners and cases read once for both (a bounded page)."""
    mine, partner = work.mine[:PAGE], work.partner[:PAGE]
    related = reading.related(session, [*mine, *partner])
    return (
        [list_item(session, iv, related) for iv in mine],
        [list_item(session, iv, related) for iv in partner],
    )
