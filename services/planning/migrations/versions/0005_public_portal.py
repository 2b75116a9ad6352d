"""the public portal's read side (Art 25): each project's approved budget, procurement and total
disbursed kept on it beside its stage, approval and contract (whose O&M years and dates it now
keeps too), filled from the timeline as it stands; and ``public_totals``, one row per (plan year,
unit, category, stage) of the projects the public sees, with how many there are and the sum of
their estimates, kept by triggers on ``projects`` in the transaction of each change

The portal's count, sum of estimates, filter values and chart are then sums over a few of these
rows, never a scan of ~100,000 projects. A classified project is in no row (``classified =
false`` is part of every trigger's condition). As in 0003, a change takes the project from its old
row and adds it to its new one; a row that falls to 0 stays.

Revision ID: 0005
Revises: 0004
"""

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import nxshared.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

KEY = ("plan_year", "unit", "category", "stage")
COLUMNS = ", ".join(KEY)
WATCHED = ", ".join((*KEY, "classified", "estimated_investment"))
TRIGGERS = ("public_totals_insert", "public_totals_update", "public_totals_delete")
CONTRACT_FIELDS = ("contract_no", "vendor", "amount", "om_years", "signed_on", "om_ends_on")
PROCUREMENT_FIELDS = ("method", "supplier", "amount", "date")
FACTS = ("budget.approved", "procurement.registered", "contract.registered", "funds.disbursed")


def _values(row):
    return ", ".join(f"{row}.{k}" for k in KEY)


def _matches(row):
    return " AND ".join(f"{k} = {row}.{k}" for k in KEY)


def _add(row):
    return (
        f"INSERT INTO public_totals ({COLUMNS}, n, estimated) "
        f"SELECT {_values(row)}, 1, {row}.estimated_investment WHERE {row}.classified = false "
        f"ON CONFLICT ({COLUMNS}) DO UPDATE SET n = public_totals.n + 1, "
        f"estimated = public_totals.estimated + excluded.estimated"
    )


def _take(row):
    return (
        f"UPDATE public_totals SET n = n - 1, estimated = estimated - {row}.estimated_investment "
        f"WHERE {_matches(row)} AND {row}.classified = false"
    )


def _changed(differs):
    return " OR ".join(f"OLD.{k} {differs} NEW.{k}" for k in WATCHED.split(", "))


SQLITE = [
    f"CREATE TRIGGER public_totals_insert AFTER INSERT ON projects BEGIN {_add('NEW')}; END",
    f"CREATE TRIGGER public_totals_update AFTER UPDATE OF {WATCHED} ON projects "
    f"WHEN {_changed('IS NOT')} BEGIN {_take('OLD')}; {_add('NEW')}; END",
    f"CREATE TRIGGER public_totals_delete AFTER DELETE ON projects BEGIN {_take('OLD')}; END",
]

POSTGRESQL = [
    f"""CREATE FUNCTION public_totals_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_take("OLD")};
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {_add("NEW")};
    END IF;
    RETURN NULL;
END
$$""",
    "CREATE TRIGGER public_totals_insert AFTER INSERT ON projects FOR EACH ROW EXECUTE FUNCTION public_totals_keep()",
    f"CREATE TRIGGER public_totals_update AFTER UPDATE OF {WATCHED} ON projects "
    f"FOR EACH ROW WHEN ({_changed('IS DISTINCT FROM')}) EXECUTE FUNCTION public_totals_keep()",
    "CREATE TRIGGER public_totals_delete AFTER DELETE ON projects FOR EACH ROW EXECUTE FUNCTION public_totals_keep()",
]

projects = sa.table(
    "projects",
    sa.column("project_id", sa.String),
    sa.column("contract", sa.JSON),
    sa.column("budget", sa.JSON),
    sa.column("procurement", sa.JSON),
    sa.column("disbursed", nxshared.tables.Money),
)
timeline = sa.table(
    "timeline",
    sa.column("seq", sa.Integer),
    sa.column("project_id", sa.String),
    sa.column("event_type", sa.String),
    sa.column("occurred_at", sa.String),
    sa.column("data", sa.JSON),
)


def _facts(row):
    """What ``planning.domain.timeline`` keeps of the latest event of each kind (as of this release)."""
    data = row.data or {}
    if row.event_type == "budget.approved":
        return {"budget": {"approved_amount": data.get("approved_amount"), "approved_on": row.occurred_at[:10]}}
    if row.event_type == "procurement.registered":
        return {"procurement": {k: data[k] for k in PROCUREMENT_FIELDS if k in data}}
    if row.event_type == "contract.registered":
        return {"contract": {k: data[k] for k in CONTRACT_FIELDS if k in data}}
    total = data.get("disbursed_total")
    return {"disbursed": None if total is None else Decimal(str(total))}


def backfill(bind):
    """Each project's facts from its timeline, in the timeline's order (the latest of each kind wins)."""
    found = bind.execute(
        sa.select(timeline.c.project_id, timeline.c.event_type, timeline.c.occurred_at, timeline.c.data)
        .where(timeline.c.event_type.in_(FACTS))
        .order_by(timeline.c.project_id, timeline.c.occurred_at, timeline.c.seq)
    )
    kept: dict[str, dict] = {}
    for row in found:
        kept.setdefault(row.project_id, {}).update(_facts(row))
    for project_id, values in kept.items():
        bind.execute(projects.update().where(projects.c.project_id == project_id).values(**values))


def upgrade():
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    # added in place, not by a batch copy: the copy would drop 0003's triggers on projects
    op.add_column("projects", sa.Column("budget", sa.JSON(), nullable=True))
    op.add_column("projects", sa.Column("procurement", sa.JSON(), nullable=True))
    op.add_column("projects", sa.Column("disbursed", nxshared.tables.Money(), nullable=True))
    backfill(bind)
    op.create_table(
        "public_totals",
        sa.Column("plan_year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("unit", sa.String(64), primary_key=True),
        sa.Column("category", sa.String(32), primary_key=True),
        sa.Column("stage", sa.String(32), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("estimated", nxshared.tables.Money(), nullable=False),
    )
    op.execute(
        f"INSERT INTO public_totals ({COLUMNS}, n, estimated) "
        f"SELECT {COLUMNS}, count(*), sum(estimated_investment) FROM projects WHERE classified = false GROUP BY {COLUMNS}"
    )
    for statement in SQLITE if sqlite else POSTGRESQL:
        op.execute(statement)


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name}" if sqlite else f"DROP TRIGGER {name} ON projects")
    if not sqlite:
        op.execute("DROP FUNCTION public_totals_keep()")
    op.drop_table("public_totals")
    for name in ("disbursed", "procurement", "budget"):
        op.drop_column("projects", name)
