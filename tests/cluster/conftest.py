"""The cluster fault test runs only against the local three-node cluster that ``make cluster-faults``
starts (``deploy/rabbitmq_cluster.sh``): ``NX_CLUSTER_FAULTS=1``."""

import os

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "cluster: runs the suite on a local three-node RabbitMQ cluster")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("NX_CLUSTER_FAULTS", "").strip().lower() in ("1", "yes", "true"):
        return
    skip = pytest.mark.skip(reason="cluster faults: `make cluster-faults` (NX_CLUSTER_FAULTS=1)")
    for item in items:
        if item.get_closest_marker("cluster"):
            item.add_marker(skip)
