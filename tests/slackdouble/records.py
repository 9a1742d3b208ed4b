"""What the double records and keeps: calls, people, channels, files.

Plain data, shaped so that tests read naturally (`call.ok`, `call.args["channel"]`) and so that
the double can render each in Slack's own JSON shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .ids import DEFAULT_TEAM_ID


@dataclass(frozen=True)
class Call:
    """One request the double received, with what it answered."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float
    status: int = 200  # HTTP status answered; 0 when the connection was dropped
    error: str | None = None  # Slack's "error" code when the answer was ok: false
    response: dict[str, Any] | None = None
    tag: str | None = None  # the response_url tag, or the file id of an upload

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None

    @property
    def failed(self) -> bool:
        return not self.ok

    def __str__(self) -> str:
        outcome = "ok" if self.ok else f"{self.status} {self.error or ''}".strip()
        args = json.dumps(self.args, ensure_ascii=False, default=repr)
        if len(args) > 300:
            args = args[:300] + "…"
        return f"{self.method} [{outcome}] {args}"


@dataclass
class User:
    id: str
    team_id: str
    name: str
    real_name: str
    locale: str
    tz: str
    is_bot: bool = False
    deleted: bool = False
    email: str | None = None

    def as_slack(self, *, include_locale: bool) -> dict[str, Any]:
        offset = datetime.now(ZoneInfo(self.tz)).utcoffset()
        user: dict[str, Any] = {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "is_bot": self.is_bot,
            "is_admin": False,
            "is_app_user": False,
            "updated": 1_700_000_000,
            "profile": {
                "real_name": self.real_name,
                "display_name": self.name,
                "team": self.team_id,
                **({"email": self.email} if self.email else {}),
            },
        }
        # Slack returns `locale` only when asked with include_locale=true: a bot that forgets the
        # flag gets no locale from real Slack, so it gets none here either.
        if include_locale:
            user["locale"] = self.locale
        return user


@dataclass
class Channel:
    id: str
    name: str
    members: set[str] | None  # None: membership unknown, anyone may be addressed
    bot_is_member: bool = True
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    dm_users: tuple[str, ...] = ()

    def as_slack(self) -> dict[str, Any]:
        channel: dict[str, Any] = {
            "id": self.id,
            "created": 1_700_000_000,
            "is_im": self.is_im,
            "is_mpim": self.is_mpim,
            "is_archived": False,
            "is_org_shared": False,
            "context_team_id": DEFAULT_TEAM_ID,
        }
        if self.is_im:
            channel["user"] = self.dm_users[0] if self.dm_users else None
            channel["is_open"] = True
        else:
            channel.update(
                {
                    "name": self.name,
                    "is_channel": not self.is_private and not self.is_mpim,
                    "is_group": self.is_private,
                    "is_private": self.is_private or self.is_mpim,
                    "is_general": False,
                    "is_shared": False,
                    "is_ext_shared": False,
                    "is_member": self.bot_is_member,
                    "name_normalized": self.name,
                }
            )
        return channel


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    alt_txt: str | None = None
    data: bytes | None = None
    title: str | None = None
    channel: str | None = None
    initial_comment: str | None = None
    completed: bool = False


def visible_text(value: Any) -> str:
    """All the human-readable text of a message, view or block list, joined by newlines.

    Meant for assertions in booklet-style tests: `assert "Melding" in visible_text(message)`.
    """
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            text = node.get("text")
            if isinstance(text, str):
                parts.append(text)
            for key, child in node.items():
                if key != "text" or not isinstance(child, str):
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(value)
    return "\n".join(parts)
