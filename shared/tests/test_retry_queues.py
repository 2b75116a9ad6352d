"""Retry queues on a real broker (a fresh virtual host per test): one queue per back-off step, so a
short delay is never held behind a long one; and every queue in the type ``EVENT_QUEUE_TYPE`` asks."""

import time

import pytest
from kombu import Connection, Producer, Queue

from approval.service import ApprovalService
from nxshared.core.errors import ValidationError
from nxshared.testing import deliver, planned_event
from nxshared.topology import (
    Subscription,
    declare,
    installed_subscriptions,
    queue_arguments,
    retry_delays,
    retry_queue,
    work_queue,
)

QUEUE_TYPES = ["classic", "quorum"]
SUBSCRIPTION = Subscription("retrytest", "on_something", (("somewhere", "thing.happened"),))


def wait_for(probe, timeout=30):
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)
    return value


@pytest.mark.parametrize("queue_type", QUEUE_TYPES)
def test_every_subscriber_queue_is_declared_with_the_configured_type(rabbit_config, rabbit_manager, queue_type):
    config = {"EVENT_QUEUE_TYPE": queue_type, "EVENT_MAX_ATTEMPTS": 3}
    subscriptions = installed_subscriptions()
    with Connection(rabbit_config["AMQP_URI"]) as conn:
        declare(conn, subscriptions, config=config)
        declare(conn, subscriptions, config=config)  # idempotent, as every service start repeats it
    types = {q["name"]: q.get("type", "classic") for q in rabbit_manager.get_queues(rabbit_config["vhost"])}
    expected = {sub.queue_name for sub in subscriptions}
    expected |= {sub.dead_queue_name for sub in subscriptions}
    expected |= {sub.retry_queue_name(d) for sub in subscriptions for d in retry_delays(config)}
    assert {name: types.get(name) for name in expected} == dict.fromkeys(expected, queue_type)


def test_an_unknown_queue_type_is_refused():
    with pytest.raises(ValueError, match="EVENT_QUEUE_TYPE"):
        queue_arguments({"EVENT_QUEUE_TYPE": "stream"})


@pytest.mark.parametrize("queue_type", QUEUE_TYPES)
def test_a_short_retry_is_not_held_behind_a_long_one(rabbit_config, queue_type):
    """The event put in the longest step's queue first comes back to the work queue after the one put
    in the shortest step's queue (a single queue with per-message TTLs would hold it at the head)."""
    config = {"EVENT_QUEUE_TYPE": queue_type, "EVENT_RETRY_BASE_MS": 100, "EVENT_MAX_ATTEMPTS": 5}
    shortest, *_, longest = retry_delays(config)
    with Connection(rabbit_config["AMQP_URI"]) as conn:
        declare(conn, [SUBSCRIPTION], sources=["somewhere"], config=config)
        producer = Producer(conn.channel())
        for body, delay in (("waits-long", longest), ("waits-short", shortest)):
            queue = retry_queue(SUBSCRIPTION, delay, config)
            producer.publish(
                body, exchange=SUBSCRIPTION.requeue_exchange_name, routing_key=queue.name, serializer="json"
            )
        work = work_queue(SUBSCRIPTION, config)(conn.channel())
        arrived = []
        deadline = time.monotonic() + 30
        while len(arrived) < 2 and time.monotonic() < deadline:
            message = work.get(no_ack=True)
            if message is None:
                time.sleep(0.02)
            else:
                arrived.append(message.payload)
    assert arrived == ["waits-short", "waits-long"]


def test_events_flow_through_quorum_queues_and_a_failing_one_is_retried_then_parked(
    container_factory, service_config, rabbit_manager, rabbit_config
):
    config = service_config("approval", EVENT_QUEUE_TYPE="quorum", EVENT_MAX_ATTEMPTS=3)
    container = container_factory(ApprovalService, config)
    container.start()
    deliver(container, "on_project_planned", planned_event())  # consumed from a quorum work queue
    broken = {**planned_event(), "data": {"name": "缺少字段"}}
    with pytest.raises(ValidationError):
        deliver(container, "on_project_planned", broken)
    dead = Queue("nx.approval.on_project_planned.dead")
    with Connection(config["AMQP_URI"]) as conn:
        wait_for(lambda: dead(conn.channel()).queue_declare(passive=True).message_count == 1)
    assert rabbit_manager.get_queue(rabbit_config["vhost"], dead.name)["type"] == "quorum"
