"""Bulk-load planning's database with projects written as ``declare_project`` writes them.

    .venv/bin/python bench/bulk_load.py DATABASE_URL TOTAL

A *template* project, declared through the running service, is copied row for row: every row of
every planning table (read at run time from ``planning.models``, so a new column or a read model is
copied too) that names the template's ``project_id``, plus the inbox rows of its events, each copy
with a fresh project id and fresh event ids. The copies' outbox rows are marked sent (the template's
events were published; copies must not flood the broker). Owners rotate over 20 units and one
project in 20 is classified. Rows go in through SQLAlchemy Core ``executemany``, one transaction per
``CHUNK`` projects; a table without a ``project_id`` (``project_counts``) is not copied: the
database's triggers keep it as the copies go in.

On PostgreSQL the load ends with ``VACUUM ANALYZE`` of planning's tables, so the lists are measured
on a settled database, as autovacuum leaves one (this machine's server runs with it off): planner
statistics, a visibility map, and the counts' rows rid of the versions the load's upserts left.
"""

import datetime as dt
import importlib
import sys
import uuid

from sqlalchemy import Integer, func, select

from nxshared.db import make_engine

UNITS = [f"unit:bulk{i:02d}" for i in range(20)]
CHUNK = 5000


def planning_metadata():
    return importlib.import_module("planning.models").metadata


def project_count(engine):
    projects = planning_metadata().tables["projects"]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(projects)).scalar_one()


def template_rows(conn, metadata, project_id):
    """Every row naming ``project_id``, by table, and the inbox rows of its events."""
    found = {}
    event_ids = set()
    for table in metadata.sorted_tables:
        if "project_id" in table.c:
            rows = [dict(r._mapping) for r in conn.execute(select(table).where(table.c.project_id == project_id))]
            if rows:
                found[table.name] = rows
                event_ids.update(r["event_id"] for r in rows if r.get("event_id"))
    inbox = metadata.tables.get("inbox")
    if inbox is not None and event_ids:
        found["inbox"] = [dict(r._mapping) for r in conn.execute(select(inbox).where(inbox.c.event_id.in_(event_ids)))]
    return found


def _generated(column):
    return column.primary_key and isinstance(column.type, Integer) and column.autoincrement in (True, "auto")


def _replace(value, mapping):
    if isinstance(value, str):
        return mapping.get(value, value)
    if isinstance(value, dict):
        return {k: _replace(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, mapping) for v in value]
    return value


def clones(metadata, template, project_id, n, now):
    """``n`` copies of the template's rows, table by table."""
    old_events = {r["event_id"] for rows in template.values() for r in rows if r.get("event_id")}
    out = {name: [] for name in template}
    for i in range(n):
        unit = UNITS[i % len(UNITS)]
        mapping = {project_id: f"prj-{uuid.uuid4().hex[:24]}", **{e: str(uuid.uuid4()) for e in old_events}}
        for name, rows in template.items():
            table = metadata.tables[name]
            for row in rows:
                clone = {k: _replace(v, mapping) for k, v in row.items() if not _generated(table.c[k])}
                if name == "projects":
                    clone.update(unit=unit, classified=(i % 20 == 19))
                    if "declared_by" in clone:
                        clone["declared_by"] = f"bench@{unit}"
                if "sent_at" in clone:
                    clone["sent_at"] = clone["sent_at"] or now
                out[name].append(clone)
    return out


def top_up(engine, total, template_id):
    """Add projects until the database holds ``total``; returns how many were added."""
    metadata = planning_metadata()
    missing = total - project_count(engine)
    if missing <= 0:
        return 0
    now = dt.datetime.now(dt.UTC)
    with engine.connect() as conn:
        template = template_rows(conn, metadata, template_id)
    for start in range(0, missing, CHUNK):
        batch = clones(metadata, template, template_id, min(CHUNK, missing - start), now)
        with engine.begin() as conn:
            for table in metadata.sorted_tables:
                if batch.get(table.name):
                    conn.execute(table.insert(), batch[table.name])
    settle(engine, metadata)
    return missing


def settle(engine, metadata):
    """PostgreSQL: ``VACUUM ANALYZE`` each of planning's tables (outside a transaction, as it must)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in metadata.sorted_tables:
            conn.exec_driver_sql(f'VACUUM ANALYZE "{table.name}"')


def main(argv):
    if len(argv) != 2:
        raise SystemExit(__doc__)
    url, total = argv[0], int(argv[1])
    engine = make_engine(url)
    projects = planning_metadata().tables["projects"]
    with engine.connect() as conn:
        template_id = conn.execute(select(projects.c.project_id).order_by(projects.c.declared_at).limit(1)).scalar()
    if template_id is None:
        raise SystemExit("declare one project first (it is the template)")
    print(f"added {top_up(engine, total, template_id)} projects")


if __name__ == "__main__":
    main(sys.argv[1:])
