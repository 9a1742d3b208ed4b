"""Twenty times: a backup alert fans out through two `samen worker` processes on PostgreSQL, one is
killed with SIGKILL while a post is on its way to Slack, and a partner then acknowledges.

People must see every message once: nobody left out, no message twice, and the live board (one post,
updated in place) must be the copy its updates reach.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from conftest import BOT_TOKEN, ENCRYPTION_KEY, SIGNING_SECRET, BotUnderTest
from rugdekking_support import BOARD, TEAM, PersonRef, click, set_up_partnership, start_bot
from sqlalchemy import bindparam, text
from test_rugdekking_reliability import PARTNERS, big_partnership, due_pending, failed
from test_serve import SAMEN

from slackdouble import SlackDouble

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

TRIALS = 20
LEASE_SECONDS = "2"  # a dead worker's lanes come back after this (30 s in production)


@pytest.fixture
def partnership(pg_url: str, slack_double: SlackDouble) -> Iterator[BotUnderTest]:
    for bot in start_bot(pg_url, slack_double):
        set_up_partnership(bot.services, big_partnership())
        yield bot


class Worker:
    """A real `samen worker` process; its JSON log goes to a file, where it names its worker id."""

    def __init__(self, pg_url: str, double: SlackDouble, log: Path) -> None:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMEN_"))},
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": double.base_url,
            "DATABASE_URL": pg_url,
            "SAMEN_ENCRYPTION_KEY": ENCRYPTION_KEY,
            "SAMEN_PARTNERSHIP_CHANNEL": BOARD,
            "SAMEN_OUTBOX_CONCURRENCY": "4",
            "SAMEN_OUTBOX_LEASE_SECONDS": LEASE_SECONDS,
        }
        self.log = log
        with log.open("wb") as sink:
            self.process = subprocess.Popen(
                [SAMEN, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=sink
            )
        self._id: str | None = None

    @property
    def id(self) -> str:
        """The worker id it logs once started (waits for that line)."""
        deadline = time.monotonic() + 60
        while self.ready_id() is None:
            assert self.process.poll() is None, self.log.read_text(errors="replace")
            assert time.monotonic() < deadline, "samen worker did not start"
            time.sleep(0.1)
        assert self._id is not None
        return self._id

    def ready_id(self) -> str | None:
        """The worker id, once it has started; None before."""
        if self._id is None:
            for line in self.log.read_text(errors="replace").splitlines():
                event = json.loads(line).get("event", "") if line.startswith("{") else ""
                if event.startswith("worker ") and " started" in event:
                    self._id = str(event.split()[1])
        return self._id

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


def posts_in_flight(bot: BotUnderTest, victims: list[Worker]) -> dict[str, list[int]]:
    """The outbox rows started victims are posting right now (marked, not yet recorded), by worker id."""
    ready = [victim.ready_id() for victim in victims if victim.ready_id()]
    with bot.services.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT l.owner, o.id FROM outbox o JOIN outbox_lane l ON l.lane = o.lane "
                "WHERE o.status = 'pending' AND o.sending_since IS NOT NULL "
                "AND o.method = 'chat.postMessage' AND l.owner IN :owners"
            ).bindparams(bindparam("owners", expanding=True)),
            {"owners": ready},
        ).all()
    flying: dict[str, list[int]] = {}
    for owner, row_id in rows:
        flying.setdefault(owner, []).append(row_id)
    return flying


def wait_until(condition: Callable[[], object], what: str, timeout: float) -> object:
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"no {what} within {timeout}s"
        time.sleep(0.01)
    return found


def posted(double: SlackDouble, row_ids: list[int]) -> bool:
    copies = copies_by_outbox_id(double)
    return any(copies[row_id] for row_id in row_ids)


def copies_by_outbox_id(double: SlackDouble) -> Counter[int]:
    """How many messages people see per outbox row, over every channel and DM."""
    seen: Counter[int] = Counter()
    with double._lock:
        for messages in double.messages.values():
            for message in messages:
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                if "outbox_id" in payload:
                    seen[int(payload["outbox_id"])] += 1
    return seen


def sent_posts(bot: BotUnderTest) -> list[tuple[int, str, str]]:
    """(id, channel, ts) of every post the outbox recorded as sent."""
    with bot.services.engine.connect() as connection:
        return [
            (row[0], row[1], row[2])
            for row in connection.execute(
                text(
                    "SELECT id, result_channel, result_ts FROM outbox "
                    "WHERE status = 'sent' AND method = 'chat.postMessage'"
                )
            )
        ]


@pytest.mark.timeout(420)  # twenty trials of ~6 s, and starting twenty-two worker processes
def test_twenty_workers_killed_mid_fan_out_leave_nobody_out_and_no_stale_copy(
    pg_url: str, partnership: BotUnderTest, slack_double: SlackDouble, tmp_path: Path
) -> None:
    bot = partnership
    slack_double.set_latency(0.3, "chat.postMessage")  # a post stays on its way long enough to die in
    survivor = Worker(pg_url, slack_double, tmp_path / "survivor.log")
    # Victims start two trials ahead (a start takes longer than a trial on a busy machine); the ones
    # waiting their turn join in, as restarted pods would.
    victims = [Worker(pg_url, slack_double, tmp_path / f"victim-{n}.log") for n in range(2)]
    cut_off_after_slack_had_it = 0
    began = time.monotonic()
    try:
        for trial in range(TRIALS):
            assert victims[0].id  # one has started, and is ready to claim
            reporter = f"U0P{trial % PARTNERS:02d}U{2 - trial // PARTNERS}"
            answer = bot.driver.command("/rugdekking", "nu", user=reporter, team=TEAM)
            assert "verstuurd" in answer.body, answer.body
            by_owner = wait_until(partial(posts_in_flight, bot, victims), "post by a victim", 20)
            owner, flying = next(iter(by_owner.items()))  # type: ignore[attr-defined]
            victim = next(v for v in victims if v.ready_id() == owner)
            if trial % 4 != 3:  # mostly after Slack has the post, sometimes before it arrives
                wait_until(partial(posted, slack_double, flying), "the post in Slack", 5)
            victim.kill()
            victims.remove(victim)
            in_slack = copies_by_outbox_id(slack_double)
            cut_off_after_slack_had_it += sum(1 for row_id in flying if in_slack[row_id])  # type: ignore[attr-defined]
            victims.append(Worker(pg_url, slack_double, tmp_path / f"victim-{trial + 2}.log"))
            wait_until(lambda: due_pending(bot.services) == 0, "fan-out completed", 40)
            acknowledger = PersonRef(TEAM, f"U0P{(trial + 1) % PARTNERS:02d}U0")
            click(bot, "rugdekking_ack", acknowledger, channel=f"C0PART{(trial + 1) % PARTNERS:02d}")
            wait_until(lambda: due_pending(bot.services) == 0, "board updated", 40)
    finally:
        for waiting in victims:
            waiting.stop()
        survivor.stop()
    took = time.monotonic() - began

    copies = copies_by_outbox_id(slack_double)
    posts = sent_posts(bot)
    lost = [post for post in posts if copies[post[0]] == 0]
    twins = {row_id: n for row_id, n in copies.items() if n > 1}
    # Every board's updates reached the copy people see: the one the outbox recorded, edited.
    boards = [post for post in posts if post[1] == slack_double.channels[BOARD].id]
    stale_boards = [
        board
        for board in boards
        if not [m for m in slack_double.messages_in(BOARD) if m["ts"] == board[2] and m.get("edited")]
    ]
    reads = len(slack_double.calls_to("conversations.history"))
    print(
        f"\n{TRIALS} SIGKILLs mid fan-out in {took:.0f}s: {len(posts)} posts, {cut_off_after_slack_had_it} "
        f"cut off after Slack had them, {len(lost)} lost, {len(twins)} twins, "
        f"{len(stale_boards)} stale boards; {reads} history reads"
    )
    assert failed(bot.services) == []
    assert lost == [] and twins == {} and stale_boards == []
    assert len(boards) == TRIALS
    assert cut_off_after_slack_had_it > 0, (
        "no kill caught a post that Slack already had: the test proves nothing"
    )
