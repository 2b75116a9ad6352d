"""What the benchmarks share: a private RabbitMQ virtual host, the suite started as `make up`
starts it, a bare nameko baseline, percentiles."""

import os
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-of-at-least-thirty-two-bytes"


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


@contextmanager
def suite(amqp_uri, workdir, names, **env):
    environ = {
        **os.environ,
        "AMQP_URI": amqp_uri,
        "NX_DATABASE_URL": f"sqlite:///{workdir}/{{service}}.db",
        "NX_RUN_DIR": str(workdir / "run"),
        "NX_AUTH_SECRET": SECRET,
        "NX_TODAY": "2026-12-15",
        "NX_OUTBOX_POLL_SECONDS": "0.5",
        **env,
    }
    for i, name in enumerate(names):
        environ[f"NX_{name.upper()}_WEB_SERVER_ADDRESS"] = f"127.0.0.1:{18101 + i}"
    cmd = [sys.executable, str(ROOT / "deploy" / "suite.py")]
    subprocess.run([*cmd, "up", *names], env=environ, check=True, stdout=subprocess.DEVNULL)
    try:
        yield environ
    finally:
        subprocess.run([*cmd, "down", *names], env=environ, check=True, stdout=subprocess.DEVNULL)


@contextmanager
def baseline(amqp_uri, workdir):
    config = workdir / "echo.yaml"
    config.write_text(f"AMQP_URI: {amqp_uri}\n")
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
        cwd=ROOT / "bench",
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


def timed(fn, n, warmup=20):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples
