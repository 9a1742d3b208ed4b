"""Bolt's OAuth settings for Samen: the install flow at /slack/install, its callback at /slack/oauth_redirect.

An administrator of a workspace opens `https://<samen>/slack/install` in a browser; Samen sets a state
cookie and sends the browser on to Slack's consent page; Slack sends it back to `/slack/oauth_redirect`
with a code, which Samen exchanges (`oauth.v2.access`) for the workspace's bot token and keeps, sealed,
in its database. Only the administrator's browser needs to reach these two addresses, not Slack: an
installation behind a firewall can serve them on the internal network (docs/operations.md).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping, Sequence
from typing import Final

from slack_bolt import BoltResponse
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.i18n import language_for, t
from bot.slack import surface
from bot.slack.workspaces.store import OAUTH_STATE_SECONDS, SamenInstallationStore, SamenOAuthStateStore

logger = logging.getLogger(__name__)

INSTALL_PATH: Final = "/slack/install"
REDIRECT_PATH: Final = "/slack/oauth_redirect"


def authorization_url(settings: Settings) -> str:
    """Slack's consent page, beside the Web API: slack.com, or GovSlack's host for SLACK_API_URL."""
    base = settings.slack_api_url.removesuffix("/").removesuffix("/api")
    return f"{base}/oauth/v2/authorize"


def oauth_settings(settings: Settings, engine: Engine) -> OAuthSettings:
    assert settings.slack_client_id and settings.slack_client_secret
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(surface.BOT_SCOPES),
        user_scopes=[],
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        # No page of Bolt's own (English only): /slack/install sends the browser straight to Slack.
        install_page_rendering_enabled=False,
        authorization_url=authorization_url(settings),
        installation_store=SamenInstallationStore(settings.slack_client_id, engine),
        installation_store_bot_only=True,
        state_store=SamenOAuthStateStore(engine),
        state_expiration_seconds=OAUTH_STATE_SECONDS,
        callback_options=CallbackOptions(
            success=lambda args: _success(args, settings), failure=lambda args: _failure(args, settings)
        ),
    )


def not_installed_message(settings: Settings) -> str:
    """What a person in a workspace without an installation is told (Bolt answers before Samen knows
    their language, so it is the partnership's)."""
    return t(
        settings.samen_language,
        "Samen is not installed in your Slack workspace yet. Ask your Slack administrator to install it.",
    )


def _language(headers: Mapping[str, Sequence[str]], settings: Settings) -> str:
    accept = next(iter(headers.get("accept-language") or []), "")
    first = accept.split(",", 1)[0].split(";", 1)[0].strip()
    return language_for(first or None, settings.samen_language)


def _success(args: SuccessArgs, settings: Settings) -> BoltResponse:
    installation = args.installation
    language = _language(args.request.headers, settings)
    logger.info("Samen was installed in workspace %s", installation.team_id)
    text = t(
        language,
        "Samen is installed in %(workspace)s. Invite it to the partnership's channels (/invite @Samen); "
        "a coordinator adds your colleagues as members.",
        workspace=installation.team_name or installation.team_id or "?",
    )
    return _page(200, t(language, "Samen is installed"), text, language)


def _failure(args: FailureArgs, settings: Settings) -> BoltResponse:
    language = _language(args.request.headers, settings)
    logger.warning("an installation of Samen failed: %s", args.reason)
    text = t(
        language,
        "Installing Samen did not succeed (%(reason)s). Start again from the install page; if it "
        "keeps failing, give this reason to the administrator of Samen.",
        reason=args.reason,
    )
    return _page(args.suggested_status_code, t(language, "Samen is not installed"), text, language)


def _page(status: int, title: str, text: str, language: str) -> BoltResponse:
    body = (
        f'<!DOCTYPE html><html lang="{html.escape(language)}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    return BoltResponse(status=status, body=body, headers={"Content-Type": "text/html; charset=utf-8"})
