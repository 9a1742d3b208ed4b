"""backup alerts: by which way a partner acknowledged (chat, sms, email)

The drill report shows the time to acknowledge per channel (issue 19): `backup_alert_partner.
acknowledged_via` keeps whether the button in chat, an SMS reply or the e-mail's link acknowledged.
Rows acknowledged before this revision keep NULL (read as chat: the only way there was).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("backup_alert_partner", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledged_via", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("backup_alert_partner", schema=None) as batch_op:
        batch_op.drop_column("acknowledged_via")
