"""Fuzz over the broker (issue 18): thousands of generated AMQP messages at every service's RPC and
event entrypoints, on a real RabbitMQ, with the suite running as ``make up`` runs it.

RPC requests are published as a departmental system would: under a client user of its own with the
suite's permissions (``nxshared.broker_access.client_grant``), on its own RPC exchange, with random
properties (``reply_to``, content type and encoding, correlation id, headers with tokens and call
stacks of any shape), bodies (random bytes, any JSON, nameko-shaped calls with random arguments,
some over the services' size limit) and routing keys (real and invented methods). Events are
published on each source's exchange with the routing keys the services bind, as a faulty peer
would: bodies that are not an event (broken envelopes, other JSON, bytes, other content types).

Then: no service restarted, every rejected message is accounted for (each request counted once,
either refused before a worker in ``nx_messages_rejected_total`` or by the worker that answered it
in ``nx_rpc_duration_seconds``; each event delivery parked once, never retried), nothing was stored,
and every service answers a legitimate call.
"""

import json
import os
import re
import sqlite3
import string
import uuid
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kombu import Connection, Exchange, Producer

from nxshared.broker_access import ManagementApi, amqp_uri, client_grant
from nxshared.discovery import installed_services
from nxshared.testing import bearer
from nxshared.topology import installed_subscriptions

from .conftest import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

RPC_MESSAGES = int(os.environ.get("NX_FUZZ_RPC_MESSAGES", "2000"))
EVENT_MESSAGES = int(os.environ.get("NX_FUZZ_EVENT_MESSAGES", "800"))
MAX_BYTES = 16384  # the services' MAX_MESSAGE_BYTES here, so that oversized bodies stay cheap
ADMIN = ("http://127.0.0.1:15672", "guest", "guest")
ORGS = ["smart_office", "data_center", "drc", "finance", "audit", "county_gov", "unit:edu", "unit:xx"]


def rpc_methods():
    """{service: {method: its parameter names}} of every installed service."""
    import inspect

    methods = {}
    for service in installed_services():
        cls = service.load()
        methods[service.name] = {
            name: list(inspect.signature(getattr(cls, name)).parameters)[1:]
            for name in dir(cls)
            if hasattr(getattr(cls, name, None), "allowed_orgs")
        }
    return methods


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
HEADER_VALUES = st.one_of(
    st.text(max_size=40),
    st.integers(-(2**31), 2**31 - 1),
    st.booleans(),
    st.lists(st.one_of(st.text(max_size=20), st.integers(0, 100)), max_size=4),
)
TOKENS = st.one_of(
    st.sampled_from(ORGS).map(bearer),
    st.text(max_size=60),
    st.just("Bearer " + "x" * 5000),
    st.integers(-(2**63), 2**63 - 1),  # what an AMQP header can carry
)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "nameko.authorization": TOKENS,
        "nameko.call_id_stack": HEADER_VALUES,
        "nameko.language": HEADER_VALUES,
        "x-anything": HEADER_VALUES,
    },
)


def call_bodies(parameters):
    """Bodies for a method with these parameters: most of them calls with exactly its keyword
    arguments (random values), so that workers run and refuse them; the rest anything."""
    exact = st.fixed_dictionaries(
        {"args": st.just([]), "kwargs": st.fixed_dictionaries(dict.fromkeys(parameters, JSON_VALUES))}
    )
    kwargs = st.dictionaries(st.sampled_from(["project_id", "year", "page", "plan", "x", "review_id"]), JSON_VALUES)
    loose = st.fixed_dictionaries({"args": st.lists(JSON_VALUES, max_size=3), "kwargs": kwargs})
    calls = st.one_of(exact, exact, loose).map(lambda c: json.dumps(c).encode())
    return st.one_of(
        calls,
        calls,
        calls,
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=200),
        st.just(b"{" * 10),
        st.just(json.dumps({"args": [], "kwargs": {"x": "y" * MAX_BYTES}}).encode()),  # over the limit
    )


@st.composite
def rpc_messages(draw, methods):
    service = draw(st.sampled_from(sorted(methods)))
    real = st.sampled_from(sorted(methods[service]))
    method = draw(st.one_of(real, real, real, st.from_regex(r"[a-z_][a-z0-9_]{0,20}", fullmatch=True)))
    properties = {
        "content_type": draw(
            st.sampled_from(["application/json"] * 4 + ["text/plain", "application/x-python-serialize"])
        ),
        "content_encoding": draw(st.sampled_from(["utf-8", "utf-8", "binary", "latin-1"])),
        "reply_to": draw(st.one_of(st.uuids().map(str), st.uuids().map(str), st.none(), st.text(max_size=20))),
        "correlation_id": draw(st.one_of(st.none(), st.text(string.printable, max_size=40))),
        "headers": draw(HEADERS),
    }
    body = draw(call_bodies(methods[service].get(method, [])))
    return service, f"{service}.{method}", body, {k: v for k, v in properties.items() if v is not None}


ENVELOPE_BREAKS = [
    ("event_id", None),
    ("event_id", ""),
    ("event_id", "x" * 65),
    ("version", 0),
    ("version", "1"),
    ("version", True),
    ("occurred_at", 5),
    ("source", ["planning"]),
    ("data", [1, 2]),
    ("actor", {"name": "x"}),
    ("project_id", "p" * 65),
]


@st.composite
def event_messages(draw, keys):
    source, key = draw(st.sampled_from(keys))
    envelope = {
        "event_id": str(uuid.uuid4()),
        "event_type": key,
        "version": 1,
        "occurred_at": "2026-12-15T10:00:00+00:00",
        "source": source,
        "project_id": "prj-fuzz",
        "actor": "fuzz",
        "data": draw(st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=4)),
    }
    field, broken = draw(st.sampled_from(ENVELOPE_BREAKS))
    if broken is None:
        del envelope[field]
    else:
        envelope[field] = broken
    body = draw(
        st.one_of(
            st.just(json.dumps(envelope).encode()),
            JSON_VALUES.filter(lambda v: not isinstance(v, dict)).map(lambda v: json.dumps(v).encode()),
            st.binary(max_size=100),
        )
    )
    content_type = draw(st.sampled_from(["application/json", "application/json", "text/plain"]))
    return source, key, body, {"content_type": content_type, "content_encoding": "utf-8"}


def event_keys():
    """Every (source, routing key) some handler's work queue is bound to ('#' bindings get a real type)."""
    keys = set()
    for sub in installed_subscriptions():
        for source, key in sub.delivered_bindings:
            keys.add((source, "review.passed" if key == "#" and source == "review" else key))
    return sorted((s, k) for s, k in keys if k != "#")


def deliveries(published):
    """How many deliveries each handler gets for the events published: one per bound work queue."""
    expected = Counter()
    for sub in installed_subscriptions():
        for (source, key), count in published.items():
            if any(s == source and k in (key, "#") for s, k in sub.delivered_bindings):
                expected[(sub.service, sub.handler)] += count
    return expected


def samples(suite, name, metric):
    """Every sample of ``metric`` on a service's /metrics: {labels text: value}."""
    found = {}
    for line in suite.http(name, "/metrics").splitlines():
        if line.startswith(metric + "{"):
            labels, value = line[len(metric) :].rsplit(" ", 1)
            found[labels] = float(value)
    return found


def answered_or_refused(suite, name):
    """Requests the service took in: refused before a worker, or run by one (whatever the outcome)."""
    rejected = samples(suite, name, "nx_messages_rejected_total")
    return sum(v for k, v in rejected.items() if 'consumer="rpc"' in k) + sum(
        samples(suite, name, "nx_rpc_duration_seconds_count").values()
    )


def handler_parked(suite, service, handler):
    parked = samples(suite, service, "nx_events_dead_lettered_total")
    return sum(v for k, v in parked.items() if f'handler="{handler}"' in k)


QUIET_DAY = "2026-06-15"


def row_counts(tmp_path, names):
    counts = {}
    for name in names:
        with sqlite3.connect(tmp_path / f"{name}.db") as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            counts[name] = {t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    return counts


def answers_a_read(suite, name, methods):
    """The service's first ``get_…`` method that takes an id, asked for one that does not exist: ``NotFound`` is an
    answer as good as any."""

    from nameko.exceptions import RemoteError

    method = next(m for m in sorted(methods) if m.startswith("get_") and methods[m] and methods[m][0].endswith("_id"))
    parameter = methods[method][0]  # the id; any others have defaults
    try:
        return suite.rpc("smart_office", name, method, **{parameter: "none-1"}) is not None
    except RemoteError as exc:
        return exc.exc_type == "NotFound"


def state(suite, name):
    return json.loads((suite.run_dir / f"{name}.state.json").read_text())


def test_no_generated_message_stops_or_changes_a_service(suite, rabbit_config, tmp_path):
    methods = rpc_methods()
    names = sorted(methods)
    vhost = rabbit_config["vhost"]
    grant = client_grant(names, prefix=f"fz{uuid.uuid4().hex[:6]}-")
    password = uuid.uuid4().hex
    api = ManagementApi(*ADMIN)
    api.apply([grant], {grant.user: password}, vhost)
    client_uri = amqp_uri(grant.user, password, "127.0.0.1", 5672, vhost)
    # a day no reminder falls due (the declaration window is months away): the services' own timers
    # store nothing while the fuzz runs, so every row counted after it is one a message made
    suite.up(NX_MAX_MESSAGE_BYTES=str(MAX_BYTES), NX_TODAY=QUIET_DAY)
    pids = {name: (suite.run_dir / f"{name}.pid").read_text() for name in names}
    before = {name: answered_or_refused(suite, name) for name in names}
    rows_before = row_counts(tmp_path, names)

    sent = Counter()
    published = Counter()
    try:
        with (
            Connection(client_uri, transport_options={"confirm_publish": True}) as client,
            Connection(rabbit_config["AMQP_URI"], transport_options={"confirm_publish": True}) as peer,
        ):
            to_services = Producer(client.channel(), exchange=Exchange(grant.rpc_exchange, no_declare=True))
            to_handlers = Producer(peer.channel())

            @settings(
                max_examples=RPC_MESSAGES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(message=rpc_messages(methods))
            def send_request(message):
                service, routing_key, body, properties = message
                to_services.publish(body, routing_key=routing_key, serializer=None, **properties)
                sent[service] += 1

            @settings(
                max_examples=EVENT_MESSAGES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
            )
            @given(message=event_messages(event_keys()))
            def send_event(message):
                source, key, body, properties = message
                exchange = Exchange(f"{source}.events", type="topic", durable=True, no_declare=True)
                to_handlers.publish(body, exchange=exchange, routing_key=key, serializer=None, **properties)
                published[(source, key)] += 1

            send_request()
            send_event()
    finally:
        api.delete_users([grant.user])

    for name in names:  # every request accounted for, once
        wait_for(
            lambda n=name: answered_or_refused(suite, n) - before[n] >= sent[n],
            60,
            f"{name} to account for its {sent[name]} requests",
        )
        assert answered_or_refused(suite, name) - before[name] == sent[name]
    expected = deliveries(published)
    for (service, handler), count in expected.items():  # every delivery parked at once, once
        wait_for(
            lambda s=service, h=handler, c=count: handler_parked(suite, s, h) >= c,
            60,
            f"{service}.{handler} to park its {count} deliveries",
        )
    for (service, handler), count in expected.items():
        assert handler_parked(suite, service, handler) == count
        retried = samples(suite, service, "nx_events_retried_total")
        assert not any(f'handler="{handler}"' in k and v for k, v in retried.items())

    for name in names:
        assert state(suite, name)["restarts"] == 0, f"{name} restarted"
        assert (suite.run_dir / f"{name}.pid").read_text() == pids[name]
    assert row_counts(tmp_path, names) == rows_before  # nothing stored
    by_reason = Counter()
    for name in names:
        for labels, value in samples(suite, name, "nx_messages_rejected_total").items():
            consumer = "rpc" if 'consumer="rpc"' in labels else "event"
            reason = re.search(r'reason="([^"]*)"', labels).group(1)
            by_reason[f"{consumer}:{reason}"] += int(value)
    ran = sum(int(sum(samples(suite, n, "nx_rpc_duration_seconds_count").values())) for n in names)
    print(
        f"fuzz: {sum(sent.values())} requests sent ({ran} answered by a worker, the rest refused before one),"
        f" {sum(published.values())} events published = {sum(expected.values())} deliveries, all parked;"
        f" refused by reason {dict(sorted(by_reason.items()))}"
    )
    for name in names:  # and every service answers a legitimate call
        assert answers_a_read(suite, name, methods[name])
