"""What every service has: its database (with outbox relay), auth, clock, metrics, and the
operators' ``/metrics`` and ``/health`` pages on its own port (``WEB_SERVER_ADDRESS``)."""

import json

from kombu import Connection
from nameko.web.handlers import http
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.wrappers import Response

from nxshared.auth import Auth
from nxshared.clock import ClockProvider
from nxshared.db import Database
from nxshared.metrics import Metrics


def json_response(body, status=200):
    return Response(json.dumps(body, ensure_ascii=False, sort_keys=True), status=status, mimetype="application/json")


class ServiceBase:
    db = Database()
    auth = Auth()
    clock = ClockProvider()
    metrics = Metrics()

    @http("GET", "/metrics")
    def prometheus_metrics(self, request):
        return Response(generate_latest(self.metrics.registry), mimetype=CONTENT_TYPE_LATEST)

    @http("GET", "/health")
    def health(self, request):
        checks = {"database": _check(self.db.ping), "broker": _check(self._ping_broker)}
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
