"""Fitting every rendered message and view to Slack's Block Kit limits, after escaping.

Slack refuses a whole message or view (`invalid_blocks`, `invalid_arguments`) when one text is a
character too long or there is one block too many, and escaping makes typed text longer (`&` → `&amp;`).
So `bot.render` fits what a template rendered before anyone sends it:

- text people read is shortened, never refused: "…" ends it, and in mrkdwn a hint says where the whole
  can be read (`Wording.shortened`); an entity, a mention or a link is never split (bot/mrkdwn.py);
- a list too long for the surface loses whole items from its end, and a context line says how many
  are not shown and where to see them (`Wording.more`). Templates mark list items with
  `"fit_item": "<list>:<number>"` on each of the item's blocks, and may name where the whole list can
  be seen with `"fit_whole_at"` on them (mrkdwn); both keys are removed before sending;
- data Slack hands back to Samen (private_metadata, button and option values, action_id, block_id,
  callback_id, URLs) is never cut: shortening it would corrupt it, so `DataTooLong` is raised and the
  template must keep it short.

A rendered object with neither `type` (a view) nor `text` (a message) is part of a bigger surface: an
App Home section, whose blocks home.json.j2 puts into the Home view. Its texts are fitted, but its list
marks stay and its blocks are counted when the whole view is fitted.

The numbers are Slack's (docs.slack.dev, Block Kit reference) and match the Slack SDK's models
(`SectionBlock.text_max_length`, `View.private_metadata_max_length`, …; tests/test_blockkit_limits.py
compares them). Top-level message `text`: Slack cuts at 40,000 characters and advises 4,000.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from bot import mrkdwn

MESSAGE_MAX_BLOCKS: Final = 50
VIEW_MAX_BLOCKS: Final = 100
MESSAGE_TEXT_MAX: Final = 4_000
TEXT_MAX: Final = 3_000  # section text, each context element
FIELD_MAX: Final = 2_000
HEADER_MAX: Final = 150
BUTTON_TEXT_MAX: Final = 75
OPTION_TEXT_MAX: Final = 75  # also an option's description and an option group's label
PLACEHOLDER_MAX: Final = 150
INPUT_LABEL_MAX: Final = 2_000
INPUT_HINT_MAX: Final = 2_000
MODAL_TITLE_MAX: Final = 24
MODAL_BUTTON_MAX: Final = 24  # submit and close
CONFIRM_TITLE_MAX: Final = 100
CONFIRM_TEXT_MAX: Final = 300
CONFIRM_BUTTON_MAX: Final = 30
ALT_TEXT_MAX: Final = 2_000
IMAGE_TITLE_MAX: Final = 2_000
# Data, never cut:
PRIVATE_METADATA_MAX: Final = 3_000
BUTTON_VALUE_MAX: Final = 2_000
OPTION_VALUE_MAX: Final = 150
OPTIONS_MAX: Final = 100  # options (or option groups) of one select menu
ACTION_ID_MAX: Final = 255
BLOCK_ID_MAX: Final = 255
CALLBACK_ID_MAX: Final = 255
EXTERNAL_ID_MAX: Final = 255
URL_MAX: Final = 3_000

ITEM_KEY: Final = "fit_item"
WHOLE_AT_KEY: Final = "fit_whole_at"
VIEW_TYPES: Final = frozenset({"modal", "home"})


class DataTooLong(ValueError):
    """A value Slack hands back to Samen is longer than Slack allows; cutting it would corrupt it."""


@dataclass(frozen=True)
class Wording:
    """What the fitted text says, in the reader's language, as mrkdwn."""

    shortened: str  # follows "…" in a shortened text, e.g. " — ingekort; volledig: `/samen signalen 12`"
    # The line in place of dropped list items, e.g. "… en nog 7; zie `/samen mijn`": (how many, where).
    more: Callable[[int, str | None], str]


@dataclass
class Fitted:
    """What fitting changed (counts only: the figures are logged, the texts are people's)."""

    texts_shortened: int = 0
    items_dropped: int = 0
    blocks_dropped: int = 0  # blocks of no marked list, dropped as a last resort

    @property
    def changed(self) -> bool:
        return bool(self.texts_shortened or self.items_dropped or self.blocks_dropped)


def fit(payload: Any, wording: Wording) -> Fitted:
    """Fit a rendered message, view or Home section in place; say what changed."""
    fitted = Fitted()
    if not isinstance(payload, dict):
        return fitted
    cutter = _Cutter(wording, fitted)
    kind = payload.get("type")
    if kind in VIEW_TYPES:
        cutter.view(payload)
    elif "text" in payload:
        cutter.mrkdwn_string(payload, "text", MESSAGE_TEXT_MAX)
    blocks = payload.get("blocks")
    if not isinstance(blocks, list):
        return fitted
    for index, block in enumerate(blocks):
        if isinstance(block, dict):
            cutter.block(block, f"blocks/{index}")
    if kind in VIEW_TYPES or "text" in payload:
        limit = VIEW_MAX_BLOCKS if kind in VIEW_TYPES else MESSAGE_MAX_BLOCKS
        payload["blocks"] = _fit_count(blocks, limit, wording, fitted)
    return fitted


class _Cutter:
    def __init__(self, wording: Wording, fitted: Fitted) -> None:
        self.wording = wording
        self.fitted = fitted

    def text(self, obj: Any, limit: int, *, hint: bool = True) -> None:
        """A text object: mrkdwn is shortened with the hint, plain_text with "…" alone."""
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or len(obj["text"]) <= limit:
            return
        if obj.get("type") == "mrkdwn":
            obj["text"] = mrkdwn.shorten(obj["text"], limit, self.wording.shortened if hint else "")
        else:
            obj["text"] = mrkdwn.shorten_plain(obj["text"], limit)
        self.fitted.texts_shortened += 1

    def mrkdwn_string(self, holder: dict[str, Any], key: str, limit: int) -> None:
        value = holder.get(key)
        if isinstance(value, str) and len(value) > limit:
            holder[key] = mrkdwn.shorten(value, limit, self.wording.shortened)
            self.fitted.texts_shortened += 1

    def plain_string(self, holder: dict[str, Any], key: str, limit: int) -> None:
        value = holder.get(key)
        if isinstance(value, str) and len(value) > limit:
            holder[key] = mrkdwn.shorten_plain(value, limit)
            self.fitted.texts_shortened += 1

    def view(self, view: dict[str, Any]) -> None:
        for key in ("title", "submit", "close"):
            self.text(view.get(key), MODAL_TITLE_MAX if key == "title" else MODAL_BUTTON_MAX)
        _data(view, "private_metadata", PRIVATE_METADATA_MAX, "view")
        _data(view, "callback_id", CALLBACK_ID_MAX, "view")
        _data(view, "external_id", EXTERNAL_ID_MAX, "view")

    def block(self, block: dict[str, Any], path: str) -> None:
        _data(block, "block_id", BLOCK_ID_MAX, path)
        kind = block.get("type")
        if kind == "section":
            self.text(block.get("text"), TEXT_MAX)
            for field in _list(block.get("fields")):
                self.text(field, FIELD_MAX)
            self.element(block.get("accessory"), f"{path}/accessory")
        elif kind == "context":
            for index, element in enumerate(_list(block.get("elements"))):
                self.text(element, TEXT_MAX)
                self.element(element, f"{path}/elements/{index}")
        elif kind == "header":
            self.text(block.get("text"), HEADER_MAX)
        elif kind == "actions":
            for index, element in enumerate(_list(block.get("elements"))):
                self.element(element, f"{path}/elements/{index}")
        elif kind == "input":
            self.text(block.get("label"), INPUT_LABEL_MAX, hint=False)
            self.text(block.get("hint"), INPUT_HINT_MAX, hint=False)
            self.element(block.get("element"), f"{path}/element")
        elif kind == "image":
            self.plain_string(block, "alt_text", ALT_TEXT_MAX)
            self.text(block.get("title"), IMAGE_TITLE_MAX)
            _data(block, "image_url", URL_MAX, path)

    def element(self, element: Any, path: str) -> None:
        """An interactive element (button, select, input, …) or an image in a context."""
        if not isinstance(element, dict):
            return
        _data(element, "action_id", ACTION_ID_MAX, path)
        _data(element, "url", URL_MAX, path)
        _data(element, "image_url", URL_MAX, path)
        if element.get("type") == "button":
            self.text(element.get("text"), BUTTON_TEXT_MAX)
            _data(element, "value", BUTTON_VALUE_MAX, path)
        elif element.get("type") == "image":
            self.plain_string(element, "alt_text", ALT_TEXT_MAX)
        self.text(element.get("placeholder"), PLACEHOLDER_MAX)
        self.confirm(element.get("confirm"))
        self.at_most(element, "options", OPTIONS_MAX)
        self.at_most(element, "option_groups", OPTIONS_MAX)
        for key in ("options", "initial_options"):
            self.options(element.get(key), f"{path}/{key}")
        self.options([element.get("initial_option")], f"{path}/initial_option")
        for index, group in enumerate(_list(element.get("option_groups"))):
            if isinstance(group, dict):
                self.text(group.get("label"), OPTION_TEXT_MAX)
                self.options(group.get("options"), f"{path}/option_groups/{index}/options")

    def at_most(self, holder: dict[str, Any], key: str, limit: int) -> None:
        """A select menu shows no more than `limit` choices: the first ones (templates put the likeliest
        first) are kept. A longer list needs a search (external_select) rather than a longer menu."""
        choices = holder.get(key)
        if isinstance(choices, list) and len(choices) > limit:
            self.fitted.items_dropped += len(choices) - limit
            holder[key] = choices[:limit]
            _keep_initial_among(holder, choices[:limit])

    def options(self, options: Any, path: str) -> None:
        for index, option in enumerate(_list(options)):
            if isinstance(option, dict):
                self.text(option.get("text"), OPTION_TEXT_MAX)
                self.text(option.get("description"), OPTION_TEXT_MAX)
                _data(option, "value", OPTION_VALUE_MAX, f"{path}/{index}")

    def confirm(self, dialog: Any) -> None:
        if isinstance(dialog, dict):
            self.text(dialog.get("title"), CONFIRM_TITLE_MAX)
            self.text(dialog.get("text"), CONFIRM_TEXT_MAX, hint=False)
            self.text(dialog.get("confirm"), CONFIRM_BUTTON_MAX)
            self.text(dialog.get("deny"), CONFIRM_BUTTON_MAX)


def _keep_initial_among(element: dict[str, Any], kept: list[Any]) -> None:
    """Slack refuses a preselected option that is not among the options."""
    values = {option.get("value") for option in kept if isinstance(option, dict)}
    for group in kept:
        if isinstance(group, dict):
            values |= {
                option.get("value") for option in _list(group.get("options")) if isinstance(option, dict)
            }
    initial = element.get("initial_option")
    if isinstance(initial, dict) and initial.get("value") not in values:
        del element["initial_option"]
    if "initial_options" in element:
        element["initial_options"] = [
            option
            for option in _list(element["initial_options"])
            if isinstance(option, dict) and option.get("value") in values
        ]
        if not element["initial_options"]:
            del element["initial_options"]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _data(holder: dict[str, Any], key: str, limit: int, path: str) -> None:
    value = holder.get(key)
    if isinstance(value, str) and len(value) > limit:
        # The message names the place and the length only: the value may be a person's text.
        raise DataTooLong(
            f"{path}/{key} is {len(value)} characters; Slack allows {limit} and Samen reads it back, "
            "so it is never cut: keep it shorter in the template"
        )


def _fit_count(blocks: list[Any], limit: int, wording: Wording, fitted: Fitted) -> list[Any]:
    """At most `limit` blocks: whole list items go first, from the end of the longest list."""
    items: dict[str, dict[str, list[int]]] = {}  # list → item → indexes of its blocks, in order
    where: dict[str, str] = {}  # list → where the whole list can be seen
    for index, block in enumerate(blocks):
        mark = block.get(ITEM_KEY) if isinstance(block, dict) else None
        if isinstance(mark, str):
            name = mark.rpartition(":")[0] or mark
            items.setdefault(name, {}).setdefault(mark, []).append(index)
            if isinstance(block.get(WHOLE_AT_KEY), str):
                where[name] = block[WHOLE_AT_KEY]
    dropped: dict[str, int] = {}
    removed: set[int] = set()

    def count() -> int:
        return len(blocks) - len(removed) + len(dropped)  # each shortened list gets a "… and N more"

    while count() > limit:
        remaining = {name: kept for name, kept in items.items() if kept}
        if not remaining:
            break
        name = max(remaining, key=lambda n: len(remaining[n]))
        last = list(remaining[name])[-1]
        removed.update(remaining[name].pop(last))
        dropped[name] = dropped.get(name, 0) + 1
        fitted.items_dropped += 1
    kept = _with_more_lines(blocks, removed, dropped, lambda name, n: wording.more(n, where.get(name)))
    if len(kept) > limit:
        kept = _drop_unmarked(kept, limit, wording, fitted)
    for block in kept:
        if isinstance(block, dict):
            block.pop(ITEM_KEY, None)
            block.pop(WHOLE_AT_KEY, None)
    return kept


def _with_more_lines(
    blocks: list[Any], removed: set[int], dropped: dict[str, int], more: Callable[[str, int], str]
) -> list[Any]:
    """The kept blocks, with one "… and N more" line where each shortened list's dropped items were."""
    last_of_list: dict[str, int] = {}
    for index, block in enumerate(blocks):
        mark = block.get(ITEM_KEY) if isinstance(block, dict) else None
        if isinstance(mark, str) and (mark.rpartition(":")[0] or mark) in dropped:
            name = mark.rpartition(":")[0] or mark
            if index not in removed or name not in last_of_list:
                last_of_list[name] = index
    after = {index: name for name, index in last_of_list.items()}
    kept: list[Any] = []
    for index, block in enumerate(blocks):
        if index not in removed:
            kept.append(block)
        if index in after:
            kept.append(_more_line(more(after[index], dropped[after[index]])))
    return kept


def _drop_unmarked(blocks: list[Any], limit: int, wording: Wording, fitted: Fitted) -> list[Any]:
    """Last resort, for blocks no template marked: drop from the end of the body, keeping the first
    block (a header, a title) and a closing actions or context block."""
    footer = (
        blocks[-1:]
        if isinstance(blocks[-1], dict) and blocks[-1].get("type") in ("actions", "context")
        else []
    )
    body = blocks[: len(blocks) - len(footer)]
    keep = max(1, limit - len(footer) - 1)
    fitted.blocks_dropped += len(body) - keep
    return [*body[:keep], _more_line(wording.more(len(body) - keep, None)), *footer]


def _more_line(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
