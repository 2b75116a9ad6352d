"""One database per service: the provider, the unit of work, migrations.

A unit of work is one transaction holding the state change *and* the events it causes (written to
the outbox) *and*, for an event handler, the id of the event it applies (the inbox). It commits
inside the entrypoint: nameko replies to an RPC before dependency hooks run, so a commit there
could fail after the caller was told it succeeded.

**One locking rule.** A unit of work locks the aggregate it changes before it reads it for a
decision: each service's repository loads it with a ``locked_…`` method (``SELECT … FOR UPDATE`` on
PostgreSQL); on SQLite every unit of work is a write transaction from its first statement
(``BEGIN IMMEDIATE``), which serialises writers. Reads (``reading()``) take no lock.
"""

import logging
import os
from contextlib import contextmanager
from pathlib import Path
from weakref import WeakKeyDictionary

from kombu import Connection
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from sqlalchemy import MetaData, create_engine, event, func, select, text
from sqlalchemy.orm import sessionmaker

from nxshared.catalog import REGISTRY
from nxshared.clock import Clock
from nxshared.core.events import DomainEvent
from nxshared.metrics import GaugeCollector, registry_for
from nxshared.outbox import Committed, OutboxRelay
from nxshared.tables import inbox_table, insert_if_absent, insert_text, outbox_table
from nxshared.topology import declare, subscriptions_of

log = logging.getLogger(__name__)

RELIABILITY_METADATA = MetaData()
OUTBOX = outbox_table(RELIABILITY_METADATA)
INBOX = inbox_table(RELIABILITY_METADATA)
# Built once, as text: a statement made per event costs its construction and cache key (~0.3 ms a
# call), and SQLAlchemy's SQLite RETURNING drops the table names the subquery needs. It returns the
# row's id and the oldest unsent event of its project as this transaction sees the outbox: the row
# itself (SQLite's subquery sees it) or none (PostgreSQL's does not) when no earlier event of the
# project waits. Such a row is its project's head: once committed, the relay may publish it
# straight from memory (``OutboxRelay.wake``), without reading the outbox first.
OUTBOX_INSERT = insert_text(
    OUTBOX,
    ("event_id", "event_type", "project_id", "payload", "created_at"),  # and attempts, 0
    "RETURNING id, (SELECT min(earlier.id) FROM outbox AS earlier "
    "WHERE earlier.project_id = outbox.project_id AND earlier.sent_at IS NULL)",
)
# the same, but an event whose id the outbox holds already is not written again (no row returned)
OUTBOX_INSERT_ONCE = insert_text(
    OUTBOX,
    ("event_id", "event_type", "project_id", "payload", "created_at"),
    "ON CONFLICT DO NOTHING RETURNING id, (SELECT min(earlier.id) FROM outbox AS earlier "
    "WHERE earlier.project_id = outbox.project_id AND earlier.sent_at IS NULL)",
)
# one statement records an event id, or finds it there (rowcount 0): no SELECT first, and no race
# between two deliveries of the same event (PostgreSQL waits for the other's insert to commit or
# roll back, then does nothing or inserts)
INBOX_INSERT = insert_if_absent(INBOX)


def normalize_url(url):
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url):
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection):
            write = connection.get_execution_options().get(WRITE_OPTION)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


WRITE_OPTION = "nx_write_transaction"


def reads_of(engine):
    """The engine reads go through. On PostgreSQL they run outside a transaction: under its READ
    COMMITTED every statement sees its own snapshot either way, and BEGIN and ROLLBACK cost two
    round trips of a list's five. SQLite reads stay in one (a single snapshot, no round trip)."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


MIGRATION_LOCK = 0x6E78_6D69  # "nxmi": the advisory lock a migration holds on PostgreSQL (one per database)


def migrate(url, migrations_dir, to="head"):
    """Bring the service's database to revision ``to`` of its alembic migrations: up to head at
    start; down to an earlier revision when a bureau takes its service back to a previous release
    (the newer release's migrations know how to undo themselves, the older ones do not know them)."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    engine = make_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as connection:
            if sqlite:  # SQLite's way to rebuild a table that others reference (ALTER TABLE, step 1)
                without_foreign_keys(connection)
            with connection.begin():
                if not sqlite:  # replicas starting together: one migrates, the others then find it done
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
                cfg.attributes["connection"] = connection
                current = MigrationContext.configure(connection).get_current_revision()
                if current is not None and to in _at_or_below(ScriptDirectory.from_config(cfg), current):
                    command.downgrade(cfg, to)
                else:
                    command.upgrade(cfg, to)
                if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
                    raise RuntimeError(f"the migration left rows whose foreign keys point nowhere: {broken[:5]}")
    finally:
        engine.dispose()


def _at_or_below(script, revision):
    """``revision`` and the revisions it was migrated through."""
    return {r.revision for r in script.iterate_revisions(revision, "base")}


def without_foreign_keys(connection):
    """A batch migration on SQLite copies a table, drops the old one and renames the copy; with
    foreign keys enforced, dropping a table other rows reference fails (an upgraded database that
    holds projects could not start). The pragma only takes effect outside a transaction, so it is
    set on the driver's connection before the migration's begins; ``foreign_key_check`` then proves
    the result consistent before it commits."""
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=OFF")
    finally:
        cursor.close()


class UnitOfWork:
    """One transaction of one service's database (see ``nxshared.core.uow`` for the protocol), on
    ``connection``: the transaction's own, whether an ORM session holds it or not."""

    def __init__(self, connection, source, handler, clock, repo=None):
        self.connection = connection
        self.source = source
        self.handler = handler
        self.clock = clock
        self.repo = repo
        self.events = []
        self.committed = []  # the outbox rows, for the relay once the transaction has committed
        self.consumed = []

    def emit(self, *events: DomainEvent):
        """Record what a decision caused, to be published once this transaction commits; returns
        the events in their envelopes."""
        return [self._write(domain_event, None, OUTBOX_INSERT) for domain_event in events]

    def emit_once(self, domain_event: DomainEvent, event_id: str):
        """Record an event under a deterministic ``event_id`` unless the outbox holds that id already
        (it keeps every row it wrote): its envelope, or None when it was written before."""
        return self._write(domain_event, event_id, OUTBOX_INSERT_ONCE)

    def _write(self, domain_event, event_id, statement):
        evt = REGISTRY.make(domain_event, source=self.source, occurred_at=self.clock.now(), event_id=event_id)
        payload = evt.as_payload()
        values = {
            "event_id": evt.event_id,
            "event_type": evt.event_type,
            "project_id": evt.project_id,
            "payload": payload,
            "created_at": self.clock.now(),
        }
        returned = self.connection.execute(statement, values).first()
        if returned is None:
            return None
        self.committed.append(Committed.inserted(returned, evt.event_id, evt.event_type, evt.project_id, payload))
        self.events.append(evt)
        return evt

    def first_time(self, evt):
        """Record ``evt`` in the inbox; False when this handler has already applied it."""
        recorded = self.connection.execute(
            INBOX_INSERT,
            {
                "event_id": evt.event_id,
                "event_type": evt.event_type,
                "handler": self.handler,
                "processed_at": self.clock.now(),
            },
        )
        new = recorded.rowcount == 1
        self.consumed.append((evt.event_type, "applied" if new else "duplicate"))
        return new


class DatabaseHandle:
    """What a worker sees as ``self.db``.

    **Events leave after the reply.** An RPC worker's committed events are handed to the relay once
    its reply is on the wire (``Database.worker_result``), not at each commit: the caller, who waits,
    is answered first, and the events follow at once on the same green thread. Sent before the reply,
    they set the peers that consume them to work while the reply is still being written: on a shared
    machine those peers take the processor the reply needs (a write RPC of security took ~2.5× the
    bare echo that way, ~1.7× this way); the event hop grows by the reply's write, ~0.2 ms. Other
    workers (event handlers, timers) hand theirs over at each commit: nobody waits for them.
    """

    def __init__(self, provider, handler, after_reply=None):
        self._provider = provider
        self._handler = handler
        self.after_reply = after_reply  # an RPC worker's committed outbox rows, for ``worker_result``

    @contextmanager
    def transaction(self, repository=None, *, orm=True):
        """A unit of work; ``repository(session)`` builds the service's repository as ``uow.repo``.

        ``orm=False``: the unit of work runs on a plain connection, without an ORM session, and the
        repository is built on that connection (``repository(connection)``): for a use case whose
        repository only executes statements, such as an event handler on every event's path. A
        session's own bookkeeping (its transaction, flush, identity map) costs more than such a
        transaction's statements: ~0.2 ms of ~0.5 in a busy process, ~0.8 ms in one that was idle.
        """
        write = {WRITE_OPTION: True}
        holder = self._provider.Session() if orm else self._provider.engine.connect().execution_options(**write)
        try:
            if orm:
                connection = holder.connection(execution_options=write)
            else:
                connection = holder
                connection.begin()
            repo = repository(holder) if repository else None
            uow = UnitOfWork(
                connection, self._provider.container.service_name, self._handler, self._provider.clock, repo
            )
            yield uow
            holder.commit()
        except BaseException:
            holder.rollback()
            raise
        finally:
            holder.close()
        if uow.committed:
            if self.after_reply is None:
                self._provider.relay.wake(uow.committed)
            else:
                self.after_reply.extend(uow.committed)
        for event_type, outcome in uow.consumed:
            self._provider.metrics.events_consumed.labels(self._handler, event_type, outcome).inc()

    @property
    def amqp_uri(self):
        return self._provider.container.config["AMQP_URI"]

    def ping(self):
        self._provider.ping()

    @contextmanager
    def reading(self):
        session = self._provider.ReadSession()
        try:
            yield session
        finally:
            session.close()  # ends the read transaction; loaded objects stay readable


class Database(DependencyProvider):
    """Engine, sessions and the outbox relay of one service's own database."""

    def setup(self):
        config = self.container.config
        self.engine = make_engine(config["DATABASE_URL"])
        self.Session = sessionmaker(self.engine, expire_on_commit=False)
        self.ReadSession = sessionmaker(reads_of(self.engine), expire_on_commit=False)
        self.clock = Clock(config.get("TODAY"))
        self._handles: WeakKeyDictionary = WeakKeyDictionary()  # worker context → its handle, until the worker's result
        self.metrics = suite = registry_for(self.container)
        self.relay = OutboxRelay(
            engine=self.engine,
            outbox=OUTBOX,
            amqp_uri=config["AMQP_URI"],
            source=self.container.service_name,
            config=config,
            metrics=suite,
            enabled=config.get("OUTBOX_RELAY_ENABLED", True),
            poll_interval=float(config.get("OUTBOX_POLL_SECONDS", 0.5)),
        )
        suite.registry.register(GaugeCollector(self._outbox_gauges))

    def start(self):
        """Declare this service's exchange and its own subscribers' queues, then relay."""
        with Connection(self.container.config["AMQP_URI"]) as conn:
            declare(
                conn,
                subscriptions_of(self.container.service_cls),
                sources=[self.container.service_name],
                config=self.container.config,
            )
        self.container.spawn_managed_thread(self.relay.run, identifier="outbox_relay")

    def stop(self):
        self.relay.stop()
        self.engine.dispose()

    def kill(self):
        self.relay.stop()

    def get_dependency(self, worker_ctx):
        replies = isinstance(worker_ctx.entrypoint, Rpc)
        handle = DatabaseHandle(self, worker_ctx.entrypoint.method_name, [] if replies else None)
        self._handles[worker_ctx] = handle
        return handle

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        """After an RPC's reply (nameko calls this once the entrypoint has handled the result): its
        committed events go to the relay now (see ``DatabaseHandle``)."""
        handle = self._handles.pop(worker_ctx, None)
        if handle is not None and handle.after_reply:
            self.relay.wake(handle.after_reply)

    def worker_teardown(self, worker_ctx):
        self._handles.pop(worker_ctx, None)

    def ping(self):
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def _outbox_gauges(self):
        try:
            with self.engine.connect() as conn:
                backlog, oldest = conn.execute(
                    select(func.count(), func.min(OUTBOX.c.created_at)).where(OUTBOX.c.sent_at.is_(None))
                ).one()
        except Exception:  # a scrape must not fail because the database is down; /health says so
            log.warning("outbox gauges unavailable", exc_info=True)
            return []
        age = 0.0 if oldest is None else max(0.0, (Clock.now() - oldest).total_seconds())
        return [
            ("nx_outbox_backlog", "Outbox events not yet published", {}, backlog),
            ("nx_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox event", {}, age),
        ]
