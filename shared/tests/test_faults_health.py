"""/health is the readiness probe: it reports the container's own consumers' broker connection, not
just whether a fresh connection could be made; /health/live, the liveness probe, stays 200 while the
broker is away. Both answer from state the service keeps (no worker, no connection)."""

import time

import pytest
import requests

from approval.service import ApprovalService
from nxshared.service import consumer_link_state


def wait_until(probe, timeout=30):
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)
    return value


def vhost_connections(rabbit_manager, vhost):
    return [c["name"] for c in rabbit_manager.get_connections() if c.get("vhost") == vhost]


@pytest.fixture
def approval(container_factory, service_config):
    container = container_factory(ApprovalService, service_config("approval"))
    container.start()
    return container


def health(container, path="/health"):
    response = requests.get(f"http://{container.config['WEB_SERVER_ADDRESS']}{path}", timeout=5)
    return response.status_code, response.json()


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_health_is_503_while_the_consumers_connection_is_down_and_200_once_it_is_back(
    approval, rabbit_manager, rabbit_config
):
    vhost, user = rabbit_config["vhost"], rabbit_config["username"]
    wait_until(lambda: health(approval)[0] == 200)  # the first database check within a second
    assert health(approval) == (200, {"status": "ok", "database": "ok", "consumers": "ok"})
    live = (200, {"status": "ok", "consumers": "ok", "health_checker": "ok"})
    assert health(approval, "/health/live") == live

    rabbit_manager._delete("permissions", vhost, user)  # reconnecting is refused until restored
    try:
        for name in wait_until(lambda: vhost_connections(rabbit_manager, vhost)):
            rabbit_manager.delete_connection(name)
        status, body = wait_until(lambda: (lambda r: r if r[0] == 503 else None)(health(approval)))
        assert body["status"] == "unavailable"
        assert body["consumers"].startswith("error:")
        assert health(approval, "/health/live") == live  # a broker away is not cured by a restart
    finally:
        rabbit_manager.set_vhost_permissions(vhost, user, ".*", ".*", ".*")

    assert wait_until(lambda: health(approval)[0] == 200)


class _Thread:
    dead = False


class _Channel:
    def __init__(self, is_open, connected):
        self.is_open = is_open
        self.connection = type("C", (), {"connected": connected})() if connected is not None else None


class _QueueConsumer:
    def __init__(self, thread, *channels):
        self._gt = thread
        self._consumers = {i: type("K", (), {"channel": ch})() for i, ch in enumerate(channels)}


def test_consumer_link_state_refuses_a_dead_thread_or_a_closed_channel():
    consumer_link_state(_QueueConsumer(_Thread(), _Channel(True, True)))
    dead = _Thread()
    dead.dead = True
    for broken in (
        _QueueConsumer(None),
        _QueueConsumer(dead, _Channel(True, True)),
        _QueueConsumer(_Thread(), _Channel(False, True)),
        _QueueConsumer(_Thread(), _Channel(True, None)),
        _QueueConsumer(_Thread(), _Channel(True, False)),
    ):
        with pytest.raises(ConnectionError):
            consumer_link_state(broken)


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_health_takes_no_worker_and_opens_no_connection(approval, rabbit_manager, rabbit_config, monkeypatch):
    wait_until(lambda: health(approval)[0] == 200)
    vhost = rabbit_config["vhost"]
    connections = sorted(vhost_connections(rabbit_manager, vhost))
    spawned = []
    monkeypatch.setattr(approval, "spawn_worker", lambda *args, **kwargs: spawned.append(args))
    for _ in range(50):
        assert health(approval)[0] == 200
        assert health(approval, "/health/live")[0] == 200
    assert spawned == []
    assert sorted(vhost_connections(rabbit_manager, vhost)) == connections
