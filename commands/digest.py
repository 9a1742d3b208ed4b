"""`/samen overzicht [periode]`: the digest for the asking person alone; a line about it in the App Home.

The listener parses and answers; what the person may see is decided in bot.digest (with bot.authz).
The text is the ephemeral answer; the charts follow in the person's DM through the outbox.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.authz import NotAllowed
from bot.clock import utcnow
from bot.digest import service
from bot.digest.timing import DAY_NAMES, PeriodError, parse_digest_at, parse_period
from bot.i18n import N_
from bot.slack.registry import HomeSection, Registry, Subcommand
from bot.slack.requests import CommandRequest, HomeRequest


def register(app: App, registry: Registry) -> None:
    registry.add_subcommand(
        Subcommand(
            name="overzicht",
            aliases=("overview", "digest"),
            usage="[week | 4w | maand | 2026-W10 | 2026-03-01..2026-03-31]",
            summary=N_(
                "The digest for you alone: signals, cases, interventions, successes, lessons, backup "
                "alerts and goals over a period, with charts."
            ),
            handler=show_overview,
        )
    )
    registry.add_home_section(HomeSection(name="digest", order=70, render=home_section))


def show_overview(request: CommandRequest) -> None:
    settings = request.services.settings
    now = utcnow()
    try:
        period = parse_period(request.args, now=now, zone=settings.timezone)
    except PeriodError as problem:
        request.ack_ephemeral("digest_problem.json.j2", message=problem.message, values=problem.values)
        return
    try:
        with request.services.session(read_only=True) as session:
            found = service.overview(session, actor=request.member, period=period)
    except NotAllowed as refused:
        request.ack_ephemeral("digest_problem.json.j2", message=refused.message, values=refused.values)
        return
    # The text inside Slack's 3 seconds; drawing the charts may take longer, so it comes after the ack.
    request.ack_ephemeral(
        "digest_message.json.j2",
        **service.message_context(found, for_channel=False, charts=found.chart_count),
    )
    if found.chart_count:
        with request.services.session() as session:
            service.send_charts(session, found, actor=request.member, language=request.language, now=now)


def home_section(request: HomeRequest) -> list[dict[str, Any]]:
    at = parse_digest_at(request.services.settings.samen_digest_at)
    rendered = request.render(
        "digest_home.json.j2", day=DAY_NAMES[at.weekday], time=at.clock.strftime("%H:%M")
    )
    return list(rendered["blocks"])
