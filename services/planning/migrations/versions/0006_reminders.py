"""reminders: every service's ``reminder.due`` as planning keeps it for ``list_reminders`` (its own
declaration-window reminders, about no project, included), in the order of their due day

Revision ID: 0006_reminders
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_reminders"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reminders",
        sa.Column("reminder_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("project_id", sa.String(64)),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("owner_org", sa.String(64), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("occurred_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_reminders_due", "reminders", ["due_on", "reminder_id"])


def downgrade():
    op.drop_index("ix_reminders_due", table_name="reminders")
    op.drop_table("reminders")
