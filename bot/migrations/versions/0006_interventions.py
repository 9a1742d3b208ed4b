"""interventions, the partners joining them, lessons and goals (issue 5)

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "goal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column(
            "focus_element",
            sa.Enum(
                "OPROLLEN",
                "AFPAKKEN",
                "VERDIENMODEL_VERSTOREN",
                "CARRIERES_VOORKOMEN",
                "WEERBAARHEID",
                name="focuselement",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "instrument_type",
            sa.Enum(
                "BESTUURSRECHTELIJK",
                "STRAFRECHTELIJK",
                "FISCAAL",
                "PRIVAATRECHTELIJK",
                "PREVENTIEF",
                name="instrumenttype",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("submission_key", sa.String(length=64), nullable=True),
        sa.Column("created_by_team_id", sa.String(length=32), nullable=False),
        sa.Column("created_by_user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("target >= 1", name="ck_goal_target"),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_key"),
    )
    with op.batch_alter_table("goal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_goal_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "intervention",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column(
            "instrument_type",
            sa.Enum(
                "BESTUURSRECHTELIJK",
                "STRAFRECHTELIJK",
                "FISCAAL",
                "PRIVAATRECHTELIJK",
                "PREVENTIEF",
                name="instrumenttype",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("instrument", sa.String(length=200), nullable=False),
        sa.Column(
            "focus_element",
            sa.Enum(
                "OPROLLEN",
                "AFPAKKEN",
                "VERDIENMODEL_VERSTOREN",
                "CARRIERES_VOORKOMEN",
                "WEERBAARHEID",
                name="focuselement",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("owner_partner_id", sa.Integer(), nullable=False),
        sa.Column("owner_team_id", sa.String(length=32), nullable=False),
        sa.Column("owner_user_id", sa.String(length=32), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "VOORGESTELD",
                "TOEGEZEGD",
                "GEPLAND",
                "IN_UITVOERING",
                "UITGEVOERD",
                "GEANNULEERD",
                name="interventionstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_has_time", sa.Boolean(), nullable=False),
        sa.Column("depends_on_id", sa.Integer(), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("capacity_override_reason", sa.String(length=500), nullable=True),
        sa.Column("second_round_override_reason", sa.String(length=500), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("effect", sa.Text(), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=True),
        sa.Column("next_reminder_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_reminded_on", sa.Date(), nullable=True),
        sa.Column("snoozed_until", sa.Date(), nullable=True),
        sa.Column("stale_stage", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("submission_key", sa.String(length=64), nullable=True),
        sa.Column("created_by_team_id", sa.String(length=32), nullable=False),
        sa.Column("created_by_user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("round >= 1", name="ck_intervention_round"),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.id"],
        ),
        sa.ForeignKeyConstraint(
            ["depends_on_id"],
            ["intervention.id"],
        ),
        sa.ForeignKeyConstraint(
            ["owner_partner_id"],
            ["partner.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_key"),
    )
    with op.batch_alter_table("intervention", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intervention_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_intervention_depends_on_id"), ["depends_on_id"], unique=False)
        batch_op.create_index("ix_intervention_next_reminder", ["next_reminder_at"], unique=False)
        batch_op.create_index(
            "ix_intervention_owner", ["owner_team_id", "owner_user_id", "status"], unique=False
        )
        batch_op.create_index("ix_intervention_partner_status", ["owner_partner_id", "status"], unique=False)

    op.create_table(
        "intervention_partner",
        sa.Column("intervention_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column(
            "contribution",
            sa.Enum(
                "SPELER_IN_POSITIE",
                "SLAGKRACHT",
                "INFORMATIEPOSITIE",
                name="contribution",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["intervention_id"],
            ["intervention.id"],
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
        ),
        sa.PrimaryKeyConstraint("intervention_id", "partner_id"),
    )
    with op.batch_alter_table("intervention_partner", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intervention_partner_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "lesson",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("intervention_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column(
            "focus_element",
            sa.Enum(
                "OPROLLEN",
                "AFPAKKEN",
                "VERDIENMODEL_VERSTOREN",
                "CARRIERES_VOORKOMEN",
                "WEERBAARHEID",
                name="focuselement",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "instrument_type",
            sa.Enum(
                "BESTUURSRECHTELIJK",
                "STRAFRECHTELIJK",
                "FISCAAL",
                "PRIVAATRECHTELIJK",
                "PREVENTIEF",
                name="instrumenttype",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.Column("by_team_id", sa.String(length=32), nullable=False),
        sa.Column("by_user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["intervention_id"],
            ["intervention.id"],
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("intervention_id"),
    )
    with op.batch_alter_table("lesson", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lesson_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_lesson_partner_id"), ["partner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lesson", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesson_partner_id"))
        batch_op.drop_index(batch_op.f("ix_lesson_created_at"))

    op.drop_table("lesson")
    with op.batch_alter_table("intervention_partner", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intervention_partner_partner_id"))

    op.drop_table("intervention_partner")
    with op.batch_alter_table("intervention", schema=None) as batch_op:
        batch_op.drop_index("ix_intervention_partner_status")
        batch_op.drop_index("ix_intervention_owner")
        batch_op.drop_index("ix_intervention_next_reminder")
        batch_op.drop_index(batch_op.f("ix_intervention_depends_on_id"))
        batch_op.drop_index(batch_op.f("ix_intervention_case_id"))

    op.drop_table("intervention")
    with op.batch_alter_table("goal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_goal_partner_id"))

    op.drop_table("goal")
