"""A person asks Samen what it can do; a typo is met with a suggestion; the App Home greets them."""

from __future__ import annotations

import time

import pytest
from conftest import BotUnderTest

from bot.people import remember_profile
from slackdouble import visible_text


def test_help_answers_in_dutch_by_default(bot: BotUnderTest) -> None:
    response = bot.driver.command("/samen", "help")
    assert response.status == 200
    answer = response.json()
    assert answer["response_type"] == "ephemeral"
    text = visible_text(answer["blocks"])
    assert "Wat Samen kan" in text
    assert "/samen help" in text


def test_samen_without_words_is_help(bot: BotUnderTest) -> None:
    answer = bot.driver.command("/samen", "").json()
    assert "Wat Samen kan" in visible_text(answer["blocks"])


def test_help_follows_the_persons_slack_locale(bot: BotUnderTest) -> None:
    with bot.services.session() as session:
        remember_profile(session, team_id="T0SAMEN", user_id="UENGLISH1", locale="en-GB", tz="Europe/London")
    answer = bot.driver.command("/samen", "help", user="UENGLISH1").json()
    text = visible_text(answer["blocks"])
    assert "What Samen can do" in text
    assert "Wat Samen kan" not in text


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("nl-NL", "Onbekend commando"), ("en-US", "Unknown command")],
)
def test_an_unknown_command_suggests_the_closest(bot: BotUnderTest, locale: str, expected: str) -> None:
    answer = bot.driver.command("/samen", "hlep", locale=locale).json()
    text = visible_text(answer["blocks"])
    assert answer["response_type"] == "ephemeral"
    assert expected in text
    assert "/samen help" in text
    assert "hlep" in text


def test_typed_text_cannot_ping_the_channel_or_hide_a_link(bot: BotUnderTest) -> None:
    answer = bot.driver.command("/samen", "<!channel>&<https://evil.example|gemeente.nl>").json()
    raw = str(answer)
    assert "<!channel>" not in raw
    assert "<https://evil.example|gemeente.nl>" not in raw
    # Escaped (and clipped to a readable length): Slack shows the characters instead of acting on them.
    assert "`/samen &lt;!channel&gt;&amp;&lt;https://evil.example|" in answer["blocks"][0]["text"]["text"]


def test_app_home_greets_the_person_in_their_language(bot: BotUnderTest) -> None:
    bot.double.add_user("UHOME0001", team_id="T0SAMEN", locale="en-US", tz="Europe/Amsterdam", name="fatima")
    response = bot.driver.event(
        {"type": "app_home_opened", "user": "UHOME0001", "channel": "D0HOME", "tab": "home"}
    )
    assert response.status == 200
    published = bot.double.wait_for("views.publish")[0]
    assert published.args["user_id"] == "UHOME0001"
    view = published.args["view"]
    assert view["type"] == "home"
    assert "<@UHOME0001>" in visible_text(view["blocks"])
    assert "What you can ask Samen" in visible_text(view["blocks"])
    # The locale learnt from users.info now also sets the language of their commands.
    assert "What Samen can do" in visible_text(
        bot.driver.command("/samen", "help", user="UHOME0001").json()["blocks"]
    )


def test_a_retried_event_has_its_effect_once(bot: BotUnderTest) -> None:
    bot.double.add_user("URETRY001", team_id="T0SAMEN", locale="nl-NL", tz="Europe/Amsterdam", name="jan")
    event = {"type": "app_home_opened", "user": "URETRY001", "channel": "D0RETRY", "tab": "home"}
    for retry in (None, 1, 2, 3):
        assert bot.driver.event(event, event_id="Ev0RETRY0001", retry_num=retry).status == 200
    bot.double.wait_for("views.publish")
    # Give any wrongly accepted retry time to publish too, then count.
    bot.double.wait_for("users.info")
    time.sleep(0.5)
    assert len(bot.double.calls_to("views.publish")) == 1


def test_unsigned_and_stale_requests_are_refused(bot: BotUnderTest) -> None:
    body = b"command=%2Fsamen&text=help&user_id=U1&team_id=T1"
    assert bot.driver.raw(body, "application/x-www-form-urlencoded", signature="v0=forged").status == 401
    six_minutes_ago = int(time.time()) - 360
    assert bot.driver.raw(body, "application/x-www-form-urlencoded", timestamp=six_minutes_ago).status == 401
