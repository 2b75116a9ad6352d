"""What the benchmarks share: a private RabbitMQ virtual host, the suite started as `make up`
starts it (with the commit probe on its path), a bare nameko baseline, percentiles, RPC callers."""

import os
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
POSTGRES_URL = os.environ.get("NX_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
FIRST_PORT = 18101


def _bench_key():
    from nxshared.issuer import new_key

    return new_key()


BENCH_KEY = _bench_key()  # the bench's own token issuer (EdDSA, as the services require)
HS256_SECRET = uuid.uuid4().hex * 2  # token v1's kind of secret, accepted by the bench's probe only


def bench_jwks_file(workdir):
    """The public half of ``BENCH_KEY``, the set the bench's services trust."""
    import json

    from nxshared.issuer import public_half

    path = Path(workdir) / "jwks.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"keys": [public_half(BENCH_KEY)]}), encoding="utf-8")
    return path


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summary(samples):
    return {
        "p50_ms": percentile(samples, 50) * 1000,
        "p99_ms": percentile(samples, 99) * 1000,
        "mean_ms": statistics.fmean(samples) * 1000,
        "n": len(samples),
    }


@contextmanager
def vhost():
    from nameko.testing.rabbit import Client

    api = Client("http://guest:guest@127.0.0.1:15672")
    name = f"nx-bench-{uuid.uuid4().hex[:8]}"
    api.create_vhost(name)
    api.set_vhost_permissions(name, "guest", ".*", ".*", ".*")
    try:
        yield f"amqp://guest:guest@127.0.0.1:5672/{name}"
    finally:
        api.delete_vhost(name)


def fresh_postgres_databases(names, prefix):
    """Empty PostgreSQL databases ``<prefix>_<name>``; returns the ``{service}`` URL template."""
    import psycopg

    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{prefix}_{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{prefix}_{name}"')
    return f"{POSTGRES_URL}/{prefix}_{{service}}"


def drop_postgres_databases(names, prefix):
    import psycopg

    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{prefix}_{name}" WITH (FORCE)')


class Suite:
    """The services started by ``deploy/suite.py up`` (what `make up` runs), in the background."""

    def __init__(self, amqp_uri, workdir, names, database_url=None, environ=None):
        self.names = names
        self.workdir = workdir
        self.probe_dir = workdir / "probe"
        self.probe_dir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url or f"sqlite:///{workdir}/{{service}}.db"
        self.environ = {
            **os.environ,
            "AMQP_URI": amqp_uri,
            "NX_DATABASE_URL": self.database_url,
            "NX_RUN_DIR": str(workdir / "run"),
            "NX_AUTH_JWKS_FILE": str(bench_jwks_file(workdir)),
            "NX_BENCH_HS256_SECRET": HS256_SECRET,  # token v1, for the comparison line only (probe)
            "NX_TODAY": "2026-12-15",
            "NX_LOG_LEVEL": "WARNING",
            "NX_BENCH_PROBE_DIR": str(self.probe_dir),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH / "probe"), os.environ.get("PYTHONPATH")])),
            # the lists' p50 is of a read, not of the public side's one-second memory (the http
            # section runs it as deployed)
            "NX_PUBLIC_CACHE_SECONDS": "0",
            **(environ or {}),
        }
        self.ports = {}  # ops addresses, by process (``planning``, ``planning-public``)
        self.public_ports = {}  # public sides, by service
        for i, name in enumerate(names):
            self.ports[name] = FIRST_PORT + i
            self.environ[f"NX_{name.upper()}_OPS_ADDRESS"] = f"127.0.0.1:{FIRST_PORT + i}"
            if has_public_side(name):
                self.ports[f"{name}-public"] = FIRST_PORT + 40 + i
                self.public_ports[name] = FIRST_PORT + 80 + i
                self.environ[f"NX_{name.upper()}_PUBLIC_OPS_ADDRESS"] = f"127.0.0.1:{FIRST_PORT + 40 + i}"
                self.environ[f"NX_{name.upper()}_PUBLIC_ADDRESS"] = f"127.0.0.1:{FIRST_PORT + 80 + i}"
        self.cmd = [sys.executable, str(ROOT / "deploy" / "suite.py")]

    def __enter__(self):
        subprocess.run([*self.cmd, "up", *self.names], env=self.environ, check=True, stdout=subprocess.DEVNULL)
        return self

    def __exit__(self, *exc):
        subprocess.run([*self.cmd, "down", *self.names], env=self.environ, check=True, stdout=subprocess.DEVNULL)

    def url(self, service):
        return self.database_url.format(service=service)

    def pid(self, name):
        return int((self.workdir / "run" / f"{name}.pid").read_text())

    def rss_mb(self):
        return {name: rss_mb(self.pid(name)) for name in self.names}

    def public_url(self, name, path=""):
        return f"http://127.0.0.1:{self.public_ports[name]}{path}"

    def http(self, name, path, timeout=10):
        """``/public/…`` and ``/portal/…`` from the service's public side, anything else from the
        process's ops address."""
        port = self.public_ports[name] if path.startswith(("/public/", "/portal/")) else self.ports[name]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as resp:
            return resp.read()

    def metric(self, name, metric):
        for line in self.http(name, "/metrics").decode().splitlines():
            if line.startswith(metric + " ") or line.startswith(metric + "{"):
                return float(line.rsplit(" ", 1)[1])
        return None

    def metric_sum(self, name, metric, **labels):
        """The sum over every series of ``metric`` whose labels include ``labels``."""
        wanted = [f'{k}="{v}"' for k, v in labels.items()]
        total = 0.0
        for line in self.http(name, "/metrics").decode().splitlines():
            if line.startswith(metric + "{") and all(w in line for w in wanted):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def wait_healthy(self, name, timeout=900):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.http(name, "/health", timeout=5)
                return
            except OSError:
                time.sleep(0.5)
        raise TimeoutError(f"{name} did not answer /health within {timeout}s")

    def commits(self):
        """``{(kind, event_id): (commit time, begin time)}`` from the commit probe (earliest commit wins)."""
        seen = {}
        for path in self.probe_dir.glob("*.tsv"):
            for line in path.read_text().splitlines():
                parts = line.split("\t")
                if len(parts) == 4:
                    key, at = (parts[0], parts[1]), (float(parts[2]), float(parts[3]))
                    seen[key] = min(at, seen.get(key, at))
        return seen


def has_public_side(name):
    from nxshared.discovery import installed_service
    from nxshared.settings import load_settings

    return bool(load_settings(installed_service(name).directory, environ={}).get("PUBLIC_APP"))


@contextmanager
def baseline(amqp_uri, workdir):
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "echo.yaml"
    config.write_text(f"AMQP_URI: {amqp_uri}\nmax_workers: 10\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nameko",
            "run",
            "--config",
            str(config),
            "echo_service:EchoService",
            "echo_service:EchoListener",
        ],
        cwd=BENCH,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(15)


def rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def v2_token(org):
    from nxshared.issuer import mint_token

    return mint_token(BENCH_KEY, org, "bench")


def v1_token(org):
    import datetime as dt

    import jwt

    exp = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    return jwt.encode({"sub": "bench", "org": org, "exp": exp}, HS256_SECRET, algorithm="HS256")


class Callers:
    """One standalone RPC proxy per (org, slot): a proxy serves one green thread at a time."""

    def __init__(self, amqp_uri, timeout=30):
        self.amqp_uri = amqp_uri
        self.timeout = timeout
        self.proxies = {}

    def get(self, org, slot=0, timeout=None, token="v2"):
        """``token="v1"``: an HS256 token, which only the bench's probe accepts (the comparison line)."""
        from nameko.standalone.rpc import ClusterRpcProxy

        key = (org, slot, timeout or self.timeout, token)
        if key not in self.proxies:
            context = {"authorization": "Bearer " + (v1_token(org) if token == "v1" else v2_token(org))}
            proxy = ClusterRpcProxy({"AMQP_URI": self.amqp_uri}, context_data=context, timeout=key[2])
            self.proxies[key] = (proxy, proxy.start())
        return self.proxies[key][1]

    def close(self):
        for proxy, _ in self.proxies.values():
            proxy.stop()
        self.proxies.clear()


def measured(echo, calls, n, warmup=5):
    """Each call ``n`` times (after a warm-up), each beside one echo; the seconds each took, by name."""
    for _ in range(warmup):
        for _, call in calls:
            echo()
            call()
    samples = {"echo": [], **{name: [] for name, _ in calls}}
    for _ in range(n):
        for name, call in calls:
            for label, fn in (("echo", echo), (name, call)):
                start = time.perf_counter()
                fn()
                samples[label].append(time.perf_counter() - start)
    return samples


def beside_the_echo(n, echo_org, prepare):
    """A focused run: every installed service (on free ports) beside the bare echo; ``prepare(get)``
    readies what the calls need and returns ``[(name, call)]``; each call is timed ``n`` times beside
    one echo. Prints each call's p50/p99 with its ratios to the echo's."""
    import json
    import tempfile

    from disburse import on_free_ports

    from nxshared.discovery import installed_services

    names = [service.name for service in installed_services()]
    with tempfile.TemporaryDirectory() as tmp, vhost() as amqp_uri:
        work = Path(tmp)
        callers = Callers(amqp_uri)
        try:
            with baseline(amqp_uri, work / "echo"), on_free_ports(Suite(amqp_uri, work, names)):
                calls = prepare(callers.get)
                echo = callers.get(echo_org).bench_echo
                samples = measured(lambda: echo.echo("x"), calls, n)
        finally:
            callers.close()
    echo_s = summary(samples.pop("echo"))
    report = {"baseline_echo": echo_s}
    for name, taken in samples.items():
        s = summary(taken)
        report[name] = {**s, "ratio_p50": s["p50_ms"] / echo_s["p50_ms"], "ratio_p99": s["p99_ms"] / echo_s["p99_ms"]}
    print(json.dumps(report, indent=2))
