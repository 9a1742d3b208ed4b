"""`/samen lessen`: search the lessons learnt from finished interventions (shared with every partner)."""

from __future__ import annotations

from slack_bolt import App

from bot.i18n import N_
from bot.interventions import lessons as lesson_service
from bot.partners import service as partners
from bot.slack.interaction import Interaction
from bot.slack.registry import Registry, Subcommand
from bot.vocabulary import FOCUS_LABELS, INSTRUMENT_TYPE_LABELS


def register(app: App, registry: Registry) -> None:
    registry.add_subcommand(
        Subcommand(
            name="lessen",
            aliases=("lessons", "leerpunten"),
            usage="[zoekterm]",
            summary=N_("Search the lessons learnt from finished interventions."),
            handler=show_lessons,
        )
    )


def show_lessons(i: Interaction) -> None:
    term = i.args.strip() or None
    with i.session(read_only=True) as session:
        found = lesson_service.search(session, term=term)
        names = {p.id: p.name for p in partners.list_partners(session)}
        lessons = [
            {
                "text": lesson.text,
                "code": f"I-{lesson.intervention_id}",
                "partner": names.get(lesson.partner_id, "?"),
                "focus": FOCUS_LABELS[lesson.focus_element],
                "instrument_type": INSTRUMENT_TYPE_LABELS[lesson.instrument_type],
                "at": lesson.created_at.isoformat(),
            }
            for lesson in found
        ]
    i.ack_ephemeral("lesson_list.json.j2", lessons=lessons, term=term)
