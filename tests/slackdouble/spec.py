"""Slack's own Web API description, plus the corrections it needs.

The double checks every call the bot makes against the methods and argument names of Slack's published
OpenAPI file, as extracted into `data/web_api_methods.json` by `scripts/derive_slack_facts.py` (source
and licence: `data/README.md`). That file dates from 2020, so the few places where it is known to be out
of date are listed in `SPEC_GAPS` below: one visible list, so that a correction is a reviewed decision
and never a silent skip.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, TypedDict

# Shipped with the package (pyproject's package-data): `samen demo` runs the double where no tests are.
DATA_DIR: Final[Path] = Path(__file__).resolve().parent / "data"
WEB_API_METHODS: Final = DATA_DIR / "web_api_methods.json"
MANIFEST_SCHEMA: Final = DATA_DIR / "manifest.schema.json"


class MethodAddition(TypedDict):
    """A method (or some arguments of one) that the spec file lacks."""

    args: frozenset[str]
    required: frozenset[str]
    why: str


class SpecGaps(TypedDict):
    missing_methods: dict[str, MethodAddition]
    missing_args: dict[str, MethodAddition]
    # Arguments the spec marks as required, but which Slack accepts without (an alternative exists).
    not_really_required: dict[str, dict[str, str]]
    # Requirements the spec cannot express: at least one argument of each group must be present.
    one_of_required: dict[str, list[frozenset[str]]]
    # Methods declared with the wrong HTTP verb. Informational: the double checks names, never verbs.
    wrong_verb: dict[str, str]


# Key "*" in `missing_args` applies to every method.
ALL_METHODS: Final = "*"

SPEC_GAPS: Final[SpecGaps] = {
    "missing_methods": {
        "files.getUploadURLExternal": {
            "args": frozenset({"filename", "length", "alt_txt", "snippet_type"}),
            "required": frozenset({"filename", "length"}),
            "why": "step 1 of files_upload_v2 (2024); not in the 2020 spec",
        },
        "files.completeUploadExternal": {
            "args": frozenset({"files", "channel_id", "channels", "initial_comment", "thread_ts", "blocks"}),
            "required": frozenset({"files"}),
            "why": "step 3 of files_upload_v2 (2024); not in the 2020 spec",
        },
        "apps.connections.open": {
            "args": frozenset(),
            "required": frozenset(),
            "why": "Socket Mode, called with the app-level token (xapp-); not in the 2020 spec",
        },
        # chat.scheduledMessages.list is sometimes said to be missing, but the spec file does
        # declare it (GET; channel, latest, oldest, limit, cursor), so nothing is added here.
    },
    "missing_args": {
        ALL_METHODS: {
            "args": frozenset({"team_id"}),
            "required": frozenset(),
            "why": "the client Bolt hands to a listener may add team_id to any call",
        },
        "chat.postMessage": {
            # unfurl_media is in fact declared for chat.postMessage; listed anyway, as it is for
            # chat.update, so that the two lists read the same.
            "args": frozenset({"metadata", "unfurl_media", "markdown_text"}),
            "required": frozenset(),
            "why": "message metadata (2022) and markdown_text (2025) postdate the spec",
        },
        "chat.update": {
            "args": frozenset({"metadata", "unfurl_media", "markdown_text", "reply_broadcast", "file_ids"}),
            "required": frozenset(),
            "why": "metadata, markdown_text, reply_broadcast and file_ids postdate the spec",
        },
        "chat.postEphemeral": {
            "args": frozenset({"markdown_text"}),
            "required": frozenset(),
            "why": "markdown_text (2025) postdates the spec",
        },
        "chat.scheduleMessage": {
            "args": frozenset({"metadata", "markdown_text"}),
            "required": frozenset(),
            "why": "metadata and markdown_text postdate the spec",
        },
        "conversations.history": {
            "args": frozenset({"include_all_metadata"}),
            "required": frozenset(),
            "why": "message metadata (2022) postdates the spec",
        },
        "conversations.replies": {
            "args": frozenset({"include_all_metadata"}),
            "required": frozenset(),
            "why": "message metadata (2022) postdates the spec; the outbox reads a thread's replies with it",
        },
        "views.open": {
            "args": frozenset({"interactivity_pointer"}),
            "required": frozenset(),
            "why": "workflow steps open modals with an interactivity_pointer instead of a trigger_id",
        },
        "views.push": {
            "args": frozenset({"interactivity_pointer"}),
            "required": frozenset(),
            "why": "workflow steps push modals with an interactivity_pointer instead of a trigger_id",
        },
        "team.info": {
            "args": frozenset({"domain"}),
            "required": frozenset(),
            "why": "look-up by domain (Enterprise Grid) postdates the spec",
        },
    },
    "not_really_required": {
        "views.open": {"trigger_id": "or interactivity_pointer (see one_of_required)"},
        "views.push": {"trigger_id": "or interactivity_pointer (see one_of_required)"},
    },
    "one_of_required": {
        "views.open": [frozenset({"trigger_id", "interactivity_pointer"})],
        "views.push": [frozenset({"trigger_id", "interactivity_pointer"})],
        # The spec marks neither as required, but Slack answers not_found without one of them.
        "views.update": [frozenset({"view_id", "external_id"}), frozenset({"view"})],
    },
    "wrong_verb": {
        "views.open": "declared GET with query arguments; POSTed in reality",
        "views.publish": "declared GET with query arguments; POSTed in reality",
        "views.update": "declared GET with query arguments; POSTed in reality",
        "views.push": "declared GET with query arguments; POSTed in reality",
    },
}

# `token` travels in the Authorization header (or as an argument in old clients); it is not an
# argument of the method in any meaningful sense, so it is never checked as a name.
IGNORED_ARGS: Final = frozenset({"token"})


# What a response_url accepts. It is not a Web API method, so the OpenAPI file does not describe
# it; these are the fields Slack documents for responding to interactions (and what Bolt's
# respond() sends). A misspelt `response_type` would post publicly what was meant for one person.
RESPONSE_URL_FIELDS: Final = frozenset(
    {
        "text",
        "blocks",
        "attachments",
        "response_type",
        "replace_original",
        "delete_original",
        "thread_ts",
        "mrkdwn",
        "unfurl_links",
        "unfurl_media",
        "metadata",
    }
)
RESPONSE_TYPES: Final = frozenset({"in_channel", "ephemeral"})


def check_response_url_fields(body: dict[str, Any]) -> list[str]:
    problems = [f"unknown field {name!r}" for name in sorted(body.keys() - RESPONSE_URL_FIELDS)]
    response_type = body.get("response_type")
    if response_type is not None and response_type not in RESPONSE_TYPES:
        problems.append(f"response_type {response_type!r} is not one of {', '.join(sorted(RESPONSE_TYPES))}")
    return problems


@dataclass(frozen=True)
class MethodSpec:
    """What a method accepts, after the spec and its gaps are merged."""

    name: str
    args: frozenset[str]
    required: frozenset[str]
    one_of: tuple[frozenset[str], ...]
    from_spec: bool
    # Fields every success answer has, as the spec declares them (empty for methods it lacks).
    answer_requires: frozenset[str] = frozenset()


class SlackSpec:
    """The merged view of the spec's methods (`data/web_api_methods.json`) and `SPEC_GAPS`."""

    def __init__(self, facts: dict[str, Any]) -> None:
        self.methods: dict[str, MethodSpec] = {}
        names: dict[str, tuple[set[str], set[str], bool]] = {}
        for method, declared in facts["methods"].items():
            names[method] = (set(declared["args"]), set(declared["required"]), True)
        for method, addition in SPEC_GAPS["missing_methods"].items():
            names[method] = (set(addition["args"]), set(addition["required"]), False)
        everywhere = SPEC_GAPS["missing_args"].get(ALL_METHODS)
        for method, (args, required, from_spec) in names.items():
            extra = SPEC_GAPS["missing_args"].get(method)
            if extra is not None:
                args |= extra["args"]
                required |= extra["required"]
            if everywhere is not None:
                args |= everywhere["args"]
            required -= set(SPEC_GAPS["not_really_required"].get(method, {}))
            self.methods[method] = MethodSpec(
                name=method,
                args=frozenset(args - IGNORED_ARGS),
                required=frozenset(required - IGNORED_ARGS),
                one_of=tuple(SPEC_GAPS["one_of_required"].get(method, [])),
                from_spec=from_spec,
                answer_requires=frozenset(facts["methods"].get(method, {}).get("answer_requires", [])),
            )

    def check_arguments(self, method: str, args: dict[str, Any]) -> list[str]:
        """Problems with the argument names of one call; an empty list when all is well.

        Slack itself silently ignores an argument it does not know, which is exactly why a typo such
        as `chanel` must be caught here: in production it would only show up as a message that
        never arrived.
        """
        spec = self.methods.get(method)
        if spec is None:
            return [f"{method}: no such method in Slack's Web API"]
        problems: list[str] = []
        given = {name for name, value in args.items() if name not in IGNORED_ARGS}
        for name in sorted(given - spec.args):
            problems.append(
                f"{method}: unknown argument {name!r} (Slack accepts: {', '.join(sorted(spec.args))})"
            )
        present = {name for name in given if args[name] not in (None, "")}
        for name in sorted(spec.required - present):
            problems.append(f"{method}: required argument {name!r} is missing")
        for group in spec.one_of:
            if not group & present:
                problems.append(f"{method}: one of {', '.join(sorted(group))} is required")
        return problems


@lru_cache(maxsize=1)
def load_spec() -> SlackSpec:
    """Read the methods once per process: they never change during a test run."""
    with WEB_API_METHODS.open(encoding="utf-8") as handle:
        return SlackSpec(json.load(handle))
