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
import uuid

from nameko.messaging import Consumer, QueueConsumer
from nameko.rpc import Rpc, RpcConsumer

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
    queue_consumer = SettlingQueueConsumer()


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
