"""`/samen doelen`: the partners' goals per focus element and how far they are; `/samen doelen nieuw`
adds one with a form."""

from __future__ import annotations

import re

from slack_bolt import App

from bot.i18n import N_
from bot.interventions import goals as goal_service
from bot.partners import service as partners
from bot.problems import Problem
from bot.slack.interaction import Interaction, listener
from bot.slack.registry import Registry, Subcommand
from bot.vocabulary import FOCUS_LABELS, INSTRUMENT_TYPE_LABELS, FocusElement, InstrumentType
from commands.intervention_cards import answering
from commands.intervention_forms import label_options

NEW = ("nieuw", "new", "toevoegen", "add")


def register(app: App, registry: Registry) -> None:
    registry.add_subcommand(
        Subcommand(
            name="doelen",
            aliases=("goals",),
            usage="[nieuw]",
            summary=N_("The partners' goals per focus element and how far they are; add one."),
            handler=handle_goals,
        )
    )
    app.view("goal_new")(listener(answering(submit_goal, default_field="partner")))


def handle_goals(i: Interaction) -> None:
    verb = i.args.strip().lower()
    if verb in NEW:
        with i.session(read_only=True) as session:
            actor = i.require_member(session)
            view = i.render(
                "goal_modal.json.j2",
                partners=[{"id": p.id, "name": p.name} for p in partners.list_partners(session)],
                focus_elements=label_options(FOCUS_LABELS),
                instrument_types=label_options(INSTRUMENT_TYPE_LABELS),
                partner_id=actor.partner_id,
            )
        i.open(view)
        return
    if verb:
        raise Problem(N_("Write `/samen doelen` to see the goals, or `/samen doelen nieuw` to add one."))
    with i.session(read_only=True) as session:
        goals = [
            {
                "partner": item.partner,
                "focus": FOCUS_LABELS[item.goal.focus_element],
                "instrument_type": INSTRUMENT_TYPE_LABELS[item.goal.instrument_type]
                if item.goal.instrument_type
                else None,
                "description": item.goal.description,
                "target": item.goal.target,
                "done": item.done,
                "percent": item.percent,
            }
            for item in goal_service.progress(session, limit=goal_service.PAGE)
        ]
        # Counted only when the page is full: a shorter page is every goal of the year.
        total = goal_service.count_goals(session) if len(goals) == goal_service.PAGE else len(goals)
    i.ack_ephemeral(
        "goal_list.json.j2",
        goals=goals,
        page=goal_service.PAGE,
        unlisted=total - len(goals),
        year=i.services.clock.now().year,
    )


def submit_goal(i: Interaction) -> None:
    form = i.form
    target = form.text("target") or ""
    if not re.fullmatch(r"\d{1,5}", target):
        raise Problem(N_("Write the target as a whole number, e.g. 10."), field="target")
    with i.session() as session:
        goal_service.add_goal(
            session,
            actor=i.require_member(session),
            partner_id=form.number("partner") or 0,
            focus_element=form.enum("focus", FocusElement) or FocusElement.OPROLLEN,
            description=form.text("description") or "",
            target=int(target),
            instrument_type=form.enum("instrument_type", InstrumentType),
            submission_key=i.view.get("id"),
        )
    i.update_view(i.render("intervention_saved.json.j2", iv=None, kind="goal", changed=True))
