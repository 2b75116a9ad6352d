"""The rolling-upgrade test runs only when asked (``make upgrade-test``, ``NX_UPGRADE_TEST=1``): it
starts the suite twice over and takes minutes, too long for ``make test``."""

import os

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "upgrade: runs services of the previous release beside the current ones")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("NX_UPGRADE_TEST", "").strip().lower() in ("1", "yes", "true"):
        return
    skip = pytest.mark.skip(reason="rolling-upgrade test: `make upgrade-test` (NX_UPGRADE_TEST=1)")
    for item in items:
        if item.get_closest_marker("upgrade"):
            item.add_marker(skip)


@pytest.fixture
def suite(rabbit_config, tmp_path):
    """The services as ``make up`` starts them (tests/e2e's Suite), stopped at the end."""
    from tests.e2e.conftest import Suite

    started = Suite(rabbit_config["AMQP_URI"], tmp_path, today="2026-12-15")
    yield started
    started.close()
    for log in sorted(started.run_dir.glob("*.log")):
        lines = log.read_text(errors="replace").splitlines()
        print(f"--- {log.name}", *[line for line in lines if "supervisor:" in line or "ERROR" in line][-20:], sep="\n")
