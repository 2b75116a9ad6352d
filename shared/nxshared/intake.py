"""What arrives over the broker is checked before nameko or a worker sees it: no message, from a
departmental system or a peer, can stop a service (issue 18).

Every delivery to a service's RPC or event consumer is *screened* first (``screen``): a body over
``MAX_MESSAGE_BYTES``, of a content type the service does not speak, or that does not decode is
refused right there. nameko's own paths do not survive such messages (a request without
``reply_to`` raised ``KeyError`` into the container, one that did not decode was acked and lost in
silence). Then the consumer refuses what it cannot serve, as its kind requires:

- an RPC request that cannot be answered (no ``reply_to``, or one that is not a reply key; a body
  that does not decode) is *parked* in ``nx.<service>.rpc.dead``, never retried;
- one that can be answered but is not a call (not ``{"args": [...], "kwargs": {...}}``, context
  data of the wrong shape, a method the service does not have) is answered with a contract error
  (``ValidationError`` ``MALFORMED_REQUEST``, ``NotFound`` ``METHOD_NOT_FOUND``);
- an event that is not an envelope, or whose data its version's schema refuses, is parked in its
  handler's dead-letter queue at once: another attempt cannot mend it.

Each refusal is one log line with its reason and its origin (publishing user, exchange, routing key)
and one increment of ``nx_messages_rejected_total{consumer, reason}``; nothing is stored.
"""

import logging
import re

import kombu.serialization

from nxshared.core.errors import NotFound, ValidationError

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 1 << 20  # the default of the MAX_MESSAGE_BYTES setting
REPLY_TO = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MAX_CALL_STACK = 64
MAX_CALL_ID = 256

# why a message was refused: the values of the ``reason`` label
PARKED_REASONS = ("too_large", "content_type", "undecodable", "no_reply_to", "malformed_event")
ANSWERED_REASONS = ("malformed_request", "unknown_method", "internal_error")


class Refused(Exception):
    """A message the consumer will not run: ``reason`` is one of the label values above."""

    def __init__(self, reason, detail):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = str(detail)[:300]


def accepted_content_types(accept):
    """The content types of the serializer names a container accepts (nameko's ``accept``)."""
    return frozenset(kombu.serialization.prepare_accept_content(accept))


def max_message_bytes(config):
    return int(config.get("MAX_MESSAGE_BYTES") or MAX_MESSAGE_BYTES)


def screen(message, content_types, max_bytes):
    """The decoded body of a raw delivery, or ``Refused``."""
    body = message.body
    if len(body) > max_bytes:
        raise Refused("too_large", f"{len(body)} bytes, at most {max_bytes}")
    if message.content_type not in content_types:
        raise Refused("content_type", f"content type {str(message.content_type)[:80]!r}")
    try:
        return message.decode()
    except Exception as exc:  # whatever the codec raises, the body is not one
        raise Refused("undecodable", f"{type(exc).__name__}: {exc}") from None


def check_reply_to(message):
    """An RPC request's ``reply_to`` names a reply key; without one no answer can reach anyone."""
    reply_to = message.properties.get("reply_to")
    if not isinstance(reply_to, str) or not REPLY_TO.fullmatch(reply_to):
        raise Refused("no_reply_to", f"reply_to {str(reply_to)[:80]!r} is not a reply key")


def check_call(body, context_data):
    """What nameko's RPC entrypoint takes for granted, checked: raises a contract error to answer."""
    if not isinstance(body, dict) or not isinstance(body.get("args"), list) or not isinstance(body.get("kwargs"), dict):
        raise ValidationError("MALFORMED_REQUEST", "请求须为 {args: [...], kwargs: {...}}（nameko RPC 格式）")
    stack = context_data.get("call_id_stack", [])
    if (
        not isinstance(stack, list)
        or len(stack) > MAX_CALL_STACK
        or not all(isinstance(c, str) and len(c) <= MAX_CALL_ID for c in stack)
    ):
        raise ValidationError("MALFORMED_REQUEST", "上下文 call_id_stack 须为字符串列表")


def unknown_method(service, routing_key):
    shown = str(routing_key).rsplit(".", 1)[-1][:64]
    return NotFound("METHOD_NOT_FOUND", f"服务 {service} 没有方法 {shown}")


def origin(message):
    """Who sent a delivery, as far as the broker tells: the validated ``user_id`` when the
    publisher set one, else the exchange it was published to (a departmental system publishes on
    its own ``<user>.rpc``, a service on its own ``<service>.events``), and the routing key."""
    info = message.delivery_info or {}
    exchange = info.get("exchange") or "(default)"
    user = message.properties.get("user_id") or publisher_of(exchange)
    return f"user {user}, exchange {exchange}, routing key {str(info.get('routing_key'))[:120]!r}"


def publisher_of(exchange):
    from nxshared.broker_access import CLIENT_EXCHANGE_SUFFIX, service_user

    if exchange.endswith(CLIENT_EXCHANGE_SUFFIX):
        return exchange.removesuffix(CLIENT_EXCHANGE_SUFFIX)
    if exchange.endswith(".events"):
        return service_user(exchange.removesuffix(".events"))
    return "?"


def park(publisher, exchange, queue, message, refused, consumer):
    """Move a refused message to ``queue`` (confirmed), with why and whence in its headers; an
    oversized body is not copied (its size is kept). Raises when the broker did not take it."""
    too_large = refused.reason == "too_large"
    headers = {
        **{k: v for k, v in (message.headers or {}).items() if isinstance(k, str) and not k.startswith("x-nx-")},
        "x-nx-reason": refused.reason,
        "x-nx-last-error": refused.detail,
        "x-nx-origin": origin(message),
        "x-nx-consumer": consumer,
    }
    if too_large:
        headers["x-nx-original-bytes"] = len(message.body)
    publisher.publish(
        b"" if too_large else message.body,
        exchange=exchange,
        routing_key=queue.name,
        headers=headers,
        declare=[queue],
        serializer=None,
        content_type="application/octet-stream" if too_large else (message.content_type or "application/octet-stream"),
        content_encoding="binary" if too_large else (message.content_encoding or "binary"),
    )


def log_refusal(consumer, refused, message, action):
    log.warning("%s %s (%s) from %s: %s", consumer, action, refused.reason, origin(message), refused.detail)
