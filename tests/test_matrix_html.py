"""bot/matrix/html.py: what a template renders for Slack, as a Matrix message people read in Element.

Real templates, rendered in Dutch by bot.render.Renderer, with Matrix ids where Slack ids stood; hostile
text goes in through the templates' own escaping (bot.mrkdwn.escape), as a person's text does.
"""

from __future__ import annotations

import copy
import json
from html.parser import HTMLParser
from typing import Any

import pytest
from test_templates import ALL_SAMPLES, TEMPLATES

from bot import mrkdwn
from bot.matrix.html import CHOICES_KEY, Choice, choices_of, html_text, message_content, plain_text
from bot.render import Renderer

KARIN = "@karin:example.nl"
JAN = "@jan:politie.nl"
BOARD = ALL_SAMPLES["rugdekking_board.json.j2"][0]
ALERT = BOARD["alert"]
ROOM = "!partnership:example.nl"
HOSTILE = (
    "<script>alert(1)</script> <a href=javascript:alert(1)>x</a> <img src=x onerror=alert(1)> "
    '"quoted" *bold _it ~st `co &amp;lt; &lt;!channel&gt; <!channel> @room '
    "<https://evil.example|gemeente.nl> "
    f"<@{KARIN}> <#{ROOM}> ```"
)

# The Matrix spec's tags that clients render (client-server API, m.room.message formatted_body); only the
# ones this module writes, with the attributes it writes.
ALLOWED: dict[str, set[str]] = {
    "h4": set(),
    "p": set(),
    "br": set(),
    "strong": set(),
    "em": set(),
    "del": set(),
    "code": set(),
    "pre": set(),
    "blockquote": set(),
    "ol": {"start"},
    "ul": set(),
    "li": set(),
    "a": {"href"},
    "hr": set(),
    "font": {"data-mx-color"},
}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in ("br", "hr"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open}"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(formatted_body: str) -> _Tags:
    """The HTML, checked: well nested, only allowed tags and attributes, links only to safe places."""
    tags = _Tags()
    tags.feed(formatted_body)
    tags.close()
    assert tags.open == [], f"unclosed {tags.open}"
    for tag, attrs in tags.tags:
        assert tag in ALLOWED, f"<{tag}> is not a tag Samen writes"
        assert set(attrs) <= ALLOWED[tag], f"<{tag} {attrs}>"
        href = attrs.get("href")
        if href is not None:
            assert href.startswith(("https://", "http://", "mailto:", "tel:")), href
    return tags


def render(name: str, **context: Any) -> dict[str, Any]:
    return Renderer().render(name, "nl", **context)


def rendered_sample(name: str) -> dict[str, Any]:
    context, _shows_hostile = ALL_SAMPLES[name]
    return render(name, **copy.deepcopy(context))


# --- mrkdwn → HTML and plain text -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mrkdwn_text", "html", "plain"),
    [
        (
            "*vet* en _schuin_ en ~weg~",
            "<strong>vet</strong> en <em>schuin</em> en <del>weg</del>",
            "vet en schuin en weg",
        ),
        ("*_beide_*", "<strong><em>beide</em></strong>", "beide"),
        ("`/samen help &lt;term&gt;`", "<code>/samen help &lt;term&gt;</code>", "`/samen help <term>`"),
        ("een\ntwee", "een<br>twee", "een\ntwee"),
        ("```regel *1*\nregel 2```", "<pre><code>regel *1*\nregel 2</code></pre>", "regel *1*\nregel 2"),
        ("&gt; geciteerd\nnormaal", "<blockquote>geciteerd</blockquote>normaal", "> geciteerd\nnormaal"),
        (
            "<https://example.nl/a?b=1&amp;c=2|de site>",
            '<a href="https://example.nl/a?b=1&amp;c=2">de site</a>',
            "de site (https://example.nl/a?b=1&c=2)",
        ),
        ("<https://example.nl>", '<a href="https://example.nl">https://example.nl</a>', "https://example.nl"),
        ("<mailto:a@b.nl|mail>", '<a href="mailto:a@b.nl">mail</a>', "mail (mailto:a@b.nl)"),
        (f"<@{KARIN}>", f'<a href="https://matrix.to/#/{KARIN}">{KARIN}</a>', KARIN),
        ("<@U0SLACK01>", "@U0SLACK01", "@U0SLACK01"),
        (f"<#{ROOM}>", f'<a href="https://matrix.to/#/{ROOM}">{ROOM}</a>', ROOM),
        ("<#!opaque12>", '<a href="https://matrix.to/#/!opaque12">!opaque12</a>', "!opaque12"),
        ("<!here> <!channel> <!everyone>", "@here @channel @everyone", "@here @channel @everyone"),
        ("<!date^1700000000^{date}|14 nov>", "14 nov", "14 nov"),
        ("<ftp://x.nl|bestand>", "&lt;ftp://x.nl|bestand&gt;", "<ftp://x.nl|bestand>"),
        ("&amp;lt;b&amp;gt; &amp;amp;", "&amp;lt;b&amp;gt; &amp;amp;", "&lt;b&gt; &amp;"),
        (":white_check_mark: :warning: :onbekend:", "✅ ⚠️ :onbekend:", "✅ ⚠️ :onbekend:"),
        ("snake_case_naam en 2*3*4", "snake_case_naam en 2*3*4", "snake_case_naam en 2*3*4"),
        ("*niet dicht en _ook niet", "*niet dicht en _ook niet", "*niet dicht en _ook niet"),
        ("* los * en ** leeg", "* los * en ** leeg", "* los * en ** leeg"),
        ("`open code en *open vet", "`open code en *open vet", "`open code en *open vet"),
        ("```open pre\nen meer", "```open pre<br>en meer", "```open pre\nen meer"),
        ("`code` en `meer` `", "<code>code</code> en <code>meer</code> `", "`code` en `meer` `"),
        (f"*<@{KARIN}>*", f'<strong><a href="https://matrix.to/#/{KARIN}">{KARIN}</a></strong>', KARIN),
        (f"`<@{KARIN}>`", f"<code>{KARIN}</code>", f"`{KARIN}`"),
    ],
)
def test_mrkdwn_becomes_matrix_html_and_a_plain_text(mrkdwn_text: str, html: str, plain: str) -> None:
    assert html_text(mrkdwn_text) == html
    assert plain_text(mrkdwn_text) == plain
    parsed(html_text(mrkdwn_text))


@pytest.mark.parametrize(
    "typed",
    [
        "<script>alert(1)</script>",
        "<a href=javascript:alert(1)>klik</a>",
        '<a href="https://x" onclick="y">',
        "<https://evil.example|gemeente.nl> <javascript:alert(1)|klik>",
        "<!channel> @room <!here|@room>",
        f"<@{KARIN}> <#{ROOM}>",
        "*_~`",
        "&amp;lt;script&amp;gt;",
        "&lt;b&gt;",
        "\"'<>&",
    ],
)
def test_nothing_a_person_typed_becomes_markup(typed: str) -> None:
    escaped = str(mrkdwn.escape(typed))
    html = html_text(escaped)
    tags = parsed(html)
    assert [tag for tag, _attrs in tags.tags] == [], html
    assert "".join(tags.text) == typed  # what Element shows is exactly what was typed
    assert plain_text(escaped) == typed


def test_deep_and_long_hostile_markers_stay_text_and_fast() -> None:
    nested = "*_~" * 2_000 + "x" + "~_*" * 2_000
    parsed(html_text(nested))
    assert plain_text("*a " * 3_000).startswith("*a *a")
    parsed(html_text("`" * 5_001 + "```" * 1_001 + "&gt; " * 500))


# --- real templates -----------------------------------------------------------------------------------


def test_help_is_a_header_the_commands_and_a_small_note() -> None:
    content = message_content(rendered_sample("help.json.j2"))
    assert content["msgtype"] == "m.text"
    assert content["format"] == "org.matrix.custom.html"
    html = content["formatted_body"]
    tags = parsed(html)
    assert html.startswith("<h4>Wat Samen kan</h4>")
    assert "<code>!samen help" in html  # what people type on Matrix
    assert '<font data-mx-color="#6F7882">' in html  # the context block: small print
    assert content["body"].startswith("Wat Samen kan\nSamen helpt de partners")
    # The sample's hostile summary (Slack markup typed by a person) is shown, never live.
    assert "<!channel>" in "".join(tags.text) and "<!channel>" in content["body"]
    assert [attrs for tag, attrs in tags.tags if tag == "a"] == []
    assert CHOICES_KEY not in content
    assert content["m.mentions"] == {}


def _alert(**changes: Any) -> dict[str, Any]:
    alert = {**ALERT, "reporter": KARIN, "partner": "Gemeente Utrecht", **changes}
    return alert


def test_the_backup_alert_board_numbers_its_buttons_and_the_first_primary_is_the_acknowledgement() -> None:
    board = copy.deepcopy(BOARD)
    board["alert"] = _alert()
    board["partners"][0].update(name="Politie Midden-Nederland", acknowledged_by=JAN)
    content = message_content(render("rugdekking_board.json.j2", **board))
    tags = parsed(content["formatted_body"])
    assert content["formatted_body"].startswith("<h4>🚨 OEFENING · Rugdekking RD-12</h4>")
    # The reporter and who acknowledged are pills, and mentioned: Element shows them as people.
    links = [attrs["href"] for tag, attrs in tags.tags if tag == "a"]
    assert links == [f"https://matrix.to/#/{KARIN}", f"https://matrix.to/#/{JAN}"]
    assert content["m.mentions"] == {"user_ids": [KARIN, JAN]}
    assert f"{KARIN} van Gemeente Utrecht vraagt alle partners om rugdekking." in content["body"]
    assert "<ol><li>Ontvangen</li><li>Wij komen in actie</li>" in content["formatted_body"]
    assert "\n1. Ontvangen\n2. Wij komen in actie\n3. Details bekijken\n4. Afsluiten" in content["body"]

    choices = choices_of(content)
    assert [(c.number, c.label, c.action_id, c.value, c.primary) for c in choices] == [
        (1, "Ontvangen", "rugdekking_ack", "12", True),
        (2, "Wij komen in actie", "rugdekking_act", "12", False),
        (3, "Details bekijken", "rugdekking_details", "12", False),
        (4, "Afsluiten", "rugdekking_close", "12", False),
    ]
    assert {c.block_id for c in choices} == {"rugdekking_board_12"}
    assert content[CHOICES_KEY][0] == {
        "number": 1,
        "label": "Ontvangen",
        "action_id": "rugdekking_ack",
        "block_id": "rugdekking_board_12",
        "value": "12",
        "primary": True,
    }


def test_a_partner_room_alert_once_acknowledged_has_no_acknowledge_choice() -> None:
    context = copy.deepcopy(ALL_SAMPLES["rugdekking_alert.json.j2"][0])
    context.update(alert=_alert(), partner="Gemeente Utrecht", acknowledged_by=JAN)
    content = message_content(render("rugdekking_alert.json.j2", **context))
    parsed(content["formatted_body"])
    assert [c.action_id for c in choices_of(content)] == ["rugdekking_act", "rugdekking_details"]
    assert not any(c.primary for c in choices_of(content))  # so ✅ chooses nothing here
    assert JAN in content["m.mentions"]["user_ids"]
    assert "Direct gevaar: bel 112." in content["body"]


def test_a_signal_card_keeps_a_persons_text_inert_and_offers_weighing() -> None:
    context = copy.deepcopy(ALL_SAMPLES["signal_message.json.j2"][0])
    context["signal"].update(summary=HOSTILE, partner="Belastingdienst", location="Utrecht-Noord")
    rendered = render("signal_message.json.j2", **context)
    content = message_content(rendered)
    html = content["formatted_body"]
    tags = parsed(html)
    shown = "".join(tags.text)
    # What the person typed is shown as text; their backticks may make code, as on Slack, nothing more.
    typed = ("<script>alert(1)</script> <a href=javascript:alert(1)>x</a>", "<!channel> @room", f"<@{KARIN}>")
    for piece in typed:
        assert piece in shown and piece in content["body"]
    assert {tag for tag, _attrs in tags.tags} <= {
        "p",
        "br",
        "strong",
        "em",
        "del",
        "code",
        "font",
        "ol",
        "li",
    }
    assert "<script" not in html and "javascript:" not in "".join(str(a) for _t, a in tags.tags)
    assert content["m.mentions"] == {}  # a typed mention or @room pings no one
    assert [(c.number, c.label, c.action_id, c.value) for c in choices_of(content)] == [
        (1, "Signaal wegen", "signal_weigh", "12")
    ]
    assert content["body"].startswith("Signaal 12 · Belastingdienst · Vastgoed\n")


def test_a_forms_info_modal_is_its_title_and_its_blocks() -> None:
    modal = render(
        "info_modal.json.j2",
        title="Signaal 12",
        blocks=[
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*Opgeslagen.* Bekijk het met `!samen signalen 12`."},
            }
        ],
    )
    assert modal["type"] == "modal"
    content = message_content(modal)
    assert content["formatted_body"] == (
        "<h4>Signaal 12</h4>"
        "<p><strong>Opgeslagen.</strong> Bekijk het met <code>!samen signalen 12</code>.</p>"
    )
    assert content["body"] == "Signaal 12\nOpgeslagen. Bekijk het met `!samen signalen 12`."


def test_a_form_shows_its_questions_only() -> None:
    content = message_content(rendered_sample("signal_modal.json.j2"))
    parsed(content["formatted_body"])
    assert content["body"].startswith("Signaal registreren\nWat zag je? (samenvatting)\nCategorie\n")
    assert CHOICES_KEY not in content


def test_a_menu_is_a_list_of_its_own_led_by_its_placeholder() -> None:
    content = message_content(rendered_sample("case_detail.json.j2"))
    parsed(content["formatted_body"])
    assert (
        "<p>Sluit aan met…</p><ol><li>Slagkracht</li><li>Informatiepositie</li></ol>"
        in (content["formatted_body"])
    )
    assert '<ol start="3"><li>Casus scoren</li></ol>' in content["formatted_body"]
    choices = choices_of(content)
    assert [(c.number, c.action_id, c.value) for c in choices[:2]] == [
        (1, "case_join", "3:SLAGKRACHT"),
        (2, "case_join", "3:INFORMATIEPOSITIE"),
    ]
    assert choices[2].number == 3 and choices[2].action_id != "case_join"


def test_a_message_without_blocks_uses_its_text() -> None:
    content = message_content({"text": f"Hallo <@{KARIN}>, zie *dit*."}, msgtype="m.notice")
    assert content == {
        "msgtype": "m.notice",
        "body": f"Hallo {KARIN}, zie dit.",
        "format": "org.matrix.custom.html",
        "formatted_body": (
            f'<p>Hallo <a href="https://matrix.to/#/{KARIN}">{KARIN}</a>, zie <strong>dit</strong>.</p>'
        ),
        "m.mentions": {"user_ids": [KARIN]},
    }


def test_link_buttons_fields_dividers_and_images() -> None:
    content = message_content(
        {
            "text": "fallback",
            "blocks": [
                {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Partner*\nPolitie"}]},
                {"type": "divider"},
                {"type": "image", "image_url": "https://example.nl/grafiek.png", "alt_text": "Grafiek"},
                {
                    "type": "actions",
                    "block_id": "b1",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "Open"},
                            "url": "https://example.nl/x",
                        },
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "Kwaad"},
                            "url": "javascript:alert(1)",
                        },
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "Ja :tada:"},
                            "action_id": "yes",
                        },
                        {
                            "type": "overflow",
                            "action_id": "more",
                            "options": [{"text": {"type": "plain_text", "text": "Meer"}, "value": "m"}],
                        },
                        {"type": "datepicker", "action_id": "when"},
                    ],
                },
            ],
        }
    )
    parsed(content["formatted_body"])
    assert content["formatted_body"] == (
        "<ul><li><strong>Partner</strong><br>Politie</li></ul><hr>"
        '<p><a href="https://example.nl/grafiek.png">Grafiek</a></p>'
        "<ol><li>Ja 🎉</li></ol>"
        '<ol start="2"><li>Meer</li></ol>'
        '<p><a href="https://example.nl/x">Open</a></p><p>Kwaad</p>'
    )
    assert [(c.number, c.label, c.action_id, c.block_id, c.value) for c in choices_of(content)] == [
        (1, "Ja 🎉", "yes", "b1", None),
        (2, "Meer", "more", "b1", "m"),
    ]
    assert "Open (https://example.nl/x)" in content["body"] and "javascript" not in content["body"]


def test_choices_survive_json_and_an_edit_and_anything_malformed_is_no_choice() -> None:
    content = message_content(rendered_sample("rugdekking_board.json.j2"))
    sent = json.loads(json.dumps(content))
    assert choices_of(sent) == choices_of(content) != []
    assert choices_of({"m.new_content": sent, CHOICES_KEY: []}) == choices_of(content)
    good = sent[CHOICES_KEY][0]
    for malformed in (
        None,
        "x",
        [],
        [{**good, "number": 2}],
        [{**good, "number": True}],
        [{**good, "number": "1"}],
        [{**good, "primary": 1}],
        [{**good, "value": 12}],
        [{**good, "label": None}],
        [{**good, "extra": 1}],
        [{k: v for k, v in good.items() if k != "block_id"}],
        [good, good],
        [good] * 101,
    ):
        assert choices_of({CHOICES_KEY: malformed}) == [], malformed
    assert choices_of({"body": "hallo"}) == []
    assert choices_of({CHOICES_KEY: [good]}) == [
        Choice(1, "Ontvangen", "rugdekking_ack", good["block_id"], "12", True)
    ]


def test_a_message_too_large_for_matrix_goes_as_plain_text_within_the_limit() -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*x* &amp; " * 300}} for _ in range(50)]
    content = message_content({"blocks": blocks})
    assert "formatted_body" not in content and "format" not in content
    assert len(json.dumps(content, ensure_ascii=False).encode()) <= 45_000
    assert content["body"].endswith("…")


def test_mentions_and_room_links_take_matrix_ids_and_slack_ids_as_before() -> None:
    assert mrkdwn.mention(KARIN) == f"<@{KARIN}>"
    assert mrkdwn.mention("U0ABC123") == "<@U0ABC123>"
    assert mrkdwn.channel_link(ROOM) == f"<#{ROOM}>"
    assert mrkdwn.channel_link("!opaque12") == "<#!opaque12>"  # room version 12: no server part
    assert mrkdwn.channel_link("C0ABC123") == "<#C0ABC123>"
    for not_an_id in ("@karin", "karin:example.nl", "@ka rin:example.nl", "<!channel>", "@karin:x.nl>"):
        assert mrkdwn.mention(not_an_id) == mrkdwn.escape(not_an_id)
    assert mrkdwn.channel_link("!a b:example.nl") == "!a b:example.nl"


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_converts(name: str) -> None:
    rendered = rendered_sample(name)
    content = message_content(rendered)
    tags = parsed(content["formatted_body"])
    assert content["body"].strip()
    assert "<!channel>" not in content["formatted_body"]  # shown as text: &lt;!channel&gt;
    for choice in choices_of(content):
        assert choice.label and choice.action_id
    assert len(choices_of(content)) == len(content.get(CHOICES_KEY, []))
    assert all(attrs["href"] != "https://evil.example" for tag, attrs in tags.tags if tag == "a")


def test_a_message_with_choices_says_how_to_choose_in_the_partnership_language() -> None:
    content = {
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "Typ `/samen help` of kies:"}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "ok",
                        "style": "primary",
                        "value": "1",
                        "text": {"type": "plain_text", "text": "Ontvangen"},
                    },
                    {
                        "type": "button",
                        "action_id": "no",
                        "value": "2",
                        "text": {"type": "plain_text", "text": "Later"},
                    },
                ],
            },
        ]
    }
    dutch = message_content(content, language="nl")
    assert "Antwoord op dit bericht met het nummer van je keuze." in dutch["body"]
    assert "Een ✅-reactie kiest „Ontvangen”." in dutch["body"]
    assert "!samen help" in dutch["body"] and "/samen" not in dutch["formatted_body"]
    english = message_content(content, language="en")
    assert "A ✅ reaction chooses “Ontvangen”." in english["body"]
    assert "Antwoord op dit bericht" not in message_content(content)["body"]  # no language: no hint
    # An address keeps its path: only commands people type are Matrix's.
    linked = message_content({"text": "<https://wiki.example.nl/samen|wiki> en https://x.nl/rugdekking"})
    assert "example.nl/samen" in linked["formatted_body"] and "x.nl/rugdekking" in linked["body"]


def test_texts_that_name_slacks_own_ways_say_what_holds_on_matrix() -> None:
    on_matrix = Renderer(chat="matrix").render("help.json.j2", "nl", commands=[])
    on_slack = Renderer().render("help.json.j2", "nl", commands=[])
    assert "App Home" in json.dumps(on_slack) and "App Home" not in json.dumps(on_matrix)
    assert "!samen mijn" in message_content(on_matrix)["body"]
