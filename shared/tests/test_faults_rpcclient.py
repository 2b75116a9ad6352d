"""Clients across a broker reconnect: reads are asked again, other calls are not repeated blindly,
and an unreachable broker is one clear line."""

import os
import subprocess
import sys
import time

import pytest
from nameko.exceptions import RemoteError

from approval.service import ApprovalService
from nxshared.rpcclient import BrokerUnavailable, ResilientRpc, is_read
from nxshared.testing import bearer


class FlakyCluster:
    """Each method fails with a reset connection ``failures`` times, then answers."""

    def __init__(self, failures):
        self.failures = failures
        self.calls = []

    def __getattr__(self, service):
        cluster = self

        class Service:
            def __getattr__(self, method):
                def invoke(**kwargs):
                    cluster.calls.append(method)
                    if len(cluster.calls) <= cluster.failures:
                        raise ConnectionResetError(104, "Connection reset by peer")
                    return {"method": method}

                return invoke

        return Service()


@pytest.fixture
def flaky(monkeypatch):
    cluster = FlakyCluster(failures=2)
    monkeypatch.setattr(ResilientRpc, "_connect", lambda self: cluster)
    monkeypatch.setattr(ResilientRpc, "_drop", lambda self: None)
    return cluster


def test_a_read_is_asked_again_until_the_connection_is_back(flaky):
    client = ResilientRpc("amqp://guest:guest@broker:5672/", {}, retry_for=30)
    assert client.call("planning", "get_project", project_id="prj-1") == {"method": "get_project"}
    assert flaky.calls == ["get_project"] * 3


def test_a_write_is_sent_once_and_the_caller_told_it_may_have_been_applied(flaky):
    client = ResilientRpc("amqp://guest:guest@broker:5672/", {}, retry_for=30)
    with pytest.raises(BrokerUnavailable) as refused:
        client.call("planning", "declare_project", project={})
    assert refused.value.maybe_applied
    assert "可能已执行" in str(refused.value) and "may or may not have been applied" in str(refused.value)
    assert flaky.calls == ["declare_project"]


def test_only_get_and_list_methods_are_reads():
    assert is_read("get_timeline") and is_read("list_projects")
    assert not is_read("declare_project") and not is_read("grant_approval")


def test_nx_says_in_one_line_that_the_broker_is_down(tmp_path):
    from nxshared.issuer import Issuer

    Issuer(tmp_path / "secrets.json").init()  # nx signs its token before it calls
    env = {
        **os.environ,
        "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/",
        "NX_RPC_RETRY_SECONDS": "1",
        "NX_SECRETS_FILE": str(tmp_path / "secrets.json"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "nxshared.cli", "call", "planning", "get_timeline", '{"project_id": "prj-1"}']
        + ["--org", "smart_office"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    message = done.stderr.strip()
    assert "\n" not in message
    assert "无法连接消息代理" in message and "cannot reach the broker at 127.0.0.1:1/" in message


def wait_for(probe, timeout=30):
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)
    return value


def answer(client):
    with pytest.raises(RemoteError) as refused:
        client.call("approval", "get_approval", project_id="prj-000000000000")
    return refused.value.exc_type


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_a_read_rides_out_the_broker_closing_every_connection(
    container_factory, service_config, rabbit_manager, rabbit_config
):
    container = container_factory(ApprovalService, service_config("approval"))
    container.start()
    client = ResilientRpc(rabbit_config["AMQP_URI"], {"authorization": bearer("drc")}, timeout=5, retry_for=60)
    try:
        assert answer(client) == "NotFound"
        vhost = rabbit_config["vhost"]
        for name in wait_for(lambda: [c["name"] for c in rabbit_manager.get_connections() if c.get("vhost") == vhost]):
            rabbit_manager.delete_connection(name)
        assert answer(client) == "NotFound"  # served again, through a fresh connection
    finally:
        client.close()
