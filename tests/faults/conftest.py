"""The fault suite runs only when asked: ``NX_FAULTS=1`` (full: real broker restarts with
``rabbitmqctl stop_app``/``start_app``, which disturbs everything else on the broker), ``NX_FAULTS=short``
(CI: broker-side drops of this test's connections only, through the management API) or
``pytest tests/faults --faults`` (as ``NX_FAULTS=1``). ``make faults`` runs the full form.

To run the full form without disturbing a shared broker, give it a RabbitMQ node of its own:
``make faults PYTEST_ARGS="--amqp-uri amqp://guest:guest@127.0.0.1:5679/ --rabbit-ctl-uri
http://guest:guest@127.0.0.1:15679" NX_FAULTS_RABBITMQCTL="rabbitmqctl -n faults@localhost"``.

``NX_FAULTS_REPLICAS=2`` (``make faults REPLICAS=2``): two processes of each service, on PostgreSQL
databases of their own (``NX_TEST_POSTGRES_URL``, as the tests' backends; skipped without it); the
kills take one of the two, the database outage locks the outbox and inbox tables."""

import os

import pytest
from sqlalchemy import create_engine, text

from nxshared.discovery import installed_services


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
def replicas():
    return int(os.environ.get("NX_FAULTS_REPLICAS") or 1)


@pytest.fixture
def suite(rabbit_config, tmp_path, replicas):
    """The services as ``make up`` starts them (tests/e2e's Suite), stopped at the end; with
    replicas, each on a fresh PostgreSQL database (``nxf_<service><NX_TEST_DB_SUFFIX>``)."""
    from tests.e2e.conftest import Suite

    started = Suite(rabbit_config["AMQP_URI"], tmp_path, today="2026-12-15")
    if replicas > 1:
        started.env["NX_DATABASE_URL"] = fresh_postgres_databases()
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


def fresh_postgres_databases():
    """A new, empty PostgreSQL database per installed service; their URL with ``{service}``."""
    base = os.environ.get("NX_TEST_POSTGRES_URL")
    if not base:
        pytest.skip(
            "replicas need PostgreSQL: set NX_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432)"
        )
    suffix = os.environ.get("NX_TEST_DB_SUFFIX", "")
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for service in installed_services():
                name = f"nxf_{service.name}{suffix}"
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return f"{base}/nxf_{{service}}{suffix}"
