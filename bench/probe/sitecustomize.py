"""Commit probe for the bench (on the services' PYTHONPATH only while the bench runs them).

Records, for every transaction that inserts outbox or inbox rows (an inbox insert that found the
event there inserts none), with or without an ORM session, the moment its COMMIT returned and the
moment it began: one line
``<kind>\\t<event_id>\\t<commit time>\\t<begin time>`` per row, appended to
``$NX_BENCH_PROBE_DIR/<pid>.tsv`` (``kind`` is ``out`` or ``in:<handler>``). The bench joins them
into commit → peer's commit event hops. Nothing polls: a line is written when a commit
happens. The hooks are installed once ``nxshared.db`` is imported, i.e. after the runner's
``eventlet.monkey_patch()``.
"""

import importlib.abc
import importlib.util
import os
import sys

TRIGGER = "nxshared.db"


def _install():
    import threading
    import time

    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.engine.default import DefaultDialect

    path = os.path.join(os.environ["NX_BENCH_PROBE_DIR"], f"{os.getpid()}.tsv")
    # kept open: opening and closing the file at every commit would add to the hop it measures
    out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    pending = threading.local()  # green-thread local once eventlet has patched threading
    columns = {}

    def _columns(statement):
        if statement not in columns:
            names = statement.split("(", 1)[1].split(")", 1)[0]
            columns[statement] = [name.strip().strip('"') for name in names.split(",")]
        return columns[statement]

    @event.listens_for(Engine, "after_cursor_execute")
    def _seen(conn, cursor, statement, parameters, context, executemany):
        if executemany or not statement.startswith(("INSERT INTO outbox", "INSERT INTO inbox")):
            return
        outbox = statement.startswith("INSERT INTO outbox")  # one row or an error (rowcount: 0 until fetched)
        if not outbox and cursor.rowcount == 0:  # an inbox insert-if-absent that found the event there
            return
        names = _columns(statement)
        row = parameters if isinstance(parameters, dict) else dict(zip(names, parameters, strict=False))
        kind = "out" if outbox else f"in:{row.get('handler')}"
        if not hasattr(pending, "rows"):
            pending.rows = []
        pending.rows.append((kind, row.get("event_id")))

    @event.listens_for(Engine, "begin")
    def _began(conn):
        pending.began = time.time()

    do_commit = DefaultDialect.do_commit  # every dialect's: the moment the database's COMMIT returned

    def _commit_then_record(dialect, dbapi_connection):
        do_commit(dialect, dbapi_connection)
        rows = getattr(pending, "rows", None)
        if rows:
            now, began = time.time(), getattr(pending, "began", 0.0)
            lines = "".join(f"{kind}\t{event_id}\t{now:.6f}\t{began:.6f}\n" for kind, event_id in rows)
            os.write(out, lines.encode())  # one append: whole lines, never interleaved
            pending.rows = []

    DefaultDialect.do_commit = _commit_then_record

    @event.listens_for(Engine, "rollback")
    def _rolled_back(conn):
        pending.rows = []


class _AfterImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != TRIGGER:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        exec_module = spec.loader.exec_module

        def exec_then_install(module):
            exec_module(module)
            _install()

        spec.loader.exec_module = exec_then_install
        return spec


if os.environ.get("NX_BENCH_PROBE_DIR"):
    sys.meta_path.insert(0, _AfterImport())
