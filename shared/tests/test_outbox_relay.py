"""The outbox relay on a real broker: confirmed events are marked sent, a returned (unroutable) one
stays unsent and holds back its project's later events, and nothing is lost once it can route."""

import datetime as dt
import uuid

import pytest
from kombu import Connection, Exchange, Queue
from prometheus_client import CollectorRegistry
from sqlalchemy import insert, select

from nxshared.db import OUTBOX, RELIABILITY_METADATA, make_engine
from nxshared.metrics import SuiteMetrics
from nxshared.outbox import OutboxRelay

EXCHANGE = Exchange("review.events", type="topic", durable=True)


@pytest.fixture
def relay(rabbit_config, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
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
    engine.dispose()


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
        return [(r.event_id, r.attempts) for r in conn.execute(select(OUTBOX).where(OUTBOX.c.sent_at.is_(None)))]


def drain(conn, queue):
    bound = queue(conn.channel())
    received = []
    while (message := bound.get(no_ack=True)) is not None:
        received.append(message.payload["event_id"])
    return received


def test_unroutable_event_stays_unsent_and_holds_its_project_back(relay, rabbit_config):
    with Connection(rabbit_config["AMQP_URI"]) as conn:
        submitted = Queue("t-submitted", EXCHANGE, routing_key="review.submitted", durable=True)
        submitted(conn.channel()).declare()
        a_failed = add(relay, "prj-a", "review.failed")  # nothing is bound for review.failed yet
        a_submitted = add(relay, "prj-a", "review.submitted")
        b_submitted = add(relay, "prj-b", "review.submitted")

        assert relay.relay_once() == (1, True)
        assert drain(conn, submitted) == [b_submitted]
        assert unsent(relay) == [(a_failed, 1), (a_submitted, 0)]

        failed = Queue("t-failed", EXCHANGE, routing_key="review.failed", durable=True)
        failed(conn.channel()).declare()
        assert relay.relay_once() == (2, False)
        assert drain(conn, failed) == [a_failed]
        assert drain(conn, submitted) == [a_submitted]
        assert unsent(relay) == []
