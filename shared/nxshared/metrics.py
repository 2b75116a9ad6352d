"""Prometheus metrics: one ``CollectorRegistry`` per service container (tests start services many
times in one process), the suite's standard metrics, and a provider that times every worker and
watches the event loop.

A service is one eventlet hub: a call that holds it (a blocking query, a long computation) stalls
every other worker and the outbox relay with it. ``nx_event_loop_lag_seconds`` is how late a green
thread that asked to sleep ``LAG_PROBE_SECONDS`` woke up; ``nx_event_loop_stalls`` counts the times
it was later than ``STALL_SECONDS`` (issue 8: no single synchronous call holds the hub ~50 ms)."""

import time
import weakref

import eventlet
from nameko.extensions import DependencyProvider
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from nxshared.core.errors import error_code

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
LAG_PROBE_SECONDS = 0.02
STALL_SECONDS = 0.05


class SuiteMetrics:
    """The metrics every service exports, on its own registry."""

    def __init__(self, registry):
        self.registry = registry
        self.rpc_latency = Histogram(
            "nx_rpc_duration_seconds",
            "RPC latency by method and outcome",
            ["method", "outcome"],
            registry=registry,
            buckets=LATENCY_BUCKETS,
        )
        self.handler_latency = Histogram(
            "nx_event_handler_duration_seconds",
            "Event handler latency by handler, event type and outcome",
            ["handler", "event_type", "outcome"],
            registry=registry,
            buckets=LATENCY_BUCKETS,
        )
        self.refusals = Counter(
            "nx_rpc_refusals", "Refused RPC calls by method and code", ["method", "code"], registry=registry
        )
        self.events_consumed = Counter(
            "nx_events_consumed",
            "Events handled by handler, type and outcome (applied|duplicate|failed)",
            ["handler", "event_type", "outcome"],
            registry=registry,
        )
        self.events_retried = Counter(
            "nx_events_retried",
            "Event deliveries sent back for another attempt",
            ["handler", "event_type"],
            registry=registry,
        )
        self.dead_lettered = Counter(
            "nx_events_dead_lettered",
            "Events parked in a dead-letter queue",
            ["handler", "event_type"],
            registry=registry,
        )
        self.events_published = Counter(
            "nx_events_published", "Outbox events published with a broker confirm", ["event_type"], registry=registry
        )
        self.publish_failures = Counter(
            "nx_outbox_publish_failures",
            "Outbox publish attempts that failed or came back unroutable",
            ["reason"],
            registry=registry,
        )
        self.messages_rejected = Counter(
            "nx_messages_rejected",
            "Deliveries refused before any worker ran (parked or answered with an error), by consumer and reason",
            ["consumer", "reason"],
            registry=registry,
        )
        self.token_refusals = Counter(
            "nx_token_refusals",
            "Calls refused for their token, by reason (missing, malformed, algorithm, unknown_key, bad_signature, "
            "expired, claims, lifetime, keys_unavailable)",
            ["reason"],
            registry=registry,
        )
        self.reminders_emitted = Counter(
            "nx_reminders_emitted",
            "Reminders (reminder.due) the daily timer wrote to the outbox, by kind (a repeat is not counted)",
            ["kind"],
            registry=registry,
        )
        self.loop_lag = Histogram(
            "nx_event_loop_lag_seconds",
            f"How late a green thread sleeping {LAG_PROBE_SECONDS}s woke up (the hub was held meanwhile)",
            registry=registry,
            buckets=LATENCY_BUCKETS,
        )
        self.loop_stalls = Counter(
            "nx_event_loop_stalls",
            f"Times the event loop was held longer than {STALL_SECONDS}s",
            registry=registry,
        )


def event_type_label(payload):
    """An event's type as a label value: a type the catalog knows, else ``other`` (a label takes
    no value a publisher chose freely)."""
    from nxshared.catalog import REGISTRY

    event_type = payload.get("event_type") if isinstance(payload, dict) else None
    return event_type if isinstance(event_type, str) and event_type in REGISTRY.specs else "other"


def registry_for(container):
    """The container's registry and standard metrics, created on first use and kept on the
    container (extensions hold it through a weak proxy)."""
    suite = getattr(container, "_nx_metrics", None)
    if suite is None:
        suite = SuiteMetrics(CollectorRegistry())
        container._nx_metrics = suite
    return suite


class GaugeCollector:
    """Gauges read at scrape time: ``read()`` returns ``[(name, help, {labels}, value), …]``."""

    def __init__(self, read):
        self.read = read

    def describe(self):
        return []

    def collect(self):
        families: dict[str, GaugeMetricFamily] = {}
        for name, help_text, labels, value in self.read():
            family = families.get(name)
            if family is None:
                family = families[name] = GaugeMetricFamily(name, help_text, labels=sorted(labels))
            family.add_metric([str(labels[k]) for k in sorted(labels)], value)
        return list(families.values())


class Metrics(DependencyProvider):
    """Times every RPC and event-handler worker and counts refusals; injects ``SuiteMetrics``."""

    def setup(self):
        self.suite = registry_for(self.container)
        self.started: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def start(self):
        self.container.spawn_managed_thread(self._watch_loop, identifier="event_loop_lag")

    def _watch_loop(self):
        while True:
            asked = time.perf_counter()
            eventlet.sleep(LAG_PROBE_SECONDS)
            lag = max(0.0, time.perf_counter() - asked - LAG_PROBE_SECONDS)
            self.suite.loop_lag.observe(lag)
            if lag > STALL_SECONDS:
                self.suite.loop_stalls.inc()

    def get_dependency(self, worker_ctx):
        return self.suite

    def worker_setup(self, worker_ctx):
        self.started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self.started.pop(worker_ctx, None)
        if started is None:
            return
        elapsed = time.perf_counter() - started
        kind = getattr(worker_ctx.entrypoint, "metrics_kind", None)
        outcome = "ok" if exc_info is None else error_code(exc_info[1])
        method = worker_ctx.entrypoint.method_name
        if kind == "rpc":
            self.suite.rpc_latency.labels(method, outcome).observe(elapsed)
            if exc_info is not None:
                self.suite.refusals.labels(method, outcome).inc()
        elif kind == "event":
            event_type = event_type_label(worker_ctx.args[0] if worker_ctx.args else None)
            self.suite.handler_latency.labels(method, event_type, outcome).observe(elapsed)
            if exc_info is not None:
                self.suite.events_consumed.labels(method, event_type, "failed").inc()
