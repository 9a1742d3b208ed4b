"""The App Home tab: a greeting, what Samen can do, and (as features arrive) the person's own lists."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.i18n import language_for
from bot.people import remember_profile
from bot.runtime import Services
from bot.slack.interaction import Actor, Interaction, listener
from bot.slack.registry import HomeSection, Registry

logger = logging.getLogger(__name__)


def register(app: App, registry: Registry) -> None:
    registry.add_home_section(HomeSection(name="commands", order=90, render=_commands_section))
    app.event("app_home_opened")(listener(app_home_opened))


def app_home_opened(i: Interaction) -> None:
    event = i.body.get("event") or {}
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    actor = Actor(team_id=i.context.team_id or "", user_id=str(event["user"]))
    language = _learn_language(i.services, i.client, actor) or i.language
    publish_home(i.client, i.for_home(actor, language))


def publish_home(client: WebClient, i: Interaction) -> None:
    blocks: list[dict[str, Any]] = []
    for section in i.registry.home_sections:
        blocks.extend(section.render(i))
    view = i.render("home.json.j2", actor=i.actor, sections=blocks)
    client.views_publish(user_id=i.actor.user_id, view=view)


def _commands_section(i: Interaction) -> list[dict[str, Any]]:
    section = i.render("home_commands.json.j2", commands=i.registry.help_entries())
    return list(section["blocks"])


def _learn_language(services: Services, client: WebClient, actor: Actor) -> str | None:
    """Ask Slack for the person's locale once per Home visit and remember it for their commands."""
    try:
        user = client.users_info(user=actor.user_id, include_locale=True)["user"]
    except SlackApiError as exc:
        logger.warning("users.info failed for the App Home: %s", exc.response.get("error"))
        return None
    with services.session() as session:
        remember_profile(
            session,
            team_id=actor.team_id,
            user_id=actor.user_id,
            locale=user.get("locale"),
            tz=user.get("tz"),
        )
    services.locales.put(actor.team_id, actor.user_id, user.get("locale"))
    return language_for(user.get("locale"), services.settings.samen_language)
