"""partners, members, duty contacts and the audit log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Times are `timestamp with time zone` on PostgreSQL: SQLModel writes aware UTC values, and a column
    # without a zone would store them shifted by the server's TimeZone setting (Europe/Amsterdam is a
    # likely one here), which would also break the audit log's hashes on reading back.
    op.create_table(
        "partner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("alert_channel_id", sa.String(length=32), nullable=True),
        sa.Column("lead_team_id", sa.String(length=32), nullable=True),
        sa.Column("lead_user_id", sa.String(length=32), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.CheckConstraint("capacity >= 0", name="ck_partner_capacity"),
    )
    # Partner names are typed in commands case-insensitively: unique that way too.
    op.create_index("uq_partner_name_lower", "partner", [sa.text("lower(name)")], unique=True)
    op.create_table(
        "member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"]),
        sa.UniqueConstraint("team_id", "user_id", name="uq_member_person"),
    )
    op.create_index("ix_member_partner_id", "member", ["partner_id"])
    op.create_table(
        "duty_contact",
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("partner_id", "position"),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"]),
        sa.UniqueConstraint("partner_id", "team_id", "user_id", name="uq_duty_contact_person"),
    )
    op.create_table(
        "audit_entry",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_team_id", sa.String(length=32), nullable=False),
        sa.Column("actor_user_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=128), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_audit_entry_at", "audit_entry", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_entry_at", table_name="audit_entry")
    op.drop_table("audit_entry")
    op.drop_table("duty_contact")
    op.drop_index("ix_member_partner_id", table_name="member")
    op.drop_table("member")
    op.drop_index("uq_partner_name_lower", table_name="partner")
    op.drop_table("partner")
