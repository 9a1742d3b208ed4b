"""The Slack app manifests, bot/slack/surface.py and the Bolt app agree on what Samen exposes.

Slack only sends what the manifest declares, and Bolt answers 404 to what no listener matches: a
command declared but not handled, or handled but not declared, is broken in production only. So:
1. both manifests are valid against Slack's own JSON Schema (carried in tests/slackdouble/data/);
2. both declare exactly the commands, shortcuts, events and scopes of bot/slack/surface.py;
3. the listeners `create_app` registers are exactly those of the surface;
4. every request URL of the HTTP manifest is the path `samen serve` answers on.
"""

from __future__ import annotations

import copy
import inspect
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from conftest import BotUnderTest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from slack_bolt import App, BoltRequest, BoltResponse

from bot.slack import surface
from bot.slack.wsgi import SLACK_PATH
from slackdouble import MANIFEST_SCHEMA, Payloads

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
HTTP_MANIFEST = DEPLOY / "slack-manifest.yaml"
SOCKET_MANIFEST = DEPLOY / "slack-manifest.socket.yaml"
# Installation in several workspaces through Slack's OAuth flow (issue 9): the HTTP app plus its redirect URL.
OAUTH_MANIFEST = DEPLOY / "slack-manifest.oauth.yaml"
MANIFESTS = pytest.mark.parametrize(
    "path", [HTTP_MANIFEST, SOCKET_MANIFEST, OAUTH_MANIFEST], ids=["http", "socket", "oauth"]
)


def load(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text("utf-8"))
    assert isinstance(loaded, dict), f"{path.name} is not a YAML mapping"
    return loaded


# -- 1. valid against Slack's schema ------------------------------------------------------------------


def _local_schema(uri: str) -> Resource[Any]:
    """The top schema `$ref`s the versioned schemas by their GitHub URL; they lie beside it."""
    local = MANIFEST_SCHEMA.parent / Path(urlsplit(uri).path).name
    if not local.is_file():
        raise LookupError(f"{uri} is not among the schemas in {MANIFEST_SCHEMA.parent}")
    return Resource.from_contents(json.loads(local.read_text("utf-8")), default_specification=DRAFT7)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(MANIFEST_SCHEMA.read_text("utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    registry: Registry[Any] = Registry(retrieve=_local_schema)  # type: ignore[call-arg]
    return jsonschema.Draft7Validator(schema, registry=registry)


@MANIFESTS
def test_the_manifest_is_valid_for_slack(path: Path, validator: jsonschema.Draft7Validator) -> None:
    problems = [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in validator.iter_errors(load(path))
    ]
    assert not problems, f"{path.name} is not a valid Slack manifest:\n" + "\n".join(problems)


def test_the_schema_check_does_reject_a_broken_manifest(validator: jsonschema.Draft7Validator) -> None:
    """The versioned schemas really are reached through the `$ref`s: a broken manifest fails."""
    broken = copy.deepcopy(load(HTTP_MANIFEST))
    broken["features"]["slash_commands"][0]["command"] = "samen-without-slash"
    assert not validator.is_valid(broken)


# -- 2. the manifests declare the surface --------------------------------------------------------------


def declared(manifest: dict[str, Any]) -> dict[str, Any]:
    """What a manifest exposes, in the surface's terms."""
    features = manifest.get("features", {})
    shortcuts = features.get("shortcuts", [])
    return {
        "commands": {
            c["command"]: surface.SlashCommand(
                description=c["description"],
                usage_hint=c.get("usage_hint", ""),
                should_escape=c.get("should_escape", False),
            )
            for c in features.get("slash_commands", [])
        },
        "global_shortcuts": {
            s["callback_id"]: surface.Shortcut(s["name"], s["description"])
            for s in shortcuts
            if s["type"] == "global"
        },
        "message_shortcuts": {
            s["callback_id"]: surface.Shortcut(s["name"], s["description"])
            for s in shortcuts
            if s["type"] == "message"
        },
        "events": sorted(manifest.get("settings", {}).get("event_subscriptions", {}).get("bot_events", [])),
        "scopes": sorted(manifest.get("oauth_config", {}).get("scopes", {}).get("bot", [])),
    }


SURFACE = {
    "commands": dict(surface.SLASH_COMMANDS),
    "global_shortcuts": dict(surface.GLOBAL_SHORTCUTS),
    "message_shortcuts": dict(surface.MESSAGE_SHORTCUTS),
    "events": sorted(surface.BOT_EVENTS),
    "scopes": sorted(surface.BOT_SCOPES),
}


@MANIFESTS
def test_the_manifest_declares_exactly_the_surface(path: Path) -> None:
    assert declared(load(path)) == SURFACE


def test_the_two_manifests_differ_only_in_how_slack_reaches_samen() -> None:
    http, socket = load(HTTP_MANIFEST), load(SOCKET_MANIFEST)
    assert http["settings"]["socket_mode_enabled"] is False
    assert socket["settings"]["socket_mode_enabled"] is True

    def without_urls(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: without_urls(value)
                for key, value in node.items()
                if key not in ("url", "request_url", "socket_mode_enabled")
            }
        if isinstance(node, list):
            return [without_urls(item) for item in node]
        return node

    assert without_urls(http) == without_urls(socket)
    assert not list(urls_in(socket)), "Socket Mode needs no request URL: Slack would call it anyway"


def test_the_app_home_and_settings_are_as_intended() -> None:
    for manifest in (load(HTTP_MANIFEST), load(SOCKET_MANIFEST)):
        features, settings = manifest["features"], manifest["settings"]
        assert features["bot_user"]["display_name"] == "Samen"
        assert features["app_home"]["home_tab_enabled"] is True
        assert features["app_home"]["messages_tab_enabled"] is True
        assert settings["interactivity"]["is_enabled"] is True
        assert settings["org_deploy_enabled"] is False
        assert settings["token_rotation_enabled"] is False


# -- 3. what the code registers is the surface ----------------------------------------------------------

# Bolt keeps its listeners in `App._listeners`, each with its matchers; the first is the one the
# decorator built (`@app.command("/samen")` → `builtin_matchers.command("/samen")`). Bolt has no public
# way to ask a listener what it matches, so:
# - surface → code: for every declared command, shortcut and event, a payload as Slack sends it must
#   be matched by some listener. This uses only `ListenerMatcher.matches`, Bolt's own interface.
# - code → surface: the builder and the value a matcher was built with are read from its closure
#   (`command.<locals>.func` closing over `command`), and then confirmed by asking that matcher to
#   match a payload built from the value read. If a Bolt upgrade changes how matchers are built, this
#   fails loudly ("cannot tell what … matches") instead of passing with nothing checked. A listener
#   registered with a regular expression or a custom matcher function cannot be listed this way; it
#   fails the same way, and then needs a line in this test.

PAYLOADS = Payloads()
# The Events API sends `message` events under names by channel kind; `app.message(...)` needs one.
MESSAGE_EVENTS = ("message.channels", "message.groups", "message.im", "message.mpim")


def command_body(name: str) -> dict[str, Any]:
    return dict(PAYLOADS.command(name, "help"))


def shortcut_body(kind: str, callback_id: str) -> dict[str, Any]:
    if kind == "global":
        return PAYLOADS.shortcut(callback_id)
    return PAYLOADS.message_shortcut(callback_id, {"text": "een bericht", "user": "U0TEST0002"})


def event_body(event_type: str, text: str = "") -> dict[str, Any]:
    return PAYLOADS.event_callback({"type": event_type, "user": "U0TEST0001", "text": text})


def matches(app: App, body: dict[str, Any]) -> bool:
    request = BoltRequest(body=body, mode="socket_mode")  # a parsed body; no HTTP needed
    return any(listener.matchers[0].matches(request, BoltResponse(status=200)) for listener in app._listeners)


# A listener's primary matcher, by the name of the builtin_matchers function that built it: entry
# points Slack must be told about (kind in the surface, the closure variable holding the value) …
ENTRY_POINTS = {
    "command": ("commands", "command"),
    "event": ("events", "event_type"),
    "message_event": ("events", "constraints"),  # app.message(...)
    "shortcut": ("shortcuts", "callback_id"),
    "global_shortcut": ("global_shortcuts", "callback_id"),
    "message_shortcut": ("message_shortcuts", "callback_id"),
}
# … and what people reach from what Samen shows them (buttons, modals, menus): nothing to declare.
REACHED_FROM_SAMEN = frozenset(
    {
        "action",
        "block_action",
        "attachment_action",
        "dialog_submission",
        "dialog_cancellation",
        "view",
        "view_submission",
        "view_closed",
        "options",
        "block_suggestion",
        "dialog_suggestion",
    }
)


def registered(app: App) -> Iterator[tuple[str, str, str]]:
    """(kind, value, text) for every listener that is an entry point Slack must be told about; text
    is what a message must say for an `app.message(keyword)` listener."""
    for listener in app._listeners:
        func = getattr(listener.matchers[0], "func", None)
        builder = getattr(func, "__qualname__", "").split(".")[0].lstrip("_")
        name = getattr(listener.ack_function, "__name__", repr(listener.ack_function))
        if builder in REACHED_FROM_SAMEN:
            continue
        if builder not in ENTRY_POINTS:
            # function_executed, workflow steps, custom matchers, or a Bolt that builds them otherwise.
            raise AssertionError(
                f"cannot tell what listener {name} matches (built by {builder or '?'}): "
                "give it a line in tests/test_manifest.py"
            )
        kind, variable = ENTRY_POINTS[builder]
        assert callable(func)
        closure = inspect.getclosurevars(func).nonlocals
        value = closure.get(variable)
        if isinstance(value, dict):  # event constraints: {"type": …, "subtype": …}
            value = value.get("type")
        text = closure.get("keyword", "")
        if not isinstance(value, str) or not isinstance(text, str):
            raise AssertionError(
                f"cannot tell what listener {name} matches ({builder}: {closure}); "
                "a pattern or custom matcher needs its own line in tests/test_manifest.py"
            )
        yield kind, value, text


def confirm(app: App, kind: str, value: str, text: str) -> None:
    """The value read from a closure really is what the matcher matches."""
    bodies = {
        "commands": [command_body(value)],
        "events": [event_body(value, text)],
        "global_shortcuts": [shortcut_body("global", value)],
        "message_shortcuts": [shortcut_body("message", value)],
        "shortcuts": [shortcut_body("global", value), shortcut_body("message", value)],
    }[kind]
    assert any(matches(app, body) for body in bodies), f"read {kind} {value!r}, but it does not match"


def test_every_declared_entry_point_has_a_listener(bot: BotUnderTest) -> None:
    missing = [
        f"command {name}" for name in surface.SLASH_COMMANDS if not matches(bot.app, command_body(name))
    ]
    missing += [
        f"global shortcut {callback_id}"
        for callback_id in surface.GLOBAL_SHORTCUTS
        if not matches(bot.app, shortcut_body("global", callback_id))
    ]
    missing += [
        f"message shortcut {callback_id}"
        for callback_id in surface.MESSAGE_SHORTCUTS
        if not matches(bot.app, shortcut_body("message", callback_id))
    ]
    missing += [
        f"event {event}"
        for event in surface.BOT_EVENTS
        if not matches(bot.app, event_body("message" if event.startswith("message.") else event))
    ]
    assert not missing, "declared in bot/slack/surface.py, but no listener handles: " + ", ".join(missing)


def test_every_registered_entry_point_is_declared(bot: BotUnderTest) -> None:
    found = list(registered(bot.app))
    assert found, "no listener found at all: has Bolt changed how it keeps them?"
    undeclared = []
    for kind, value, text in found:
        confirm(bot.app, kind, value, text)
        if kind == "commands":
            known = value in surface.SLASH_COMMANDS
        elif kind == "events" and value == "message":
            known = any(event in surface.BOT_EVENTS for event in MESSAGE_EVENTS)
        elif kind == "events":
            known = value in surface.BOT_EVENTS
        elif kind == "shortcuts":
            known = value in surface.GLOBAL_SHORTCUTS or value in surface.MESSAGE_SHORTCUTS
        else:
            known = value in getattr(surface, kind.upper())
        if not known:
            undeclared.append(f"{kind[:-1].replace('_', ' ')} {value}")
    assert not undeclared, (
        "registered, but not in bot/slack/surface.py (nor, then, in the manifests): " + ", ".join(undeclared)
    )


def test_slack_requests_for_the_surface_are_answered(bot: BotUnderTest) -> None:
    """End to end, signed, over HTTP: nothing declared is answered 404 ("unhandled")."""
    answers = {f"command {name}": bot.driver.command(name, "help").status for name in surface.SLASH_COMMANDS}
    answers |= {f"global shortcut {cid}": bot.driver.shortcut(cid).status for cid in surface.GLOBAL_SHORTCUTS}
    answers |= {
        f"message shortcut {cid}": bot.driver.message_shortcut(cid, {"text": "een bericht"}).status
        for cid in surface.MESSAGE_SHORTCUTS
    }
    for event in surface.BOT_EVENTS:
        event_type = "message" if event.startswith("message.") else event
        answers[f"event {event}"] = bot.driver.event({"type": event_type, "user": "U0TEST0001"}).status
    _settle(bot)
    assert {what: status for what, status in answers.items() if status != 200} == {}


def _settle(bot: BotUnderTest, quiet: float = 0.3, limit: float = 5.0) -> None:
    """Events are acknowledged before their listener runs: let what they send reach the double
    before the test (and the double) ends."""
    deadline = time.monotonic() + limit
    seen, since = len(bot.double.calls), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet:
        time.sleep(0.05)
        if len(bot.double.calls) != seen:
            seen, since = len(bot.double.calls), time.monotonic()


# -- 4. the HTTP manifest points at the path Samen serves ------------------------------------------------


def urls_in(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from urls_in(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from urls_in(item, f"{where}/{index}")
    elif isinstance(node, str) and node.startswith(("http://", "https://")):
        yield where, node


def test_every_request_url_is_the_path_samen_serves() -> None:
    manifest = load(HTTP_MANIFEST)
    urls = dict(urls_in({k: v for k, v in manifest.items() if k != "display_information"}))
    wrong = {where: url for where, url in urls.items() if urlsplit(url).path != SLACK_PATH}
    assert not wrong, f"request URLs must end in {SLACK_PATH}: {wrong}"
    assert urlsplit(manifest["settings"]["event_subscriptions"]["request_url"]).scheme == "https"
    assert "/settings/interactivity/request_url" in urls
    assert "/settings/event_subscriptions/request_url" in urls
    for index, _command in enumerate(manifest["features"]["slash_commands"]):
        assert f"/features/slash_commands/{index}/url" in urls


def test_the_oauth_manifest_is_the_http_one_plus_the_install_redirect() -> None:
    """Issue 9: the same app, installable in several workspaces; Slack sends the administrator's browser
    back to the path where Samen finishes the installation."""
    from bot.slack.workspaces.oauth import REDIRECT_PATH

    http, oauth = load(HTTP_MANIFEST), load(OAUTH_MANIFEST)
    redirects = oauth["oauth_config"].pop("redirect_urls")
    assert oauth == http
    assert [urlsplit(url).path for url in redirects] == [REDIRECT_PATH]
    assert all(urlsplit(url).scheme == "https" for url in redirects)
