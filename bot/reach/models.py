"""The one-time acknowledgement links sent by e-mail (bot/reach/links.py): one row per link, by its id.

The link itself carries its id, the alert, the person and when it expires, signed; the row makes it
one-time (`used_at`, set by one conditional UPDATE) and lets a link be refused once its alert is gone.
The person is kept by their Slack ids, not a foreign key: removing a member never trips over a link.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.clock import utcnow
from bot.people import CHAT_ID_LENGTH


class ReachLink(SQLModel, table=True):
    __tablename__ = "reach_link"

    jti: str = Field(primary_key=True, max_length=32)
    alert_id: int = Field(foreign_key="backup_alert.id", index=True)
    team_id: str = Field(max_length=CHAT_ID_LENGTH)
    user_id: str = Field(max_length=CHAT_ID_LENGTH)
    expires_at: datetime
    used_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
