"""The estimate as approved changes set it (Art 12, 18); who decided, as person@org (Art 27);
expert names as long as every other name.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import nxshared.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

WIDENED = [("reviews", "submitted_by", 64, 200), ("reviews", "concluded_by", 64, 200), ("experts", "name", 100, 200)]


def upgrade():
    with op.batch_alter_table("planned_projects") as batch:
        batch.add_column(sa.Column("changed_estimate", nxshared.tables.Money(), nullable=True))
        batch.add_column(sa.Column("estimate_change_id", sa.String(length=64), nullable=True))
    # SQLite does not enforce VARCHAR lengths, and rebuilding tables that other tables reference
    # would fail on existing rows with foreign keys on: widen where the length is enforced.
    if op.get_bind().dialect.name != "sqlite":
        for table, column, old, new in WIDENED:
            op.alter_column(table, column, type_=sa.String(length=new), existing_type=sa.String(length=old))


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        for table, column, old, new in WIDENED:
            op.alter_column(table, column, type_=sa.String(length=old), existing_type=sa.String(length=new))
    with op.batch_alter_table("planned_projects") as batch:
        batch.drop_column("estimate_change_id")
        batch.drop_column("changed_estimate")
