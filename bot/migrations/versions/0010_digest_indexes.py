"""the digest's figures: interventions carried out in a period, newest first

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_intervention_status_done", "intervention", ["status", "done_at"])


def downgrade() -> None:
    op.drop_index("ix_intervention_status_done", table_name="intervention")
