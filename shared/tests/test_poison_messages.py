"""No delivery can stop a service (issue 18), on a real broker: each kind of message nameko's own
paths did not survive is refused (parked or answered), counted, and the service goes on serving."""

import json
import time
import uuid

import pytest
from amqp.exceptions import NotFound
from kombu import Connection, Exchange, Producer, Queue
from nameko.exceptions import RemoteError, RpcTimeout
from nameko.standalone.rpc import ClusterRpcProxy

from nxshared.entrypoints import rpc, subscribe
from nxshared.metrics import Metrics, registry_for
from nxshared.testing import planned_event

SERVICE = "poisoned"
MAX_BYTES = 4096


class Applied:
    events: list = []


class Poisoned:
    name = SERVICE
    metrics = Metrics()

    class auth:  # noqa: N801 - stands in for nxshared.auth's provider: every caller may call
        @staticmethod
        def authorize(allowed):
            return None

    @rpc(allow=["*"])
    def echo(self, value):
        return {"value": value}

    @subscribe("project.planned", source="planning")
    def on_planned(self, payload):
        from nxshared.catalog import REGISTRY

        Applied.events.append(REGISTRY.decode(payload).event_id)


@pytest.fixture
def poisoned(container_factory, rabbit_config):
    Applied.events = []
    config = {**rabbit_config, "MAX_MESSAGE_BYTES": MAX_BYTES, "EVENT_RETRY_BASE_MS": 20, "EVENT_MAX_ATTEMPTS": 3}
    with Connection(rabbit_config["AMQP_URI"]) as conn:  # planning's exchange, as `nx deploy` declares it
        Exchange("planning.events", type="topic", durable=True)(conn.channel()).declare()
    container = container_factory(Poisoned, config)
    container.start()
    return container


def rejected(container, consumer, reason):
    return registry_for(container).messages_rejected.labels(consumer, reason)._value.get()


def wait_for(probe, timeout=10):
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
    return value


def publish(uri, body, routing_key, exchange="nameko-rpc", **properties):
    with Connection(uri) as conn:
        Producer(conn.channel()).publish(
            body,
            exchange=Exchange(exchange, type="topic", durable=True, no_declare=True),
            routing_key=routing_key,
            serializer=None,
            **properties,
        )


def parked(uri, queue_name):
    """Every message in a parking queue: (headers, body)."""
    found = []
    with Connection(uri) as conn:
        queue = Queue(queue_name, no_declare=True)(conn.channel())
        try:
            queue.queue_declare(passive=True)
        except NotFound:  # not declared yet: nothing parked yet
            return found
        while (message := queue.get(no_ack=True)) is not None:
            body = message.body
            found.append((message.headers, body.encode() if isinstance(body, str) else body))
    return found


def still_serving(config):
    with ClusterRpcProxy(config, timeout=10) as proxy:
        assert proxy.poisoned.echo(value="还在") == {"value": "还在"}


JSON = {"content_type": "application/json", "content_encoding": "utf-8"}
CALL = json.dumps({"args": [], "kwargs": {"value": 1}}).encode()

UNANSWERABLE = [
    pytest.param(CALL, JSON, "no_reply_to", id="no reply_to"),
    pytest.param(CALL, {**JSON, "reply_to": "not-a-reply-key"}, "no_reply_to", id="reply_to not a reply key"),
    pytest.param(b"{not json", {**JSON, "reply_to": str(uuid.uuid4())}, "undecodable", id="not JSON"),
    pytest.param(
        CALL,
        {"content_type": "application/x-python-serialize", "content_encoding": "binary", "reply_to": str(uuid.uuid4())},
        "content_type",
        id="pickle",
    ),
    pytest.param(b"x" * (MAX_BYTES + 1), {**JSON, "reply_to": str(uuid.uuid4())}, "too_large", id="too large"),
]


@pytest.mark.parametrize(("body", "properties", "reason"), UNANSWERABLE)
def test_a_request_nobody_can_be_answered_for_is_parked_once_and_the_service_goes_on(
    poisoned, rabbit_config, body, properties, reason
):
    uri = rabbit_config["AMQP_URI"]
    publish(uri, body, f"{SERVICE}.echo", **properties)
    wait_for(lambda: rejected(poisoned, "rpc", reason) == 1)
    [(headers, kept)] = wait_for(lambda: parked(uri, f"nx.{SERVICE}.rpc.dead"))
    assert headers["x-nx-reason"] == reason
    assert "routing key 'poisoned.echo'" in headers["x-nx-origin"]
    assert kept == (b"" if reason == "too_large" else body)
    still_serving(rabbit_config)
    assert parked(uri, f"rpc-{SERVICE}") == []  # not back in its queue: never retried


MALFORMED = [
    pytest.param({"args": [], "kwargs": {"value": 1, "extra": 2}}, {}, "ValidationError", id="wrong arguments"),
    pytest.param(["args", "kwargs"], {}, "ValidationError", id="a list"),
    pytest.param({"args": "x", "kwargs": {}}, {}, "ValidationError", id="args not a list"),
    pytest.param({"kwargs": {"value": 1}}, {}, "ValidationError", id="no args"),
    pytest.param(
        {"args": [], "kwargs": {"value": 1}}, {"nameko.call_id_stack": 5}, "ValidationError", id="call stack an int"
    ),
    pytest.param(
        {"args": [], "kwargs": {"value": 1}}, {"nameko.call_id_stack": [1, 2]}, "ValidationError", id="call ids ints"
    ),
]


@pytest.mark.parametrize(("body", "headers", "exc_type"), MALFORMED)
def test_a_malformed_request_that_can_be_answered_gets_a_contract_error(
    poisoned, rabbit_config, body, headers, exc_type
):
    reply = _call_raw(rabbit_config["AMQP_URI"], f"{SERVICE}.echo", body, headers)
    assert reply["error"]["exc_type"] == exc_type
    assert reply["error"]["value"].startswith("MALFORMED_REQUEST") or "INVALID_ARGUMENTS" in reply["error"]["value"]
    assert rejected(poisoned, "rpc", "malformed_request") == 1
    still_serving(rabbit_config)


def test_a_method_the_service_does_not_have_is_not_found(poisoned, rabbit_config):
    reply = _call_raw(rabbit_config["AMQP_URI"], f"{SERVICE}.drop_tables", {"args": [], "kwargs": {}}, {})
    assert (reply["error"]["exc_type"], reply["error"]["value"]) == (
        "NotFound",
        "METHOD_NOT_FOUND: 服务 poisoned 没有方法 drop_tables",
    )
    assert rejected(poisoned, "rpc", "unknown_method") == 1
    still_serving(rabbit_config)


def _call_raw(uri, routing_key, body, headers):
    """A request as a client could publish it by hand; returns the decoded reply."""
    reply_key = str(uuid.uuid4())
    with Connection(uri) as conn:
        channel = conn.channel()
        queue = Queue(
            f"rpc.reply-raw-{reply_key}",
            exchange=Exchange("nameko-rpc", type="topic", durable=True),
            routing_key=reply_key,
            exclusive=True,
        )(channel)
        queue.declare()
        Producer(channel).publish(
            json.dumps(body).encode(),
            exchange="nameko-rpc",
            routing_key=routing_key,
            reply_to=reply_key,
            correlation_id="c1",
            headers=headers,
            serializer=None,
            **JSON,
        )
        message = wait_for(lambda: queue.get(no_ack=True))
        return json.loads(message.body)


NOT_EVENTS = [
    pytest.param(b"[1, 2]", JSON, "malformed_event", id="a list"),
    pytest.param(json.dumps({"event_type": "project.planned"}).encode(), JSON, "malformed_event", id="no envelope"),
    pytest.param(b"\xff\xfe", JSON, "undecodable", id="not JSON"),
    pytest.param(b"hello", {"content_type": "text/plain", "content_encoding": "utf-8"}, "content_type", id="text"),
    pytest.param(b"{}" + b" " * MAX_BYTES, JSON, "too_large", id="too large"),
]


@pytest.mark.parametrize(("body", "properties", "reason"), NOT_EVENTS)
def test_a_body_that_is_not_an_event_is_parked_at_once_not_retried(poisoned, rabbit_config, body, properties, reason):
    uri = rabbit_config["AMQP_URI"]
    publish(uri, body, "project.planned", exchange="planning.events", **properties)
    wait_for(lambda: rejected(poisoned, "on_planned", reason) == 1)
    [(headers, _)] = wait_for(lambda: parked(uri, f"nx.{SERVICE}.on_planned.dead"))
    assert headers["x-nx-reason"] == reason
    assert "x-nx-attempts" not in headers  # parked on its first delivery
    assert registry_for(poisoned).events_retried.labels("on_planned", "project.planned")._value.get() == 0
    _a_good_event_is_still_applied(rabbit_config)


def test_an_envelope_whose_data_its_schema_refuses_is_parked_at_once(poisoned, rabbit_config):
    uri = rabbit_config["AMQP_URI"]
    event = {**planned_event(), "data": {"plan_year": "not a year"}}
    publish(uri, json.dumps(event).encode(), "project.planned", exchange="planning.events", **JSON)
    wait_for(lambda: rejected(poisoned, "on_planned", "malformed_event") == 1)
    [(headers, _)] = wait_for(lambda: parked(uri, f"nx.{SERVICE}.on_planned.dead"))
    assert headers["x-nx-last-error"].startswith("MALFORMED_EVENT: 事件 project.planned 的数据不合法")
    assert registry_for(poisoned).dead_lettered.labels("on_planned", "project.planned")._value.get() == 1
    assert Applied.events == []
    _a_good_event_is_still_applied(rabbit_config)


def _a_good_event_is_still_applied(rabbit_config):
    """Waits for the good event itself: a refused event's worker can still be finishing when the
    good one is published, so the first ``on_planned`` worker to end need not be the good one's."""
    good = planned_event()
    publish(rabbit_config["AMQP_URI"], json.dumps(good).encode(), "project.planned", "planning.events", **JSON)
    wait_for(lambda: Applied.events)
    assert Applied.events == [good["event_id"]]


def test_a_reply_the_broker_cannot_take_is_dropped_not_raised(poisoned, rabbit_config, monkeypatch):
    from nxshared.entrypoints import SettlingRpcConsumer

    def broker_gone(self, message, result, exc_info):
        raise ConnectionRefusedError(111, "ECONNREFUSED")

    monkeypatch.setattr(SettlingRpcConsumer, "_reply", broker_gone)
    with ClusterRpcProxy(rabbit_config, timeout=1) as proxy, pytest.raises(RpcTimeout):
        proxy.poisoned.echo(value="lost")  # no reply: the caller's timeout tells it
    monkeypatch.undo()
    still_serving(rabbit_config)


def test_errors_reach_the_caller_as_remote_errors_of_the_contract(poisoned, rabbit_config):
    with ClusterRpcProxy(rabbit_config, timeout=10) as proxy, pytest.raises(RemoteError) as err:
        proxy.poisoned.echo(value=1, other=2)
    assert err.value.exc_type == "ValidationError"
