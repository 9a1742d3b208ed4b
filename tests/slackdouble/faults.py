"""Misbehaviour on demand: latency, rate limits, server errors, dropped connections.

Slack is slow at times, rate-limits (HTTP 429 with `Retry-After`), fails with 5xx and drops
connections; a bot that must not lose a message has to survive all of it. A `Faults` object holds
what a test asked for and decides, per incoming call, whether that call fails and how.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Final

# Pseudo-methods for the two endpoints that are not Web API methods. A fault with method=None
# applies to Web API methods only: a test names these explicitly to make them fail.
RESPONSE_URL: Final = "response_url"
UPLOAD_URL: Final = "upload_url"

# Slack's error bodies for the 5xx answers the double can be asked to give.
_SERVER_ERRORS: Final[dict[int, str]] = {
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


@dataclass
class Answer:
    """What the double sends back for one request."""

    status: int = 200
    body: dict[str, Any] | None = None
    text: str | None = None  # plain-text bodies: the upload and response_url endpoints
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering at all

    @property
    def error(self) -> str | None:
        """Slack's error code (or a stand-in for HTTP-level failures); None for success."""
        if self.drop:
            return "connection_dropped"
        if self.body is not None and self.body.get("ok") is False:
            return str(self.body.get("error"))
        if self.status != 200:
            return self.text or f"http_{self.status}"
        return None


def ok(body: dict[str, Any]) -> Answer:
    """A success answer; a handler's own "ok": false (e.g. channel_not_found) wins over it."""
    return Answer(body={"ok": True, **body})


def ok_false(error: str) -> Answer:
    return Answer(body={"ok": False, "error": error})


def failure(status: int, retry_after: int, error: str | None) -> Answer:
    """A failure as Slack sends it: 429 with Retry-After, 5xx with an error body, or 200 ok:false."""
    if status == 429:
        return Answer(
            status=429, body={"ok": False, "error": "ratelimited"}, headers={"Retry-After": str(retry_after)}
        )
    if status == 200:
        return ok_false(error or "fatal_error")
    return Answer(
        status=status, body={"ok": False, "error": error or _SERVER_ERRORS.get(status, "fatal_error")}
    )


@dataclass
class _NextCalls:
    """One "the next N calls" rule: fail with a status, or drop the connection."""

    remaining: int
    status: int  # 0 means: drop the connection without an answer
    retry_after: int
    method: str | None
    channel: str | None
    error: str | None = None


@dataclass
class _Rate:
    probability: float
    statuses: tuple[int, ...]
    retry_after: int
    rng: random.Random
    method: str | None
    channel: str | None


@dataclass
class _Bucket:
    tokens: float
    updated: float


def _matches(rule_method: str | None, rule_channel: str | None, method: str, channel: Any) -> bool:
    if rule_method is None:
        if method in (RESPONSE_URL, UPLOAD_URL):
            return False
    elif rule_method != method:
        return False
    return rule_channel is None or rule_channel == channel


class Faults:
    """The faults a test asked for. Thread-safe: the double's request threads consult it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latency: dict[str | None, float] = {}
        self._next: list[_NextCalls] = []
        self._rate: _Rate | None = None
        self._channel_rate: tuple[float, float] | None = None
        self._buckets: dict[str, _Bucket] = {}

    # -- what tests ask for ------------------------------------------------------------------------

    def set_latency(self, seconds: float, method: str | None) -> None:
        with self._lock:
            if seconds > 0:
                self._latency[method] = seconds
            else:
                self._latency.pop(method, None)

    def fail_next(
        self,
        count: int,
        status: int,
        retry_after: int,
        method: str | None,
        channel: str | None,
        error: str | None,
    ) -> None:
        if status == 200 and not error:
            raise ValueError("a failure with status 200 needs an error code, e.g. error='account_inactive'")
        with self._lock:
            self._next.append(_NextCalls(count, status, retry_after, method, channel, error))

    def drop_next(self, count: int, method: str | None, channel: str | None) -> None:
        with self._lock:
            self._next.append(_NextCalls(count, 0, 0, method, channel))

    def fail_rate(
        self,
        p: float,
        statuses: tuple[int, ...],
        retry_after: int,
        seed: int | None,
        method: str | None,
        channel: str | None,
    ) -> None:
        with self._lock:
            # One generator per setting, drawn in arrival order: same seed, same calls, same faults.
            self._rate = (
                _Rate(p, tuple(statuses), retry_after, random.Random(seed), method, channel)
                if p > 0
                else None
            )

    def enforce_channel_rate(self, per_second: float | None, burst: int) -> None:
        with self._lock:
            self._channel_rate = (per_second, float(burst)) if per_second else None
            self._buckets.clear()

    # -- what the double asks --------------------------------------------------------------------------

    def latency_for(self, method: str) -> float:
        with self._lock:
            return self._latency.get(method, self._latency.get(None, 0.0))

    def answer_for(self, method: str, channel: Any) -> Answer | None:
        """An injected failure for this call, if one applies (and is then used up)."""
        with self._lock:
            for rule in self._next:
                if rule.remaining > 0 and _matches(rule.method, rule.channel, method, channel):
                    rule.remaining -= 1
                    return (
                        Answer(drop=True)
                        if rule.status == 0
                        else failure(rule.status, rule.retry_after, rule.error)
                    )
            rate = self._rate
            if (
                rate is not None
                and _matches(rate.method, rate.channel, method, channel)
                and rate.rng.random() < rate.probability
            ):
                return failure(rate.rng.choice(rate.statuses), rate.retry_after, None)
        return None

    def channel_rate_answer(self, channel: str) -> Answer | None:
        """429 when a message to `channel` comes faster than the token bucket allows."""
        with self._lock:
            if self._channel_rate is None:
                return None
            per_second, burst = self._channel_rate
            now = time.monotonic()
            bucket = self._buckets.setdefault(channel, _Bucket(tokens=burst, updated=now))
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * per_second)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return None
            # Slack's Retry-After is whole seconds, at least 1.
            return failure(429, max(1, math.ceil((1 - bucket.tokens) / per_second)), None)
