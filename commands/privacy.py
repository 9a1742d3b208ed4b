"""`/samen privacy`: how Samen protects what the partners share, how long it keeps it, and how to ask what
is stored about someone; for coordinators and admins also what the next nightly run deletes. A line of
it in the App Home.

The listener parses and answers; what may be shown is decided in bot.privacy.overview (with bot.authz).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot import clock
from bot.i18n import N_
from bot.partners.service import find_member
from bot.privacy import overview
from bot.privacy.overview import PrivacyOverview
from bot.problems import Problem
from bot.slack.interaction import Interaction
from bot.slack.registry import HomeSection, Registry, Subcommand

NO_WORDS = N_("`/samen privacy` takes no further words: type just `/samen privacy`.")


def register(app: App, registry: Registry) -> None:
    registry.add_subcommand(
        Subcommand(
            name="privacy",
            aliases=("bewaartermijnen", "retention"),
            usage="",
            summary=N_(
                "How Samen protects what you share: what is encrypted, how long it is kept, and how to ask "
                "what is stored about someone."
            ),
            handler=show_privacy,
        )
    )
    registry.add_home_section(HomeSection(name="privacy", order=90, render=home_section))


def show_privacy(i: Interaction) -> None:
    if i.args:
        raise Problem(NO_WORDS)
    with i.session(read_only=True) as session:
        shown = overview.overview(
            session, actor=i.member, settings=i.services.settings, now=clock.now(session)
        )
    i.reply("privacy_overview.json.j2", **context_of(shown))


def home_section(i: Interaction) -> list[dict[str, Any]]:
    with i.session(read_only=True) as session:
        member = find_member(session, team_id=i.actor.team_id, user_id=i.actor.user_id)
        if member is None:
            return []
        settings, now = i.services.settings, clock.now(session)
        shown = overview.overview(session, actor=member, settings=settings, now=now)
    return list(i.render("privacy_home.json.j2", **context_of(shown))["blocks"])


def context_of(shown: PrivacyOverview) -> dict[str, Any]:
    return {
        "periods": [{"label": p.label, "days": p.days, "due": p.due} for p in shown.periods],
        "may_see_due": shown.may_see_due,
        "due": shown.due,
        "kept": shown.kept,
    }
