"""When Slack takes Samen away from a workspace: the `app_uninstalled` and `tokens_revoked` events.

Slack sends `app_uninstalled` when a workspace removes the app, and `tokens_revoked` when tokens are
revoked; its `tokens` lists the *user ids* whose tokens went, by kind (`bot`: the bot user's token;
`oauth`: people's own tokens), never the tokens themselves. Then, in one transaction:

- the workspace's installation is forgotten (several workspaces: its rows in slack_bots and
  slack_installations — all of them when uninstalled, only the revoked ones' when tokens are revoked),
  so that no token of a removed workspace stays stored;
- its waiting outbox messages are marked failed with the reason, instead of being retried for 24 hours
  with a token that will never work again;
- the audit log records it;
- the coordinators (outside that workspace: those in it can no longer be reached) get a direct message.

With one bot token (`SLACK_BOT_TOKEN`) the token *is* the installation: Samen can send nothing any more.
Every waiting message fails with the reason, this process's /readyz says "not ready" and one error line
tells the operator to reinstall the app and set the new token. Nobody can be told in Slack.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from bot import audit, clock
from bot.authz import SystemActor
from bot.i18n import language_for
from bot.outbox import send_dm
from bot.outbox.models import OutboxMessage, OutboxStatus
from bot.people import Person, get_person
from bot.runtime import Services
from bot.slack.workspaces.tables import BOTS, INSTALLATIONS

logger = logging.getLogger(__name__)

UNINSTALLED: Final = "app_uninstalled"
TOKENS_REVOKED: Final = "tokens_revoked"
SLACK_ACTOR: Final = SystemActor("slack")  # the audit log's "who": Slack told Samen
NOTICE_REF: Final = "workspace-removed"


@dataclass(frozen=True)
class Removal:
    """What Slack took away from one workspace."""

    team_id: str
    reason: str  # UNINSTALLED or TOKENS_REVOKED
    bot: bool  # the bot's token is gone: Samen can no longer post there
    users: tuple[str, ...] = ()  # people whose own tokens were revoked

    @property
    def changes_anything(self) -> bool:
        return self.bot or bool(self.users)


def removal_from(event: Mapping[str, Any], team_id: str) -> Removal:
    """The Removal an `app_uninstalled` or `tokens_revoked` event describes."""
    if event.get("type") == UNINSTALLED:
        return Removal(team_id=team_id, reason=UNINSTALLED, bot=True)
    given = event.get("tokens")
    tokens: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    users = tuple(str(user) for user in (tokens.get("oauth") or []) if isinstance(user, str))
    return Removal(team_id=team_id, reason=TOKENS_REVOKED, bot=bool(tokens.get("bot")), users=users)


@dataclass(frozen=True)
class Outcome:
    workspace_name: str | None
    installations_forgotten: int
    messages_failed: int
    coordinators_told: int


def handle_removal(services: Services, removal: Removal) -> Outcome:
    """Apply a removal (see the module docstring); one transaction."""
    if not removal.changes_anything:
        return Outcome(None, 0, 0, 0)
    if not services.settings.oauth:
        return _single_workspace_removal(services, removal)
    with services.session() as session:
        name = _workspace_name(session, services, removal.team_id)
        forgotten = _forget_installation(session, services, removal)
        failed = (
            fail_waiting_messages(session, team_id=removal.team_id, reason=removal.reason)
            if removal.bot
            else 0
        )
        _audit(session, removal, forgotten=forgotten, failed=failed)
        told = (
            _tell_coordinators(session, services, removal, name, failed) if removal.bot and forgotten else 0
        )
    logger.warning(
        "Slack reported %s for workspace %s: %d installation rows forgotten, %d waiting messages failed",
        removal.reason,
        removal.team_id,
        forgotten,
        failed,
    )
    return Outcome(name, forgotten, failed, told)


def _single_workspace_removal(services: Services, removal: Removal) -> Outcome:
    home = services.settings.samen_home_team
    if not removal.bot or (home and removal.team_id != home):
        # People's own tokens (Samen keeps none), or another workspace than the token's: nothing of ours.
        return Outcome(None, 0, 0, 0)
    with services.session() as session:
        failed = fail_waiting_messages(session, team_id=None, reason=removal.reason)
        _audit(session, removal, forgotten=0, failed=failed)
    services.slack.refused = removal.reason
    logger.error(
        "Slack reported %s: SLACK_BOT_TOKEN no longer works, %d waiting messages failed; reinstall the Slack "
        "app, set its new Bot User OAuth Token in SLACK_BOT_TOKEN and restart Samen (until then /readyz "
        "answers 503)",
        removal.reason,
        failed,
    )
    return Outcome(None, 0, failed, 0)


def fail_waiting_messages(session: Session, *, team_id: str | None, reason: str) -> int:
    """Mark the waiting messages that would be sent with a removed workspace's token as failed with
    `reason`; returns how many. `team_id` None: every waiting message (one bot token, now gone).

    A workspace's messages: those queued for it (`team_id`), and direct messages without a workspace to
    people Samen knows only in that one (the dispatcher would pick its token for them)."""
    waiting = col(OutboxMessage.status) == OutboxStatus.PENDING
    condition: ColumnElement[bool] = waiting
    if team_id is not None:
        condition = and_(
            waiting,
            or_(
                col(OutboxMessage.team_id) == team_id,
                and_(col(OutboxMessage.team_id).is_(None), col(OutboxMessage.lane).in_(_only_in(team_id))),
            ),
        )
    result = session.execute(
        update(OutboxMessage)
        .where(condition)
        .values(status=OutboxStatus.FAILED, last_error=reason, sending_since=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _only_in(team_id: str) -> Any:
    """User ids Samen knows in `team_id` and in no other workspace."""
    from bot.partners.models import Member

    known = (
        select(col(Person.user_id).label("user_id"), col(Person.team_id).label("team_id"))
        .union(select(col(Member.user_id), col(Member.team_id)))
        .subquery()
    )
    return (
        select(known.c.user_id)
        .group_by(known.c.user_id)
        .having(and_(func.max(known.c.team_id) == team_id, func.min(known.c.team_id) == team_id))
    )


def _workspace_name(session: Session, services: Services, team_id: str) -> str | None:
    row = session.execute(
        select(BOTS.c.team_name)
        .where(BOTS.c.client_id == services.settings.slack_client_id, BOTS.c.team_id == team_id)
        .order_by(BOTS.c.installed_at.desc())
        .limit(1)
    ).first()
    return row[0] if row else None


def _forget_installation(session: Session, services: Services, removal: Removal) -> int:
    """Delete the removed tokens' rows from slack_sdk's tables (as its installation store's
    `delete_all` and `delete_installation` would), inside this transaction. The bot's token gone
    (uninstalled, or revoked) takes the whole installation: an installation row holds that token too,
    and Samen asks for no person's token, so nothing in it is of use any more."""
    client_id = services.settings.slack_client_id
    team = removal.team_id
    installations = and_(INSTALLATIONS.c.client_id == client_id, INSTALLATIONS.c.team_id == team)
    deleted = 0
    if removal.bot:
        deleted += _rowcount(
            session.execute(delete(BOTS).where(BOTS.c.client_id == client_id, BOTS.c.team_id == team))
        )
        deleted += _rowcount(session.execute(delete(INSTALLATIONS).where(installations)))
    elif removal.users:
        deleted += _rowcount(
            session.execute(
                delete(INSTALLATIONS).where(installations, INSTALLATIONS.c.user_id.in_(removal.users))
            )
        )
    return deleted


def _rowcount(result: Any) -> int:
    return int(result.rowcount or 0)


def _audit(session: Session, removal: Removal, *, forgotten: int, failed: int) -> None:
    audit.record(
        session,
        actor=SLACK_ACTOR,
        action="workspace_removed" if removal.bot else "user_tokens_revoked",
        object_type="workspace",
        object_id=removal.team_id,
        purpose=f"Slack reported {removal.reason}",
        details={
            "reason": removal.reason,
            "installation_rows_forgotten": forgotten,
            "messages_failed": failed,
            "users_revoked": len(removal.users),
        },
    )


def _tell_coordinators(
    session: Session, services: Services, removal: Removal, name: str | None, failed: int
) -> int:
    from bot.partners.service import coordinators

    day = clock.now(session).date().isoformat()
    told = 0
    for coordinator in coordinators(session):
        if coordinator.team_id == removal.team_id:
            continue  # in the removed workspace: Samen cannot reach them there any more
        person = get_person(session, team_id=coordinator.team_id, user_id=coordinator.user_id)
        language = language_for(person.locale if person else None, services.settings.samen_language)
        message = services.renderer.render(
            "workspace_removed.json.j2",
            language,
            workspace=name or removal.team_id,
            team_id=removal.team_id,
            reason=removal.reason,
            failed=failed,
        )
        told += send_dm(
            session,
            key=f"{NOTICE_REF}:{removal.team_id}:{removal.reason}:{day}:{coordinator.user_id}",
            user_id=coordinator.user_id,
            message=message,
            ref=f"{NOTICE_REF}:{removal.team_id}",
            team_id=coordinator.team_id,
        )
    return told
