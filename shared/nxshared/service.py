"""What every service has: its database (with outbox relay), auth, clock, metrics, and the
operators' ``/metrics`` and ``/health`` pages on its own port (``WEB_SERVER_ADDRESS``).

``/health`` is the liveness probe (compose healthchecks, Kubernetes): 503 when the database does not
answer, the broker cannot be reached, or this container's own consumers have lost their broker
connection (while nameko reconnects them, or if their thread died) — a fresh connection that works
says nothing about the consumers' one."""

import json

from kombu import Connection
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer
from nameko.web.handlers import http
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.wrappers import Response

from nxshared.auth import Auth
from nxshared.clock import ClockProvider
from nxshared.db import Database
from nxshared.metrics import Metrics


def json_response(body, status=200):
    return Response(json.dumps(body, ensure_ascii=False, sort_keys=True), status=status, mimetype="application/json")


class ConsumerLink(DependencyProvider):
    """A probe of the broker connection this container's RPC and event consumers share (nameko's
    ``QueueConsumer``): it raises when that connection is down, even while nameko reconnects it."""

    def get_dependency(self, worker_ctx):
        return self.check

    def check(self):
        for extension in self.container.extensions:
            if isinstance(extension, QueueConsumer):
                consumer_link_state(extension)


def consumer_link_state(queue_consumer):
    thread = queue_consumer._gt
    if thread is None or thread.dead:
        raise ConnectionError("consumer thread not running")
    for consumer in list(queue_consumer._consumers.values()):
        channel = consumer.channel
        connection = getattr(channel, "connection", None)
        if not getattr(channel, "is_open", False) or connection is None or not connection.connected:
            raise ConnectionError("consumers' broker connection lost; reconnecting")


class ServiceBase:
    db = Database()
    auth = Auth()
    clock = ClockProvider()
    metrics = Metrics()
    consumers = ConsumerLink()

    @http("GET", "/metrics")
    def prometheus_metrics(self, request):
        return Response(generate_latest(self.metrics.registry), mimetype=CONTENT_TYPE_LATEST)

    @http("GET", "/health")
    def health(self, request):
        checks = {
            "database": _check(self.db.ping),
            "broker": _check(self._ping_broker),
            "consumers": _check(self.consumers),
        }
        healthy = all(v == "ok" for v in checks.values())
        return json_response({"status": "ok" if healthy else "unavailable", **checks}, 200 if healthy else 503)

    def _ping_broker(self):
        with Connection(self.db.amqp_uri, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)


def _check(probe):
    try:
        probe()
    except Exception as exc:  # health reports any failure, it does not raise
        return f"error: {exc}"
    return "ok"
