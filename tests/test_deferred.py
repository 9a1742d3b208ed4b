"""Answer first (bot/slack/deferred.py): a command whose work takes longer than a moment answers "Ik zoek
het op…" at once and replaces it through the response_url with the result, or with an apology and a
reference when computing failed; the log holds the reference and the exception's type only.

Through the real app and the Slack double with `/samen overzicht` (its figures made slow or failing), and
the helper on its own for what the app cannot easily show (busy, order, what follows failing).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from interventions_support import JAN, World, build_world
from test_digest import a_busy_week

from bot.digest import service as digest_service
from bot.slack.deferred import BUSY, FAILED, LOOKING_UP, AnswerFirst, Reply
from slackdouble import SlackDouble

SECRET = "VERTROUWELIJK-uit-de-berekening"
PERIOD = "overzicht 2026-03-06..2026-03-13"


@pytest.fixture
def world(sqlite_url: str, slack_double: SlackDouble) -> Iterator[World]:
    yield from build_world(sqlite_url, slack_double)


def _slow_figures(monkeypatch: pytest.MonkeyPatch, *, seconds: float, fail: bool = False) -> None:
    """The overview's figures take `seconds` (as at a national partnership's size), then come or fail."""
    real = digest_service.figures

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(seconds)
        if fail:
            raise RuntimeError(SECRET)
        return real(*args, **kwargs)

    monkeypatch.setattr(digest_service, "figures", slow)


def _follow_ups(world: World, count: int = 1) -> list[dict[str, Any]]:
    return [dict(call.args) for call in world.double.wait_for("response_url", count=count, timeout=20)]


@pytest.mark.parametrize(
    ("locale", "looking", "title", "charts"),
    [
        (None, "Ik zoek het op…", "Samen-overzicht", "privéberichten"),
        ("en-GB", "Looking it up…", "Samen overview", "direct messages"),
    ],
)
def test_a_slow_overview_answers_at_once_then_replaces_it_with_the_result(
    world: World, monkeypatch: pytest.MonkeyPatch, locale: str | None, looking: str, title: str, charts: str
) -> None:
    a_busy_week(world)
    _slow_figures(monkeypatch, seconds=2.5)
    started = time.monotonic()
    answer = world.command(JAN, PERIOD, locale=locale)
    assert time.monotonic() - started < 2.0, "the answer waited for the figures"
    assert answer["response_type"] == "ephemeral" and answer["text"] == looking
    assert world.double.calls_to("response_url") == []
    result = _follow_ups(world)[0]
    assert result["response_type"] == "ephemeral" and result["replace_original"] is True
    shown = str(result["blocks"])
    assert title in shown and "Sluiting loods" in shown and "Huurcontract ontbonden" not in shown
    assert charts in shown
    # The charts follow in Jan's DM, after the text.
    deadline = time.monotonic() + 30
    while world.count("SELECT count(*) FROM outbox WHERE method = 'files.upload_v2'") < 2:
        assert time.monotonic() < deadline, "the charts were not queued"
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("locale", "apology"),
    [(None, "het overzicht kon niet worden gemaakt"), ("en-GB", "the overview could not be made")],
)
def test_a_failure_while_computing_reaches_the_person_and_the_log_holds_only_its_type(
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    locale: str | None,
    apology: str,
) -> None:
    a_busy_week(world)
    _slow_figures(monkeypatch, seconds=1.0, fail=True)
    with caplog.at_level(logging.INFO):
        answer = world.command(JAN, PERIOD, locale=locale)
        assert answer["text"] in ("Ik zoek het op…", "Looking it up…")
        follow_up = _follow_ups(world)[0]
    assert apology in follow_up["text"] and follow_up["replace_original"] is True
    failed = [r for r in caplog.records if "overview failed" in r.getMessage()]
    assert len(failed) == 1
    assert failed[0].getMessage().endswith(": RuntimeError") and failed[0].exc_info is None
    reference = failed[0].getMessage().split("reference ")[1].split(":")[0]
    assert reference in follow_up["text"]
    assert all(SECRET not in r.getMessage() for r in caplog.records)
    assert world.count("SELECT count(*) FROM outbox") == 0


# -- the helper on its own -----------------------------------------------------------------------------


class _Request:
    """What AnswerFirst uses of an Interaction: ack, respond (with Slack's response_url), render."""

    def __init__(self, settings: Any) -> None:
        self.events: list[tuple[str, str]] = []
        self.done = threading.Event()
        self.services = type("S", (), {"settings": settings})()
        outer = self

        class Respond:
            response_url = "https://hooks.slack.com/commands/T1/1/abc"

            def __call__(self, **message: Any) -> None:
                outer.events.append(("respond", message["text"]))
                outer.done.set()

        self.respond = Respond()

    def render(self, template: str, **context: Any) -> dict[str, Any]:
        text = context.get("message", template) % context.get("values", {})
        return {"text": text, "blocks": []}

    def ack_ephemeral(self, template: str, **context: Any) -> None:
        self.events.append(("ack", self.render(template, **context)["text"]))


@pytest.fixture
def settings(world: World) -> Any:
    return world.services.settings


def _run(helper: AnswerFirst, request: _Request, work: Callable[[], Reply]) -> None:
    helper.run(request, work, what="test")  # type: ignore[arg-type]


def test_the_result_replaces_looking_it_up_and_never_comes_first(settings: Any) -> None:
    helper = AnswerFirst(workers=1, waiting=0, answer_within=0.05)
    request = _Request(settings)
    _run(helper, request, lambda: (time.sleep(0.2), Reply("result"))[1])
    assert request.done.wait(5)
    assert request.events == [("ack", LOOKING_UP), ("respond", "result")]


def test_beyond_the_pool_and_its_queue_the_answer_is_busy_at_once(settings: Any) -> None:
    helper = AnswerFirst(workers=1, waiting=1, answer_within=0.01)
    release = threading.Event()
    first, second, third = _Request(settings), _Request(settings), _Request(settings)
    _run(helper, first, lambda: (release.wait(5), Reply("one"))[1])
    _run(helper, second, lambda: Reply("two"))
    _run(helper, third, lambda: Reply("three"))
    assert third.events == [("ack", BUSY)]
    release.set()
    assert first.done.wait(5) and second.done.wait(5)
    later = _Request(settings)
    _run(helper, later, lambda: Reply("four"))  # the slots came back
    assert later.events == [("ack", "four")]


def test_what_follows_a_shown_result_failing_is_told_too(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    helper = AnswerFirst(workers=1, waiting=0, answer_within=1.0)
    request = _Request(settings)

    def charts() -> None:
        raise OSError(SECRET)

    _run(helper, request, lambda: Reply("result", then=charts))
    assert request.done.wait(5)
    (ack, apology) = request.events
    assert ack == ("ack", "result") and apology[0] == "respond" and "could not be looked up" in apology[1]
    assert FAILED.split(".")[0] in apology[1]
    assert all(SECRET not in r.getMessage() for r in caplog.records)


def test_a_quick_result_or_failure_is_the_answer_itself(settings: Any) -> None:
    helper = AnswerFirst(workers=2, waiting=0, answer_within=5.0)
    quick, failing = _Request(settings), _Request(settings)
    _run(helper, quick, lambda: Reply("result"))
    _run(helper, failing, lambda: 1 / 0)  # type: ignore[arg-type, return-value]
    time.sleep(0.2)
    assert quick.events == [("ack", "result")]
    assert len(failing.events) == 1 and failing.events[0][0] == "ack"
    assert "could not be looked up" in failing.events[0][1]


def test_without_a_response_url_of_slacks_nothing_is_posted_anywhere(settings: Any) -> None:
    helper = AnswerFirst(workers=1, waiting=0, answer_within=0.01)
    request = _Request(settings)
    request.respond.response_url = "https://attacker.example/hook"  # type: ignore[misc]

    def charts() -> None:
        raise OSError(SECRET)

    _run(helper, request, lambda: (time.sleep(0.1), Reply("result", then=charts))[1])
    # Computed in the listener (nowhere to follow up), answered in the ack; the failing charts are logged.
    assert request.events == [("ack", "result")]
