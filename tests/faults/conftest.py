"""The fault suite runs only when asked: ``NX_FAULTS=1`` (full: real broker restarts with
``rabbitmqctl stop_app``/``start_app``, which disturbs everything else on the broker), ``NX_FAULTS=short``
(CI: broker-side drops of this test's connections only, through the management API) or
``pytest tests/faults --faults`` (as ``NX_FAULTS=1``). ``make faults`` runs the full form.

To run the full form without disturbing a shared broker, give it a RabbitMQ node of its own:
``make faults PYTEST_ARGS="--amqp-uri amqp://guest:guest@127.0.0.1:5679/ --rabbit-ctl-uri
http://guest:guest@127.0.0.1:15679" NX_FAULTS_RABBITMQCTL="rabbitmqctl -n faults@localhost"``."""

import os

import pytest


def pytest_addoption(parser):
    parser.addoption("--faults", action="store_true", help="run the fault suite (tests/faults)")


def pytest_configure(config):
    config.addinivalue_line("markers", "faults: injects broker, process and database faults into a running suite")


def fault_mode(config):
    mode = os.environ.get("NX_FAULTS", "").strip().lower()
    if mode in ("", "0", "no", "false"):
        return "full" if config.getoption("--faults", default=False) else None
    return "short" if mode == "short" else "full"


def pytest_collection_modifyitems(config, items):
    if fault_mode(config):
        return
    skip = pytest.mark.skip(reason="fault suite: set NX_FAULTS=1 (or short), or pass --faults")
    for item in items:
        if "faults" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def mode(request):
    return fault_mode(request.config)


@pytest.fixture
def suite(rabbit_config, tmp_path):
    """The services as ``make up`` starts them (tests/e2e's Suite), stopped at the end."""
    from tests.e2e.conftest import Suite

    started = Suite(rabbit_config["AMQP_URI"], tmp_path, today="2026-12-15")
    yield started
    started.close()
    for log in sorted(started.run_dir.glob("*.log")):
        print(f"--- {log.name}: the supervisor's lines and why the service died")
        lines = log.read_text(errors="replace").splitlines()
        for number, line in enumerate(lines):
            if "supervisor:" in line or "CRITICAL" in line:
                print(line)
                if "CRITICAL" in line:  # the exception that killed the container ends its traceback
                    following = lines[number + 1 : number + 80]
                    print(next((x for x in following if x and not x.startswith((" ", "Traceback"))), ""))
