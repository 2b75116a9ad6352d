"""duplicate projects (Art 12): the projects review has heard of (name, summary, unit, secrecy,
declared / planned / not planned) with the corpus version that wrote each, the one-row corpus
version, and on each review the similar projects found at submission and the data center's
acknowledgement of them

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import nxshared.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "known_projects",
        sa.Column("project_id", sa.String(length=64), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("classified", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_known_projects_version", "known_projects", ["version"])
    op.create_table(
        "corpus_version",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("duplicates", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch.add_column(sa.Column("duplicates_acknowledged_by", sa.String(length=200)))
        batch.add_column(sa.Column("duplicates_acknowledged_at", nxshared.tables.UtcDateTime(timezone=True)))
        batch.add_column(sa.Column("duplicates_comment", sa.Text()))


def downgrade():
    with op.batch_alter_table("reviews") as batch:
        for column in ("duplicates_comment", "duplicates_acknowledged_at", "duplicates_acknowledged_by", "duplicates"):
            batch.drop_column(column)
    op.drop_table("corpus_version")
    op.drop_index("ix_known_projects_version", table_name="known_projects")
    op.drop_table("known_projects")
