"""A worker that dies in the middle of a post leaves no twin: the post it made is found and recorded.

Every post carries its outbox id in its message metadata. A row found half-sent (a worker died between
Slack's answer and marking the row sent) is looked for in the channel before it is sent again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from conftest import BOT_TOKEN, make_settings
from slack_sdk import WebClient
from sqlmodel import select

from bot.clock import utcnow
from bot.db import make_engine, upgrade
from bot.outbox import enqueue, post_message, send_dm, ts_of
from bot.outbox.dispatcher import Dispatcher, DispatcherConfig
from bot.outbox.models import OutboxLane, OutboxMessage, OutboxStatus
from bot.runtime import Services
from bot.slack.chat import OUTBOX_EVENT, SlackChat
from slackdouble import SlackDouble

BOARD = "C0BOARD01"
COORDINATOR = "U0COORD01"
QUICK = DispatcherConfig(concurrency=4, lease_seconds=30, lane_interval=0.0, poll_seconds=0.05)


@pytest.fixture
def outbox(database_url: str, slack_double: SlackDouble) -> Iterator[Services]:
    upgrade(database_url)
    services = Services.build(
        make_settings(database_url, api_url=slack_double.base_url), engine=make_engine(database_url)
    )
    yield services
    services.engine.dispose()


def worker(services: Services, double: SlackDouble, name: str) -> Dispatcher:
    client = WebClient(token=BOT_TOKEN, base_url=double.base_url, retry_handlers=[], timeout=5)
    return Dispatcher(services, SlackChat(client), config=QUICK, worker_id=name)


def dies_mid_post(dead: Dispatcher, *lanes: str) -> None:
    """What a SIGKILL between Slack's answer and the commit leaves: Slack has the message, the row is
    still pending with `sending_since` set, and the dead worker's lease runs out."""
    assert sorted(dead.claim_lanes(10)) == sorted(lanes)
    for lane in lanes:
        claimed = dead._mark_sending(lane)
        assert claimed is not None
        dead._call(claimed[0])
    lease_runs_out(dead.services)


def dies_before_posting(dead: Dispatcher, *lanes: str) -> None:
    """A SIGKILL after the rows were marked, before the requests reached Slack."""
    assert sorted(dead.claim_lanes(10)) == sorted(lanes)
    for lane in lanes:
        assert dead._mark_sending(lane) is not None
    lease_runs_out(dead.services)


def lease_runs_out(services: Services) -> None:
    with services.session() as session:
        for lane in session.exec(select(OutboxLane)).all():
            if lane.lease_until is not None:
                lane.lease_until = utcnow() - timedelta(seconds=1)
                session.add(lane)


def queue_board(services: Services) -> None:
    with services.session() as session:
        post_message(session, key="board:1", channel=BOARD, message={"text": "Rugdekking: 0 van 5 gezien"})
        send_dm(session, key="alert:1:coordinator", user_id=COORDINATOR, message={"text": "Rugdekking RD-1"})


def row(services: Services, key: str) -> OutboxMessage:
    with services.session() as session:
        found = session.exec(select(OutboxMessage).where(OutboxMessage.key == key)).one()
        session.expunge(found)
        return found


def test_a_board_posted_just_before_the_worker_died_is_not_posted_again_and_its_updates_reach_it(
    outbox: Services, slack_double: SlackDouble
) -> None:
    queue_board(outbox)
    dies_mid_post(worker(outbox, slack_double, "dead"), BOARD, COORDINATOR)
    assert len(slack_double.messages_in(BOARD)) == 1 and len(slack_double.messages_to(COORDINATOR)) == 1

    with outbox.session() as session:  # a partner acknowledges: the board's next version
        enqueue(
            session,
            key="board:1:v2",
            method="chat.update",
            lane=BOARD,
            args={"channel": BOARD, "ts": ts_of("board:1"), "text": "Rugdekking: 1 van 5 gezien"},
        )
    worker(outbox, slack_double, "survivor").run_until_idle()

    [board] = slack_double.messages_in(BOARD)
    assert board["text"] == "Rugdekking: 1 van 5 gezien"
    assert len(slack_double.messages_to(COORDINATOR)) == 1
    assert len(slack_double.delivered("chat.postMessage")) == 2  # each once, by the worker that died
    recorded = row(outbox, "board:1")
    assert (recorded.status, recorded.result_ts, recorded.sending_since) == (
        OutboxStatus.SENT,
        board["ts"],
        None,
    )
    looked = slack_double.delivered("conversations.history")
    assert {call.args["channel"] for call in looked} == {BOARD, slack_double.dm_channel(COORDINATOR)}
    slack_double.assert_no_violations()


def test_a_post_that_never_reached_slack_is_sent_by_the_next_worker(
    outbox: Services, slack_double: SlackDouble
) -> None:
    queue_board(outbox)
    dies_before_posting(worker(outbox, slack_double, "dead"), BOARD, COORDINATOR)
    assert slack_double.delivered("chat.postMessage") == []

    worker(outbox, slack_double, "survivor").run_until_idle()

    assert len(slack_double.messages_in(BOARD)) == 1 and len(slack_double.messages_to(COORDINATOR)) == 1
    assert row(outbox, "board:1").status == OutboxStatus.SENT


def test_another_apps_post_with_the_same_outbox_id_is_not_taken_for_ours(
    outbox: Services, slack_double: SlackDouble
) -> None:
    """A test installation on a copy of the database posts into the same channel: same ids, other bot."""
    queue_board(outbox)
    dies_before_posting(worker(outbox, slack_double, "dead"), BOARD, COORDINATOR)
    board_row = row(outbox, "board:1")
    slack_double.someone_posts(
        BOARD,
        "Rugdekking: 0 van 5 gezien",
        bot_id="B0OTHERAPP",
        metadata={"event_type": OUTBOX_EVENT, "event_payload": {"outbox_id": board_row.id}},
    )
    worker(outbox, slack_double, "survivor").run_until_idle()
    assert [m["bot_id"] for m in slack_double.messages_in(BOARD)] == ["B0OTHERAPP", slack_double.bot_id]


@pytest.mark.allow_slack_violations
def test_without_the_history_scopes_the_row_is_sent_again_rather_than_lost(
    outbox: Services, slack_double: SlackDouble
) -> None:
    queue_board(outbox)
    dies_mid_post(worker(outbox, slack_double, "dead"), BOARD, COORDINATOR)
    slack_double.fail_next(
        1, status=200, method="conversations.history", channel=BOARD, error="missing_scope"
    )
    worker(outbox, slack_double, "survivor").run_until_idle()
    assert len(slack_double.messages_in(BOARD)) == 2  # the old behaviour: a twin, nothing lost
    assert row(outbox, "board:1").status == OutboxStatus.SENT


def test_while_slack_cannot_be_read_the_row_waits_and_is_looked_for_again(
    outbox: Services, slack_double: SlackDouble
) -> None:
    queue_board(outbox)
    dies_mid_post(worker(outbox, slack_double, "dead"), BOARD, COORDINATOR)
    slack_double.fail_next(1, status=503, method="conversations.history", channel=BOARD)
    survivor = worker(outbox, slack_double, "survivor")
    survivor.run_until_idle()
    waiting = row(outbox, "board:1")
    assert waiting.status == OutboxStatus.PENDING and waiting.sending_since is not None
    with outbox.session() as session:  # the lane's backoff has passed
        lane = session.get(OutboxLane, BOARD)
        assert lane is not None
        lane.next_at = utcnow()
        session.add(lane)
    survivor.run_until_idle()
    assert len(slack_double.messages_in(BOARD)) == 1
    assert row(outbox, "board:1").status == OutboxStatus.SENT


def test_a_reply_in_a_thread_is_looked_for_in_its_thread(outbox: Services, slack_double: SlackDouble) -> None:
    queue_board(outbox)
    worker(outbox, slack_double, "first").run_until_idle()
    with outbox.session() as session:
        post_message(session, key="board:1:answer", channel=BOARD, message={"text": "Gezien"}, thread_ts=None)
        answer = session.exec(select(OutboxMessage).where(OutboxMessage.key == "board:1:answer")).one()
        answer.args = json.dumps({"channel": BOARD, "text": "Gezien", "thread_ts": ts_of("board:1")})
        session.add(answer)
    dies_mid_post(worker(outbox, slack_double, "dead"), BOARD)
    worker(outbox, slack_double, "survivor").run_until_idle()
    replies = [m for m in slack_double.messages_in(BOARD) if m.get("text") == "Gezien"]
    assert len(replies) == 1
    assert slack_double.delivered("conversations.replies")


def test_every_post_carries_its_outbox_id_and_nothing_unfurls(
    outbox: Services, slack_double: SlackDouble
) -> None:
    queue_board(outbox)
    with outbox.session() as session:
        enqueue(
            session,
            key="board:1:v2",
            method="chat.update",
            lane=BOARD,
            args={"channel": BOARD, "ts": ts_of("board:1"), "text": "zie https://example.org/x"},
        )
    worker(outbox, slack_double, "w").run_until_idle()
    posts = slack_double.delivered("chat.postMessage")
    assert len(posts) == 2
    for call in posts:
        assert call.args["unfurl_links"] is False and call.args["unfurl_media"] is False
        assert call.args["metadata"]["event_type"] == OUTBOX_EVENT
    ids = {call.args["metadata"]["event_payload"]["outbox_id"] for call in posts}
    assert ids == {row(outbox, "board:1").id, row(outbox, "alert:1:coordinator").id}
    [update] = slack_double.delivered("chat.update")
    assert update.args["unfurl_media"] is False
    slack_double.assert_no_violations()
