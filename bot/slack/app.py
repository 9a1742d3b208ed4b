"""The Bolt app factory: one `App` per process, built by `create_app`, with the features registered."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse, Respond
from slack_sdk import WebClient

from bot.config import Settings
from bot.i18n import language_for, t
from bot.logs import ContextExecutor
from bot.people import get_person
from bot.runtime import Services
from bot.slack.chat import incoming
from bot.slack.idempotency import drop_event_retries
from bot.slack.interaction import Actor, Interaction, run_answering_problems
from bot.slack.registry import Registry
from bot.slack.teams import refuse_other_teams
from bot.slack.unfurl import no_unfurling
from bot.slack.urls import is_response_url
from bot.slack.wsgi import note_request_kind

logger = logging.getLogger(__name__)

SAMEN_COMMAND = "/samen"


Features = Callable[[App, Registry], None]  # registers the listeners: commands.register_all


def create_app(
    settings: Settings,
    *,
    features: Features,
    client: WebClient | None = None,
    services: Services | None = None,
    process_before_response: bool = False,
    app_class: type[App] = App,
) -> App:
    """Build the Bolt app with the features the entry point hands it (`commands.register_all`: the
    chat edge never imports the listeners above it). Tests build their own, against the double.
    `process_before_response`: each request's listener runs to its end before the request is answered —
    on Matrix (bot/matrix/front.py), which has no three-second deadline to answer within; `app_class`:
    Bolt's App, or Matrix's (bot/matrix/bolt.py), whose listeners call the homeserver through `client`."""
    services = services or Services.build(settings)
    client = client or WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    installation: dict[str, Any] = {}
    if settings.oauth:
        # Several workspaces (bot/slack/workspaces/): each request is answered with the token of the
        # workspace it came from, read from the installations in Samen's database.
        from bot.slack.workspaces.oauth import not_installed_message, oauth_settings

        client = WebClient(token=None, base_url=client.base_url, timeout=client.timeout)
        installation = {
            "oauth_settings": oauth_settings(settings, services.engine),
            "installation_store_bot_only": True,
            "user_facing_authorize_error_message": not_installed_message(settings),
        }
    app = app_class(
        client=client,
        signing_secret=settings.slack_signing_secret,
        # The edge verified the signature before anything read the body (bot/slack/wsgi.py, edge.py)
        # and hands Bolt the cleaned payload, no longer the bytes Slack signed.
        request_verification_enabled=False,
        # The token is known; asking auth.test on start would make start-up depend on Slack.
        token_verification_enabled=False,
        logger=logging.getLogger("samen.bolt"),
        # Listeners run after the ack in this pool; it carries the request id into their log lines.
        listener_executor=ContextExecutor(max_workers=10, thread_name_prefix="listener"),
        process_before_response=process_before_response,
        **installation,
    )
    registry = Registry()
    # Before anything is recorded: a request for another workspace changes nothing (bot/slack/teams.py).
    app.use(refuse_other_teams(services))
    app.use(drop_event_retries(services))
    app.use(_context_middleware(services, registry))
    app.use(no_unfurling)  # nothing Samen answers unfurls (bot/slack/unfurl.py)
    _register_samen_command(app)
    app.error(_handle_error)
    features(app, registry)
    return app


def _context_middleware(services: Services, registry: Registry) -> Any:
    def middleware(body: dict[str, Any], context: BoltContext, next: Any) -> Any:
        note_request_kind(body)
        context["services"] = services
        context["registry"] = registry
        actor = actor_of(body, context)
        context["actor"] = actor
        context["language"] = resolve_language(services, actor, body)
        context["interaction"] = Interaction(
            kind=incoming(body).kind,
            body=body,
            services=services,
            registry=registry,
            acting=actor,
            language=context["language"],
            context=context,
            command=str(body.get("command") or ""),
        )
        return next()

    return middleware


def actor_of(body: dict[str, Any], context: BoltContext) -> Actor | None:
    """(team_id, user_id) of the person acting; the user's own team for Slack Connect users."""
    user = body.get("user")
    if isinstance(user, dict) and user.get("id"):
        return Actor(team_id=user.get("team_id") or context.team_id or "", user_id=user["id"])
    user_id = body.get("user_id") or context.user_id
    if not user_id:
        return None
    team_id = body.get("user_team_id") or body.get("team_id") or context.team_id or ""
    return Actor(team_id=team_id, user_id=user_id)


def resolve_language(services: Services, actor: Actor | None, body: dict[str, Any]) -> str:
    """The person's Slack locale when we know it (stored or in the payload), else SAMEN_LANGUAGE."""
    default = services.settings.samen_language
    slack_locale = body.get("locale") or (body.get("user") or {}).get("locale")
    if not slack_locale and actor is not None:
        known, slack_locale = services.locales.get(actor.team_id, actor.user_id)
        if not known:
            with services.session(read_only=True) as session:
                person = get_person(session, team_id=actor.team_id, user_id=actor.user_id)
                slack_locale = person.locale if person else None
            services.locales.put(actor.team_id, actor.user_id, slack_locale)
    return language_for(slack_locale, default)


def _register_samen_command(app: App) -> None:
    @app.command(SAMEN_COMMAND)
    def samen(context: BoltContext) -> None:
        request: Interaction = context["interaction"]
        word, _, rest = (request.body.get("text") or "").strip().partition(" ")
        request.name, request.args = word, rest.strip()
        subcommand = request.registry.find(word or "help")
        if subcommand is None:
            request.ack_ephemeral(
                "unknown_command.json.j2", word=word, suggestion=request.registry.closest(word)
            )
            return
        if subcommand.members_only and not request.registry.admits(request):
            return
        run_answering_problems(subcommand.handler, request)


def _handle_error(
    error: Exception,
    body: dict[str, Any],
    context: BoltContext,
    respond: Respond,
    response: BoltResponse | None = None,
) -> None:
    """Errors people cannot fix: logged with a reference id, answered with a short apology.

    When the request was not acknowledged yet, the apology is the answer itself (an ephemeral message
    for a command, the modal turned into the apology for a form): never an HTTP 500, which Slack shows
    as "trouble connecting" and which tells the person nothing.
    """
    reference = uuid.uuid4().hex[:8]
    logger.error("unhandled error, reference %s: %s", reference, type(error).__name__, exc_info=error)
    language = context.get("language") or "nl"
    message = t(
        language,
        "Sorry, something went wrong on our side. Please try again; if it keeps happening, "
        "give reference %(reference)s to your coordinator.",
        reference=reference,
    )
    services = context.get("services")
    if response is not None and response.status >= 500:
        answer: dict[str, Any] | None = None
        if body.get("type") == "view_submission" and services is not None:
            view = services.renderer.render("apology_modal.json.j2", language, message=message)
            answer = {"response_action": "update", "view": view}
        elif body.get("command"):
            answer = {"response_type": "ephemeral", "text": message}
        response.status = 200
        response.body = json.dumps(answer) if answer else ""
        response.headers["content-type"] = ["application/json;charset=utf-8" if answer else "text/plain"]
        if answer:
            return
    # Only to Slack's own response URLs (bot/slack/urls.py): the request was verified at the edge, and
    # even so Samen posts nothing to an address a payload could name.
    if services is not None and is_response_url(getattr(respond, "response_url", None), services.settings):
        try:
            respond(text=message, response_type="ephemeral", replace_original=False)
        except Exception:  # the apology is best-effort; the error is already logged
            logger.warning("could not deliver the apology for reference %s", reference)
