"""The suite's two entrypoints.

``@rpc(allow=[...])``: a nameko RPC whose callers are authorized before the method runs, from the
orgs declared right there (CONTRACT §Calling). Domain errors are *expected* exceptions: the caller
gets them as ``RemoteError`` with the contract's ``exc_type``. Anything else is logged with an
incident number and answered as ``Conflict`` ``INTERNAL_ERROR`` (the transaction rolled back).

``@subscribe("review.passed", "review.filed")``: a reliable event handler that says what it
consumes (``nxshared.topology`` collects the queues and bindings from these declarations). A
handler that raises is retried with exponential back-off via the retry queues, a bounded number of
times, then parked in the dead-letter queue: never acked and lost, never requeued forever.
"""

import contextlib
import functools
import inspect
import logging
import sys
import uuid
from functools import partial
from typing import Any

import kombu.serialization
from kombu import Connection
from kombu.pools import producers
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_RETRY_POLICY,
    DEFAULT_TRANSPORT_OPTIONS,
    LOGIN_METHOD_CONFIG_KEY,
    PERSISTENT,
)
from nameko.exceptions import UnserializableValueError, serialize
from nameko.messaging import Consumer, QueueConsumer
from nameko.rpc import Rpc, RpcConsumer, get_rpc_exchange

from nxshared.amqp import publisher_for
from nxshared.core.errors import CONTRACT_ERRORS, Conflict, ValidationError, error_code
from nxshared.events import checked_envelope
from nxshared.intake import (
    Refused,
    accepted_content_types,
    check_call,
    check_reply_to,
    log_refusal,
    max_message_bytes,
    origin,
    park,
    screen,
    unknown_method,
)
from nxshared.metrics import event_type_label, registry_for
from nxshared.topology import (
    Subscription,
    bindings_for,
    dead_queue,
    requeue_exchange_name,
    retry_delays,
    retry_queue,
    rpc_dead_queue,
    work_queue,
)

log = logging.getLogger(__name__)

ATTEMPTS_HEADER = "x-nx-attempts"


# how soon the consumers try the broker again once it went away: 0.2 s, then every 0.5 s
RECONNECT = {"interval_start": 0.2, "interval_step": 0.3, "interval_max": 0.5}
# an event whose data cannot be decoded is parked at once: another attempt cannot mend it
UNMENDABLE = ("MALFORMED_EVENT", "UNKNOWN_EVENT_TYPE")


class SettlingQueueConsumer(QueueConsumer):
    """nameko's queue consumer, made safe against what the broker delivers and against the broker
    going away (``nxshared.intake``):

    - every delivery is screened (size, content type, decoding) before its entrypoint sees it; a
      refused one goes to its entrypoint's ``refuse`` (parked, counted, logged), never into nameko;
    - an ack or requeue over a connection the broker just reset is not fatal: nameko 2.14.1 guards
      only ``amqp.exceptions.ConnectionError`` (nameko#511/#512), so the ``ConnectionResetError``
      of a broker restart killed the container. The broker has already taken the unacked message
      back and redelivers it: the inbox drops an event seen before, a request is answered again;
    - a lost connection is tried again after 0.2 s and then every 0.5 s (kombu's default waits
      2, 4, 6… s), so a service serves again within a second of the broker's return."""

    def setup(self):
        self.content_types = accepted_content_types(self.container.accept)
        self.max_bytes = max_message_bytes(self.container.config)

    @contextlib.contextmanager
    def establish_connection(self):
        with self.create_connection() as conn:
            conn.ensure_connection(self.on_connection_error, self.connect_max_retries, **RECONNECT)
            yield conn

    def get_consumers(self, consumer_cls, channel):
        for provider in self._providers:
            consumer = consumer_cls(
                queues=[provider.queue], on_message=partial(self._screened, provider), accept=self.accept
            )
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()

    def _screened(self, provider, message):
        try:
            body = screen(message, self.content_types, self.max_bytes)
        except Refused as refused:
            self.container.spawn_managed_thread(
                partial(provider.refuse, message, refused), identifier=f"{type(provider).__name__}.refuse"
            )
        else:
            self.handle_message(provider, body, message)

    def ack_message(self, message):
        try:
            super().ack_message(message)
        except Exception as exc:  # noqa: BLE001 - an ack is never worth the container
            log.warning("ack lost with its connection (%s): the broker redelivers the message", exc)

    def requeue_message(self, message):
        try:
            super().requeue_message(message)
        except Exception as exc:  # noqa: BLE001
            log.warning("requeue lost with its connection (%s): the broker redelivers the message", exc)

    def drop_message(self, message):
        """Reject without requeue: the broker forgets it (only for a message that could not be parked)."""
        try:
            if message.channel.connection:
                message.reject(requeue=False)
        except Exception as exc:  # noqa: BLE001
            log.warning("reject lost with its connection (%s): the broker redelivers the message", exc)


class Parking:
    """``refuse``: park a refused message in ``parking_queue`` and settle it; never raises (it runs
    on a thread whose error would kill the container)."""

    consumer_label = "?"
    # set by the entrypoint's setup
    metrics: Any
    publisher: Any
    parking_exchange: str
    parking_queue: Any
    queue_consumer: Any

    def refuse(self, message, refused):
        try:
            self.metrics.messages_rejected.labels(self.consumer_label, refused.reason).inc()
            log_refusal(self.consumer_label, refused, message, "parked")
            park(self.publisher, self.parking_exchange, self.parking_queue, message, refused, self.consumer_label)
        except Exception as exc:  # noqa: BLE001 - the broker is away, or refuses: nothing here to retry
            log.error("could not park a refused message (%s): dropped (%s)", refused.reason, exc)
            self.queue_consumer.drop_message(message)
        else:
            self.queue_consumer.ack_message(message)


class SettlingRpcConsumer(Parking, RpcConsumer):
    """nameko's RPC consumer with the settling queue consumer, requests checked before they are
    served (``nxshared.intake``: unanswerable ones parked in ``nx.<service>.rpc.dead``, malformed
    ones answered with a contract error), and a leaner reply: the reply is what nameko's
    ``Responder`` sends (``{"result", "error"}``, the request's serializer, retried over a lost
    connection), serialized once instead of twice, on a producer from the pool of one connection
    object kept for the container instead of one built per reply. A reply that cannot be published
    (the broker went away) is logged and dropped: the caller's timeout tells it, and the container
    goes on.

    Not confirmed: a reply goes to the caller's own reply queue, which is neither durable nor
    outlives the caller's connection, so a broker's confirm could not make it any safer (if either
    goes away, the caller's timeout is what tells it, confirmed or not). Waiting for one cost the
    worker a round trip, the broker an answer and the process a wake-up per call: ~4 points of
    ``declare_project``'s rate at 5 callers."""

    queue_consumer = SettlingQueueConsumer()
    consumer_label = "rpc"

    def setup(self):
        super().setup()
        config = self.container.config
        self.reply_connection = Connection(
            config[AMQP_URI_CONFIG_KEY],
            transport_options=DEFAULT_TRANSPORT_OPTIONS,
            ssl=config.get(AMQP_SSL_CONFIG_KEY),
            login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
        )
        self.reply_exchange = get_rpc_exchange(config)
        self.metrics = registry_for(self.container)
        self.publisher = publisher_for(config[AMQP_URI_CONFIG_KEY])
        self.parking_exchange = requeue_exchange_name(self.container.service_name)
        self.parking_queue = rpc_dead_queue(self.container.service_name, config)

    def handle_message(self, body, message):
        try:
            check_reply_to(message)
        except Refused as refused:
            self.refuse(message, refused)
            return
        try:
            provider = self._provider_for(message.delivery_info.get("routing_key"))
            check_call(body, provider.unpack_message_headers(message))
            provider.handle_message(body, message)
        except Exception as exc:  # noqa: BLE001 - answered, never raised into the container
            self.handle_result(message, None, self._answerable(exc, message))

    def _provider_for(self, routing_key):
        for provider in self._providers:
            if routing_key == f"{self.container.service_name}.{provider.method_name}":
                return provider
        raise unknown_method(self.container.service_name, routing_key)

    def _answerable(self, exc, message):
        """The exc_info to answer a request that never reached a worker with, counted by reason."""
        if isinstance(exc, CONTRACT_ERRORS):
            reason = "unknown_method" if exc.code == "METHOD_NOT_FOUND" else "malformed_request"
            self.metrics.messages_rejected.labels(self.consumer_label, reason).inc()
            log_refusal(self.consumer_label, Refused(reason, exc), message, "answered")
            return sys.exc_info()
        incident = uuid.uuid4().hex[:12]
        log.exception("unexpected error taking a request from %s (incident %s)", origin(message), incident)
        self.metrics.messages_rejected.labels(self.consumer_label, "internal_error").inc()
        return _exc_info(Conflict("INTERNAL_ERROR", f"服务内部错误，未作任何更改，请稍后重试（事件编号 {incident}）"))

    def handle_result(self, message, result, exc_info):
        try:
            result, exc_info = self._reply(message, result, exc_info)
        except Exception as exc:  # noqa: BLE001 - the broker went away: the caller's timeout tells it
            log.warning("reply to %s not sent (%s): dropped", origin(message), exc)
        self.queue_consumer.ack_message(message)
        return result, exc_info

    def _reply(self, message, result, exc_info):
        error = None if exc_info is None else serialize(exc_info[1])
        serializer = kombu.serialization.registry.type_to_name[message.properties["content_type"]]
        try:
            content_type, encoding, body = kombu.serialization.dumps({"result": result, "error": error}, serializer)
        except Exception:  # as nameko: the caller learns the result could not be sent
            exc_info = sys.exc_info()
            error, result = serialize(UnserializableValueError(result)), None
            content_type, encoding, body = kombu.serialization.dumps({"result": None, "error": error}, serializer)
        with producers[self.reply_connection].acquire(block=True) as producer:
            producer.publish(
                body,
                exchange=self.reply_exchange,
                routing_key=message.properties["reply_to"],
                correlation_id=message.properties.get("correlation_id"),
                content_type=content_type,
                content_encoding=encoding,
                delivery_mode=PERSISTENT,
                retry=True,
                retry_policy=DEFAULT_RETRY_POLICY,
            )
        return result, exc_info


def _exc_info(exc):
    try:
        raise exc
    except type(exc):
        return sys.exc_info()


class SecuredRpc(Rpc):
    metrics_kind = "rpc"
    rpc_consumer = SettlingRpcConsumer()

    def setup(self):
        # the method is wrapped by ``rpc``; inspect.signature follows __wrapped__ to the real one
        self.signature = inspect.signature(getattr(self.container.service_cls, self.method_name))
        super().setup()

    def check_signature(self, args, kwargs):
        try:
            self.signature.bind(None, *args, **kwargs)
        except TypeError as exc:  # the contract calls malformed input a ValidationError
            raise ValidationError("INVALID_ARGUMENTS", f"参数与方法 {self.method_name} 不符：{exc}") from None


def rpc(*, allow):
    """Declare an RPC method and the orgs that may call it (``"unit:*"`` for any unit, ``"*"`` for
    any valid token). The caller is then ``self.auth.caller``."""
    allowed = tuple(allow)

    def decorate(fn):
        @functools.wraps(fn)
        def guarded(self, *args, **kwargs):
            self.auth.authorize(allowed)
            try:
                return fn(self, *args, **kwargs)
            except CONTRACT_ERRORS:
                raise
            except Exception:  # never a stack trace or a foreign exc_type to the caller
                incident = uuid.uuid4().hex[:12]
                log.exception("unexpected error in %s (incident %s)", fn.__name__, incident)
                raise Conflict(
                    "INTERNAL_ERROR", f"服务内部错误，未作任何更改，请稍后重试（事件编号 {incident}）"
                ) from None

        guarded.allowed_orgs = allowed  # type: ignore[attr-defined]
        return SecuredRpc.decorator(expected_exceptions=CONTRACT_ERRORS)(guarded)

    return decorate


class ReliableEventHandler(Parking, Consumer):
    metrics_kind = "event"
    queue_consumer = SettlingQueueConsumer()

    def __init__(self, *event_types, source=None, sources=(), own_recorded=False, **kwargs):
        """``event_types`` are consumed from the service that registers each (or from ``source``
        when that service is not installed here); ``sources`` adds every event of those services.
        ``own_recorded``: the service's own events among them are applied by the use cases that
        emit them, and are not delivered here (``nxshared.topology``)."""
        self.bindings = bindings_for(event_types, source, sources)
        self.own_recorded = own_recorded
        super().__init__(queue=None, requeue_on_error=False, **kwargs)

    def setup(self):
        config = self.container.config
        self.subscription = Subscription(
            self.container.service_name, self.method_name, self.bindings, self.own_recorded
        )
        self.queue = work_queue(self.subscription, config)
        self.retry_queues = [retry_queue(self.subscription, delay, config) for delay in retry_delays(config)]
        self.dead_queue = dead_queue(self.subscription, config)
        self.max_attempts = len(self.retry_queues) + 1
        self.publisher = publisher_for(config["AMQP_URI"])
        self.metrics = registry_for(self.container)
        self.consumer_label = self.method_name
        self.parking_exchange = self.subscription.requeue_exchange_name
        self.parking_queue = self.dead_queue
        super().setup()

    def handle_message(self, body, message):
        """An envelope or nothing: a body that is not one is parked before any worker runs."""
        try:
            checked_envelope(body)
        except ValidationError as exc:
            self.refuse(message, Refused("malformed_event", exc))
        else:
            super().handle_message(body, message)

    def refuse(self, message, refused):
        payload = message.payload if refused.reason == "malformed_event" else None
        self.metrics.dead_lettered.labels(self.method_name, event_type_label(payload)).inc()
        super().refuse(message, refused)

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return result, exc_info
        if error_code(exc_info[1]) in UNMENDABLE:
            self.refuse(message, Refused("malformed_event", exc_info[1]))
            return result, exc_info
        try:
            self._retry_or_park(message, exc_info[1])
        except Exception:
            log.exception("could not re-route failed event; it goes back to its queue")
            self.queue_consumer.requeue_message(message)
        else:
            self.queue_consumer.ack_message(message)
        return result, exc_info

    def _retry_or_park(self, message, exc):
        headers = dict(message.headers or {})
        attempts = max(1, int(headers.get(ATTEMPTS_HEADER, 1)))
        event_type = event_type_label(message.payload)
        headers["x-nx-last-error"] = f"{error_code(exc)}: {exc}"[:1000]
        if attempts < self.max_attempts:
            headers[ATTEMPTS_HEADER] = attempts + 1
            queue = self.retry_queues[attempts - 1]
            delay = queue.queue_arguments["x-message-ttl"]  # type: ignore[attr-defined]
            self._republish(message, queue, headers)
            self.metrics.events_retried.labels(self.method_name, event_type).inc()
            log.warning(
                "event %s failed (attempt %d/%d), retrying in %d ms: %s",
                event_type,
                attempts,
                self.max_attempts,
                delay,
                exc,
            )
        else:
            headers["x-nx-original-queue"] = self.queue.name
            self._republish(message, self.dead_queue, headers)
            self.metrics.dead_lettered.labels(self.method_name, event_type).inc()
            log.error("event %s failed %d times; parked in %s", event_type, attempts, self.dead_queue.name)

    def _republish(self, message, queue, headers):
        self.publisher.publish(
            message.body,
            exchange=self.subscription.requeue_exchange_name,
            routing_key=queue.name,
            headers=headers,
            declare=[queue],
            serializer=None,
            content_type=message.content_type,
            content_encoding=message.content_encoding,
        )


subscribe = ReliableEventHandler.decorator
