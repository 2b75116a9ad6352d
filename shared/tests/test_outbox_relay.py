"""The outbox relay on a real broker (a fresh vhost per test) and every test backend: events of many projects in flight at
once, one UPDATE per round, per-project order, and nothing marked sent that the broker did not
confirm and route (returned, nacked, or lost with the connection); events handed over by their
unit of work published from memory, and read from the outbox whenever memory cannot be trusted."""

import datetime as dt
import socket
import time
import uuid

import eventlet
import pytest
from kombu import Connection, Exchange, Queue
from prometheus_client import CollectorRegistry
from sqlalchemy import event, insert, select, text

from nxshared.db import OUTBOX, OUTBOX_INSERT, RELIABILITY_METADATA, make_engine
from nxshared.metrics import SuiteMetrics
from nxshared.outbox import BATCH, MAX_HANDED, NACKED, UNROUTABLE, Committed, OutboxRelay
from nxshared.testing import scratch_url

EXCHANGE = Exchange("review.events", type="topic", durable=True)


@pytest.fixture
def relay(rabbit_config, db_backend, tmp_path):
    engine = make_engine(scratch_url("relay", db_backend, tmp_path))
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


def written(relay, project_id, event_type):
    """An event as a unit of work writes it (``OUTBOX_INSERT``), committed: the row it hands over."""
    event_id = str(uuid.uuid4())
    payload = {"event_id": event_id, "event_type": event_type, "project_id": project_id}
    values = {**payload, "payload": payload, "created_at": dt.datetime.now(dt.UTC), "attempts": 0}
    with relay.engine.begin() as conn:
        returned = conn.execute(OUTBOX_INSERT, values).one()
    return Committed.inserted(returned, event_id, event_type, project_id, payload)


def committed(relay, project_id, event_type):
    """``written``, and handed to the relay as the unit of work does once it has committed."""
    row = written(relay, project_id, event_type)
    relay.wake([row])
    return row.event_id


def outbox_reads(relay):
    """The relay's reads of the outbox's heads from now on (statements, as executed); not its
    claims of handed rows by id (PostgreSQL: ``claims_of``)."""
    reads = []

    @event.listens_for(relay.engine, "before_cursor_execute")
    def seen(conn, cursor, statement, *args):
        if statement.lstrip().startswith("SELECT") and "outbox" in statement and "GROUP BY" in statement:
            reads.append(statement)

    return reads


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


def test_the_outbox_insert_tells_whether_the_row_is_its_projects_oldest_unsent(relay):
    first = written(relay, "prj-a", "review.submitted")
    second = written(relay, "prj-a", "review.passed")
    other = written(relay, "prj-b", "review.submitted")
    about_no_project = written(relay, None, "review.submitted")
    assert (first.head, second.head, other.head, about_no_project.head) == (True, False, True, False)

    relay._mark_sent([first])
    third = written(relay, "prj-a", "review.failed")  # the second is still unsent
    assert third.head is False


def test_handed_heads_are_published_without_reading_the_outbox(relay, broker):
    queue = bind(broker, "t-all", "review.#")
    assert relay.relay_once() == (0, False)  # a read that finds nothing: memory is all there is now
    handed = [committed(relay, f"prj-{i}", "review.submitted") for i in range(3)]
    reads = outbox_reads(relay)

    assert relay.relay_once() == (3, False)
    assert reads == []
    assert ids(drain(broker, queue)) == handed
    assert unsent(relay) == []


def test_the_relay_reads_the_outbox_until_a_read_finds_it_empty(relay, broker):
    queue = bind(broker, "t-all", "review.#")
    before = add(relay, "prj-a", "review.submitted")  # there at start: nobody handed it over
    reads = outbox_reads(relay)
    handed = committed(relay, "prj-b", "review.submitted")

    assert relay_until_idle(relay) == 2
    assert len(reads) == 2  # the round that published both, then the one that found nothing
    assert sorted(ids(drain(broker, queue))) == sorted([before, handed])


def test_an_event_behind_its_projects_head_is_read_and_its_project_kept_in_order(relay, broker):
    queue = bind(broker, "t-all", "review.#")
    assert relay.relay_once() == (0, False)
    events = [committed(relay, "prj-a", "review.submitted") for _ in range(3)]
    reads = outbox_reads(relay)

    assert relay_until_idle(relay) == 3
    assert reads  # only the first was its project's head: the others were read, one per round
    assert ids(drain(broker, queue)) == events


def test_a_handed_event_a_read_already_published_is_not_published_twice(relay, broker):
    queue = bind(broker, "t-all", "review.#")
    late = written(relay, "prj-a", "review.submitted")  # committed; handed over only after the next read

    assert relay.relay_once() == (1, False)
    relay.wake([late])
    assert relay.relay_once() == (0, False)
    assert ids(drain(broker, queue)) == [late.event_id]


def test_a_failed_round_makes_the_next_one_read_the_outbox(relay, broker):
    submitted = bind(broker, "t-submitted", "review.submitted")
    assert relay.relay_once() == (0, False)
    unroutable = committed(relay, "prj-a", "review.failed")  # nothing is bound for review.failed
    assert relay.relay_once() == (0, True)

    reads = outbox_reads(relay)
    other = committed(relay, "prj-b", "review.submitted")
    assert relay.relay_once() == (1, True)  # read: prj-a's head is retried (and refused again) too
    assert reads and ids(drain(broker, submitted)) == [other]
    assert unsent(relay) == [(unroutable, 2, UNROUTABLE)]


def test_more_handed_rows_than_it_keeps_are_let_go_and_read_back(relay, broker):
    queue = bind(broker, "t-all", "review.#")
    assert relay.relay_once() == (0, False)
    kept = committed(relay, "prj-a", "review.submitted")
    phantom = Committed(10**9, "not-in-the-outbox", "review.submitted", "prj-z", {}, True)
    relay.wake([phantom] * MAX_HANDED)  # too many: memory is dropped, the outbox is read instead

    assert relay.relay_once() == (1, False)
    assert ids(drain(broker, queue)) == [kept]


def test_another_writers_events_go_out_at_the_next_poll(relay, broker):
    queue = bind(broker, "t-all", "review.#")
    relay.poll_interval = 0.05
    runner = eventlet.spawn(relay.run)
    try:
        handed = committed(relay, "prj-a", "review.submitted")
        unannounced = add(relay, "prj-b", "review.submitted")  # written by someone who hands nothing over
        deadline = time.monotonic() + 10
        while unsent(relay) and time.monotonic() < deadline:
            eventlet.sleep(0.02)
    finally:
        relay.stop()
        runner.wait()
    assert unsent(relay) == []
    assert sorted(ids(drain(broker, queue))) == sorted([handed, unannounced])


@pytest.fixture
def running(relay):
    """The relay's loop in its own green thread, parked (waiting for a wake) before the test goes on."""
    relay.poll_interval = 5.0  # no poll during a test: what goes out was handed over or read
    runner = eventlet.spawn(relay.run)
    deadline = time.monotonic() + 10
    while not relay._parked and time.monotonic() < deadline:
        eventlet.sleep(0.01)
    assert relay._parked
    yield relay
    relay.stop()
    runner.wait()


def senders(relay, monkeypatch, fail_first=False):
    """Which green thread called ``batches.send`` for which events, in order (the first call
    raising a lost connection instead, with ``fail_first``)."""
    calls = []
    send = relay.batches.send

    def recorded(messages):
        messages = list(messages)
        calls.append((eventlet.getcurrent(), [key for key, _, _ in messages]))
        if fail_first and len(calls) == 1:
            relay.batches.close()
            raise ConnectionResetError("the broker went away")
        return send(messages)

    monkeypatch.setattr(relay.batches, "send", recorded)
    return calls


def until_all_sent(relay):
    deadline = time.monotonic() + 10
    while unsent(relay) and time.monotonic() < deadline:
        eventlet.sleep(0.02)
    assert unsent(relay) == []


def test_a_parked_relay_has_the_committing_green_thread_send_the_heads_it_hands_over(running, broker, monkeypatch):
    queue = bind(broker, "t-all", "review.#")
    calls = senders(running, monkeypatch)
    first = written(running, "prj-a", "review.submitted")
    second = written(running, "prj-b", "review.submitted")

    running.wake([first])  # sent here, before this green thread yields: the relay only awaits the confirm
    assert calls == [(eventlet.getcurrent(), [first.id])]
    running.wake([second])  # the relay is no longer parked: handed over, sent by the relay's round
    until_all_sent(running)

    assert [keys for _, keys in calls] == [[first.id], [second.id]]
    assert calls[1][0] is not eventlet.getcurrent()
    assert ids(drain(broker, queue)) == [first.event_id, second.event_id]


def test_an_early_send_that_fails_leaves_the_event_to_the_relay_which_reads_the_outbox(running, broker, monkeypatch):
    queue = bind(broker, "t-all", "review.#")
    calls = senders(running, monkeypatch, fail_first=True)
    reads = outbox_reads(running)
    row = written(running, "prj-a", "review.submitted")

    running.wake([row])  # the committed caller is not told: the relay has the event
    until_all_sent(running)

    assert calls[0][0] is eventlet.getcurrent() and calls[1][0] is not eventlet.getcurrent()
    assert reads  # memory no longer trusted after a failure: the outbox was read
    assert ids(drain(broker, queue)) == [row.event_id]


def test_an_event_behind_its_projects_head_is_not_sent_early(running, broker, monkeypatch):
    queue = bind(broker, "t-all", "review.#")
    calls = senders(running, monkeypatch)
    head = written(running, "prj-a", "review.submitted")
    behind = written(running, "prj-a", "review.passed")

    running.wake([head, behind])
    assert calls == []  # the relay reads the outbox and keeps the project in order
    until_all_sent(running)
    assert ids(drain(broker, queue)) == [head.event_id, behind.event_id]


# Replicas: two processes of a service share its outbox, each with its relay (PostgreSQL).


@pytest.fixture
def replica(relay, rabbit_config):
    """A second relay over the same outbox, with its own engine and broker connection: the relay of
    another process of the same service."""
    if not relay.claims:
        pytest.skip("SQLite: a service runs as one process (its relay claims nothing)")
    engine = make_engine(relay.engine.url.render_as_string(hide_password=False))
    other = OutboxRelay(
        engine=engine,
        outbox=OUTBOX,
        amqp_uri=rabbit_config["AMQP_URI"],
        source="review",
        config={},
        metrics=SuiteMetrics(CollectorRegistry()),
    )
    yield other
    other.batches.close()
    engine.dispose()


def written_as_a_process_does(relay, project_id, event_type):
    """``committed`` as a unit of work of the process ``relay`` belongs to: the project locked
    first (the locking rule of ``nxshared.db``, here a transaction-scoped advisory lock)."""
    event_id = str(uuid.uuid4())
    payload = {"event_id": event_id, "event_type": event_type, "project_id": project_id}
    values = {**payload, "payload": payload, "created_at": dt.datetime.now(dt.UTC), "attempts": 0}
    with relay.engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:p))"), {"p": project_id})
        returned = conn.execute(OUTBOX_INSERT, values).one()
    relay.wake([Committed.inserted(returned, event_id, event_type, project_id, payload)])
    return returned[0], event_id  # the row's id: its place in its project's order


def test_two_relays_over_one_outbox_publish_each_row_once_in_order_per_project(relay, replica, broker):
    queue = bind(broker, "t-all", "review.#")
    relays = [relay, replica]
    for r in relays:
        r.poll_interval = 0.05
    runners = [eventlet.spawn(r.run) for r in relays]
    projects = [f"prj-{p}" for p in range(20)]
    order = {p: [] for p in projects}

    def writer(n):  # each process writes every project's events, as RPCs spread over replicas do
        for step in range(15):
            for p in projects[n::2] + projects[1 - n :: 2]:
                order[p].append(written_as_a_process_does(relays[(n + step) % 2], p, "review.submitted"))
            eventlet.sleep(0)

    writers = [eventlet.spawn(writer, n) for n in (0, 1)]
    for w in writers:
        w.wait()
    order = {p: [e for _, e in sorted(events)] for p, events in order.items()}  # commit order
    try:
        until_all_sent(relay)
    finally:
        for r in relays:
            r.stop()
        for runner in runners:
            runner.wait()

    received = ids(drain(broker, queue))
    assert len(received) == 600 and sorted(received) == sorted(e for events in order.values() for e in events)
    published = {e: p for p, events in order.items() for e in events}
    for p, events in order.items():
        assert [e for e in received if published[e] == p] == events
        assert len(events) == 30
    assert relay.metrics.events_published.labels("review.submitted")._value.get() > 0
    assert replica.metrics.events_published.labels("review.submitted")._value.get() > 0  # both published


def test_a_head_another_relay_holds_is_neither_read_nor_claimed_nor_its_successor(relay, replica, broker):
    queue = bind(broker, "t-all", "review.#")
    first = written(relay, "prj-a", "review.submitted")
    behind = written(relay, "prj-a", "review.passed")
    other = written(relay, "prj-b", "review.submitted")
    with replica.engine.begin() as held:  # another relay's claim of prj-a's head, mid-round
        held.execute(text("SELECT id FROM outbox WHERE id = :id FOR UPDATE"), {"id": first.id})
        assert relay.relay_once() == (1, False)  # prj-b only: prj-a's next event waits for its head
        relay.wake([first])
        assert relay.relay_once() == (0, False)  # handed, but not claimed: the other relay has it
        assert relay._read_next  # until the outbox shows nothing held elsewhere
    assert ids(drain(broker, queue)) == [other.event_id]
    assert relay_until_idle(relay) == 2
    assert ids(drain(broker, queue)) == [first.event_id, behind.event_id]
