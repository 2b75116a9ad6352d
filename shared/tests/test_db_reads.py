"""Reads (``db.reading()``): on PostgreSQL outside a transaction (no BEGIN / ROLLBACK round trips;
READ COMMITTED gives each statement its own snapshot anyway), on SQLite inside one."""

from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from nxshared.db import make_engine, reads_of
from nxshared.testing import database_url


def test_a_read_opens_no_transaction_on_postgresql_and_one_on_sqlite(db_backend, tmp_path):
    engine = make_engine(database_url("approval", db_backend, tmp_path))
    try:
        with sessionmaker(reads_of(engine))() as session:
            assert session.execute(text("SELECT count(*) FROM inbox")).scalar() == 0
            dbapi = session.connection().connection.dbapi_connection
            if db_backend == "postgresql":
                assert dbapi.info.transaction_status.name == "IDLE"  # not INTRANS: nothing began
            else:
                assert dbapi.in_transaction
    finally:
        engine.dispose()
