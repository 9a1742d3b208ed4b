"""Block Kit as readable text, so the demo shows what a person would see in Slack."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")


def mrkdwn_to_text(text: str, name_of: Callable[[str], str]) -> str:
    text = _MENTION.sub(lambda m: "@" + name_of(m.group(1)), text)
    # Slack shows a channel link by its name; so does the transcript (name_of knows channels too).
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or name_of(m.group(1))), text)
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    return html.unescape(text)  # Slack shows &lt; as <: so does the transcript


def _text_of(element: dict[str, Any] | None, name_of: Callable[[str], str]) -> str:
    if not element:
        return ""
    return mrkdwn_to_text(str(element.get("text", "")), name_of)


def blocks_to_text(blocks: list[dict[str, Any]], name_of: Callable[[str], str]) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"*{_text_of(block.get('text'), name_of)}*")
        elif kind == "section":
            if block.get("text"):
                lines.extend(_text_of(block["text"], name_of).splitlines())
            for field in block.get("fields", []):
                lines.append("  " + _text_of(field, name_of))
            if block.get("accessory", {}).get("type") == "button":
                lines.append(f"  [{_text_of(block['accessory'].get('text'), name_of)}]")
        elif kind == "context":
            lines.append(
                "  " + " ".join(_text_of(e, name_of) for e in block.get("elements", []) if "text" in e)
            )
        elif kind == "actions":
            labels = [
                f"[{_text_of(e.get('text'), name_of)}]" for e in block.get("elements", []) if e.get("text")
            ]
            lines.append("  " + " ".join(labels))
        elif kind == "divider":
            lines.append("  ────────")
        elif kind == "input":
            lines.append(f"  {_text_of(block.get('label'), name_of)}: ____")
        elif kind == "image":
            lines.append(f"  [afbeelding: {block.get('alt_text', '')}]")
    return lines
