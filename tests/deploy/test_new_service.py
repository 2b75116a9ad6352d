"""Adding a service touches only its own folder: a throwaway service package, made in a temporary
directory exactly as the README's "Adding a service" recipe says and installed nowhere else (its
``.dist-info`` with the two entry points is what ``pip install`` would write), is picked up by the
catalog, the broker topology, the import rules and the suite launcher, which starts it and serves
its RPC."""

import importlib
import json
import os
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from kombu import Connection
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.utils import find_free_port

from nxshared.testing import TEST_JWKS_FILE, bearer

ROOT = Path(__file__).resolve().parents[2]

FILES = {
    "{pkg}/__init__.py": "",
    "{pkg}/events.py": '''
        """The typed events this service emits."""
        from dataclasses import dataclass
        from typing import ClassVar

        from nxshared.core.events import DomainEvent


        @dataclass(frozen=True, kw_only=True)
        class Pinged(DomainEvent):
            event_type: ClassVar[str] = "{name}.pinged"
            version: ClassVar[int] = 1
            times: int
        ''',
    "{pkg}/event_schemas.py": """
        from marshmallow import Schema, fields

        from nxshared.events import EventSpec


        class PingedV1(Schema):
            times = fields.Integer(required=True)


        SPECS = [EventSpec.of("{name}.pinged", "{name}", PingedV1)]
        """,
    "{pkg}/domain.py": '''
        """The rule: a ping is counted."""
        from {pkg}.events import Pinged


        def ping(count: int, actor: str) -> Pinged:
            return Pinged(project_id=None, actor=actor, times=count + 1)
        ''',
    "{pkg}/service.py": """
        from nxshared.entrypoints import rpc, subscribe
        from nxshared.service import ServiceBase
        from {pkg} import domain


        class ThrowawayService(ServiceBase):
            name = "{name}"

            @rpc(allow=["*"])
            def ping(self):
                with self.db.transaction() as uow:
                    uow.emit(domain.ping(0, self.auth.caller.actor))
                return "pong"

            @subscribe("project.planned", source="planning")
            def on_project_planned(self, payload):
                pass
        """,
    "migrations/env.py": """
        from alembic import context
        from sqlalchemy import MetaData

        from nxshared.tables import inbox_table, outbox_table

        metadata = MetaData()
        outbox_table(metadata)
        inbox_table(metadata)
        connection = context.config.attributes["connection"]
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
        """,
    "migrations/versions/0001_reliability_tables.py": """
        import sqlalchemy as sa
        from alembic import context, op

        from nxshared.tables import inbox_table, outbox_table

        revision = "0001"
        down_revision = None


        def upgrade():
            metadata = sa.MetaData()
            outbox_table(metadata)
            inbox_table(metadata)
            metadata.create_all(op.get_bind())
        """,
    "config.yaml": """
        SERVICE_NAME: {name}
        SERVICE_CLASS: {pkg}.service:ThrowawayService
        AMQP_URI: amqp://guest:guest@127.0.0.1:5672/
        DATABASE_URL: sqlite:///{tmp}/{name}.db
        WEB_SERVER_ADDRESS: 127.0.0.1:{port}
        AUTH_JWKS_FILE: {jwks}
        TODAY: ""
        OUTBOX_RELAY_ENABLED: true
        OUTBOX_POLL_SECONDS: 0.1
        EVENT_MAX_ATTEMPTS: 3
        EVENT_RETRY_BASE_MS: 20
        max_workers: 4
        parent_calls_tracked: 10
        LOG_LEVEL: INFO
        """,
    "nx_{name}-0.1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: nx-{name}\nVersion: 0.1.0\n",
    "nx_{name}-0.1.0.dist-info/entry_points.txt": """
        [nx.services]
        {name} = {pkg}.service:ThrowawayService

        [nx.events]
        {name} = {pkg}.event_schemas:SPECS
        """,
}


@pytest.fixture
def throwaway(tmp_path, monkeypatch):
    """A new service's folder on the path: returns (name, folder)."""
    name = f"throwaway{uuid.uuid4().hex[:6]}"
    pkg = f"nx{name}"
    folder = tmp_path / name
    values = {"name": name, "pkg": pkg, "tmp": tmp_path, "port": find_free_port(), "jwks": TEST_JWKS_FILE}
    for path, text in FILES.items():
        target = folder / path.format(**values)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip().format(**values) if text else "")
    monkeypatch.syspath_prepend(str(folder))
    importlib.invalidate_caches()
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]))
    return name, folder


@pytest.fixture
def fresh_catalog(monkeypatch):
    """The catalog re-read from what is installed now (the throwaway registers an event type)."""
    from nxshared import catalog

    fresh = catalog.InstalledRegistry()
    monkeypatch.setattr(catalog, "REGISTRY", fresh)
    for module in ("nxshared.topology", "nxshared.db"):
        monkeypatch.setattr(importlib.import_module(module), "REGISTRY", fresh)
    return fresh


def test_a_new_service_is_picked_up_by_discovery_catalog_and_topology(throwaway, fresh_catalog, rabbit_config):
    from nxshared.discovery import installed_services
    from nxshared.topology import deploy_installed, installed_subscriptions

    name, folder = throwaway
    found = {s.name: s for s in installed_services()}
    assert name in found and found[name].directory == folder
    assert fresh_catalog.source_of(f"{name}.pinged") == name
    subscription = next(s for s in installed_subscriptions() if s.service == name)
    assert subscription.bindings == (("planning", "project.planned"),)
    with Connection(rabbit_config["AMQP_URI"]) as conn:
        deploy_installed(conn, {"EVENT_MAX_ATTEMPTS": 3, "EVENT_RETRY_BASE_MS": 20})
        channel = conn.channel()
        for queue in (subscription.queue_name, subscription.dead_queue_name, subscription.retry_queue_name(40)):
            channel.queue_declare(queue, passive=True)  # raises if it was not declared
        channel.exchange_declare(f"{name}.events", "topic", passive=True)


def test_the_import_rules_cover_a_new_service(throwaway):
    name, folder = throwaway
    rules = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "lint_imports.py")], capture_output=True, text=True, timeout=120
    )
    assert rules.returncode == 0, rules.stdout + rules.stderr
    domain = folder / f"nx{name}" / "domain.py"
    domain.write_text("import sqlalchemy  # noqa: F401\n" + domain.read_text())
    broken = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "lint_imports.py")], capture_output=True, text=True, timeout=120
    )
    assert broken.returncode != 0
    assert f"nx{name}.domain" in broken.stdout


@pytest.mark.e2e
def test_the_suite_launcher_starts_a_new_service_and_it_serves_calls(throwaway, rabbit_config, tmp_path):
    name, _ = throwaway
    env = {**os.environ, "AMQP_URI": rabbit_config["AMQP_URI"], "NX_RUN_DIR": str(tmp_path / "run")}
    suite = [sys.executable, str(ROOT / "deploy" / "suite.py")]
    status = subprocess.run([*suite, "status"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert f"{name}:" in status.stdout
    subprocess.run([*suite, "up", name], env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
    try:
        config = {"AMQP_URI": rabbit_config["AMQP_URI"]}
        with ClusterRpcProxy(config, context_data={"authorization": bearer("drc")}, timeout=30) as rpc:
            assert getattr(rpc, name).ping() == "pong"
        status = subprocess.run([*suite, "status"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert re.search(rf"^{name}: .*healthy", status.stdout, re.M), status.stdout
    finally:
        subprocess.run([*suite, "down", name], env=env, cwd=ROOT, timeout=120)
        logs = list((tmp_path / "run").glob("*.log"))
        print(json.dumps({log.name: log.read_text()[-2000:] for log in logs}, ensure_ascii=False, indent=1))
