"""`/samen overzicht [periode]`: the digest for the asking person alone; a line about it in the App Home.

The listener parses and answers; what the person may see is decided in bot.digest (with bot.authz).
The text is the ephemeral answer — at once when the figures are ready within half a second, else "Ik
zoek het op…" replaced by it through the response_url (bot/slack/deferred.py); the charts follow in the
person's DM through the outbox.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any, Final

from slack_bolt import App

from bot.authz import Action, NotAllowed, authorize
from bot.digest import service
from bot.digest.timing import DAY_NAMES, Period, parse_period
from bot.i18n import N_
from bot.problems import shown_values
from bot.slack.deferred import AnswerFirst, Reply
from bot.slack.interaction import Interaction
from bot.slack.registry import HomeSection, Registry, Subcommand

FAILED: Final = N_(
    "Sorry, the overview could not be made. Please try again; if it keeps happening, give reference "
    "%(reference)s to your coordinator."
)
CHARTS_FAILED: Final = N_(
    "Sorry, the charts could not be made. Please try again; if it keeps happening, give reference "
    "%(reference)s to your coordinator."
)


def register(app: App, registry: Registry) -> None:
    # One small pool per app for the overviews: at most two are computed at once in this process,
    # so a run on them never takes the threads or the CPU the other commands answer with.
    answer_first = AnswerFirst(workers=2, waiting=8)
    registry.add_subcommand(
        Subcommand(
            name="overzicht",
            aliases=("overview", "digest"),
            usage="[week | 4w | maand | 2026-W10 | 2026-03-01..2026-03-31]",
            summary=N_(
                "The digest for you alone: signals, cases, interventions, successes, lessons, backup "
                "alerts and goals over a period, with charts."
            ),
            handler=partial(show_overview, answer_first=answer_first),
        )
    )
    registry.add_home_section(HomeSection(name="digest", order=70, render=home_section))


def show_overview(i: Interaction, *, answer_first: AnswerFirst) -> None:
    """A period that cannot be read, or a person who may not see the digest: a problem, shown."""
    now = i.services.clock.now()
    period = parse_period(i.args, now=now, zone=i.services.settings.timezone)
    authorize(i.member, Action.VIEW_DIGEST)
    answer_first.run(i, partial(_overview, i, period, now), what="overview", failed=FAILED)


def _overview(i: Interaction, period: Period, now: datetime) -> Reply:
    """The figures (the slow part) and the reply; the charts are drawn and queued after it is shown."""
    try:
        with i.session(read_only=True) as session:
            found = service.overview(session, actor=i.member, period=period)
    except NotAllowed as refused:
        values = shown_values(refused.values, i.language)
        return Reply("notice.json.j2", {"message": refused.message, "values": values})

    def send_charts() -> None:
        # In the pool's thread, after the answer: not `i.session()`, whose write count the request's own
        # thread reads when it acknowledges.
        with i.services.session() as session:
            service.send_charts(session, found, actor=i.member, language=i.language, now=now)

    context = service.message_context(found, for_channel=False, charts=found.chart_count)
    return Reply(
        "digest_message.json.j2",
        context,
        then=send_charts if found.chart_count else None,
        then_failed=CHARTS_FAILED,
    )


def home_section(i: Interaction) -> list[dict[str, Any]]:
    at = i.services.settings.samen_digest_at
    rendered = i.render("digest_home.json.j2", day=DAY_NAMES[at.weekday], time=at.clock.strftime("%H:%M"))
    return list(rendered["blocks"])
