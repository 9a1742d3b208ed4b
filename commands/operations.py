"""`/samen status`: how Samen runs, for coordinators and admins; a line of it in their App Home.

The listener parses and answers; who may see it is decided in bot.operations.service (with bot.authz).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.i18n import N_
from bot.operations import service
from bot.operations.service import OperationsStatus
from bot.partners.service import find_member
from bot.problems import Problem
from bot.slack.interaction import Interaction
from bot.slack.registry import HomeSection, Registry, Subcommand

NO_WORDS = N_("`/samen status` takes no further words: type just `/samen status`.")


def register(app: App, registry: Registry) -> None:
    registry.add_subcommand(
        Subcommand(
            name="status",
            aliases=("beheer",),
            usage="",
            summary=N_(
                "How Samen runs: messages waiting or failed, the database, the workspaces "
                "(coordinators and admins)."
            ),
            handler=show_status,
        )
    )
    registry.add_home_section(HomeSection(name="operations", order=80, render=home_section))


def show_status(i: Interaction) -> None:
    if i.args:
        raise Problem(NO_WORDS)
    with i.session() as session:
        current = service.status(session, actor=i.member, settings=i.services.settings)
    i.reply("operations_status.json.j2", **context_of(current))


def home_section(i: Interaction) -> list[dict[str, Any]]:
    with i.session(read_only=True) as session:
        member = find_member(session, team_id=i.actor.team_id, user_id=i.actor.user_id)
        if member is None:
            return []
        current = service.status_for_home(session, actor=member, settings=i.services.settings)
    if current is None:
        return []
    return list(i.render("operations_home.json.j2", **context_of(current))["blocks"])


def context_of(current: OperationsStatus) -> dict[str, Any]:
    return {
        "healthy": current.healthy,
        "behind": current.behind,
        "version": current.version,
        "socket_mode": current.socket_mode,
        "several_workspaces": current.several_workspaces,
        "sms_on": current.sms_on,
        "email_on": current.email_on,
        "database_reachable": current.database_reachable,
        "database_current": current.database_current,
        "revision": current.revision,
        "due": current.outbox.due,
        "failed": current.failed,
        "oldest_seconds": current.outbox.oldest_due_age_seconds,
        "failures": current.top_failures,
        "workspaces": [
            {"name": w.team_name or w.team_id, "team_id": w.team_id, "home": w.home}
            for w in current.workspaces
        ],
    }
