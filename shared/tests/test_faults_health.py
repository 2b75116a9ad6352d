"""/health is a liveness probe: it reports the container's own consumers' broker connection, not
just whether a fresh connection could be made."""

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


def health(container):
    response = requests.get(f"http://{container.config['WEB_SERVER_ADDRESS']}/health", timeout=5)
    return response.status_code, response.json()


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_health_is_503_while_the_consumers_connection_is_down_and_200_once_it_is_back(
    approval, rabbit_manager, rabbit_config
):
    vhost, user = rabbit_config["vhost"], rabbit_config["username"]
    assert health(approval) == (200, {"status": "ok", "database": "ok", "broker": "ok", "consumers": "ok"})

    rabbit_manager._delete("permissions", vhost, user)  # reconnecting is refused until restored
    try:
        for name in wait_until(lambda: vhost_connections(rabbit_manager, vhost)):
            rabbit_manager.delete_connection(name)
        status, body = wait_until(lambda: (lambda r: r if r[0] == 503 else None)(health(approval)))
        assert body["status"] == "unavailable"
        assert body["consumers"].startswith("error:")
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
