"""independent interventions: no case needed, a partner's goal, a subject code, partners asked to join

`intervention.case_id` becomes nullable (an intervention a partner carries out on its own, attachable to
a case later); `intervention.goal_id` names the goal it serves; `intervention_subject` links it to a
subject code (a link row, so erasing the subject keeps the intervention); `intervention_ask` holds the
partners asked to join until one of their people accepts.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

CONTRIBUTION = sa.Enum(
    "SPELER_IN_POSITIE",
    "SLAGKRACHT",
    "INFORMATIEPOSITIE",
    name="contribution",
    native_enum=False,
    length=32,
)


def upgrade() -> None:
    with op.batch_alter_table("intervention", schema=None) as batch_op:
        batch_op.alter_column("case_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("goal_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_intervention_goal_id_goal", "goal", ["goal_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_intervention_goal_id"), ["goal_id"], unique=False)

    op.create_table(
        "intervention_ask",
        sa.Column("intervention_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("contribution", CONTRIBUTION, nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by_team_id", sa.String(length=32), nullable=True),
        sa.Column("accepted_by_user_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["intervention_id"], ["intervention.id"]),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"]),
        sa.PrimaryKeyConstraint("intervention_id", "partner_id"),
    )
    with op.batch_alter_table("intervention_ask", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intervention_ask_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "intervention_subject",
        sa.Column("intervention_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["intervention_id"], ["intervention.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"]),
        sa.PrimaryKeyConstraint("intervention_id", "subject_id"),
    )
    with op.batch_alter_table("intervention_subject", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intervention_subject_subject_id"), ["subject_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("intervention_subject", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intervention_subject_subject_id"))
    op.drop_table("intervention_subject")
    with op.batch_alter_table("intervention_ask", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intervention_ask_partner_id"))
    op.drop_table("intervention_ask")
    # An independent intervention has no case to go back to: it cannot exist in the older schema.
    op.execute(
        "DELETE FROM intervention_partner WHERE intervention_id IN "
        "(SELECT id FROM intervention WHERE case_id IS NULL)"
    )
    op.execute(
        "UPDATE intervention SET depends_on_id = NULL WHERE depends_on_id IN "
        "(SELECT id FROM intervention WHERE case_id IS NULL)"
    )
    op.execute(
        "DELETE FROM lesson WHERE intervention_id IN (SELECT id FROM intervention WHERE case_id IS NULL)"
    )
    op.execute("DELETE FROM intervention WHERE case_id IS NULL")
    with op.batch_alter_table("intervention", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intervention_goal_id"))
        batch_op.drop_constraint("fk_intervention_goal_id_goal", type_="foreignkey")
        batch_op.drop_column("goal_id")
        batch_op.alter_column("case_id", existing_type=sa.Integer(), nullable=False)
