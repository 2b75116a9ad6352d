"""The project's planned estimate as planning's events tell it (Art 12, 18), on the project and on the
application decided on it; who applied and who decided, as person@org (Art 27).

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

ACTORS = ("applied_by", "decided_by")


def upgrade():
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("estimated_investment", nxshared.tables.Money(), nullable=True))
        batch.add_column(sa.Column("estimate_as_of", sa.String(length=40), nullable=True))
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("estimated_investment", nxshared.tables.Money(), nullable=True))
        for column in ACTORS:
            batch.alter_column(column, type_=sa.String(length=200), existing_type=sa.String(length=64))


def downgrade():
    with op.batch_alter_table("applications") as batch:
        for column in ACTORS:
            batch.alter_column(column, type_=sa.String(length=64), existing_type=sa.String(length=200))
        batch.drop_column("estimated_investment")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("estimate_as_of")
        batch.drop_column("estimated_investment")
