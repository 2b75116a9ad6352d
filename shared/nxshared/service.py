"""What every service has: its database (with outbox relay), auth, clock, metrics, and the
operators' pages on its ops address (``OPS_ADDRESS``, loopback by default; ``nxshared.settings``).

**Health costs nothing.** ``/health`` (readiness) and ``/health/live`` (liveness) are answered by
the web server's own green thread from state the service already keeps (``HealthState``): no worker
is taken from the RPC and event handlers, no connection is opened, nothing is logged. The database
is pinged by one background green thread once a second (``HEALTH_CHECK_SECONDS``), whatever the
request rate; the consumers' broker link is read from nameko's ``QueueConsumer`` in memory.

- ``/health`` (readiness; compose healthchecks, Kubernetes readiness, ``make up``): 503 while the
  last database check failed or is older than ``HEALTH_STALE_SECONDS``, or while this container's
  own consumers have lost their broker connection (nameko reconnects them) — a fresh connection
  that works would say nothing about the consumers' one.
- ``/health/live`` (Kubernetes liveness): 503 only when something a restart would cure is broken
  (the consumers' thread or the health checker itself died); a broker or database that is away is
  not such a thing, the service rides it out.
"""

import json
import logging
import time

import eventlet
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.wrappers import Response

from nxshared.auth import Auth
from nxshared.clock import ClockProvider
from nxshared.db import Database
from nxshared.metrics import Metrics

log = logging.getLogger(__name__)


def json_response(body, status=200):
    return Response(json.dumps(body, ensure_ascii=False, sort_keys=True), status=status, mimetype="application/json")


def consumer_link_state(queue_consumer):
    consumer_thread_state(queue_consumer)
    for consumer in list(queue_consumer._consumers.values()):
        channel = consumer.channel
        connection = getattr(channel, "connection", None)
        if not getattr(channel, "is_open", False) or connection is None or not connection.connected:
            raise ConnectionError("consumers' broker connection lost; reconnecting")


def consumer_thread_state(queue_consumer):
    thread = queue_consumer._gt
    if thread is None or thread.dead:
        raise ConnectionError("consumer thread not running")


class OpsWebServer(WebServer):
    """nameko's web server on the ops address, without an access-log line per request (a monitor's
    probes would otherwise be the busiest writer of every service's log)."""

    def get_wsgi_server(self, sock, wsgi_app, protocol=None, debug=False):
        from eventlet import wsgi
        from nameko.web.server import HttpOnlyProtocol

        return wsgi.Server(
            sock, sock.getsockname(), wsgi_app, protocol=protocol or HttpOnlyProtocol, debug=debug,
            log=logging.getLogger("nxshared.ops"), log_output=False,
        )  # fmt: skip


class OpsHttp(HttpRequestHandler):
    """nameko's ``@http`` on the ops web server: the only HTTP a service serves itself (a plain
    ``@http`` beside it would bind the same address again and stop the service at start)."""

    server = OpsWebServer()


ops_http = OpsHttp.decorator


class HealthProbe(OpsHttp):
    """``/health`` or ``/health/live``, answered from ``HealthState`` by the web server's green
    thread itself: the decorated method is never called and no worker is spawned."""

    def __init__(self, url, kind):
        super().__init__("GET", url)
        self.kind = kind

    def setup(self):
        super().setup()
        self.state = next(e for e in self.container.extensions if isinstance(e, HealthState))

    def handle_request(self, request):
        healthy, body = self.state.ready() if self.kind == "ready" else self.state.live()
        return json_response(body, 200 if healthy else 503)


class HealthState(DependencyProvider):
    """What ``/health`` answers from: the last database check (one green thread, every
    ``HEALTH_CHECK_SECONDS``) and the consumers' link, read in memory when asked."""

    def setup(self):
        config = self.container.config
        self.interval = float(config.get("HEALTH_CHECK_SECONDS", 1.0))
        self.stale_after = float(config.get("HEALTH_STALE_SECONDS", 5.0))
        self.database = next(e for e in self.container.extensions if isinstance(e, Database))
        self.db_result = "error: not checked yet"
        self.db_checked_at = None
        self._checker = None

    def start(self):
        self._checker = self.container.spawn_managed_thread(self._check_database, identifier="health_checker")

    def stop(self):
        if self._checker is not None:
            self._checker.kill()

    kill = stop

    def _check_database(self):
        while True:
            try:
                self.database.ping()
                result = "ok"
            except Exception as exc:  # health reports any failure, it does not raise
                result = f"error: {exc}".splitlines()[0][:300]
            if result != self.db_result and self.db_checked_at is not None:
                log.warning("health: database %s", result)
            self.db_result, self.db_checked_at = result, time.monotonic()
            eventlet.sleep(self.interval)

    def _consumers(self):
        return [e for e in self.container.extensions if isinstance(e, QueueConsumer)]

    def database_state(self):
        if self.db_checked_at is None:
            return self.db_result
        age = time.monotonic() - self.db_checked_at
        if age > self.stale_after:  # the check itself hangs: a locked or unreachable database
            return f"error: no answer for {age:.0f} s"
        return self.db_result

    def ready(self):
        checks = {"database": self.database_state(), "consumers": _check(self._consumers, consumer_link_state)}
        healthy = all(v == "ok" for v in checks.values())
        return healthy, {"status": "ok" if healthy else "unavailable", **checks}

    def live(self):
        checker = self._checker
        checks = {
            "consumers": _check(self._consumers, consumer_thread_state),
            "health_checker": "ok" if checker is not None and not checker.dead else "error: not running",
        }
        healthy = all(v == "ok" for v in checks.values())
        return healthy, {"status": "ok" if healthy else "dead", **checks}


def _check(extensions, probe):
    try:
        for extension in extensions():
            probe(extension)
    except Exception as exc:  # health reports any failure, it does not raise
        return f"error: {exc}"
    return "ok"


class ServiceBase:
    db = Database()
    auth = Auth()
    clock = ClockProvider()
    metrics = Metrics()
    health_state = HealthState()

    @ops_http("GET", "/metrics")
    def prometheus_metrics(self, request):
        return Response(generate_latest(self.metrics.registry), mimetype=CONTENT_TYPE_LATEST)

    @HealthProbe.decorator("/health", "ready")
    def health(self, request):
        """Readiness; answered by ``HealthProbe`` from ``HealthState``, never by a worker."""

    @HealthProbe.decorator("/health/live", "live")
    def health_live(self, request):
        """Liveness; answered by ``HealthProbe`` from ``HealthState``, never by a worker."""
