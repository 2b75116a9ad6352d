"""The broker topology, collected from the services' own handler declarations.

A handler says what it consumes where it consumes it: ``@subscribe("review.passed", "review.filed")``.
Each subscriber has three durable queues: ``nx.<service>.<handler>`` (work, bound to the events it
consumes), ``….retry.<delay>`` (one per back-off step: messages wait out that step's queue TTL, then
dead-letter back to the work queue) and ``….dead`` (parked after the last attempt, for an operator).

``EVENT_QUEUE_TYPE`` (suite-wide, ``NX_EVENT_QUEUE_TYPE``): ``classic`` durable queues by default,
``quorum`` for a clustered broker (``x-queue-type: quorum``: replicated, always durable and never
exclusive; the retry queues' TTL and dead-lettering work the same). Every service and ``nx deploy``
must use the same type: RabbitMQ refuses to redeclare a queue with another type.

A service declares its own queues at start; ``nx deploy`` declares those of every installed service,
so an event published before its consumer ever started waits for it. (Without either, the outbox
relay keeps an unroutable event unsent and tries again: nothing is dropped.)

A handler that subscribes to its own service's events but has them already (``own_recorded``: the
use case that emits them applies them in the same transaction, as planning's timeline does) is not
sent them back: its own events are bound to ``….recorded`` instead, a queue that holds nothing
(``x-max-length: 0``). The broker still routes them there, so the relay's ``mandatory`` publish
treats them as it did when the handler received them, and nobody pays for a delivery that changes
nothing.
"""

import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kombu import Exchange, Queue, binding
from nameko.standalone.events import get_event_exchange

from nxshared.catalog import REGISTRY

ALL_EVENTS = "#"
QUEUE_TYPES = ("classic", "quorum")
QUEUE_TYPE_SETTING = "EVENT_QUEUE_TYPE"


def queue_type_setting(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The suite-wide queue type from ``NX_EVENT_QUEUE_TYPE`` (default classic), for a config that
    does not set it (``config.yaml`` need not repeat it)."""
    import os

    source: Mapping[str, str] = os.environ if environ is None else environ
    return {QUEUE_TYPE_SETTING: source.get(f"NX_{QUEUE_TYPE_SETTING}", "classic")}


def queue_arguments(config: dict | None) -> dict[str, str]:
    """The arguments every work, retry and dead queue gets for the configured queue type."""
    queue_type = str((config or {}).get(QUEUE_TYPE_SETTING) or "classic")
    if queue_type not in QUEUE_TYPES:
        raise ValueError(f"{QUEUE_TYPE_SETTING}={queue_type!r}: expected one of {', '.join(QUEUE_TYPES)}")
    return {"x-queue-type": "quorum"} if queue_type == "quorum" else {}


@dataclass(frozen=True)
class Subscription:
    service: str
    handler: str
    bindings: tuple[tuple[str, str], ...]  # (source, routing key): an event type, or "#" for all
    own_recorded: bool = False  # its own service's events are applied where they are emitted

    @property
    def queue_name(self) -> str:
        return f"nx.{self.service}.{self.handler}"

    @property
    def recorded_queue_name(self) -> str:
        return f"{self.queue_name}.recorded"

    @property
    def delivered_bindings(self) -> tuple[tuple[str, str], ...]:
        """What the work queue is bound to: ``bindings`` but the handler's own recorded events."""
        return tuple(b for b in self.bindings if b not in self.recorded_bindings)

    @property
    def recorded_bindings(self) -> tuple[tuple[str, str], ...]:
        return tuple(b for b in self.bindings if self.own_recorded and b[0] == self.service)

    @property
    def dead_queue_name(self) -> str:
        return f"{self.queue_name}.dead"

    @property
    def requeue_exchange_name(self) -> str:
        return requeue_exchange_name(self.service)

    def retry_queue_name(self, delay_ms: int) -> str:
        return f"{self.queue_name}.retry.{delay_ms}ms"

    @property
    def sources(self) -> list[str]:
        return sorted({source for source, _ in self.bindings})

    def describe(self) -> str:
        return ", ".join(f"{source}:{key}" for source, key in self.bindings)


def requeue_exchange_name(service: str) -> str:
    """The service's own direct exchange for retries, parking and replays (routing key = the
    queue's name): nobody needs the default exchange, which reaches every queue."""
    return f"nx.{service}.requeue"


def rpc_dead_queue_name(service: str) -> str:
    return f"nx.{service}.rpc.dead"


def rpc_dead_queue(service: str, config: dict | None = None) -> Queue:
    """Where the service parks RPC requests nobody can be answered for (``nxshared.intake``): an
    operator reads why in each message's ``x-nx-reason`` / ``x-nx-origin`` headers."""
    name = rpc_dead_queue_name(service)
    return Queue(
        name,
        exchange=requeue_exchange(service),
        routing_key=name,
        durable=True,
        queue_arguments=queue_arguments(config),
    )


def bindings_for(event_types: Iterable[str], source: str | None, sources: Iterable[str]) -> tuple:
    """What ``@subscribe(*event_types, source=…, sources=…)`` binds: each event type from the source
    that registers it (or ``source`` for a type whose emitter is not installed here), and every
    event of each of ``sources``."""
    pairs: list[tuple[str, str]] = []
    for event_type in event_types:
        known = event_type in REGISTRY.specs
        emitters = REGISTRY.emitters_of(event_type) if known else []
        if known and source is not None and source not in emitters:
            raise ValueError(
                f"{event_type} is emitted by {', '.join(emitters) or 'no installed service'}, not {source}"
            )
        if not known and source is None:
            raise ValueError(f"{event_type}: no installed service emits it; say which one with source=")
        # a shared type (reminder.due) from each of its emitters, on each one's exchange
        pairs.extend((src, event_type) for src in ([source] if source is not None else emitters))
    pairs.extend((src, ALL_EVENTS) for src in sources)
    if not pairs:
        raise ValueError("@subscribe needs at least one event type or source")
    return tuple(pairs)


def subscriptions_of(service_cls: Any) -> list[Subscription]:
    """Every ``@subscribe`` handler of a nameko service class."""
    from nxshared.entrypoints import ReliableEventHandler

    found = []
    for method_name, method in inspect.getmembers(service_cls, callable):
        for entrypoint in getattr(method, "nameko_entrypoints", ()):
            if isinstance(entrypoint, ReliableEventHandler):
                found.append(Subscription(service_cls.name, method_name, entrypoint.bindings, entrypoint.own_recorded))
    return sorted(found, key=lambda s: s.queue_name)


def installed_subscriptions() -> list[Subscription]:
    from nxshared.discovery import installed_services

    return [sub for service in installed_services() for sub in subscriptions_of(service.load())]


def deploy_installed(connection: Any, config: dict | None = None) -> list[Subscription]:
    """``nx deploy``: every installed service's exchange and subscribers' queues. Returns the
    subscriptions declared."""
    from nxshared.discovery import installed_services

    services = [s.name for s in installed_services()]
    subscriptions = installed_subscriptions()
    sources = set(services) | {src for sub in subscriptions for src in sub.sources}
    declare(connection, subscriptions, sources=sources, config=config)
    channel = connection.channel()
    try:
        for service in services:
            rpc_dead_queue(service, config)(channel).declare()
    finally:
        channel.close()
    return subscriptions


def events_exchange(source: str) -> Exchange:
    """``<source>.events`` as a binding names it: never (re)declared by a subscriber, which may not
    configure another service's exchange; the owning service and ``nx deploy`` declare it."""
    return Exchange(f"{source}.events", type="topic", durable=True, no_declare=True)


def requeue_exchange(service: str) -> Exchange:
    return Exchange(requeue_exchange_name(service), type="direct", durable=True)


def work_queue(sub: Subscription, config: dict | None = None) -> Queue:
    bindings = [binding(events_exchange(src), routing_key=key) for src, key in sub.delivered_bindings]
    bindings.append(binding(requeue_exchange(sub.service), routing_key=sub.queue_name))  # retries come back this way
    return Queue(sub.queue_name, bindings=bindings, durable=True, queue_arguments=queue_arguments(config))


def recorded_queue(sub: Subscription, config: dict | None = None) -> Queue | None:
    """Where the handler's own recorded events are routed and dropped on arrival (see the module's
    docstring); None when it has none."""
    if not sub.recorded_bindings:
        return None
    bindings = [binding(events_exchange(src), routing_key=key) for src, key in sub.recorded_bindings]
    arguments = {**queue_arguments(config), "x-max-length": 0}  # overflow drop-head: kept by none
    return Queue(sub.recorded_queue_name, bindings=bindings, durable=True, queue_arguments=arguments)


def retry_queue(sub: Subscription, delay_ms: int, config: dict | None = None) -> Queue:
    """One queue per back-off step, its TTL on the queue: every message in it waits the same time,
    so none waits behind a longer one (a per-message TTL only expires the queue's head)."""
    name = sub.retry_queue_name(delay_ms)
    return Queue(
        name,
        exchange=requeue_exchange(sub.service),
        routing_key=name,
        durable=True,
        queue_arguments={
            **queue_arguments(config),
            "x-message-ttl": int(delay_ms),
            "x-dead-letter-exchange": sub.requeue_exchange_name,
            "x-dead-letter-routing-key": sub.queue_name,
        },
    )


def dead_queue(sub: Subscription, config: dict | None = None) -> Queue:
    return Queue(
        sub.dead_queue_name,
        exchange=requeue_exchange(sub.service),
        routing_key=sub.dead_queue_name,
        durable=True,
        queue_arguments=queue_arguments(config),
    )


def retry_delays(config: dict) -> list[int]:
    """The back-off steps in milliseconds: base, 2×base, 4×base, … one per retry."""
    base = int(config.get("EVENT_RETRY_BASE_MS", 200))
    attempts = int(config.get("EVENT_MAX_ATTEMPTS", 5))
    return [base * 2**step for step in range(max(attempts - 1, 0))]


def declare(connection: Any, subscriptions: Iterable[Subscription], sources: Iterable[str] = (), config=None) -> None:
    """Declare the events exchanges of ``sources``, and each subscription's requeue exchange and
    work, retry and dead queues with their bindings. Idempotent. The exchanges a subscription binds
    to must exist: a service declares its own at start, ``nx deploy`` every installed service's."""
    config = config or {}
    subscriptions = list(subscriptions)
    for src in sorted({s for sub in subscriptions for s in sub.sources} - set(sources)):
        _ensure_exchange(connection, src, config)
    channel = connection.channel()
    try:
        for src in sorted(sources):
            get_event_exchange(src, config)(channel).declare()
        for sub in subscriptions:
            requeue_exchange(sub.service)(channel).declare()
            queues = [
                work_queue(sub, config),
                *(retry_queue(sub, delay, config) for delay in retry_delays(config)),
                dead_queue(sub, config),
            ]
            for queue in queues:
                queue(channel).declare()
            if (recorded := recorded_queue(sub, config)) is not None:
                recorded(channel).declare()
                for src, key in sub.recorded_bindings:  # bound to the work queue by an older version
                    channel.queue_unbind(sub.queue_name, f"{src}.events", key)
    finally:
        channel.close()


def _ensure_exchange(connection: Any, source: str, config: dict) -> None:
    """Another source's exchange, which a subscription binds to: checked (a passive declare needs no
    permission), declared when missing if this user may (guest, operator), else a clear error."""
    from amqp.exceptions import AccessRefused, NotFound

    try:
        connection.channel().exchange_declare(f"{source}.events", "topic", durable=True, passive=True)
        return
    except NotFound:
        pass
    try:
        get_event_exchange(source, config)(connection.channel()).declare()
    except AccessRefused:
        raise RuntimeError(
            f"exchange {source}.events does not exist yet and this service may not create it: run `nx deploy`"
        ) from None


def replay_dead_letters(connection: Any, sub: Subscription) -> int:
    """Move every event parked for ``sub`` back to its work queue with a fresh attempt count (after
    an operator fixed the cause): those parked when it starts, so an event parked again meanwhile is
    not taken round again. Each is published with a confirm before it is acked. Returns how many
    were moved."""
    from nxshared.amqp import publisher_for

    publisher = publisher_for(connection.as_uri(include_password=True))
    queue = dead_queue(sub)(connection.channel())
    # only those parked now: one that fails again at once is parked behind them, not taken again
    parked_now = queue.queue_declare(passive=True).message_count
    moved = 0
    while moved < parked_now and (message := queue.get(no_ack=False)) is not None:
        headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-nx-")}
        publisher.publish(
            message.body,
            exchange=sub.requeue_exchange_name,
            routing_key=sub.queue_name,
            headers=headers,
            serializer=None,
            content_type=message.content_type,
            content_encoding=message.content_encoding,
        )
        message.ack()
        moved += 1
    return moved
