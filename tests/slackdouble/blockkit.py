"""Block Kit checks: slack_sdk's own validators, plus the limits the SDK does not check.

`slack_sdk.models` validates only when a model object's `to_dict()` runs, and a bot that builds
blocks as plain dicts (as templates do) never runs it. So every `blocks` list and every `view` the
double receives is parsed into the SDK's models and rendered back, which runs the SDK's validators.
Rendering also shows what the SDK *drops*: a key it does not know, or a bare string where Block Kit
wants a text object. Slack rejects both, so both are reported.

The limits below are checked here as well, even where the SDK happens to check the same limit:
a check the double owns cannot disappear with an SDK upgrade.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MESSAGE_MAX_BLOCKS: Final = 50
VIEW_MAX_BLOCKS: Final = 100
MESSAGE_TEXT_MAX: Final = 40_000
SECTION_TEXT_MAX: Final = 3_000
SECTION_FIELD_MAX: Final = 2_000
HEADER_TEXT_MAX: Final = 150
BUTTON_TEXT_MAX: Final = 75
BUTTON_VALUE_MAX: Final = 2_000
OPTION_TEXT_MAX: Final = 75
OPTION_VALUE_MAX: Final = 150
MODAL_TITLE_MAX: Final = 24
MODAL_BUTTON_MAX: Final = 24  # submit and close
PRIVATE_METADATA_MAX: Final = 3_000
CALLBACK_ID_MAX: Final = 255
EXTERNAL_ID_MAX: Final = 255
BLOCK_ID_MAX: Final = 255
ACTION_ID_MAX: Final = 255

# Which kind of view each views.* method may carry. views.update may replace a modal or a Home tab.
VIEW_TYPES_BY_METHOD: Final[dict[str, frozenset[str]]] = {
    "views.open": frozenset({"modal"}),
    "views.push": frozenset({"modal"}),
    "views.update": frozenset({"modal", "home"}),
    "views.publish": frozenset({"home"}),
}


def _text(value: Any) -> str | None:
    """The characters of a text object (or of a bare string, which is reported elsewhere)."""
    if isinstance(value, dict):
        text = value.get("text")
        return text if isinstance(text, str) else None
    if isinstance(value, str):
        return value
    return None


def _too_long(value: Any, limit: int, what: str, path: str) -> list[str]:
    text = _text(value)
    if text is not None and len(text) > limit:
        return [f"{path}: {what} is {len(text)} characters; Slack allows {limit}"]
    return []


def _check_options(options: Any, path: str) -> list[str]:
    problems: list[str] = []
    if not isinstance(options, list):
        return problems
    for index, option in enumerate(options):
        if not isinstance(option, dict):
            continue
        where = f"{path}/{index}"
        problems += _too_long(option.get("text"), OPTION_TEXT_MAX, "option text", where)
        problems += _too_long(option.get("value"), OPTION_VALUE_MAX, "option value", where)
        problems += _too_long(option.get("description"), OPTION_TEXT_MAX, "option description", where)
    return problems


def _check_element(element: Any, path: str) -> list[str]:
    """Limits of one interactive element (button, select, input, ...)."""
    if not isinstance(element, dict):
        return []
    problems = _too_long(element.get("action_id"), ACTION_ID_MAX, "action_id", path)
    if element.get("type") == "button":
        problems += _too_long(element.get("text"), BUTTON_TEXT_MAX, "button text", path)
        problems += _too_long(element.get("value"), BUTTON_VALUE_MAX, "button value", path)
    problems += _check_options(element.get("options"), f"{path}/options")
    problems += _check_options(element.get("initial_options"), f"{path}/initial_options")
    initial = element.get("initial_option")
    if isinstance(initial, dict):
        problems += _check_options([initial], f"{path}/initial_option")
    groups = element.get("option_groups")
    if isinstance(groups, list):
        for index, group in enumerate(groups):
            if isinstance(group, dict):
                problems += _check_options(group.get("options"), f"{path}/option_groups/{index}/options")
    return problems


def _check_block_limits(block: dict[str, Any], path: str) -> list[str]:
    """The limits of one block that the double checks itself."""
    problems = _too_long(block.get("block_id"), BLOCK_ID_MAX, "block_id", path)
    kind = block.get("type")
    if kind == "section":
        problems += _too_long(block.get("text"), SECTION_TEXT_MAX, "section text", f"{path}/text")
        fields = block.get("fields")
        if isinstance(fields, list):
            for index, field in enumerate(fields):
                problems += _too_long(field, SECTION_FIELD_MAX, "section field", f"{path}/fields/{index}")
        problems += _check_element(block.get("accessory"), f"{path}/accessory")
    elif kind == "header":
        problems += _too_long(block.get("text"), HEADER_TEXT_MAX, "header text", f"{path}/text")
    elif kind == "actions":
        elements = block.get("elements")
        if isinstance(elements, list):
            for index, element in enumerate(elements):
                problems += _check_element(element, f"{path}/elements/{index}")
    elif kind == "input":
        problems += _check_element(block.get("element"), f"{path}/element")
    return problems


def _lost_in_rendering(original: Any, rendered: Any, path: str) -> list[str]:
    """What the SDK could not represent: keys it dropped, strings it had to wrap in objects."""
    if isinstance(original, dict):
        if not isinstance(rendered, dict):
            return [f"{path}: slack_sdk could not read this object"]
        problems: list[str] = []
        for key, value in original.items():
            if key not in rendered:
                if value is not None:
                    problems.append(f"{path}/{key}: unknown field (Slack rejects fields Block Kit lacks)")
            else:
                problems += _lost_in_rendering(value, rendered[key], f"{path}/{key}")
        return problems
    if isinstance(original, list):
        if not isinstance(rendered, list) or len(rendered) != len(original):
            return [f"{path}: slack_sdk could not read every item of this list"]
        problems = []
        for index, (item, rendered_item) in enumerate(zip(original, rendered, strict=True)):
            problems += _lost_in_rendering(item, rendered_item, f"{path}/{index}")
        return problems
    if isinstance(original, str) and isinstance(rendered, dict):
        return [f"{path}: a bare string where Block Kit wants a text object {{'type': ..., 'text': ...}}"]
    return []


def _sdk_block_problems(block: dict[str, Any], path: str) -> list[str]:
    try:
        # Deep-copied: the SDK's constructors may keep references into (and mutate) what they get.
        parsed = Block.parse(copy.deepcopy(block))
        if parsed is None:
            return [f"{path}: unknown block type {block.get('type')!r}"]
        rendered = parsed.to_dict()
    except Exception as error:
        return [f"{path}: slack_sdk rejects this block: {type(error).__name__}: {error}"]
    return _lost_in_rendering(block, rendered, path)


def _check_blocks(blocks: list[Any], path: str) -> list[str]:
    problems: list[str] = []
    seen_block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"{path}/{index}"
        if not isinstance(block, dict):
            problems.append(f"{where}: a block must be an object, got {type(block).__name__}")
            continue
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in seen_block_ids:
                problems.append(f"{where}: duplicate block_id {block_id!r}")
            seen_block_ids.add(block_id)
        problems += _check_block_limits(block, where)
        problems += _sdk_block_problems(block, where)
    return problems


def check_message_blocks(blocks: Any, where: str = "blocks") -> list[str]:
    """Problems with a message's `blocks` (chat.*, response_url bodies)."""
    if blocks is None:
        return []
    if not isinstance(blocks, list):
        return [f"{where}: must be a list of blocks (or its JSON), got {type(blocks).__name__}"]
    problems: list[str] = []
    if len(blocks) > MESSAGE_MAX_BLOCKS:
        problems.append(f"{where}: {len(blocks)} blocks; a message may have {MESSAGE_MAX_BLOCKS}")
    return problems + _check_blocks(blocks, f"/{where}")


def check_message_text(text: Any) -> list[str]:
    """Top-level `text` of a message: Slack answers msg_too_long above 40,000 characters."""
    if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
        return [f"text: {len(text)} characters; a message may have {MESSAGE_TEXT_MAX}"]
    return []


def check_view(view: Any, method: str) -> list[str]:
    """Problems with a `view` sent to views.open/push/update/publish."""
    if not isinstance(view, dict):
        return [f"view: must be an object (or its JSON), got {type(view).__name__}"]
    problems: list[str] = []
    kind = view.get("type")
    allowed = VIEW_TYPES_BY_METHOD.get(method, frozenset({"modal", "home"}))
    if kind not in allowed:
        problems.append(
            f"view/type: {kind!r} cannot be sent with {method} (allowed: {', '.join(sorted(allowed))})"
        )
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        problems.append("view/blocks: a view needs a list of blocks")
        blocks = []
    elif len(blocks) > VIEW_MAX_BLOCKS:
        problems.append(f"view/blocks: {len(blocks)} blocks; a modal or Home tab may have {VIEW_MAX_BLOCKS}")
    if kind == "modal":
        if view.get("title") is None:
            problems.append("view/title: a modal needs a title")
        problems += _too_long(view.get("title"), MODAL_TITLE_MAX, "modal title", "view/title")
        problems += _too_long(view.get("submit"), MODAL_BUTTON_MAX, "modal submit text", "view/submit")
        problems += _too_long(view.get("close"), MODAL_BUTTON_MAX, "modal close text", "view/close")
        has_input = any(isinstance(block, dict) and block.get("type") == "input" for block in blocks)
        if has_input and view.get("submit") is None:
            problems.append("view/submit: a modal with input blocks needs a submit button")
    elif kind == "home" and (view.get("submit") is not None or view.get("close") is not None):
        problems.append("view: a Home tab cannot have submit or close")
    problems += _too_long(
        view.get("private_metadata"), PRIVATE_METADATA_MAX, "private_metadata", "view/private_metadata"
    )
    problems += _too_long(view.get("callback_id"), CALLBACK_ID_MAX, "callback_id", "view/callback_id")
    problems += _too_long(view.get("external_id"), EXTERNAL_ID_MAX, "external_id", "view/external_id")
    problems += _check_blocks(blocks, "/view/blocks")
    try:
        rendered = View(**copy.deepcopy(view)).to_dict()
    except Exception as error:
        problems.append(f"view: slack_sdk rejects this view: {type(error).__name__}: {error}")
    else:
        # Blocks were checked one by one above (with clearer paths); compare the rest here.
        outer = {key: value for key, value in view.items() if key != "blocks"}
        problems += _lost_in_rendering(outer, rendered, "/view")
    return problems
