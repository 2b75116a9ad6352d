"""The inbox on every test backend: one ``INSERT … ON CONFLICT DO NOTHING`` records an event for a
handler, and finds it there when the same event comes again."""

import contextlib
import uuid

import eventlet
import eventlet.event
import eventlet.tpool
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from nxshared.clock import Clock
from nxshared.core.events import Event
from nxshared.db import INBOX, RELIABILITY_METADATA, WRITE_OPTION, UnitOfWork, make_engine
from nxshared.testing import scratch_url


@pytest.fixture
def sessions(db_backend, tmp_path):
    engine = make_engine(scratch_url("inbox", db_backend, tmp_path))
    RELIABILITY_METADATA.drop_all(engine)
    RELIABILITY_METADATA.create_all(engine)
    yield sessionmaker(engine)
    engine.dispose()


def event():
    return Event(str(uuid.uuid4()), "thing.happened", 1, "2027-03-01T09:00:00+00:00", "elsewhere", "prj-1", None)


def record(sessions, evt, handler="on_thing", commit=True):
    """``first_time`` in a unit of work of its own; what it answered and what it counted."""
    with sessions() as session:
        uow = UnitOfWork(session.connection(), "here", handler, Clock())
        first = uow.first_time(evt)
        if commit:
            session.commit()
        return first, uow.consumed


def rows(sessions):
    with sessions() as session:
        return session.execute(select(func.count()).select_from(INBOX)).scalar_one()


def test_an_event_is_applied_once_and_its_duplicate_dropped(sessions):
    evt = event()
    assert record(sessions, evt) == (True, [("thing.happened", "applied")])
    assert record(sessions, evt) == (False, [("thing.happened", "duplicate")])
    assert rows(sessions) == 1


def test_each_handler_applies_the_event_once(sessions):
    evt = event()
    assert record(sessions, evt, "on_thing")[0] and record(sessions, evt, "on_other_thing")[0]
    assert not record(sessions, evt, "on_other_thing")[0]
    assert rows(sessions) == 2


def test_a_rolled_back_record_leaves_the_event_to_be_applied(sessions):
    evt = event()
    assert record(sessions, evt, commit=False)[0]
    assert record(sessions, evt)[0]
    assert rows(sessions) == 1


def test_insert_if_absent_fills_constant_defaults_and_keeps_given_values(tmp_path):
    from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table

    from nxshared.tables import insert_if_absent

    table = Table(
        "things",
        MetaData(),
        Column("key", String(8), primary_key=True),
        Column("count", Integer, nullable=False, default=0),
        Column("seen", Boolean, nullable=False, default=False),
        Column("note", String(8)),
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'things.db'}")
    try:
        table.metadata.create_all(engine)
        statement = insert_if_absent(table, "key")
        with engine.begin() as conn:
            assert conn.execute(statement, {"key": "a"}).rowcount == 1
            assert conn.execute(statement, {"key": "b", "count": 5}).rowcount == 1
            assert conn.execute(statement, {"key": "a", "count": 9}).rowcount == 0
            rows = conn.execute(select(table).order_by(table.c.key)).all()
        assert [tuple(row) for row in rows] == [("a", 0, False, None), ("b", 5, False, None)]
    finally:
        engine.dispose()


# Replicas: two processes of a service consume the same queue; a redelivered event may reach both.


def apply_in_a_unit_of_work(engine, evt, applied, who, before_commit=None):
    """What an event handler does: record the event, apply it only the first time, commit."""
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
        uow = UnitOfWork(conn, "here", "on_thing", Clock())
        if uow.first_time(evt):
            applied.append(who)
        if before_commit:
            before_commit()


@pytest.mark.parametrize("first_commits", [True, False], ids=["first-commits", "first-rolls-back"])
def test_two_consumers_of_the_same_event_apply_it_once(sessions, first_commits):
    """The second delivery waits for the first's transaction: it finds the event applied once that
    one commits, and applies it itself if that one rolls back (a crash mid-handler)."""
    engine = sessions.kw["bind"]
    evt, applied = event(), []
    # SQLite's busy wait blocks the thread it runs on: the second consumer waits in an OS thread
    second_consumer = eventlet.tpool.execute if engine.dialect.name == "sqlite" else (lambda f: f())
    started, released = eventlet.event.Event(), eventlet.event.Event()

    def first():
        def hold():
            started.send()
            released.wait()
            if not first_commits:
                raise RuntimeError("the process died before its commit")

        with contextlib.suppress(RuntimeError):
            apply_in_a_unit_of_work(engine, evt, applied, "first", before_commit=hold)

    one = eventlet.spawn(first)
    started.wait()
    two = eventlet.spawn(second_consumer, lambda: apply_in_a_unit_of_work(engine, evt, applied, "second"))
    eventlet.sleep(0.3)
    assert not two.dead  # waiting for the first delivery's transaction
    released.send()
    one.wait()
    two.wait()

    # a rolled-back apply is undone with its transaction; the list only shows who ran the handler's effect
    assert applied == (["first"] if first_commits else ["first", "second"])
    assert rows(sessions) == 1
