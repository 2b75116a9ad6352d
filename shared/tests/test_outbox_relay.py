"""The outbox relay on a real broker (a fresh vhost per test) and every test backend: events of many projects in flight at
once, one UPDATE per round, per-project order, and nothing marked sent that the broker did not
confirm and route (returned, nacked, or lost with the connection)."""

import datetime as dt
import socket
import uuid

import pytest
from kombu import Connection, Exchange, Queue
from prometheus_client import CollectorRegistry
from sqlalchemy import event, insert, select

from nxshared.db import OUTBOX, RELIABILITY_METADATA, make_engine
from nxshared.metrics import SuiteMetrics
from nxshared.outbox import BATCH, NACKED, UNROUTABLE, OutboxRelay
from nxshared.testing import _fresh_postgres_database

EXCHANGE = Exchange("review.events", type="topic", durable=True)


_postgres = {}


def outbox_url(backend, tmp_path):
    if backend == "postgresql":
        if "url" not in _postgres:
            _postgres["url"] = _fresh_postgres_database("relay")
        return _postgres["url"]
    return f"sqlite:///{tmp_path / 'outbox.db'}"


@pytest.fixture
def relay(rabbit_config, db_backend, tmp_path):
    engine = make_engine(outbox_url(db_backend, tmp_path))
    RELIABILITY_METADATA.drop_all(engine)
    RELIABILITY_METADATA.create_all(engine)
    relay = OutboxRelay(
        engine=engine,
        outbox=OUTBOX,
        amqp_uri=rabbit_config["AMQP_URI"],
        source="review",
        config={},
        metrics=SuiteMetrics(CollectorRegistry()),
    )
    yield relay
    relay.batches.close()
    engine.dispose()


@pytest.fixture
def broker(rabbit_config):
    with Connection(rabbit_config["AMQP_URI"]) as conn:
        yield conn


def bind(conn, name, routing_key, **arguments):
    queue = Queue(name, EXCHANGE, routing_key=routing_key, durable=True, queue_arguments=arguments or None)
    queue(conn.channel()).declare()
    return queue


def add(relay, project_id, event_type):
    event_id = str(uuid.uuid4())
    payload = {"event_id": event_id, "event_type": event_type, "project_id": project_id}
    with relay.engine.begin() as conn:
        conn.execute(
            insert(OUTBOX).values(
                event_id=event_id,
                event_type=event_type,
                project_id=project_id,
                payload=payload,
                created_at=dt.datetime.now(dt.UTC),
                attempts=0,
            )
        )
    return event_id


def unsent(relay):
    with relay.engine.connect() as conn:
        rows = conn.execute(select(OUTBOX).where(OUTBOX.c.sent_at.is_(None)).order_by(OUTBOX.c.id))
        return [(r.event_id, r.attempts, r.last_error) for r in rows]


def drain(conn, queue):
    bound = queue(conn.channel())
    received = []
    while (message := bound.get(no_ack=True)) is not None:
        received.append(message.payload)
    return received


def ids(payloads):
    return [p["event_id"] for p in payloads]


def relay_until_idle(relay, rounds=100):
    """Run rounds until one publishes nothing; the number of events sent."""
    total = 0
    for _ in range(rounds):
        sent, _ = relay.relay_once()
        if sent == 0:
            return total
        total += sent
    raise AssertionError("the relay never ran out of events")


def test_unroutable_event_stays_unsent_and_holds_its_project_back(relay, broker):
    submitted = bind(broker, "t-submitted", "review.submitted")
    a_failed = add(relay, "prj-a", "review.failed")  # nothing is bound for review.failed yet
    a_submitted = add(relay, "prj-a", "review.submitted")
    b_submitted = add(relay, "prj-b", "review.submitted")

    assert relay.relay_once() == (1, True)
    assert ids(drain(broker, submitted)) == [b_submitted]
    assert unsent(relay) == [(a_failed, 1, UNROUTABLE), (a_submitted, 0, None)]

    failed = bind(broker, "t-failed", "review.failed")
    assert relay_until_idle(relay) == 2
    assert ids(drain(broker, failed)) == [a_failed]
    assert ids(drain(broker, submitted)) == [a_submitted]
    assert unsent(relay) == []


def test_a_project_held_back_with_many_events_waiting_does_not_starve_the_others(relay, broker):
    submitted = bind(broker, "t-submitted", "review.submitted")
    add(relay, "prj-a", "review.failed")  # unroutable: prj-a's events wait behind it
    for _ in range(BATCH + 5):
        add(relay, "prj-a", "review.submitted")
    b_submitted = add(relay, "prj-b", "review.submitted")

    assert relay.relay_once() == (1, True)
    assert ids(drain(broker, submitted)) == [b_submitted]
    assert len(unsent(relay)) == BATCH + 6


def test_a_round_has_a_batch_in_flight_and_marks_it_sent_in_one_update(relay, broker):
    queue = bind(broker, "t-all", "review.#")
    for i in range(BATCH + 20):
        add(relay, f"prj-{i}", "review.submitted")
    updates = []

    @event.listens_for(relay.engine, "before_cursor_execute")
    def count_updates(conn, cursor, statement, *args):
        if statement.startswith("UPDATE outbox"):
            updates.append(statement)

    assert relay.relay_once() == (BATCH, False)
    assert len(updates) == 1
    assert len(unsent(relay)) == 20
    assert len(drain(broker, queue)) == BATCH


def test_five_hundred_events_arrive_exactly_once_each_project_in_order(relay, broker):
    queue = bind(broker, "t-all", "review.#")
    written = {f"prj-{p}": [] for p in range(25)}
    for _ in range(20):
        for project_id, events in written.items():
            events.append(add(relay, project_id, "review.submitted"))

    assert relay_until_idle(relay) == 500
    received = drain(broker, queue)
    assert sorted(ids(received)) == sorted(e for events in written.values() for e in events)
    for project_id, events in written.items():
        assert [p["event_id"] for p in received if p["project_id"] == project_id] == events
    assert unsent(relay) == []


def test_nacked_event_stays_unsent_and_holds_its_project_back(relay, broker):
    bind(broker, "t-full", "review.failed", **{"x-max-length": 0, "x-overflow": "reject-publish"})
    submitted = bind(broker, "t-submitted", "review.submitted")
    a_failed = add(relay, "prj-a", "review.failed")  # its only queue refuses it: the broker nacks
    a_submitted = add(relay, "prj-a", "review.submitted")
    b_submitted = add(relay, "prj-b", "review.submitted")

    assert relay.relay_once() == (1, True)
    assert relay.relay_once() == (0, True)
    assert ids(drain(broker, submitted)) == [b_submitted]
    assert unsent(relay) == [(a_failed, 2, NACKED), (a_submitted, 0, None)]


def test_a_lost_connection_marks_nothing_and_the_next_round_republishes(relay, broker, monkeypatch):
    queue = bind(broker, "t-all", "review.#")
    written = [add(relay, f"prj-{i}", "review.submitted") for i in range(10)]
    await_confirms = relay.batches._await_confirms

    def connection_lost_before_the_confirms():
        relay.batches._connection.connection.transport.sock.shutdown(socket.SHUT_RDWR)
        await_confirms()

    monkeypatch.setattr(relay.batches, "_await_confirms", connection_lost_before_the_confirms)
    with pytest.raises(Exception):  # noqa: B017 (whatever the socket error, nothing is marked)
        relay.relay_once()
    assert [e for e, _, _ in unsent(relay)] == written

    monkeypatch.setattr(relay.batches, "_await_confirms", await_confirms)
    assert relay_until_idle(relay) == 10
    assert unsent(relay) == []
    assert set(ids(drain(broker, queue))) == set(written)  # at least once; inboxes drop duplicates
