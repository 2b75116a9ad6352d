"""pytest fixtures for the suite's tests (loaded by the root conftest).

Service tests run against every backend named in ``NX_TEST_BACKENDS`` (``sqlite`` by default,
``sqlite,postgresql`` in CI). PostgreSQL gives each service its own database
(``nxt_<service>``), migrated once and emptied before each test.
"""

import os
import uuid
from pathlib import Path

import pytest
from kombu import Connection
from sqlalchemy import create_engine, inspect, text

from nxshared.db import make_engine, migrate
from nxshared.issuer import mint_token, new_key, public_half
from nxshared.settings import load_settings
from nxshared.topology import deploy_installed

ROOT = Path(__file__).resolve().parents[2]


def _test_issuer():
    """This test process's identity platform: one Ed25519 key, its public set in a file the
    services under test trust (``AUTH_JWKS_FILE``)."""
    import json
    import tempfile

    key = new_key()
    path = Path(tempfile.mkdtemp(prefix="nx-test-keys-")) / "jwks.json"
    path.write_text(json.dumps({"keys": [public_half(key)]}), encoding="utf-8")
    return key, str(path)


TEST_KEY, TEST_JWKS_FILE = _test_issuer()
PG_BASE = os.environ.get("NX_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
_migrated_pg: dict[str, str] = {}


def backends():
    return [b.strip() for b in os.environ.get("NX_TEST_BACKENDS", "sqlite").split(",") if b.strip()]


def _fresh_postgres_database(service):
    """Drop and create ``nxt_<service>``: each test session migrates from nothing, so a database
    left by an older checkout can never pass for the current schema."""
    name = f"nxt_{service}{os.environ.get('NX_TEST_DB_SUFFIX', '')}"
    admin = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return f"{PG_BASE}/{name}"


def _empty(url):
    engine = create_engine(url)
    try:
        tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
        with engine.begin() as conn:
            if tables:
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


_scratch_pg: dict[str, str] = {}


def scratch_url(name, backend, tmp_path):
    """A database for a library test that creates its own tables: a new SQLite file, or the
    PostgreSQL database ``nxt_<name>``, created once per test session."""
    if backend == "postgresql":
        if name not in _scratch_pg:
            _scratch_pg[name] = _fresh_postgres_database(name)
        return _scratch_pg[name]
    return f"sqlite:///{tmp_path / f'{name}.db'}"


def database_url(service, backend, tmp_path):
    """A migrated, empty database for ``service`` on ``backend``."""
    migrations = ROOT / "services" / service / "migrations"
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / f'{service}-{uuid.uuid4().hex[:6]}.db'}"
        migrate(url, migrations)
        return url
    if backend == "postgresql":
        if service not in _migrated_pg:
            _migrated_pg[service] = _fresh_postgres_database(service)
            migrate(_migrated_pg[service], migrations)
        url = _migrated_pg[service]
        _empty(url)
        return url
    raise ValueError(f"unknown test backend {backend!r}")


@pytest.fixture(params=backends())
def db_backend(request):
    return request.param


@pytest.fixture
def service_config(rabbit_config, db_backend, tmp_path):
    """``service_config("planning", TODAY="2026-12-15")`` → a nameko config for a test container."""
    from nameko.testing.utils import find_free_port

    def make(service, **overrides):
        config = load_settings(ROOT / "services" / service, environ={})
        config.update(
            AMQP_URI=rabbit_config["AMQP_URI"],
            DATABASE_URL=database_url(service, db_backend, tmp_path),
            WEB_SERVER_ADDRESS=f"127.0.0.1:{find_free_port()}",
            AUTH_JWKS_FILE=TEST_JWKS_FILE,
            OUTBOX_POLL_SECONDS=0.05,
            EVENT_RETRY_BASE_MS=20,
        )
        if "AMQP_URI" not in overrides:  # a test that brings its own broker user deploys as its operator
            with Connection(config["AMQP_URI"]) as conn:  # as `nx deploy` does before the suite starts
                deploy_installed(conn, {**config, **overrides})
        config.update(overrides)
        return config

    return make


def bearer(org, sub="tester", key=None, ttl_seconds=3600, **claims):
    """A token of ``org`` signed by the test issuer (or ``key``, a private JWK)."""
    return "Bearer " + mint_token(key or TEST_KEY, org, sub, ttl_seconds, **claims)


def call(container, method, org, **kwargs):
    """Call an RPC method of a running test container as ``org``."""
    from nameko.testing.services import entrypoint_hook

    with entrypoint_hook(container, method, context_data={"authorization": bearer(org)}) as hook:
        return hook(**kwargs)


@pytest.fixture
def web_session(web_config_port):
    """nameko's own fixture imports werkzeug.urls.url_join, gone in Werkzeug 3."""
    from requests import Session

    class PrefixedSession(Session):
        def request(self, method, url, *args, **kwargs):
            return super().request(method, f"http://127.0.0.1:{web_config_port}{url}", *args, **kwargs)

    session = PrefixedSession()
    yield session
    session.close()


PLANNED_DATA = {
    "name": "智慧教育平台",
    "unit": "unit:edu",
    "construction_mode": "self_built",
    "plan_year": 2027,
    "plan_type": "annual",
    "estimated_investment": "2500000.00",
    "requires_construction_plan": True,
    "classified": False,
    "custom_software": True,
    "hosted_on_big_data_center": True,
}


def make_event(event_type, project_id, data, actor="tester@county_gov", source=None):
    """An event payload as its owning service would publish it (its data checked by the catalog);
    a shared type (``reminder.due``) names the ``source`` that emits it."""
    from nxshared.catalog import REGISTRY
    from nxshared.clock import Clock

    spec = REGISTRY.spec(event_type)
    payload = {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "version": spec.version,
        "occurred_at": Clock.now().isoformat(),
        "source": source or spec.source,
        "project_id": project_id,
        "actor": actor,
        "data": data,
    }
    return REGISTRY.decode(payload).as_payload()


def planned_event(project_id=None, **overrides):
    """A ``project.planned`` payload as planning emits it (data v2)."""
    return make_event("project.planned", project_id or f"prj-{uuid.uuid4().hex[:12]}", {**PLANNED_DATA, **overrides})


def schema_drift(url, metadata, compare_type=True):
    """What alembic's autogenerate finds between the migrated database at ``url`` and a service's
    ``metadata``: ``[]`` when the migrations build exactly the tables the models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": compare_type}), metadata)
    finally:
        engine.dispose()


def deliver(container, handler, payload):
    """Publish ``payload`` through the broker as its source would, wait until ``handler`` of the
    test container has finished with *this* event (other events, e.g. the service's own coming
    back, may pass through the same handler meanwhile), and re-raise what the handler raised."""
    from nameko.standalone.events import event_dispatcher
    from nameko.testing.services import entrypoint_waiter

    def this_event(worker_ctx, result, exc_info):
        args: tuple = worker_ctx.args or ({},)
        return isinstance(args[0], dict) and args[0].get("event_id") == payload["event_id"]

    with entrypoint_waiter(container, handler, timeout=10, callback=this_event) as handled:
        event_dispatcher(container.config)(payload["source"], payload["event_type"], payload)
    handled.get()
    return payload
