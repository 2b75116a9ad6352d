"""delivery and acceptance (Art 18–21, 24): whether a planned project is hosted on the Big Data
Center; each project's delivery (the facts other bureaus' events told review: approval, contract,
MLPS status, the unauthorized changes reported on it; its stage, the latest result of each kind of
test report, its latest pre-check), its supervisor, test reports, pre-checks and acceptances

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import nxshared.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ACTOR = sa.String(length=200)
CODE = sa.String(length=64)
NAME = sa.String(length=200)
WHEN = nxshared.tables.UtcDateTime(timezone=True)


def _delivery_key():
    return sa.Column("project_id", CODE, sa.ForeignKey("deliveries.project_id"), nullable=False, index=True)


def upgrade():
    with op.batch_alter_table("planned_projects") as batch:
        batch.add_column(
            sa.Column("hosted_on_big_data_center", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "deliveries",
        sa.Column("project_id", CODE, primary_key=True),
        sa.Column("stage", sa.String(length=24), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("approval_no", CODE),
        sa.Column("contract_no", CODE),
        sa.Column("mlps_status", sa.String(length=16)),
        sa.Column("mlps_as_of", WHEN),
        sa.Column("report_results", sa.JSON(), nullable=False),
        sa.Column("unauthorized_changes", sa.JSON(), nullable=False),
        sa.Column("precheck_id", sa.String(length=32)),
    )
    op.create_table(
        "supervisors",
        sa.Column("project_id", CODE, sa.ForeignKey("deliveries.project_id"), primary_key=True),
        sa.Column("company", NAME, nullable=False),
        sa.Column("qualification_no", CODE, nullable=False),
        sa.Column("lead_name", NAME, nullable=False),
        sa.Column("lead_certificate_no", CODE, nullable=False),
        sa.Column("registered_by", ACTOR, nullable=False),
        sa.Column("registered_at", WHEN, nullable=False),
    )
    op.create_table(
        "test_reports",
        sa.Column("report_id", sa.String(length=32), primary_key=True),
        _delivery_key(),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("agency", NAME, nullable=False),
        sa.Column("report_no", CODE, nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("submitted_by", ACTOR, nullable=False),
        sa.Column("submitted_at", WHEN, nullable=False),
    )
    op.create_table(
        "prechecks",
        sa.Column("precheck_id", sa.String(length=32), primary_key=True),
        _delivery_key(),
        sa.Column("requested_by", ACTOR, nullable=False),
        sa.Column("requested_at", WHEN, nullable=False),
        sa.Column("verdict", sa.String(length=16)),
        sa.Column("opinion", sa.Text()),
        sa.Column("concluded_by", ACTOR),
        sa.Column("concluded_at", WHEN),
    )
    op.create_table(
        "acceptances",
        sa.Column("acceptance_id", sa.String(length=32), primary_key=True),
        _delivery_key(),
        sa.Column("precheck_id", sa.String(length=32), sa.ForeignKey("prechecks.precheck_id"), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=False),
        sa.Column("recorded_by", ACTOR, nullable=False),
        sa.Column("recorded_at", WHEN, nullable=False),
    )


def downgrade():
    for table in ("acceptances", "prechecks", "test_reports", "supervisors", "deliveries"):
        op.drop_table(table)
    with op.batch_alter_table("planned_projects") as batch:
        batch.drop_column("hosted_on_big_data_center")
