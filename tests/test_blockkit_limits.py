"""Whatever people type and however long the lists grow, Slack accepts every message and view Samen renders.

Every template renders its sample context (tests/test_templates.py and tests/template_samples_*.py) with
each typed field at the longest any of Samen's inputs accepts (3,000 characters: the signal's details;
every other field's cap is lower) and full of `&<>` and multi-byte text, and every list of people's
things at 120 items, more than a Home tab may show. Each result must pass slack_sdk's own models and the
Slack double's limit checks (tests/slackdouble/blockkit.py): fitting it (bot/blockkit_limits.py) is
what makes it pass.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markupsafe import Markup
from slack_sdk.models.blocks import (
    ButtonElement,
    HeaderBlock,
    InputBlock,
    Option,
    SectionBlock,
)
from slack_sdk.models.blocks.basic_components import ConfirmObject, OptionGroup
from slack_sdk.models.blocks.block_elements import InputInteractiveElement, InteractiveElement
from slack_sdk.models.views import View
from test_templates import ALL_SAMPLES, HOSTILE, TEMPLATES

from bot import blockkit_limits as limits
from bot import mrkdwn
from bot.checkins.service import MAX_QUESTIONS
from bot.render import Renderer
from bot.slack.interaction import Actor
from slackdouble import blockkit as double

INPUT_CAP = 3_000  # the longest input a person can fill: signal_modal's details (max_length 3000)
LONGEST_LIST = 120
# Lists the domain itself keeps short: no longer than it allows.
LONGEST_BY_FIELD = {"questions": MAX_QUESTIONS, "answers": MAX_QUESTIONS}
LANGUAGES = ("nl", "en")
# Characters that grow when escaped (&amp; is 5 for 1), that Slack reads as markup, multi-byte ones,
# an emoji made of several code points, and mrkdwn's formatting characters.
PIECES = [
    "&",
    "<",
    ">",
    "<!channel>",
    "<@U0BAD>",
    "ë",
    "€",
    "😀",
    "👩\u200d👩\u200d👧",
    "*",
    "_",
    "`",
    "\n",
    '"',
    "\\",
    " ",
    "a",
]

tally: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report_figures() -> Iterator[None]:
    yield
    print(  # the figures the closing note of issue 15 asks for (shown with `pytest -s`)
        f"\nBlock Kit limits: {tally['renders']} renders validated "
        f"({len(TEMPLATES)} templates × {len(LANGUAGES)} languages), {tally['violations']} violations, "
        f"{tally['shortened']} texts shortened, {tally['dropped']} list items dropped"
    )


def capped(pattern: str) -> str:
    """A typed text as long as an input allows, made of `pattern` repeated."""
    return (pattern * (INPUT_CAP // len(pattern) + 1))[:INPUT_CAP]


def stretched(value: Any, text: str, longest: int = LONGEST_LIST) -> Any:
    """The sample context with `text` in every typed field and every list of people's things at its longest.

    Only what holds typed text grows: a list of words Samen chose itself (steps, kinds) stays as it is.
    Each copy of a list item gets its own ids, as real items have (block_id, button values)."""
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return value.replace(HOSTILE, text)
    if isinstance(value, list):
        items = [stretched(item, text) for item in value]
        if not any(_holds_typed_text(item) for item in value):
            return items
        copies = range(max(0, longest - len(value)))
        return items + [stretched(_renumbered(value[n % len(value)], n + 1000), text) for n in copies]
    if isinstance(value, tuple):
        items = [stretched(item, text) for item in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, dict):
        return {key: stretched(item, text, _longest(key)) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: stretched(getattr(value, f.name), text, _longest(f.name))
            for f in dataclasses.fields(value)
            if f.init
        }
        return dataclasses.replace(value, **changes)
    return value


def _longest(field: Any) -> int:
    return LONGEST_BY_FIELD.get(field, LONGEST_LIST) if isinstance(field, str) else LONGEST_LIST


def _holds_typed_text(value: Any) -> bool:
    if isinstance(value, str):
        return HOSTILE in value
    if isinstance(value, list | tuple):
        return any(_holds_typed_text(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_typed_text(item) for item in value.values())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(_holds_typed_text(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False


def _renumbered(value: Any, number: int) -> Any:
    """A copy of a list item with its own ids and codes, also in what it holds (an intervention's card)."""
    if isinstance(value, dict):
        return {key: _renumbered(_new_id(key, item, number), number) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _renumbered(_new_id(f.name, getattr(value, f.name), number), number)
            for f in dataclasses.fields(value)
            if f.init
        }
        return dataclasses.replace(value, **changes)
    return value


def _new_id(key: str, value: Any, number: int) -> Any:
    if (key == "id" or key.endswith("_id")) and isinstance(value, int) and not isinstance(value, bool):
        return number
    if key == "code" and isinstance(value, str):
        return f"{value}-{number}"
    return value


def rendered_surfaces(name: str, language: str, text: str) -> list[tuple[Any, limits.Fitted]]:
    """What Slack receives from a template: a message or view, or for a Home section the Home view."""
    context, _ = ALL_SAMPLES[name]
    renderer = Renderer()
    payload, fitted = renderer.render_fitted(name, language, **stretched(context, text))
    if "type" in payload or "text" in payload:
        return [(payload, fitted)]
    home, home_fitted = renderer.render_fitted(
        "home.json.j2", language, actor=Actor("T0", "U0HOME"), sections=payload["blocks"]
    )
    return [(home, home_fitted)]


def violations(payload: Any) -> list[str]:
    """What Slack would refuse: slack_sdk's validation, the double's limit checks, and ours."""
    problems: list[str] = []
    if payload.get("type") in limits.VIEW_TYPES:
        problems += double.check_view(payload, "views.update")
        try:
            View(**json.loads(json.dumps(payload))).validate_json()
        except Exception as error:
            problems.append(f"slack_sdk: {error}")
    else:
        problems += double.check_message_blocks(payload.get("blocks"))
        problems += double.check_message_text(payload.get("text"))
        if len(payload.get("text", "")) > limits.MESSAGE_TEXT_MAX:
            problems.append(f"text: {len(payload['text'])} characters")
    for where, mrkdwn_text in mrkdwn_texts(payload):
        problems += split_markup(where, mrkdwn_text)
    return problems


def mrkdwn_texts(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
            yield where, value["text"]
        for key, item in value.items():
            yield from mrkdwn_texts(item, f"{where}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from mrkdwn_texts(item, f"{where}/{index}")


def split_markup(where: str, text: str) -> list[str]:
    """An entity or a Slack link cut in half shows garbage or breaks the message's markup."""
    outside = re.sub(r"<[@#!][^<>]*>|<https?://[^<>]*>", "", re.sub(r"&(amp|lt|gt);", "", text))
    return [f"{where}: a split entity or link in {text[-60:]!r}"] if re.search(r"[&<>]", outside) else []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", TEMPLATES)
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=st.lists(st.sampled_from(PIECES), min_size=1, max_size=40).map("".join))
@example(pattern="&")  # the most growth: every character becomes five
@example(pattern="<")
@example(pattern="👩\u200d👩\u200d👧 ")
def test_every_template_fits_slacks_limits_with_every_field_full(
    name: str, language: str, pattern: str
) -> None:
    for payload, fitted in rendered_surfaces(name, language, capped(pattern)):
        problems = violations(payload)
        tally["renders"] += 1
        tally["violations"] += len(problems)
        tally["shortened"] += fitted.texts_shortened
        tally["dropped"] += fitted.items_dropped
        tally["unmarked"] += fitted.blocks_dropped
        assert problems == [], f"{name} ({language}) is refused by Slack: {problems[:5]}"
        assert "fit_item" not in json.dumps(payload)
        assert fitted.blocks_dropped == 0, (
            f"{name}: blocks of a list no template marked with fit_item were dropped"
        )


def test_the_limits_are_slacks_as_slack_sdk_knows_them() -> None:
    assert SectionBlock.text_max_length == limits.TEXT_MAX
    assert HeaderBlock.text_max_length == limits.HEADER_MAX
    assert ButtonElement.text_max_length == limits.BUTTON_TEXT_MAX
    assert ButtonElement.value_max_length == limits.BUTTON_VALUE_MAX
    assert ButtonElement.url_max_length == limits.URL_MAX
    assert limits.OPTION_TEXT_MAX == Option.label_max_length == OptionGroup.label_max_length
    assert Option.value_max_length == limits.OPTION_VALUE_MAX
    assert InputBlock.label_max_length == limits.INPUT_LABEL_MAX
    assert InputBlock.hint_max_length == limits.INPUT_HINT_MAX
    assert InputInteractiveElement.placeholder_max_length == limits.PLACEHOLDER_MAX
    assert InteractiveElement.action_id_max_length == limits.ACTION_ID_MAX
    assert SectionBlock.block_id_max_length == limits.BLOCK_ID_MAX
    assert ConfirmObject.title_max_length == limits.CONFIRM_TITLE_MAX
    assert ConfirmObject.text_max_length == limits.CONFIRM_TEXT_MAX
    assert limits.CONFIRM_BUTTON_MAX == ConfirmObject.confirm_max_length == ConfirmObject.deny_max_length
    assert View.blocks_max_length == limits.VIEW_MAX_BLOCKS
    assert View.title_max_length == limits.MODAL_TITLE_MAX
    assert limits.MODAL_BUTTON_MAX == View.submit_max_length == View.close_max_length
    assert View.private_metadata_max_length == limits.PRIVATE_METADATA_MAX
    assert View.callback_id_max_length == limits.CALLBACK_ID_MAX
    # Not in slack_sdk's models: the double keeps them from Slack's reference.
    assert limits.MESSAGE_MAX_BLOCKS == double.MESSAGE_MAX_BLOCKS
    assert limits.FIELD_MAX == double.SECTION_FIELD_MAX
    assert limits.OPTION_VALUE_MAX == double.OPTION_VALUE_MAX
    assert limits.EXTERNAL_ID_MAX == double.EXTERNAL_ID_MAX


def _sample(name: str) -> dict[str, Any]:
    return dict(ALL_SAMPLES[name][0])


def test_a_signal_with_full_details_and_six_identities_fits_and_says_it_was_shortened() -> None:
    detail = _sample("signal_detail.json.j2")["signal"]
    identities = {f"S-2026-00{n}": "Jansen & Zn <Holding> B.V. " * 12 for n in range(40, 46)}
    signal = dataclasses.replace(detail, details="&" * 3_000, identities=identities)
    message = Renderer().render("signal_detail.json.j2", "nl", signal=signal)
    restricted = message["blocks"][2]["text"]["text"]
    assert len(restricted) <= limits.TEXT_MAX
    assert restricted.endswith("… — ingekort: te lang voor Slack")
    assert violations(message) == []


def test_escaped_ampersands_in_every_field_of_an_intervention_card_still_fit() -> None:
    context = stretched(_sample("intervention_card.json.j2"), "&" * 1_400)
    message = Renderer().render("intervention_card.json.j2", "en", **context)
    assert violations(message) == []
    assert all(len(b["text"]["text"]) <= limits.TEXT_MAX for b in message["blocks"] if b["type"] == "section")


def test_a_long_list_loses_whole_items_and_says_how_many_and_where_to_look() -> None:
    card = _sample("signal_registered.json.j2")
    matches = [dataclasses.replace(card["matches"][0], code=f"S-2026-{n:04}") for n in range(80)]
    message = Renderer().render("signal_registered.json.j2", "nl", **{**card, "matches": matches})
    assert len(message["blocks"]) == limits.MESSAGE_MAX_BLOCKS
    assert message["blocks"][0]["text"]["text"].startswith("*Signaal")  # the heading stays
    assert message["blocks"][-1]["type"] == "context"  # and so does the closing line
    more = message["blocks"][-2]["elements"][0]["text"]
    shown = sum("S-2026-" in json.dumps(block) for block in message["blocks"][1:-2])
    assert more == f"… en nog {80 - shown}; zie `/samen signalen {card['signal'].id}`"
    assert violations(message) == []


def test_one_item_too_many_is_counted_in_the_singular_in_english() -> None:
    renderer = Renderer()
    assert renderer.wording("en", None).more(1, None) == "… and 1 more, not shown: too many for Slack"
    assert renderer.wording("en", "`/samen mijn`").more(7, None) == "… and 7 more; see `/samen mijn`"


def test_data_slack_hands_back_is_never_cut_but_refused_by_name() -> None:
    secret = "Fatima's address " * 200
    with pytest.raises(limits.DataTooLong) as refused:
        limits.fit(
            {"type": "modal", "private_metadata": secret, "blocks": []}, Renderer().wording("nl", None)
        )
    assert "view/private_metadata is 3400 characters" in str(refused.value)
    assert "Fatima" not in str(refused.value)


@given(
    words=st.lists(
        st.sampled_from(
            ["&amp;", "&lt;", "&gt;", "<@U0ANNE>", "<#C0CHAN>", "<https://x.nl|a b>", "ë", "`", " "]
        )
    )
)
def test_shortening_never_splits_an_entity_a_mention_or_a_link(words: list[str]) -> None:
    text = "".join(words)
    for limit in (5, 17, 40):
        short = mrkdwn.shorten(text, limit, " — ingekort")
        assert len(short) <= limit
        assert split_markup("text", short) == []
        assert short == text or short.endswith("…") or short.endswith("… — ingekort")
