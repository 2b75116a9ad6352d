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
TOKEN_TRIGGER = "nxshared.auth"
HS256_KID = "bench-hs256"


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


def _install_hs256_comparison(auth):
    """The token v1 check beside v2's, for the bench only (``NX_BENCH_HS256_SECRET``): a token whose
    header says HS256 is verified as v1 did (the shared secret, HS256, cached per token), so that
    ``declare_project`` can be timed with either token in the same run. No service outside the bench
    accepts HS256."""
    import functools

    import jwt

    secret = os.environ["NX_BENCH_HS256_SECRET"]
    verified_v2 = auth._verified

    @functools.lru_cache(maxsize=auth.VERIFIED_TOKENS)
    def verified_v1(authorization, policy):
        claims = jwt.decode(authorization[len("Bearer ") :], secret, algorithms=["HS256"])
        return auth.Caller(sub=claims["sub"], org=claims["org"]), float(claims["exp"]), HS256_KID

    def verified(keys, authorization, policy):
        if jwt.get_unverified_header(authorization[len("Bearer ") :]).get("alg") == "HS256":
            return verified_v1(authorization, policy)
        return verified_v2(keys, authorization, policy)

    trusts = auth.TrustedKeys.trusts
    auth._verified = verified
    auth.TrustedKeys.trusts = lambda self, kid: kid == HS256_KID or trusts(self, kid)


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs ``install(module)`` once ``name`` has been imported."""

    def __init__(self, name, install):
        self.name, self.install = name, install

    def find_spec(self, name, path, target=None):
        if name != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        exec_module = spec.loader.exec_module

        def exec_then_install(module):
            exec_module(module)
            self.install(module)

        spec.loader.exec_module = exec_then_install
        return spec


if os.environ.get("NX_BENCH_PROBE_DIR"):
    sys.meta_path.insert(0, _AfterImport(TRIGGER, lambda module: _install()))
if os.environ.get("NX_BENCH_HS256_SECRET"):
    sys.meta_path.insert(0, _AfterImport(TOKEN_TRIGGER, _install_hs256_comparison))
