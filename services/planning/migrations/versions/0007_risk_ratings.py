"""each project's risk rating (issue 24): ``risk_ratings``, the basis of its rating kept as its
timeline grows (reasons, the schedule's reason and the day it applies from, the ratings both ways,
the smart office's latest override), and ``risk_overrides``, every override with its comment, who
and when

Existing projects are rated from their plan and timeline as they stand, with the default
thresholds (``planning.domain.risk.RiskRules``): the ratings a service started with other settings
computes differ only for projects with an event after it starts.

Revision ID: 0007_risk
Revises: 0006_reminders
"""

import sqlalchemy as sa
from alembic import op

import nxshared.tables
from planning.domain import risk

revision = "0007_risk"
down_revision = "0006_reminders"
branch_labels = None
depends_on = None

projects = sa.table(
    "projects",
    sa.column("project_id", sa.String),
    sa.column("plan_year", sa.Integer),
    sa.column("annual_investments", sa.JSON),
    sa.column("status", sa.String),
)
timeline = sa.table(
    "timeline",
    sa.column("seq", sa.Integer),
    sa.column("event_id", sa.String),
    sa.column("project_id", sa.String),
    sa.column("event_type", sa.String),
    sa.column("occurred_at", sa.String),
    sa.column("data", sa.JSON),
)


class _Entry:
    __slots__ = ("event_id", "event_type", "occurred_at", "data")

    def __init__(self, row):
        self.event_id, self.event_type, self.occurred_at, self.data = row.event_id, row.event_type, row.occurred_at, row.data


def backfill(bind, ratings):
    """Each project rated from its timeline, read once in the timeline's order."""
    entries: dict[str, list[_Entry]] = {}
    found = bind.execute(
        sa.select(timeline.c.project_id, timeline.c.event_id, timeline.c.event_type, timeline.c.occurred_at, timeline.c.data)
        .order_by(timeline.c.project_id, timeline.c.occurred_at, timeline.c.seq)
    )
    for row in found:
        entries.setdefault(row.project_id, []).append(_Entry(row))
    rules = risk.RiskRules()
    rows = [
        {"project_id": p.project_id, **risk.basis(risk.Plan(p.plan_year, p.annual_investments, p.status), entries.get(p.project_id, []), rules).as_row()}
        for p in bind.execute(sa.select(projects))
    ]
    if rows:
        bind.execute(sa.insert(ratings), rows)


def upgrade():
    ratings = op.create_table(
        "risk_ratings",
        sa.Column("project_id", sa.String(32), primary_key=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("late", sa.JSON(), nullable=True),
        sa.Column("late_from", sa.String(10), nullable=True),
        sa.Column("rating_on_time", sa.Integer(), nullable=False),
        sa.Column("rating_late", sa.Integer(), nullable=False),
        sa.Column("override_rating", sa.Integer(), nullable=True),
    )
    op.create_table(
        "risk_overrides",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("at", nxshared.tables.UtcDateTime(), nullable=False),
    )
    op.create_index("ix_risk_overrides_project", "risk_overrides", ["project_id", "seq"])
    backfill(op.get_bind(), ratings)


def downgrade():
    op.drop_index("ix_risk_overrides_project", table_name="risk_overrides")
    op.drop_table("risk_overrides")
    op.drop_table("risk_ratings")
