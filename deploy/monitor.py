"""Prometheus and Alertmanager beside the running suite (``make monitor``, ``make monitor-down``):

    python deploy/monitor.py up       start both (again, if running) and wait until they are ready
    python deploy/monitor.py down     stop both
    python deploy/monitor.py status   where they answer, or that they do not

The scrape configuration is written into ``<NX_RUN_DIR>/monitor/prometheus.yml`` from this
environment (``deploy/prometheus_config.py``: every installed service's ops address, its
``NX_*_OPS_ADDRESS`` overrides included), so it scrapes the suite that ``make up`` started from the
same environment; the alert rules are ``deploy/prometheus/rules/*.yml``, Alertmanager's
configuration ``deploy/prometheus/alertmanager.yml``. The binaries are Debian's (``prometheus``,
``prometheus-alertmanager``; ``deploy/ensure-prometheus.sh`` installs them).

Settings (environment): ``NX_PROMETHEUS_ADDRESS`` (default ``127.0.0.1:9190``),
``NX_ALERTMANAGER_ADDRESS`` (``127.0.0.1:9193``: the defaults 9090/9093 are left to a system's own),
``NX_MONITOR_SCRAPE_INTERVAL`` and ``NX_MONITOR_EVALUATION_INTERVAL`` (``15s``),
``NX_MONITOR_DATA_DIR`` (``.data/monitor``: the time series and silences, kept across restarts).
Files in ``<NX_RUN_DIR>/monitor/``: the configurations, ``<name>.pid`` and ``<name>.log``.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy"))

import prometheus_config  # noqa: E402
import suite  # noqa: E402

RULES = ROOT / "deploy" / "prometheus" / "rules"
ALERTMANAGER_CONFIG = ROOT / "deploy" / "prometheus" / "alertmanager.yml"
BINARIES = {"prometheus": "prometheus", "alertmanager": "prometheus-alertmanager"}
READY_TIMEOUT = 30.0
GRACE = 10.0


def setting(name, default):
    return os.environ.get(name) or default


def addresses():
    return {
        "prometheus": setting("NX_PROMETHEUS_ADDRESS", "127.0.0.1:9190"),
        "alertmanager": setting("NX_ALERTMANAGER_ADDRESS", "127.0.0.1:9193"),
    }


def monitor_dir():
    path = Path(os.environ.get("NX_RUN_DIR", ROOT / ".run")) / "monitor"
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir(name):
    path = Path(setting("NX_MONITOR_DATA_DIR", str(ROOT / ".data" / "monitor"))) / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def with_replicas(processes):
    """The processes and, after each service, its replicas that ran here (``make up REPLICAS=N``):
    replica k serves its ops address on the service's port + 10·(k−1) (deploy/suite.py)."""
    found = []
    for process, service, address in processes:
        found.append((process, service, address))
        if process != service:
            continue
        host, port = address.rsplit(":", 1)
        for replica in suite.running_replicas(service):
            offset = suite.REPLICA_PORT_STEP * (suite.replica_number(replica) - 1)
            found.append((replica, service, f"{host}:{int(port) + offset}"))
    return found


def write_prometheus_config():
    """The scrape configuration of this environment's suite (its replicas included), rules by
    absolute path."""
    processes = with_replicas(prometheus_config.scraped_processes())
    conf = prometheus_config.config(
        processes,
        alertmanager=addresses()["alertmanager"],
        rule_files=[str(RULES / "*.yml")],
        scrape_interval=setting("NX_MONITOR_SCRAPE_INTERVAL", "15s"),
        evaluation_interval=setting("NX_MONITOR_EVALUATION_INTERVAL", "15s"),
    )
    path = monitor_dir() / "prometheus.yml"
    path.write_text(yaml.safe_dump(conf, sort_keys=False), encoding="utf-8")
    return path, processes


def command(name, config_path):
    binary = shutil.which(BINARIES[name])
    if binary is None:
        sys.exit(f"{BINARIES[name]} is not installed: `bash deploy/ensure-prometheus.sh` (Debian's packages, as root)")
    address = addresses()[name]
    if name == "prometheus":
        return [
            binary,
            f"--config.file={config_path}",
            f"--storage.tsdb.path={data_dir('prometheus')}",
            f"--web.listen-address={address}",
            "--storage.tsdb.retention.time=15d",
        ]
    return [
        binary,
        f"--config.file={ALERTMANAGER_CONFIG}",
        f"--storage.path={data_dir('alertmanager')}",
        f"--web.listen-address={address}",
        "--cluster.listen-address=",  # one node: no gossip port
    ]


def _pid_file(name):
    return monitor_dir() / f"{name}.pid"


def running_pid(name):
    try:
        pid = int(_pid_file(name).read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    return pid


def ready(name):
    try:
        with urllib.request.urlopen(f"http://{addresses()[name]}/-/ready", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def start(name, config_path):
    log = open(monitor_dir() / f"{name}.log", "ab")  # noqa: SIM115 (the child keeps it)
    proc = subprocess.Popen(
        command(name, config_path), stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT
    )
    _pid_file(name).write_text(str(proc.pid))
    deadline = time.monotonic() + READY_TIMEOUT
    while not ready(name):
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = (monitor_dir() / f"{name}.log").read_text(errors="replace")[-2000:]
            stop(name)
            sys.exit(f"{name} did not become ready on {addresses()[name]}:\n{tail}")
        time.sleep(0.2)


def stop(name):
    pid = running_pid(name)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE
        while running_pid(name) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        if running_pid(name) is not None:
            os.kill(pid, signal.SIGKILL)
    _pid_file(name).unlink(missing_ok=True)


def up():
    down()
    config_path, processes = write_prometheus_config()
    start("alertmanager", config_path)
    start("prometheus", config_path)
    where = addresses()
    print(f"Prometheus:   http://{where['prometheus']}  (targets: /targets, alerts: /alerts)")
    print(f"Alertmanager: http://{where['alertmanager']}")
    print(f"scraping {len(processes)} processes: {', '.join(p for p, _, _ in processes)}")
    return 0


def down():
    for name in ("prometheus", "alertmanager"):
        stop(name)
    return 0


def status():
    healthy = True
    for name, address in addresses().items():
        pid = running_pid(name)
        state = "ready" if pid and ready(name) else ("starting" if pid else "stopped")
        healthy &= state == "ready"
        print(f"{name:13} {state:9} http://{address}" + (f"  pid {pid}" if pid else ""))
    return 0 if healthy else 1


def main(argv):
    actions = {"up": up, "down": down, "status": status}
    if len(argv) != 1 or argv[0] not in actions:
        print(__doc__)
        return 2
    return actions[argv[0]]()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
