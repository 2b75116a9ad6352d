"""the lists' totals kept by the database: ``project_counts``, one row per (unit, plan year, status,
classified, construction mode) with how many projects it holds, filled from the projects as they
stand and kept by triggers on ``projects`` in the same transaction as each insert, update and delete

A list's ``total`` (Art 25's public list included) is then a sum over a few of these rows: counting
~100,000 visible projects took ~25 ms on PostgreSQL even as an index-only scan of a vacuumed table.
A change moves one project from its old row to its new one (old first: statuses only move forward,
so two transactions never wait on each other's rows in opposite orders). PostgreSQL's upsert
(``ON CONFLICT … DO UPDATE``) locks the row it increments, so concurrent declarations add up
exactly; SQLite serialises its write transactions anyway. A row that falls to 0 stays.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

KEY = ("unit", "plan_year", "status", "classified", "construction_mode")
COLUMNS = ", ".join(KEY)
TRIGGERS = ("project_counts_insert", "project_counts_update", "project_counts_delete")


def _values(row):
    return ", ".join(f"{row}.{k}" for k in KEY)


def _matches(row):
    return " AND ".join(f"{k} = {row}.{k}" for k in KEY)


def _changed(row_a, row_b, differs):
    return " OR ".join(f"{row_a}.{k} {differs} {row_b}.{k}" for k in KEY)


def _add(row):
    return (
        f"INSERT INTO project_counts ({COLUMNS}, n) VALUES ({_values(row)}, 1) "
        f"ON CONFLICT ({COLUMNS}) DO UPDATE SET n = project_counts.n + 1"
    )


def _take(row):
    return f"UPDATE project_counts SET n = n - 1 WHERE {_matches(row)}"


SQLITE = [
    f"CREATE TRIGGER project_counts_insert AFTER INSERT ON projects BEGIN {_add('NEW')}; END",
    f"CREATE TRIGGER project_counts_update AFTER UPDATE OF {COLUMNS} ON projects "
    f"WHEN {_changed('OLD', 'NEW', 'IS NOT')} BEGIN {_take('OLD')}; {_add('NEW')}; END",
    f"CREATE TRIGGER project_counts_delete AFTER DELETE ON projects BEGIN {_take('OLD')}; END",
]

POSTGRESQL = [
    f"""CREATE FUNCTION project_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
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
    "CREATE TRIGGER project_counts_insert AFTER INSERT ON projects FOR EACH ROW EXECUTE FUNCTION project_counts_keep()",
    f"CREATE TRIGGER project_counts_update AFTER UPDATE OF {COLUMNS} ON projects "
    f"FOR EACH ROW WHEN ({_changed('OLD', 'NEW', 'IS DISTINCT FROM')}) EXECUTE FUNCTION project_counts_keep()",
    "CREATE TRIGGER project_counts_delete AFTER DELETE ON projects FOR EACH ROW EXECUTE FUNCTION project_counts_keep()",
]


def upgrade():
    op.create_table(
        "project_counts",
        sa.Column("unit", sa.String(64), primary_key=True),
        sa.Column("plan_year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("status", sa.String(16), primary_key=True),
        sa.Column("classified", sa.Boolean(), primary_key=True),
        sa.Column("construction_mode", sa.String(16), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.execute(f"INSERT INTO project_counts ({COLUMNS}, n) SELECT {COLUMNS}, count(*) FROM projects GROUP BY {COLUMNS}")
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name}" if sqlite else f"DROP TRIGGER {name} ON projects")
    if not sqlite:
        op.execute("DROP FUNCTION project_counts_keep()")
    op.drop_table("project_counts")
