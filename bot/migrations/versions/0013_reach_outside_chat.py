"""reach people outside chat: members' phone and e-mail (sealed), the one-time acknowledgement links

`member.phone` and `member.email` are sealed text (bot/crypto.py), like every restricted field;
`reach_link` keeps each e-mailed acknowledgement link's id, so that a link is used once (issue 19).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("email", sa.Text(), nullable=True))

    op.create_table(
        "reach_link",
        sa.Column("jti", sa.String(length=32), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["backup_alert.id"]),
        sa.PrimaryKeyConstraint("jti"),
    )
    with op.batch_alter_table("reach_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reach_link_alert_id"), ["alert_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reach_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reach_link_alert_id"))
    op.drop_table("reach_link")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("email")
        batch_op.drop_column("phone")
