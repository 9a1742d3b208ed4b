"""check-ins (schedules, moments, answers) and ad-hoc alignment on a subject (issue 6)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkin_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("weekdays", sa.String(length=16), nullable=False),
        sa.Column("clock", sa.String(length=5), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("include_holidays", sa.Boolean(), nullable=False),
        sa.Column("window_minutes", sa.Integer(), nullable=False),
        sa.Column("questions", sa.Text(), nullable=False),
        sa.Column("ask_partner_need", sa.Boolean(), nullable=False),
        sa.Column("partner_ids", sa.Text(), nullable=False),
        sa.Column("people", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "ACTIEF", "GEPAUZEERD", "VERWIJDERD", name="schedulestatus", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submission_key", sa.String(length=64), nullable=True),
        sa.Column("created_by_team_id", sa.String(length=32), nullable=False),
        sa.Column("created_by_user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("window_minutes > 0", name="ck_checkin_schedule_window"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_key"),
    )
    with op.batch_alter_table("checkin_schedule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkin_schedule_channel_id"), ["channel_id"], unique=False)
        batch_op.create_index("ix_checkin_schedule_next_at", ["next_at"], unique=False)

    op.create_table(
        "checkin_moment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("questions", sa.Text(), nullable=False),
        sa.Column("ask_partner_need", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column(
            "status",
            sa.Enum("OPEN", "GESLOTEN", name="momentstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("reminded", sa.Boolean(), nullable=False),
        sa.Column("next_step_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["checkin_schedule.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("schedule_id", "local_date", name="uq_checkin_moment_day"),
    )
    with op.batch_alter_table("checkin_moment", schema=None) as batch_op:
        batch_op.create_index("ix_checkin_moment_next_step_at", ["next_step_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkin_moment_schedule_id"), ["schedule_id"], unique=False)

    op.create_table(
        "alignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=True),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("called_by_team_id", sa.String(length=32), nullable=False),
        sa.Column("called_by_user_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("GEVRAAGD", "GESTART", name="alignmentstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("conversation_id", sa.String(length=32), nullable=True),
        sa.Column("slots", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject_id", "partner_id", "day", name="uq_alignment_day"),
    )
    with op.batch_alter_table("alignment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alignment_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "checkin_answer",
        sa.Column("moment_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Text(), nullable=True),
        sa.Column("need_partner_ids", sa.String(length=200), nullable=True),
        sa.Column("need_text", sa.String(length=500), nullable=True),
        sa.Column("last_view_id", sa.String(length=64), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["moment_id"],
            ["checkin_moment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
        ),
        sa.PrimaryKeyConstraint("moment_id", "team_id", "user_id"),
    )
    op.create_table(
        "alignment_agreement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alignment_id", sa.Integer(), nullable=False),
        sa.Column("what", sa.String(length=200), nullable=False),
        sa.Column("owner_team_id", sa.String(length=32), nullable=False),
        sa.Column("owner_user_id", sa.String(length=32), nullable=False),
        sa.Column("owner_partner_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("submission_key", sa.String(length=64), nullable=True),
        sa.Column("created_by_team_id", sa.String(length=32), nullable=False),
        sa.Column("created_by_user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alignment_id"],
            ["alignment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["owner_partner_id"],
            ["partner.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_key"),
    )
    with op.batch_alter_table("alignment_agreement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alignment_agreement_alignment_id"), ["alignment_id"], unique=False
        )

    op.create_table(
        "alignment_invite",
        sa.Column("alignment_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column(
            "answer",
            sa.Enum("OPEN", "MEEDOEN", "AFGESLAGEN", name="inviteanswer", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["alignment_id"],
            ["alignment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
        ),
        sa.PrimaryKeyConstraint("alignment_id", "team_id", "user_id"),
    )
    op.create_table(
        "alignment_vote",
        sa.Column("alignment_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["alignment_id"],
            ["alignment.id"],
        ),
        sa.PrimaryKeyConstraint("alignment_id", "slot", "team_id", "user_id"),
    )


def downgrade() -> None:
    op.drop_table("alignment_vote")
    op.drop_table("alignment_invite")
    with op.batch_alter_table("alignment_agreement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alignment_agreement_alignment_id"))

    op.drop_table("alignment_agreement")
    op.drop_table("checkin_answer")
    with op.batch_alter_table("alignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alignment_subject_id"))

    op.drop_table("alignment")
    with op.batch_alter_table("checkin_moment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkin_moment_schedule_id"))
        batch_op.drop_index("ix_checkin_moment_next_step_at")

    op.drop_table("checkin_moment")
    with op.batch_alter_table("checkin_schedule", schema=None) as batch_op:
        batch_op.drop_index("ix_checkin_schedule_next_at")
        batch_op.drop_index(batch_op.f("ix_checkin_schedule_channel_id"))

    op.drop_table("checkin_schedule")
