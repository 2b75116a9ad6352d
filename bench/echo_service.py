"""The baseline: bare nameko services (no auth, no database, no outbox) measured beside ours."""

import time

from nameko.events import EventDispatcher, event_handler
from nameko.rpc import rpc


class EchoService:
    name = "bench_echo"
    dispatch = EventDispatcher()

    @rpc
    def echo(self, value):
        return value

    @rpc
    def emit(self):
        self.dispatch("bench.ping", {"sent_at": time.time()})


class EchoListener:
    """Keeps the hop time (dispatch to handler) of every ping it receives, in memory."""

    name = "bench_listener"
    hops_seen = []

    @event_handler("bench_echo", "bench.ping")
    def on_ping(self, payload):
        EchoListener.hops_seen.append(time.time() - payload["sent_at"])

    @rpc
    def hops(self):
        return EchoListener.hops_seen
