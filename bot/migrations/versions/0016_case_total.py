"""cases: each open case's total stored on the case, and the work queue's index

The work queue summed every open case's scores for every screen to show 20 (issue 21). `case.total_tenths`
holds an open case's total in tenths (0–1000: Σ weight × score/scale over Σ weight of the criteria in use,
rounded half up, exact in integers), kept in step by bot/cases/totals.py; `ix_case_queue` reads the queue
in its order (highest total first, the older case first on a tie). The open cases' totals are filled here;
a closed case keeps 0 until it is reopened.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import math

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("total_tenths", sa.Integer(), server_default="0", nullable=False))
    op.create_index(
        "ix_case_queue",
        "case",
        ["status", sa.desc(sa.column("total_tenths")), "created_at", "id"],
        unique=False,
    )
    _fill()


_CASE = sa.table(
    "case", sa.column("id", sa.Integer), sa.column("status"), sa.column("total_tenths", sa.Integer)
)
_SCORE = sa.table(
    "case_score",
    sa.column("case_id", sa.Integer),
    sa.column("criterion_id", sa.Integer),
    sa.column("score", sa.Integer),
)
_CRITERION = sa.table(
    "selection_criterion",
    sa.column("id", sa.Integer),
    sa.column("weight", sa.Integer),
    sa.column("scale_max", sa.Integer),
    sa.column("active", sa.Boolean),
)


def _fill() -> None:
    """The same integer arithmetic as bot/cases/totals.py, written out so this revision keeps its meaning."""
    bind = op.get_bind()
    active = bind.execute(
        sa.select(_CRITERION.c.id, _CRITERION.c.weight, _CRITERION.c.scale_max).where(
            _CRITERION.c.active.is_(True)
        )
    ).all()
    if not active:
        return
    common = math.lcm(*(scale for _id, _weight, scale in active))
    denominator = common * sum(weight for _id, weight, _scale in active)
    factors = {criterion_id: weight * (common // scale) for criterion_id, weight, scale in active}
    earned = (
        sa.select(sa.func.sum(sa.case(factors, value=_SCORE.c.criterion_id, else_=0) * _SCORE.c.score))
        .where(_SCORE.c.case_id == _CASE.c.id, _SCORE.c.criterion_id.in_(list(factors)))
        .scalar_subquery()
    )
    tenths = (2000 * sa.func.coalesce(earned, 0) + denominator) // (2 * denominator)
    bind.execute(sa.update(_CASE).where(_CASE.c.status == "OPEN").values(total_tenths=tenths))


def downgrade() -> None:
    op.drop_index("ix_case_queue", table_name="case")
    # Not through a batch: on SQLite that copies the table, which the cases' references forbid.
    op.drop_column("case", "total_tenths")
