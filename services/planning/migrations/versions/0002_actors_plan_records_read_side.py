"""person@org in every *_by column and on the timeline; the plan's concurrences; a change's new
estimate; a plan event on the timeline of each of its projects; the public read side (stage,
approval, contract) on the project; the lists' indexes

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

ACTOR = sa.String(200)
OLD = sa.String(64)
NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
ORDER = ["plan_year", "declared_at", "project_id"]


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("timeline", naming_convention=NAMES) as batch:
        batch.drop_constraint("uq_timeline_event_id" if sqlite else "timeline_event_id_key", type_="unique")
        batch.drop_index("ix_timeline_project_id")
        batch.alter_column("actor", type_=sa.Text(), existing_type=OLD)
        batch.create_unique_constraint("uq_timeline_event_project", ["event_id", "project_id"])
        batch.create_index("ix_timeline_project_order", ["project_id", "occurred_at", "seq"])
    with op.batch_alter_table("projects") as batch:
        batch.alter_column("declared_by", type_=ACTOR, existing_type=OLD, existing_nullable=False)
        batch.add_column(sa.Column("stage", sa.String(32), nullable=False, server_default="declared"))
        batch.add_column(sa.Column("approval", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("contract", sa.JSON(), nullable=True))
        for name in ("plan_year", "status", "unit"):
            batch.drop_index(f"ix_projects_{name}")
        batch.create_index("ix_projects_order", ORDER)
        for name in ("unit", "status", "classified"):
            batch.create_index(f"ix_projects_{name}_order", [name, *ORDER])
    with op.batch_alter_table("annual_plans") as batch:
        batch.add_column(sa.Column("concurrences", sa.JSON(), nullable=False, server_default="[]"))
        batch.alter_column("compiled_by", type_=ACTOR, existing_type=OLD, existing_nullable=False)
        batch.alter_column("approved_by", type_=ACTOR, existing_type=OLD)
    with op.batch_alter_table("change_requests") as batch:
        batch.alter_column("requested_by", type_=ACTOR, existing_type=OLD, existing_nullable=False)
        batch.alter_column("decided_by", type_=ACTOR, existing_type=OLD)
        batch.add_column(sa.Column("estimated_investment", nxshared.tables.Money(), nullable=True))
    with op.batch_alter_table("unauthorized_changes") as batch:
        batch.alter_column("reported_by", type_=ACTOR, existing_type=OLD, existing_nullable=False)
        batch.alter_column("resolved_by", type_=ACTOR, existing_type=OLD)
    _keep_what_the_timelines_say()


def _keep_what_the_timelines_say():
    """Each existing project's stage, approval and contract, from its timeline as it stands."""
    from types import SimpleNamespace

    from planning.domain.timeline import TimelineEntry, disclose

    bind = op.get_bind()
    timeline = sa.table(
        "timeline",
        sa.column("seq"),
        sa.column("project_id"),
        sa.column("event_type"),
        sa.column("occurred_at"),
        sa.column("data", sa.JSON()),
    )
    rows = bind.execute(
        sa.select(timeline.c.project_id, timeline.c.event_type, timeline.c.data).order_by(
            timeline.c.project_id, timeline.c.occurred_at, timeline.c.seq
        )
    ).all()
    by_project: dict[str, list] = {}
    for project_id, event_type, data in rows:
        entry = TimelineEntry("", project_id, event_type, "", "", None, data if isinstance(data, dict) else {})
        by_project.setdefault(project_id, []).append(entry)
    bind.execute(sa.text("UPDATE projects SET stage = status"))
    projects = sa.table(
        "projects",
        sa.column("project_id"),
        sa.column("status"),
        sa.column("stage"),
        sa.column("approval", sa.JSON()),
        sa.column("contract", sa.JSON()),
    )
    for project_id, status in bind.execute(sa.select(projects.c.project_id, projects.c.status)).all():
        entries = by_project.get(project_id)
        if not entries:
            continue
        project = SimpleNamespace(status=status, stage=status, approval=None, contract=None)
        disclose(project, entries)
        bind.execute(
            projects.update()
            .where(projects.c.project_id == project_id)
            .values(stage=project.stage, approval=project.approval, contract=project.contract)
        )


def downgrade():
    with op.batch_alter_table("unauthorized_changes") as batch:
        batch.alter_column("resolved_by", type_=OLD, existing_type=ACTOR)
        batch.alter_column("reported_by", type_=OLD, existing_type=ACTOR, existing_nullable=False)
    with op.batch_alter_table("change_requests") as batch:
        batch.drop_column("estimated_investment")
        batch.alter_column("decided_by", type_=OLD, existing_type=ACTOR)
        batch.alter_column("requested_by", type_=OLD, existing_type=ACTOR, existing_nullable=False)
    with op.batch_alter_table("annual_plans") as batch:
        batch.alter_column("approved_by", type_=OLD, existing_type=ACTOR)
        batch.alter_column("compiled_by", type_=OLD, existing_type=ACTOR, existing_nullable=False)
        batch.drop_column("concurrences")
    with op.batch_alter_table("projects") as batch:
        for name in ("unit", "status", "classified"):
            batch.drop_index(f"ix_projects_{name}_order")
        batch.drop_index("ix_projects_order")
        for name in ("plan_year", "status", "unit"):
            batch.create_index(f"ix_projects_{name}", [name])
        batch.drop_column("contract")
        batch.drop_column("approval")
        batch.drop_column("stage")
        batch.alter_column("declared_by", type_=OLD, existing_type=ACTOR, existing_nullable=False)
    with op.batch_alter_table("timeline") as batch:
        batch.drop_index("ix_timeline_project_order")
        batch.drop_constraint("uq_timeline_event_project", type_="unique")
        batch.alter_column("actor", type_=OLD, existing_type=sa.Text())
        batch.create_index("ix_timeline_project_id", ["project_id"])
        batch.create_unique_constraint("uq_timeline_event_id", ["event_id"])
