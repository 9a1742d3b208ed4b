"""Answer first: a command whose work may outlast Slack's 3 seconds still answers at once.

`AnswerFirst.run(request, work)` hands `work` to a small bounded thread pool and waits for it a moment
(`answer_within`, half a second). Done by then, its reply is the answer itself, as before. Not done,
the answer is "Looking it up…" and the pool's thread follows up through the command's `response_url`
(only Slack's: bot/slack/urls.py), replacing that message with the reply, or with an apology that
carries a reference id when the work failed: never a silent failure. The log holds the reference and
the exception's type only (no traceback, no text a person typed). What may follow the reply (the
digest's charts, queued for the person's DM) runs afterwards in the same thread, so it never delays
the text. Why a pool in the web process and not the worker: docs/ARCHITECTURE.md, "Answer first".
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from bot.i18n import N_
from bot.logs import ContextExecutor
from bot.slack.interaction import Interaction
from bot.slack.urls import is_response_url

logger = logging.getLogger(__name__)

_POOLS: weakref.WeakSet[AnswerFirst] = weakref.WeakSet()
NOTICE: Final = "deferred_notice.json.j2"
ACK_WAIT: Final = 5.0  # seconds the pool's thread waits for the listener's answer (Bolt's own limit is 3)
LOOKING_UP: Final = N_("Looking it up…")
BUSY: Final = N_("Samen is busy with other look-ups. Please try again in a minute.")
FAILED: Final = N_(
    "Sorry, this could not be looked up. Please try again; if it keeps happening, give reference "
    "%(reference)s to your coordinator."
)


@dataclass(frozen=True)
class Reply:
    """What the work answers: a template and its context, and what may follow once it is shown."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    then: Callable[[], None] | None = None
    then_failed: str = FAILED  # the apology (a message id with %(reference)s) when `then` fails


@dataclass
class _Handoff:
    """Who answers: the listener (the reply came within the moment) or the pool's thread (it did not)."""

    failed: str = FAILED  # the apology's message id
    lock: threading.Lock = field(default_factory=threading.Lock)
    ready: threading.Event = field(default_factory=threading.Event)
    acked: threading.Event = field(default_factory=threading.Event)
    reply: Reply | None = None
    failure: str | None = None  # the reference of a failure
    deferred: bool = False


def wait_until_idle(timeout: float = 10.0) -> bool:
    """Every answer-first pool of this process has finished what it started (what follows a request,
    such as the overview's charts, is written by then): for tests that check what one request wrote.
    A stopping process needs no call: the pools' threads are joined at interpreter exit."""
    return all(pool.wait_until_idle(timeout) for pool in list(_POOLS))


class AnswerFirst:
    """One per app: `workers` look-ups at a time, `waiting` more queued; beyond that, "busy"."""

    def __init__(self, *, workers: int = 2, waiting: int = 8, answer_within: float = 0.5) -> None:
        self.answer_within = answer_within
        self._pool = ContextExecutor(max_workers=workers, thread_name_prefix="answer-first")
        self._capacity = workers + waiting
        self._slots = threading.BoundedSemaphore(self._capacity)
        _POOLS.add(self)

    def wait_until_idle(self, timeout: float) -> bool:
        """True once nothing is computing or waiting here (every slot free at one moment)."""
        deadline = time.monotonic() + timeout
        taken = 0
        try:
            while taken < self._capacity:
                if not self._slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
                    return False
                taken += 1
            return True
        finally:
            for _ in range(taken):
                self._slots.release()

    def run(
        self, request: Interaction, work: Callable[[], Reply], *, what: str, failed: str = FAILED
    ) -> None:
        """Answer `request` with `work()`'s reply, at once or through its response_url. `what` names the
        work in the log (a constant, never a person's text); `failed` is the apology's message id."""
        if not is_response_url(getattr(request.respond, "response_url", None), request.services.settings):
            self._inline(request, work, what, failed)  # nowhere to follow up (no slash command lacks one)
            return
        if not self._slots.acquire(blocking=False):
            request.ack_ephemeral(NOTICE, message=BUSY, values={})
            return
        handoff = _Handoff(failed=failed)
        try:
            self._pool.submit(self._work, request, work, what, handoff)
        except RuntimeError:  # the pool is shut down: the process is stopping
            self._slots.release()
            self._inline(request, work, what, failed)
            return
        handoff.ready.wait(self.answer_within)
        with handoff.lock:
            handoff.deferred = handoff.reply is None and handoff.failure is None
        try:
            if handoff.deferred:
                request.ack_ephemeral(NOTICE, message=LOOKING_UP, values={})
            else:
                _ack(request, handoff)
        finally:
            handoff.acked.set()  # the pool's thread may go on, whatever happened here

    def _work(self, request: Interaction, work: Callable[[], Reply], what: str, handoff: _Handoff) -> None:
        try:
            reply, failure = _attempt(work, what)
            with handoff.lock:
                handoff.reply, handoff.failure = reply, failure
                deferred = handoff.deferred
            handoff.ready.set()
            handoff.acked.wait(ACK_WAIT)  # "Looking it up…" first, then what replaces or follows it
            if deferred:
                _follow_up(request, reply, failure, handoff.failed)
            if reply is not None:
                _then(request, reply, what)
        finally:
            self._slots.release()

    def _inline(self, request: Interaction, work: Callable[[], Reply], what: str, failed: str) -> None:
        reply, failure = _attempt(work, what)
        _ack(request, _Handoff(failed=failed, reply=reply, failure=failure))
        if reply is not None:
            _then(request, reply, what)


def _attempt(work: Callable[[], Reply], what: str) -> tuple[Reply | None, str | None]:
    """The work's reply, or the reference of its failure (logged with the exception's type only)."""
    try:
        return work(), None
    except Exception as error:  # any failure must reach the person as an apology, not vanish
        return None, _logged(f"{what} failed", error)


def _logged(what: str, error: Exception) -> str:
    """A reference for the person; the log gets it with the exception's type, never its text."""
    reference = uuid.uuid4().hex[:8]
    logger.error("%s, reference %s: %s", what, reference, type(error).__name__)
    return reference


def _then(request: Interaction, reply: Reply, what: str) -> None:
    """What follows a shown reply; when it fails, the person is told in a second message."""
    if reply.then is None:
        return
    try:
        reply.then()
    except Exception as error:  # e.g. the charts could not be drawn: say so, as for the reply itself
        reference = _logged(f"{what} (what follows) failed", error)
        _respond(request, _apology(request, reference, reply.then_failed), replace=False)


def _apology(request: Interaction, reference: str, failed: str) -> Any:
    return request.render(NOTICE, message=failed, values={"reference": reference})


def _ack(request: Interaction, handoff: _Handoff) -> None:
    if handoff.reply is not None:
        request.ack_ephemeral(handoff.reply.template, **handoff.reply.context)
    else:
        request.ack_ephemeral(NOTICE, message=handoff.failed, values={"reference": handoff.failure})


def _follow_up(request: Interaction, reply: Reply | None, failure: str | None, failed: str) -> None:
    try:
        if reply is None:
            message = _apology(request, failure or "", failed)
        else:
            message = request.render(reply.template, **reply.context)
    except Exception as error:  # rendering failed: still tell the person
        message = _apology(request, _logged("rendering a deferred answer failed", error), failed)
    _respond(request, message, replace=True)


def _respond(request: Interaction, message: Any, *, replace: bool) -> None:
    """Through the command's response_url, only Slack's; `replace`: instead of "Looking it up…"."""
    if not is_response_url(getattr(request.respond, "response_url", None), request.services.settings):
        logger.warning("a deferred answer has no response_url of Slack's to go to")
        return
    try:
        request.respond(
            text=message.get("text", ""),
            blocks=message.get("blocks"),
            response_type="ephemeral",
            replace_original=replace,
        )
    except Exception as error:  # Slack unreachable: nothing more can reach the person; say so in the log
        logger.warning("could not deliver a deferred answer: %s", type(error).__name__)
