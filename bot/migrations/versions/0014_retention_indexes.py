"""retention's plan without a scan: (closed_at, id) on signal and on case

`/samen privacy` and the coordinator's App Home show what the next nightly run removes: the oldest
expired signals and closed cases, at most a batch of each. Walking an index in that order stops after
the batch; without one, every signal was read and sorted on each Home visit (issue 21).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_signal_closed", "signal", ["closed_at", "id"])
    op.create_index("ix_case_closed", "case", ["closed_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_case_closed", table_name="case")
    op.drop_index("ix_signal_closed", table_name="signal")
