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
from bot.digest.timing import DAY_NAMES, Period, PeriodError, parse_period
from bot.i18n import N_
from bot.slack.deferred import AnswerFirst, Reply
from bot.slack.registry import HomeSection, Registry, Subcommand
from bot.slack.requests import CommandRequest, HomeRequest

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


def show_overview(request: CommandRequest, *, answer_first: AnswerFirst) -> None:
    settings = request.services.settings
    now = request.services.clock.now()
    try:
        period = parse_period(request.args, now=now, zone=settings.timezone)
        authorize(request.member, Action.VIEW_DIGEST)
    except (PeriodError, NotAllowed) as problem:
        request.ack_ephemeral("digest_problem.json.j2", message=problem.message, values=problem.values)
        return
    answer_first.run(request, partial(_overview, request, period, now), what="overview", failed=FAILED)


def _overview(request: CommandRequest, period: Period, now: datetime) -> Reply:
    """The figures (the slow part) and the reply; the charts are drawn and queued after it is shown."""
    try:
        with request.services.session(read_only=True) as session:
            found = service.overview(session, actor=request.member, period=period)
    except NotAllowed as refused:
        return Reply("digest_problem.json.j2", {"message": refused.message, "values": refused.values})

    def send_charts() -> None:
        with request.services.session() as session:
            service.send_charts(session, found, actor=request.member, language=request.language, now=now)

    context = service.message_context(found, for_channel=False, charts=found.chart_count)
    return Reply(
        "digest_message.json.j2",
        context,
        then=send_charts if found.chart_count else None,
        then_failed=CHARTS_FAILED,
    )


def home_section(request: HomeRequest) -> list[dict[str, Any]]:
    at = request.services.settings.samen_digest_at
    rendered = request.render(
        "digest_home.json.j2", day=DAY_NAMES[at.weekday], time=at.clock.strftime("%H:%M")
    )
    return list(rendered["blocks"])
