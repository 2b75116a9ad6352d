"""End-to-end fixtures: the real services started as ``make up`` starts them (deploy/suite.py),
on a real RabbitMQ (a fresh virtual host per test) with their own SQLite databases."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from kombu import Connection
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.utils import find_free_port

from nxshared.discovery import installed_service, installed_services
from nxshared.settings import load_settings
from nxshared.testing import TEST_JWKS_FILE, bearer

ROOT = Path(__file__).resolve().parents[2]
SUITE = [sys.executable, str(ROOT / "deploy" / "suite.py")]


def wait_for(probe, timeout=30, what="condition"):
    """Poll ``probe`` until it returns something truthy (bounded; no bare sleeps in tests)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = probe()
        except RemoteError as exc:
            if "NOT_IN_ANNUAL_PLAN" not in str(exc.value):
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def service_names():
    return [service.name for service in installed_services()]


def trusted_keys(tmp_path):
    """The key set the suite under test trusts: the test issuer's (``bearer``) and the issuer of
    ``nx`` commands run with the suite's environment (``nx keys init`` in its own secrets folder)."""
    from nxshared.issuer import Issuer

    issuer = Issuer(tmp_path / "secrets.json")
    issuer.init()
    keys = json.loads(Path(TEST_JWKS_FILE).read_text())["keys"] + json.loads(issuer.public_path.read_text())["keys"]
    path = tmp_path / "trusted-jwks.json"
    path.write_text(json.dumps({"keys": keys}))
    return str(path)


class Suite:
    def __init__(self, amqp_uri, tmp_path, today):
        self.amqp_uri = amqp_uri
        self.run_dir = tmp_path / "run"
        self.env = dict(os.environ)
        self.env.update(
            AMQP_URI=amqp_uri,
            NX_DATABASE_URL=f"sqlite:///{tmp_path}/{{service}}.db",
            NX_RUN_DIR=str(self.run_dir),
            NX_SECRETS_FILE=str(tmp_path / "secrets.json"),
            NX_AUTH_JWKS_FILE=trusted_keys(tmp_path),
            NX_TODAY=today,
            NX_OUTBOX_POLL_SECONDS="0.1",
            NX_EVENT_RETRY_BASE_MS="20",
        )
        self.ports = {}  # each service's ops address; public sides by their process name
        self.public_ports = {}
        for name in service_names():
            self.ports[name] = find_free_port()
            self.env[f"NX_{name.upper()}_OPS_ADDRESS"] = f"127.0.0.1:{self.ports[name]}"
            if load_settings(installed_service(name).directory, environ={}).get("PUBLIC_APP"):
                self.ports[f"{name}-public"] = find_free_port()
                self.public_ports[name] = find_free_port()
                self.env[f"NX_{name.upper()}_PUBLIC_OPS_ADDRESS"] = f"127.0.0.1:{self.ports[name + '-public']}"
                self.env[f"NX_{name.upper()}_PUBLIC_ADDRESS"] = f"127.0.0.1:{self.public_ports[name]}"
                self.env[f"NX_{name.upper()}_PUBLIC_CACHE_SECONDS"] = "0"  # tests read what they just wrote
        self._proxies = {}

    def up(self, *names, **overrides):
        env = {**self.env, **overrides}
        subprocess.run([*SUITE, "up", *names], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)

    def down(self, *names):
        subprocess.run([*SUITE, "down", *names], env=self.env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)

    def kill9(self, name):
        pid = int((self.run_dir / f"{name}.pid").read_text())
        os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        (self.run_dir / f"{name}.pid").unlink()

    def rpc(self, org, service, method, **kwargs):
        if org not in self._proxies:
            proxy = ClusterRpcProxy(
                {"AMQP_URI": self.amqp_uri}, context_data={"authorization": bearer(org)}, timeout=30
            )
            self._proxies[org] = (proxy, proxy.start())
        return getattr(getattr(self._proxies[org][1], service), method)(**kwargs)

    def http(self, name, path, headers=None):
        """A page of ``name`` (a service or a process): ``/public/…`` from the service's public side,
        anything else (``/metrics``, ``/health``) from the process's ops address."""
        port = self.public_ports[name] if path.startswith("/public/") else self.ports[name]
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
        with urllib.request.urlopen(request, timeout=5) as resp:
            body = resp.read().decode()
            return json.loads(body) if resp.headers.get_content_type() == "application/json" else body

    def metric(self, name, sample):
        """The value of one sample line of a service's /metrics, 0 when absent."""
        for line in self.http(name, "/metrics").splitlines():
            if line.startswith(sample + " "):
                return float(line.split()[-1])
        return 0.0

    def connection(self):
        return Connection(self.amqp_uri)

    def close(self):
        for proxy, _ in self._proxies.values():
            proxy.stop()
        self.down()


@pytest.fixture
def suite(rabbit_config, tmp_path):
    started = Suite(rabbit_config["AMQP_URI"], tmp_path, today="2026-12-15")
    yield started
    started.close()
    for log in sorted(started.run_dir.glob("*.log")):
        print(f"--- {log.name}\n{log.read_text()[-4000:]}")
