"""chat ids: room for Matrix's ids in every column that holds a chat platform's id

Samen on Matrix (issue 18): a person `@karin.de.vries:gemeente-breda.nl`, a room `!opaque:server`, an event
`$` and 43 characters (or `$opaque:server` in old rooms), a person's server as their team — the spec allows
255 characters for each; Slack's ids fit in 32. Every column that holds such an id (a person's team and
user, a channel or room, a message's ts or event id, the outbox's lane) becomes VARCHAR(255); the audit
log's object_id, which holds a person's "team_id/user_id", 511; the outbox's key, which names its recipient
(and for a failure notice a lane and an error), 1024. The lengths are written out here, not read from the
models: this revision keeps its meaning when the models change.

PostgreSQL widens a VARCHAR in its catalogue alone: no table or index is rewritten. Going down narrows them
again and refuses (value too long) while a longer id is stored: an id cut short would name someone else.

SQLite never enforces a VARCHAR's length, so only the declared types change — in its schema table, as the
SQLite documentation describes for changes that leave the stored rows as they are (lang_altertable.html,
"Making Other Kinds Of Table Schema Changes"). A batch rebuild would copy every table, drop the search
index's triggers on `signal` (migration 0011), and fail outright on a table others reference while they
have rows: its DROP TABLE, with foreign keys on (bot/db.py), counts every referencing row as a violation.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

CHAT_ID = 255  # bot.people.CHAT_ID_LENGTH when this revision was written
PERSON_KEY = 2 * CHAT_ID + 1  # "team_id/user_id"
OUTBOX_KEY = 1024

# (table, column, length before, length after, nullable)
WIDENED: tuple[tuple[str, str, int, int, bool], ...] = (
    ("alignment", "called_by_team_id", 32, CHAT_ID, False),
    ("alignment", "called_by_user_id", 32, CHAT_ID, False),
    ("alignment", "conversation_id", 32, CHAT_ID, True),
    ("alignment_agreement", "created_by_team_id", 32, CHAT_ID, False),
    ("alignment_agreement", "created_by_user_id", 32, CHAT_ID, False),
    ("alignment_agreement", "owner_team_id", 32, CHAT_ID, False),
    ("alignment_agreement", "owner_user_id", 32, CHAT_ID, False),
    ("alignment_invite", "team_id", 32, CHAT_ID, False),
    ("alignment_invite", "user_id", 32, CHAT_ID, False),
    ("alignment_vote", "team_id", 32, CHAT_ID, False),
    ("alignment_vote", "user_id", 32, CHAT_ID, False),
    ("assessment", "by_team_id", 32, CHAT_ID, False),
    ("assessment", "by_user_id", 32, CHAT_ID, False),
    ("audit_entry", "actor_team_id", 32, CHAT_ID, False),
    ("audit_entry", "actor_user_id", 64, CHAT_ID, False),
    ("audit_entry", "object_id", 128, PERSON_KEY, False),
    ("backup_alert", "board_channel", 32, CHAT_ID, True),
    ("backup_alert", "closed_by_team_id", 32, CHAT_ID, True),
    ("backup_alert", "closed_by_user_id", 32, CHAT_ID, True),
    ("backup_alert_partner", "acknowledged_by_team_id", 32, CHAT_ID, True),
    ("backup_alert_partner", "acknowledged_by_user_id", 32, CHAT_ID, True),
    ("backup_alert_partner", "alert_channel_id", 32, CHAT_ID, True),
    ("backup_support_action", "recorded_by_team_id", 32, CHAT_ID, False),
    ("backup_support_action", "recorded_by_user_id", 32, CHAT_ID, False),
    ("case", "created_by_team_id", 32, CHAT_ID, False),
    ("case", "created_by_user_id", 32, CHAT_ID, False),
    ("case", "thread_channel", 32, CHAT_ID, True),
    ("case", "thread_ts", 32, CHAT_ID, True),
    ("case_score", "by_team_id", 32, CHAT_ID, False),
    ("case_score", "by_user_id", 32, CHAT_ID, False),
    ("checkin_answer", "team_id", 32, CHAT_ID, False),
    ("checkin_answer", "user_id", 32, CHAT_ID, False),
    ("checkin_moment", "channel_id", 32, CHAT_ID, False),
    ("checkin_schedule", "channel_id", 32, CHAT_ID, False),
    ("checkin_schedule", "created_by_team_id", 32, CHAT_ID, False),
    ("checkin_schedule", "created_by_user_id", 32, CHAT_ID, False),
    ("checkin_schedule", "team_id", 32, CHAT_ID, False),
    ("duty_contact", "team_id", 32, CHAT_ID, False),
    ("duty_contact", "user_id", 32, CHAT_ID, False),
    ("goal", "created_by_team_id", 32, CHAT_ID, False),
    ("goal", "created_by_user_id", 32, CHAT_ID, False),
    ("intervention", "created_by_team_id", 32, CHAT_ID, False),
    ("intervention", "created_by_user_id", 32, CHAT_ID, False),
    ("intervention", "owner_team_id", 32, CHAT_ID, False),
    ("intervention", "owner_user_id", 32, CHAT_ID, False),
    ("intervention_ask", "accepted_by_team_id", 32, CHAT_ID, True),
    ("intervention_ask", "accepted_by_user_id", 32, CHAT_ID, True),
    ("lesson", "by_team_id", 32, CHAT_ID, False),
    ("lesson", "by_user_id", 32, CHAT_ID, False),
    ("member", "team_id", 32, CHAT_ID, False),
    ("member", "user_id", 32, CHAT_ID, False),
    ("outbox", "key", 255, OUTBOX_KEY, False),
    ("outbox", "lane", 64, CHAT_ID, False),
    ("outbox", "result_channel", 64, CHAT_ID, True),
    ("outbox", "result_ts", 32, CHAT_ID, True),
    ("outbox", "team_id", 32, CHAT_ID, True),
    ("outbox_lane", "lane", 64, CHAT_ID, False),
    ("partner", "alert_channel_id", 32, CHAT_ID, True),
    ("partner", "lead_team_id", 32, CHAT_ID, True),
    ("partner", "lead_user_id", 32, CHAT_ID, True),
    ("person", "team_id", 32, CHAT_ID, False),
    ("person", "user_id", 32, CHAT_ID, False),
    ("processed_event", "event_id", 64, CHAT_ID, False),
    ("reach_link", "team_id", 32, CHAT_ID, False),
    ("reach_link", "user_id", 32, CHAT_ID, False),
    ("signal", "message_channel", 32, CHAT_ID, True),
    ("signal", "reporter_team_id", 32, CHAT_ID, False),
    ("signal", "reporter_user_id", 32, CHAT_ID, False),
    ("subject", "created_by_team_id", 32, CHAT_ID, False),
    ("subject", "created_by_user_id", 32, CHAT_ID, False),
)


def upgrade() -> None:
    _resize([(table, column, before, after, nullable) for table, column, before, after, nullable in WIDENED])


def downgrade() -> None:
    _resize([(table, column, after, before, nullable) for table, column, before, after, nullable in WIDENED])


def _resize(changes: list[tuple[str, str, int, int, bool]]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _declare_on_sqlite(changes)
        return
    for table, column, now, then, nullable in changes:
        op.alter_column(
            table,
            column,
            type_=sa.String(length=then),
            existing_type=sa.String(length=now),
            existing_nullable=nullable,
        )


def _declare_on_sqlite(changes: list[tuple[str, str, int, int, bool]]) -> None:
    """Rewrite each table's CREATE TABLE in sqlite_master with the new VARCHAR lengths, in the migration's
    transaction: the stored rows and indexes stay as they are (a declared length is no part of them)."""
    bind = op.get_bind()
    by_table: dict[str, list[tuple[str, int, int]]] = {}
    for table, column, now, then, _nullable in changes:
        by_table.setdefault(table, []).append((column, now, then))
    statements: dict[str, str] = {}
    for table, columns in by_table.items():
        sql = bind.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"), {"name": table}
        ).scalar_one()
        for column, now, then in columns:
            # The column's definition: its name (perhaps quoted) first on a line or after "(" or ",".
            name = re.escape(column)
            definition = re.compile(rf'((?:^|[\s(,])"?{name}"?\s+)VARCHAR\({now}\)', re.IGNORECASE)
            sql, found = definition.subn(rf"\g<1>VARCHAR({then})", sql)
            if found != 1:
                raise RuntimeError(f"{table}.{column}: {found} definitions as VARCHAR({now}), not one")
        statements[table] = sql
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        for table, sql in statements.items():
            bind.execute(
                sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :name"),
                {"sql": sql, "name": table},
            )
        # A new schema version makes every connection, this one too, read the changed schema again.
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = [row[0] for row in bind.exec_driver_sql("PRAGMA quick_check").all()]
    if problems != ["ok"]:
        raise RuntimeError(f"SQLite's quick_check after widening the chat id columns: {problems[:5]}")
