"""goal progress without a scan: the page of goals in its order, and each goal's count from an index

`/samen doelen` shows at most a page of the year's goals; each one's progress counted every finished
intervention of the year for every goal (≈ 25,000 rows at a national partnership's size, issue 21).
`ix_goal_year` reads the year's goals in the page's order and stops after the page;
`ix_intervention_goal_progress` makes each shown goal's count of its partner's own work one range of an
index (partner, focus element, finished, in the year), with the instrument type read from it too;
`ix_intervention_goal_named` (goal, finished, in the year) does the same for the interventions named under
it, and replaces `ix_intervention_goal_id`, its prefix: without the status and date, SQLite's planner
preferred to read the year's finished interventions of every partner for each goal.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_goal_year", "goal", ["year", "partner_id", "focus_element", "id"])
    op.create_index(
        "ix_intervention_goal_progress",
        "intervention",
        ["owner_partner_id", "focus_element", "status", "done_at", "instrument_type"],
    )
    op.create_index("ix_intervention_goal_named", "intervention", ["goal_id", "status", "done_at"])
    op.drop_index("ix_intervention_goal_id", table_name="intervention")


def downgrade() -> None:
    op.create_index("ix_intervention_goal_id", "intervention", ["goal_id"])
    op.drop_index("ix_intervention_goal_named", table_name="intervention")
    op.drop_index("ix_intervention_goal_progress", table_name="intervention")
    op.drop_index("ix_goal_year", table_name="goal")
