"""Cases and the work queue in Slack: `/samen casus <nummer>`, `/samen werkvoorraad`, `/samen criteria`;
the case message's "join with …" menu and "Score" button (a modal: one score and one reason per criterion).

Parse → call bot.cases → render. Who may do what is decided there; a problem it raises is shown by the
Interaction (bot/slack/interaction.py), and a change is committed before Slack is answered.
"""

from __future__ import annotations

import re
from typing import Final

from pydantic import BaseModel, Field
from slack_bolt import App

from bot.cases import queue, service
from bot.i18n import N_, t
from bot.partners import service as partners
from bot.problems import Problem
from bot.signals.notices import Outbound
from bot.slack.interaction import Interaction, listener, metadata_json
from bot.slack.registry import Registry, Subcommand
from bot.vocabulary import CONTRIBUTION_LABELS, Contribution
from commands.partner import tokenize

SCORE_VIEW: Final = "case_score"
CASE_PURPOSE: Final = "look-up of a case and the details of its signals (/samen casus)"
USAGE_CRITERIA: Final = N_(
    'Write it like this: `/samen criteria "<name>" <weight 1-10> <scale 1-10>` to add or change one, '
    '`/samen criteria uit "<name>"` to stop using one, `/samen criteria` to list them.'
)
JOINED: Final = {
    service.Change.ADDED: N_("%(partner)s joined case %(number)s: %(contribution)s."),
    service.Change.UPDATED: N_("%(partner)s now brings to case %(number)s: %(contribution)s."),
    service.Change.UNCHANGED: N_("%(partner)s had already joined case %(number)s: %(contribution)s."),
}
_QUOTES = "\"'“”„‘’"
_SCORE_BLOCK = re.compile(r"(?:criterion|reason)_(\d{1,9})")


class ScoreForm(BaseModel):
    """The scoring form's private metadata: which case it scores."""

    c: int = Field(ge=1, lt=10**9)


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
    app.action("case_join")(listener(join_case))
    app.action("case_score")(listener(open_scoring))
    app.view(SCORE_VIEW)(listener(submit_scoring))


def show_case(i: Interaction) -> None:
    number = _number(i.args.strip().lstrip("#"))
    if number is None:
        raise Problem(N_("Name the case's number, e.g. `/samen casus 3`; `/samen werkvoorraad` lists them."))
    # Only a view that shows a signal's details writes (its audit entry): the rest reads without the
    # write lock (docs/ARCHITECTURE.md, Database).
    with i.session(read_only=True) as session:
        audited = service.shows_details(session, actor=i.require_member(session), case_id=number)
        if not audited:
            shown = service.case_view(session, actor=i.member, case_id=number, purpose=CASE_PURPOSE)
    if audited:
        with i.session() as session:
            shown = service.case_view(
                session, actor=i.require_member(session), case_id=number, purpose=CASE_PURPOSE
            )
    i.reply("case_detail.json.j2", view=shown, contributions=service.contribution_options(number))


def show_queue(i: Interaction) -> None:
    with i.session(read_only=True) as session:
        i.require_member(session)
        entries, count = queue.work_queue(session)
        criteria = queue.criteria(session)
    i.reply("case_queue.json.j2", entries=entries, count=count, criteria=criteria)


def handle_criteria(i: Interaction) -> None:
    words = [w.strip(_QUOTES) if len(w) >= 2 and w[0] in _QUOTES else w for w in tokenize(i.args)]
    try:
        if not words:
            with i.session(read_only=True) as session:
                i.require_member(session)
                listed = queue.criteria(session)
            i.reply("case_criteria.json.j2", criteria=listed, changed=None, usage=USAGE_CRITERIA)
        elif words[0].lower() in ("uit", "off", "retire") and len(words) > 1:
            name = " ".join(words[1:])
            with i.session() as session:
                retired = service.retire_criterion(session, actor=i.require_member(session), name=name)
            message = (
                N_("“%(name)s” no longer counts in the work queue; its scores are kept.")
                if retired
                else N_("“%(name)s” was already not in use.")
            )
            i.reply("notice.json.j2", message=message, values={"name": name})
        else:
            if len(words) < 3 or not all(re.fullmatch(r"\d{1,3}", w) for w in words[-2:]):
                raise Problem(N_("Name the criterion, its weight and its scale."))
            with i.session() as session:
                criterion, change = service.set_criterion(
                    session,
                    actor=i.require_member(session),
                    name=" ".join(words[:-2]),
                    weight=int(words[-2]),
                    scale_max=int(words[-1]),
                )
                listed = queue.criteria(session)
                changed = {"name": criterion.name, "change": change.value}
            i.reply("case_criteria.json.j2", criteria=listed, changed=changed, usage=None)
    except Problem as problem:
        i.show(problem, usage=USAGE_CRITERIA)


def join_case(i: Interaction) -> None:
    """The case message's menu: "join with: a player in position | strike power | information"."""
    case_text, _, contribution_text = i.value.partition(":")
    case_id = _number(case_text)
    contribution = next((c for c in Contribution if c.value == contribution_text), None)
    with i.session() as session:
        member = i.require_member(session)
        if case_id is None or contribution is None:
            raise service.NotFound(N_("There is no case with number %(number)s."), number="?")
        change = service.join(
            session,
            actor=member,
            case_id=case_id,
            contribution=contribution,
            outbound=Outbound.of(i.services.settings),
        )
        partner = partners.get_partner(session, partner_id=member.partner_id).name
    contributed = t(i.language, CONTRIBUTION_LABELS[contribution])
    values = {"partner": partner, "number": case_id, "contribution": contributed}
    i.reply("notice.json.j2", message=JOINED[change], values=values)


def open_scoring(i: Interaction) -> None:
    with i.session(read_only=True) as session:
        member = i.require_member(session)
        case_id = _number(i.value)
        if case_id is None:
            raise service.NotFound(N_("There is no case with number %(number)s."), number="?")
        shown, lines = service.scoring(session, actor=member, case_id=case_id)
    i.open("case_score_modal.json.j2", case=shown, lines=lines, metadata=metadata_json(ScoreForm(c=case_id)))


def submit_scoring(i: Interaction) -> None:
    case_id = i.metadata(ScoreForm).c
    scores: dict[int, tuple[int | None, str | None]] = {}
    for block_id in i.form.values:
        found = _SCORE_BLOCK.fullmatch(block_id)
        if found:
            criterion = int(found.group(1))
            scores[criterion] = (
                _number(i.form.choice(f"criterion_{criterion}")),
                i.form.text(f"reason_{criterion}"),
            )
    with i.session() as session:
        changed = service.score(session, actor=i.require_member(session), case_id=case_id, scores=scores)
        place = queue.queue_place(session, case_id)
    done = i.render(
        "notice.json.j2",
        message=N_("Case %(number)s now ranks %(rank)s in the work queue, with %(total)s of 100.")
        if changed
        else N_("Nothing was changed: it was already like this."),
        values={
            "number": case_id,
            "rank": place[0] if place else "-",
            "total": round(place[1]) if place else 0,
        },
    )
    i.update_view(i.render("info_modal.json.j2", title=N_("Case scores"), blocks=done["blocks"]))


def _number(text: str | None) -> int | None:
    """A number typed or chosen (a case, a score); None for anything else."""
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdecimal() and len(text) < 10 else None
