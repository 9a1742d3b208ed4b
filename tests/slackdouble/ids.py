"""Identifiers shaped like Slack's, shared by the double and the driver.

Slack ids are an upper-case letter for the kind (T team, U/W user, C channel, D direct message,
G group, V view, F file, B bot, A app, Q scheduled message) followed by upper-case letters and
digits. Code that checks a prefix (`startswith("U")`) must see real-looking ids in tests too.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
import uuid
from typing import Final

DEFAULT_TEAM_ID: Final = "T0SAMEN"
DEFAULT_TEAM_NAME: Final = "Samen Test"
DEFAULT_TEAM_DOMAIN: Final = "samen-test"
DEFAULT_APP_ID: Final = "A0SAMEN"
BOT_USER_ID: Final = "U0SAMENBOT"
BOT_ID: Final = "B0SAMENBOT"
BOT_NAME: Final = "samen"
DEFAULT_USER_ID: Final = "U0TEST0001"
DEFAULT_CHANNEL_ID: Final = "C0TEST0001"
DEFAULT_CHANNEL_NAME: Final = "samen-test"

USER_PREFIXES: Final = ("U", "W")
DM_PREFIXES: Final = ("D",)
CHANNEL_PREFIXES: Final = ("C", "G")


def user_id(name: str) -> str:
    """A stable, Slack-shaped user id for a readable name: `user_id("anne")` is always the same."""
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest().upper()
    return f"U0{digest[:9]}"


def channel_id(name: str) -> str:
    """A stable, Slack-shaped public channel id for a readable channel name."""
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest().upper()
    return f"C0{digest[:9]}"


def trigger_id() -> str:
    """A trigger id in Slack's shape: `<ms>.<team number>.<32 hex>`."""
    return f"{int(time.time() * 1000)}.1000000001.{uuid.uuid4().hex}"


class Sequence:
    """Thread-safe counters for ids the double hands out (views, files, DMs, message ts)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, itertools.count[int]] = {}

    def next(self, kind: str) -> int:
        with self._lock:
            counter = self._counters.setdefault(kind, itertools.count(1))
            return next(counter)

    def id(self, prefix: str) -> str:
        return f"{prefix}0{self.next(prefix):08d}"

    def ts(self) -> str:
        """Message timestamps: unique, strictly increasing, shaped like "1700000000.000100"."""
        micros = self.next("ts") * 100
        return f"{1_700_000_000 + micros // 1_000_000}.{micros % 1_000_000:06d}"
