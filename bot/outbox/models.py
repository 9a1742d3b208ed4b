"""The outbox: every message that must arrive is a row, written with the change that caused it."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Final

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from bot.clock import utcnow
from bot.people import CHAT_ID_LENGTH

# A key names its purpose, subject and recipient: often a person's "team_id/user_id" (two chat ids, each up
# to CHAT_ID_LENGTH on Matrix) after a prefix, and for a failure notice a lane and an error as well.
KEY_LENGTH: Final = 1024


class Priority(IntEnum):
    URGENT = 0  # backup alerts and their escalations: wake the dispatcher at commit
    NORMAL = 5  # reminders, prompts, notices
    BULK = 9  # digests and reports


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"  # no longer needed (e.g. an escalation after the partner acknowledged)


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "not_before"),
        Index("ix_outbox_lane", "lane", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # purpose + subject + recipient + time slot: the same message can never be queued twice.
    key: str = Field(max_length=KEY_LENGTH, unique=True)
    priority: int = Field(default=Priority.NORMAL)
    method: str = Field(max_length=64)  # the Web API method, e.g. chat.postMessage
    # The rate-limit lane: the channel, or the person a DM goes to. Order is kept per lane.
    lane: str = Field(max_length=CHAT_ID_LENGTH)
    # The workspace whose installation sends it (several workspaces through OAuth, bot/slack/workspaces/);
    # None: the workspace of the person a DM goes to, else the partnership's home workspace.
    team_id: str | None = Field(default=None, max_length=CHAT_ID_LENGTH)
    args: str = Field(sa_column=Column(Text, nullable=False))  # JSON: the method's arguments
    template: str | None = Field(default=None, max_length=128)  # rendered at send time, if set
    language: str | None = Field(default=None, max_length=8)
    context: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON
    not_before: datetime = Field(default_factory=utcnow)
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=255)
    # While a worker is calling Slack for this row; a crash leaves it set and the row is sent again
    # after the lane's lease expires (the only way a message can arrive twice).
    sending_since: datetime | None = None
    sent_at: datetime | None = None
    result_channel: str | None = Field(default=None, max_length=CHAT_ID_LENGTH)
    result_ts: str | None = Field(default=None, max_length=CHAT_ID_LENGTH)
    ref: str | None = Field(default=None, max_length=128, index=True)  # the object it is about
    created_at: datetime = Field(default_factory=utcnow)


class OutboxLane(SQLModel, table=True):
    """One row per channel or DM recipient: who is sending to it now, and when it may next be sent to."""

    __tablename__ = "outbox_lane"

    lane: str = Field(primary_key=True, max_length=CHAT_ID_LENGTH)
    owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = None
    next_at: datetime = Field(default_factory=utcnow)


class ProcessedEvent(SQLModel, table=True):
    """Slack events already handled, by event_id, so that Slack's retries have their effect once."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=CHAT_ID_LENGTH)
    received_at: datetime = Field(default_factory=utcnow, index=True)
