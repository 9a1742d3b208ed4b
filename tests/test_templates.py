"""Every template that shows what a person typed shows it inert: no @channel, no disguised link.

Each template under templates/ needs a sample context here, with hostile text in every field a person
can fill; a new template without one fails `test_every_template_has_a_sample`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.render import TEMPLATES_DIR, Renderer
from bot.slack.interaction import Actor
from bot.slack.registry import Subcommand

HOSTILE = 'Fatima <!channel> & <https://evil.example|gemeente.nl> "quoted" \\ <@U0BAD>'
ESCAPED = "&lt;!channel&gt; &amp; &lt;https://evil.example|gemeente.nl&gt;"
LIVE = ("<!channel>", "<https://evil.example|gemeente.nl>", "<@U0BAD>")


def _hostile_subcommand() -> Subcommand:
    return Subcommand(name="help", usage=HOSTILE, summary=HOSTILE, handler=lambda _r: None)


# template → (context, whether the hostile text must appear escaped in it)
SAMPLES: dict[str, tuple[dict[str, Any], bool]] = {
    "help.json.j2": ({"commands": [_hostile_subcommand()]}, True),
    "home_commands.json.j2": ({"commands": [_hostile_subcommand()]}, True),
    "unknown_command.json.j2": ({"word": HOSTILE, "suggestion": "help"}, False),
    "home.json.j2": ({"actor": Actor("T0", "U0HOME"), "sections": []}, False),
    "outbox_failed.json.j2": ({"lane": "C0ABC", "reason": HOSTILE, "message_id": 7}, True),
}


def extra_samples() -> dict[str, tuple[dict[str, Any], bool]]:
    """Features add their own samples in tests/template_samples_<feature>.py as SAMPLES dicts."""
    found: dict[str, tuple[dict[str, Any], bool]] = {}
    for path in sorted(Path(__file__).parent.glob("template_samples_*.py")):
        namespace: dict[str, Any] = {"HOSTILE": HOSTILE}
        exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102  (our own test data)
        found.update(namespace["SAMPLES"])
    return found


ALL_SAMPLES = {**SAMPLES, **extra_samples()}
TEMPLATES = sorted(p.name for p in TEMPLATES_DIR.glob("*.j2"))


def test_every_template_has_a_sample() -> None:
    assert sorted(ALL_SAMPLES) == TEMPLATES


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("name", TEMPLATES)
def test_templates_render_valid_block_kit_with_typed_text_inert(name: str, language: str) -> None:
    context, shows_hostile = ALL_SAMPLES[name]
    rendered = Renderer().render(name, language, **context)
    as_text = json.dumps(rendered, ensure_ascii=False)
    for live in LIVE:
        assert live not in as_text, f"{name} lets {live!r} through"
    if shows_hostile:
        assert ESCAPED in as_text
    blocks = rendered.get("blocks", [])
    for block in blocks:
        Block.parse(block).to_dict()  # type: ignore[union-attr]  (the SDK's own validation)


def test_a_clipped_value_never_cuts_an_entity_in_half() -> None:
    rendered = Renderer().render("unknown_command.json.j2", "nl", word="&" * 100, suggestion=None)
    text = rendered["blocks"][0]["text"]["text"]
    assert "&amp;…" in text
    assert "&am…" not in text and "&a…" not in text
