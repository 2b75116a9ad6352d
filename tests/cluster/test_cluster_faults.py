"""The suite on a RabbitMQ cluster (issue 23): three local nodes (``deploy/rabbitmq_cluster.sh``),
quorum queues for events, while projects flow planning → review → approval (the fault suite's driver
and prober); one node is stopped mid-flow and started again, then another.

Every service and client is given the three nodes as one failover URI (``amqp://…:5681/v;amqp://…
:5682/v;…``, kombu's failover): each connects to the first node that answers and, when it goes,
reconnects to the next. Event queues are quorum queues (``NX_EVENT_QUEUE_TYPE=quorum``, replicated
on the three nodes: two of three keep them available). nameko declares its RPC queues and its
callers' reply queues itself, as classic durable queues with no arguments, so a policy of the test's
vhost mirrors both (``^rpc[-.]``) on every node (``ha-mode: all``, RabbitMQ's way for classic
queues); without it a service whose RPC queue, or a caller whose reply queue, lives on the stopped
node cannot declare it again elsewhere ("home node down") until that node is back.

The nodes are stopped one at a time, the first brought back before the second goes: a quorum needs
a majority, and stopping two of three at once would stop every quorum queue (by design).
"""

import subprocess
import time
import uuid
from pathlib import Path

import eventlet
import pytest

from tests.faults.harness import (
    EXPECTED_TIMELINE,
    Clients,
    Driver,
    Prober,
    agrees,
    parked_count,
    pick_moment,
    settled,
    wait_until,
)

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "deploy" / "rabbitmq_cluster.sh"
NODES = (1, 2, 3)
STOPPED_SECONDS = 15
RECOVERY_BOUND = 120


def ctl(node, *args):
    subprocess.run(["bash", str(CLUSTER), "ctl", str(node), *args], check=True, capture_output=True, timeout=180)


@pytest.fixture
def cluster_uri():
    """A fresh vhost on the cluster, its RPC queues mirrored; the failover URI of the three nodes."""
    vhost = f"nxc-{uuid.uuid4().hex[:8]}"
    ctl(1, "add_vhost", vhost)
    ctl(1, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    ctl(1, "set_policy", "-p", vhost, "--apply-to", "queues", "rpc-mirrored", "^rpc[-.]",
        '{"ha-mode":"all","ha-sync-mode":"automatic"}')  # fmt: skip
    yield ";".join(f"amqp://guest:guest@127.0.0.1:{5680 + n}/{vhost}" for n in NODES)
    ctl(1, "delete_vhost", vhost)


@pytest.fixture
def suite(cluster_uri, tmp_path):
    from tests.e2e.conftest import Suite

    started = Suite(cluster_uri, tmp_path, today="2026-12-15")
    yield started
    started.close()
    for log in sorted(started.run_dir.glob("*.log")):
        lines = log.read_text(errors="replace").splitlines()
        said = [line for line in lines if "supervisor:" in line or " ERROR " in line or " WARNING " in line]
        print(f"--- {log.name}", *said[-30:], sep="\n")


def test_projects_survive_stopping_one_node_then_another(suite, cluster_uri, capsys):
    names = list(Prober.PROBES)
    suite.env.update(NX_EVENT_QUEUE_TYPE="quorum", NX_EVENT_RETRY_BASE_MS="500", NX_EVENT_MAX_ATTEMPTS="6")
    suite.up(*names)
    clients = Clients(cluster_uri)
    driver = Driver(clients, interval=0.5)
    prober = Prober(cluster_uri, names)
    stops = []  # (node, seconds from its stop until every service answered again)

    def every_service_answers(since):
        answered = {}
        deadline = time.monotonic() + RECOVERY_BOUND
        while len(answered) < len(names):
            silent = sorted(set(names) - set(answered))
            assert time.monotonic() < deadline, f"not every service answered within {RECOVERY_BOUND}s: " + "; ".join(
                f"{name} ({prober.last_failure.get(name, '?')})" for name in silent
            )
            for name in silent:
                if prober.answers(name):
                    answered[name] = time.monotonic() - since
            eventlet.sleep(0.05)
        return max(answered.values())

    try:
        prober.start()
        driver.start()
        for node in (1, 2):  # the node every connection chose first, then another; one down at a time
            pick_moment(5, 8)
            stopped = time.monotonic()
            ctl(node, "stop_app")
            try:
                say(f"nx{node} stopped")
                stops.append((node, every_service_answers(stopped)))
                eventlet.sleep(STOPPED_SECONDS)
            finally:
                ctl(node, "start_app")
                ctl(node, "await_startup")
                say(f"nx{node} started again")
        pick_moment(3, 5)
        driver.stop_starting()
        driver.wait(timeout=300)
    finally:
        prober.stop()

    try:
        stuck = [(p.index, p.project_id, p.stuck or "unfinished") for p in driver.projects if not p.finished]
        lost, duplicated = [], []
        for p in driver.projects:
            if p.project_id is None:
                continue
            timeline = wait_until(lambda p=p: settled(clients, p.project_id), 90, f"{p.project_id} to settle")
            types = sorted(e["event_type"] for e in timeline["events"])
            if any(types.count(event_type) > 1 for event_type in EXPECTED_TIMELINE):
                duplicated.append(p.project_id)
            if not set(EXPECTED_TIMELINE) <= set(types) or not agrees(clients, p):
                lost.append(p.project_id)
        parked = parked_count(cluster_uri, names)
        # the prober's outages, and each stop until every service answered again (a read from each)
        longest = max([end - start for _, start, end in prober.outages] + [seconds for _, seconds in stops])
        with capsys.disabled():
            print(
                f"\nRabbitMQ cluster (3 nodes, quorum event queues, mirrored RPC queues): nodes stopped"
                f" {', '.join(f'nx{n}' for n, _ in stops)} one at a time ({STOPPED_SECONDS} s each) while"
                f" projects flowed: projects {len(driver.projects)}, lost {len(lost)}, duplicated {len(duplicated)},"
                f" parked {parked}, stuck {len(stuck)}, longest unavailability {longest:.1f} s"
                f" ({'; '.join(f'nx{n} stopped: every service answering after {s:.1f} s' for n, s in stops)}),"
                f" driver retries {sum(p.retries for p in driver.projects)}"
            )
        assert not any(p.abandoned for p in driver.projects)
        assert stuck == []
        assert lost == []
        assert duplicated == []
        assert parked == 0
    finally:
        clients.close()


def say(text):
    print(f"{time.strftime('%H:%M:%S')} cluster: {text}", flush=True)
