"""``DatabaseHandle.transaction`` on every test backend, with and without an ORM session: the
state, the inbox row and the outbox rows commit together or not at all, and the relay hears of
what committed, and only of that."""

import datetime as dt
import types
import uuid

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.orm import sessionmaker

from nxshared.clock import Clock
from nxshared.core.events import Event
from nxshared.core.reminders import Reminder, send_reminders
from nxshared.db import INBOX, OUTBOX, RELIABILITY_METADATA, DatabaseHandle, make_engine
from nxshared.testing import scratch_url

NOTES = Table("notes", MetaData(), Column("id", Integer, primary_key=True), Column("text", String(40)))


class Relay:
    def __init__(self):
        self.woken = []

    def wake(self, committed=()):
        self.woken.append(list(committed))


class Counter:
    def labels(self, *labels):
        return self

    def inc(self, n=1):
        pass


class Notes:
    """A repository on whatever the unit of work gives it: a session or a connection."""

    def __init__(self, holder):
        self.holder = holder

    def add(self, text):
        connection = self.holder.connection() if hasattr(self.holder, "get_bind") else self.holder
        connection.execute(insert(NOTES), {"text": text})


@pytest.fixture
def handle(db_backend, tmp_path):
    engine = make_engine(scratch_url("uow", db_backend, tmp_path))
    for metadata in (RELIABILITY_METADATA, NOTES.metadata):
        metadata.drop_all(engine)
        metadata.create_all(engine)
    provider = types.SimpleNamespace(
        engine=engine,
        Session=sessionmaker(engine, expire_on_commit=False),
        container=types.SimpleNamespace(service_name="here"),
        clock=Clock(),
        relay=Relay(),
        metrics=types.SimpleNamespace(events_consumed=Counter()),
    )
    yield DatabaseHandle(provider, "on_thing")
    engine.dispose()


def event():
    return Event(str(uuid.uuid4()), "thing.happened", 1, "2027-03-01T09:00:00+00:00", "elsewhere", "prj-1", None)


def counts(handle):
    with handle._provider.engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one() for t in (NOTES, INBOX))


@pytest.mark.parametrize("orm", [True, False])
def test_the_state_and_the_inbox_row_commit_together(handle, orm):
    evt = event()
    with handle.transaction(Notes, orm=orm) as uow:
        assert uow.first_time(evt)
        uow.repo.add("applied")
    with handle.transaction(Notes, orm=orm) as uow:
        assert not uow.first_time(evt)  # the same event again: already applied
    assert counts(handle) == (1, 1)
    assert handle._provider.relay.woken == []  # nothing was emitted


@pytest.mark.parametrize("orm", [True, False])
def test_a_use_case_that_raises_leaves_nothing_behind(handle, orm):
    with pytest.raises(RuntimeError), handle.transaction(Notes, orm=orm) as uow:
        uow.first_time(event())
        uow.repo.add("half done")
        raise RuntimeError("refused")
    assert counts(handle) == (0, 0)
    with handle.transaction(Notes, orm=orm) as uow:  # the connection went back to the pool usable
        uow.repo.add("next")
    assert counts(handle) == (1, 0)


@pytest.mark.parametrize("orm", [True, False])
def test_a_reminder_is_written_to_the_outbox_once_however_often_it_is_found(handle, orm):
    """``emit_once``: the outbox's unique event id, with ON CONFLICT DO NOTHING, is the record of
    what was sent; the relay hears only of the first."""
    handle._provider.container.service_name = "planning"  # an emitter of reminder.due
    window = Reminder("declaration_window_closing", "窗口将于12月20日截止", dt.date(2026, 12, 20), "smart_office")
    for _ in range(3):
        with handle.transaction(Notes, orm=orm) as uow:
            sent = send_reminders(uow, [window])
    with handle._provider.engine.connect() as conn:
        rows = conn.execute(select(OUTBOX.c.event_id, OUTBOX.c.payload)).all()
    assert [row.event_id for row in rows] == [window.reminder_id("planning")]
    assert rows[0].payload["data"]["reminder_id"] == rows[0].event_id and rows[0].payload["project_id"] is None
    assert sent == [] and [len(woken) for woken in handle._provider.relay.woken] == [1]
