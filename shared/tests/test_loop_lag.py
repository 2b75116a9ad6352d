"""The event-loop watcher: a call that holds the hub shows as lag and, past 50 ms, as a stall."""

import eventlet
from eventlet import patcher

from nxshared.metrics import Metrics, registry_for

blocking_sleep = patcher.original("time").sleep  # holds the hub, as a blocking query would


class Watched:
    name = "watched"
    metrics = Metrics()


def samples(container, name):
    return {s.name: s.value for metric in registry_for(container).registry.collect() for s in metric.samples}[name]


def test_a_call_that_holds_the_hub_is_counted_as_a_stall(container_factory):
    container = container_factory(Watched, {"AMQP_URI": "memory://"})
    container.start()
    eventlet.sleep(0.1)  # the watcher runs
    assert samples(container, "nx_event_loop_lag_seconds_count") >= 2
    stalls, lag = samples(container, "nx_event_loop_stalls_total"), samples(container, "nx_event_loop_lag_seconds_sum")
    blocking_sleep(0.12)
    eventlet.sleep(0.05)
    assert samples(container, "nx_event_loop_stalls_total") >= stalls + 1
    assert samples(container, "nx_event_loop_lag_seconds_sum") >= lag + 0.09
