"""Every service's migrations go down and up again on PostgreSQL, with rows in its tables where a
generic row can be made (issue 23: a bureau can take its service back to the previous release).

For each service: upgrade to head, put one row in every table that takes one (its NOT NULL columns
given plain values, its foreign keys pointing at the rows already put in), then downgrade one step
at a time to base, checking the outbox keeps its row while it exists, and upgrade to head again.
Runs in ``make test`` when PostgreSQL is a test backend (``NX_TEST_BACKENDS``)."""

import datetime as dt
import decimal
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, types

from nxshared.db import make_engine
from nxshared.discovery import installed_services
from nxshared.testing import backends, scratch_url

ROOT = Path(__file__).resolve().parents[2]


def plain_value(column):
    kind = column.type
    if isinstance(kind, types.Enum) and kind.enums:
        return kind.enums[0]
    try:
        python = kind.python_type
    except NotImplementedError:
        python = str
    if python is bool:
        return False
    if python is int:
        return 1
    if python in (float, decimal.Decimal):
        return decimal.Decimal("1.00")
    if python is dt.datetime:
        return dt.datetime(2026, 12, 15, tzinfo=dt.UTC)
    if python is dt.date:
        return dt.date(2026, 12, 15)
    if python in (dict, list):
        return {}
    length = getattr(kind, "length", None) or 8
    return "x1234567"[:length]


def fill(connection):
    """One row in every table that takes a generic one; the names of those that did."""
    metadata = MetaData()
    metadata.reflect(connection)
    put, filled = {}, []
    for table in metadata.sorted_tables:
        if table.name == "alembic_version":
            continue
        row = {}
        for column in table.columns:
            references = [fk.column for fk in column.foreign_keys if fk.column.table.name in put]
            if references:
                row[column.name] = put[references[0].table.name].get(references[0].name)
            elif (not column.nullable or column.primary_key) and column.server_default is None:
                if column.autoincrement is True:  # serial or identity
                    continue
                row[column.name] = plain_value(column)
        savepoint = connection.begin_nested()
        try:
            connection.execute(table.insert().values(**row))
            savepoint.commit()
        except Exception:  # a CHECK, an enum of the database's own: no generic row for this table
            savepoint.rollback()
            continue
        put[table.name] = row
        filled.append(table.name)
    return filled


def outbox_rows(connection):
    if "outbox" not in inspect(connection).get_table_names():
        return None
    return connection.exec_driver_sql("SELECT count(*) FROM outbox").scalar()


@pytest.mark.parametrize("service", [s.name for s in installed_services()])
def test_migrations_go_down_to_base_and_up_to_head_with_rows_present(service):
    if "postgresql" not in backends():
        pytest.skip("PostgreSQL is not a test backend (NX_TEST_BACKENDS)")
    migrations = ROOT / "services" / service / "migrations"
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations))
    revisions = [r.revision for r in ScriptDirectory.from_config(cfg).walk_revisions()]  # head first
    engine = make_engine(scratch_url(f"migrations_{service}", "postgresql", None))
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
            filled = fill(connection)
            assert "outbox" in filled and "inbox" in filled
            for below in revisions[1:] + ["base"]:
                command.downgrade(cfg, below)
                assert outbox_rows(connection) in (None, 1)  # kept while the table exists
            assert inspect(connection).get_table_names() == ["alembic_version"]
            command.upgrade(cfg, "head")
            assert outbox_rows(connection) == 0
        print(f"{service}: {len(revisions)} revision(s) down to base and up to head, rows in {len(filled)} table(s)")
    finally:
        engine.dispose()
