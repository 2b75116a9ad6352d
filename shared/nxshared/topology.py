"""Who consumes what: every subscriber's queue, bound from the registry.

nameko drops an event that no queue is bound for yet. So that an event published before its
consumer ever started still reaches it, every service declares *all* subscribers' queues and
bindings at start-up (and ``nx deploy`` does the same), from this one table.

Each subscriber has three durable queues: ``nx.<service>.<handler>`` (work),
``….retry`` (messages wait there out their back-off, then dead-letter back to the work queue)
and ``….dead`` (parked after the last attempt, for an operator).
"""

from dataclasses import dataclass

from kombu import Exchange, Queue, binding
from nameko.standalone.events import get_event_exchange

from nxshared.catalog import REGISTRY

DEFAULT_EXCHANGE = Exchange("", type="direct")


@dataclass(frozen=True)
class Subscription:
    service: str
    handler: str
    event_types: tuple

    @property
    def queue_name(self):
        return f"nx.{self.service}.{self.handler}"

    @property
    def retry_queue_name(self):
        return f"{self.queue_name}.retry"

    @property
    def dead_queue_name(self):
        return f"{self.queue_name}.dead"


def _sub(service, handler, event_types):
    return Subscription(service, handler, tuple(event_types))


SUBSCRIPTIONS = (
    _sub("planning", "record_timeline", REGISTRY.event_types()),
    _sub("planning", "register_ip_exception", ["contract.ip_exception_reported"]),
    _sub("review", "on_project_planned", ["project.planned"]),
    _sub("approval", "on_project_planned", ["project.planned"]),
    _sub("approval", "on_review_concluded", ["review.passed", "review.filed", "review.failed"]),
)


def subscription(service, handler, subscriptions=SUBSCRIPTIONS):
    for sub in subscriptions:
        if (sub.service, sub.handler) == (service, handler):
            return sub
    raise LookupError(f"{service}.{handler} is not in nxshared.topology.SUBSCRIPTIONS")


def work_queue(sub, config=None):
    bindings = [
        binding(get_event_exchange(REGISTRY.source_of(t), config or {}), routing_key=t) for t in sub.event_types
    ]
    return Queue(sub.queue_name, bindings=bindings, durable=True)


def retry_queue(sub):
    return Queue(
        sub.retry_queue_name,
        exchange=DEFAULT_EXCHANGE,
        routing_key=sub.retry_queue_name,
        durable=True,
        queue_arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": sub.queue_name},
    )


def dead_queue(sub):
    return Queue(sub.dead_queue_name, exchange=DEFAULT_EXCHANGE, routing_key=sub.dead_queue_name, durable=True)


def declare_all(connection, config=None, subscriptions=SUBSCRIPTIONS):
    """Declare every exchange, queue and binding of the suite. Idempotent."""
    channel = connection.channel()
    try:
        for source in sorted({s.source for s in REGISTRY.specs.values()}):
            get_event_exchange(source, config or {})(channel).declare()
        for sub in subscriptions:
            for queue in (work_queue(sub, config), retry_queue(sub), dead_queue(sub)):
                queue(channel).declare()
    finally:
        channel.close()


def replay_dead_letters(connection, sub):
    """Move every event parked for ``sub`` back to its work queue with a fresh attempt count (after
    an operator fixed the cause). Each is published with a confirm before it is acked. Returns how
    many were moved."""
    from nxshared.amqp import publisher_for

    publisher = publisher_for(connection.as_uri(include_password=True))
    queue = dead_queue(sub)(connection.channel())
    moved = 0
    while (message := queue.get(no_ack=False)) is not None:
        headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-nx-")}
        publisher.publish(
            message.body,
            exchange=DEFAULT_EXCHANGE,
            routing_key=sub.queue_name,
            headers=headers,
            serializer=None,
            content_type=message.content_type,
            content_encoding=message.content_encoding,
        )
        message.ack()
        moved += 1
    return moved
