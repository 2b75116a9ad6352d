"""the outbox's unsent rows indexed by project (``ix_outbox_unsent``, partial): the relay's round
reads each project's oldest unsent event from it, however many sent rows the outbox keeps

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UNSENT = sa.text("sent_at IS NULL")


def upgrade():
    op.create_index("ix_outbox_unsent", "outbox", ["project_id", "id"], sqlite_where=UNSENT, postgresql_where=UNSENT)


def downgrade():
    op.drop_index("ix_outbox_unsent", table_name="outbox")
