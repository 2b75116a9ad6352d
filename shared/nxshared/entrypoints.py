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

import functools
import inspect
import logging
import sys
import uuid

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
from nxshared.metrics import registry_for
from nxshared.topology import (
    Subscription,
    bindings_for,
    dead_queue,
    retry_delays,
    retry_queue,
    work_queue,
)

log = logging.getLogger(__name__)

ATTEMPTS_HEADER = "x-nx-attempts"


class SettlingQueueConsumer(QueueConsumer):
    """nameko's queue consumer, but an ack or requeue over a connection the broker just reset is not
    fatal: nameko 2.14.1 guards only ``amqp.exceptions.ConnectionError`` (nameko#511/#512), so the
    ``ConnectionResetError``/``BrokenPipeError`` of a broker restart killed the container. The
    broker has already taken the unacked message back and redelivers it: the inbox drops an event
    seen before, and an RPC request is answered again."""

    def ack_message(self, message):
        try:
            super().ack_message(message)
        except OSError as exc:
            log.warning("ack lost with its connection (%s): the broker redelivers the message", exc)

    def requeue_message(self, message):
        try:
            super().requeue_message(message)
        except OSError as exc:
            log.warning("requeue lost with its connection (%s): the broker redelivers the message", exc)


class SettlingRpcConsumer(RpcConsumer):
    """nameko's RPC consumer with the settling queue consumer, and a leaner reply: the reply is
    what nameko's ``Responder`` sends (``{"result", "error"}``, the request's serializer, retried
    over a lost connection), serialized once instead of twice, on a producer from the pool of one
    connection object kept for the container instead of one built per reply.

    Not confirmed: a reply goes to the caller's own reply queue, which is neither durable nor
    outlives the caller's connection, so a broker's confirm could not make it any safer (if either
    goes away, the caller's timeout is what tells it, confirmed or not). Waiting for one cost the
    worker a round trip, the broker an answer and the process a wake-up per call: ~4 points of
    ``declare_project``'s rate at 5 callers."""

    queue_consumer = SettlingQueueConsumer()

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

    def handle_result(self, message, result, exc_info):
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
        self.queue_consumer.ack_message(message)
        return result, exc_info


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


class ReliableEventHandler(Consumer):
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
        super().setup()

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
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
        event_type = (message.payload or {}).get("event_type", "?") if isinstance(message.payload, dict) else "?"
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
