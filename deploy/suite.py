"""Start, stop and watch the suite's services.

    python deploy/suite.py run            every service in the foreground (Ctrl-C stops them)
    python deploy/suite.py up [NAME…]     in the background; waits until each is healthy
    python deploy/suite.py down [NAME…]   stop them (SIGTERM, then SIGKILL after 15 s)
    python deploy/suite.py status

The services are the installed ones (``nx.services`` entry points, see ``nxshared.discovery``):
adding a service package adds it here. Before starting any, the broker topology of every installed
service is declared (as ``nx deploy`` does), so no event waits for its consumer to start first. Each
service runs as ``python -m nxshared.runner <its folder>``, which migrates its database and serves
it. Settings come from each ``config.yaml`` and ``NX_*`` variables (README). Pid and log files go to
``NX_RUN_DIR`` (default ``.run/``).
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from nxshared.discovery import installed_service, installed_services  # noqa: E402
from nxshared.settings import apply_overrides, load_settings  # noqa: E402


def service_names():
    return [service.name for service in installed_services()]


def service_dir(name):
    return installed_service(name).directory


def deploy_topology():
    """Declare every installed service's exchange and queues (``nx deploy``)."""
    from kombu import Connection

    from nxshared.topology import deploy_installed

    amqp_uri = apply_overrides({"AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/"})["AMQP_URI"]
    try:
        with Connection(amqp_uri, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=3)
            deploy_installed(conn)
    except OSError as exc:
        sys.exit(f"cannot reach the broker at {amqp_uri.split('@')[-1]}: {exc} (is RabbitMQ running? `make broker`)")


def run_dir():
    path = Path(os.environ.get("NX_RUN_DIR", ROOT / ".run"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def web_address(name):
    address = load_settings(service_dir(name))["WEB_SERVER_ADDRESS"]
    host, port = address.rsplit(":", 1)
    return f"{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"


def command(name):
    return [sys.executable, "-m", "nxshared.runner", str(service_dir(name))]


def health(name):
    try:
        with urllib.request.urlopen(f"http://{web_address(name)}/health", timeout=2) as resp:
            return json.loads(resp.read()).get("status") == "ok"
    except (OSError, ValueError):
        return False


def pid_of(name):
    path = run_dir() / f"{name}.pid"
    if not path.exists():
        return None
    pid = int(path.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def start(name):
    with open(run_dir() / f"{name}.log", "ab") as log:
        proc = subprocess.Popen(command(name), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    (run_dir() / f"{name}.pid").write_text(str(proc.pid))
    return proc


def up(names, timeout=60):
    deploy_topology()
    for name in names:
        if pid_of(name):
            print(f"{name}: already running (pid {pid_of(name)})")
        else:
            start(name)
    deadline = time.monotonic() + timeout
    pending = list(names)
    while pending and time.monotonic() < deadline:
        pending = [n for n in pending if not health(n)]
        for name in pending:
            if not pid_of(name):
                sys.exit(f"{name} exited while starting; see {run_dir() / (name + '.log')}")
        time.sleep(0.2)
    if pending:
        sys.exit(f"not healthy after {timeout}s: {', '.join(pending)}; see the logs in {run_dir()}")
    for name in names:
        print_urls(name)


def down(names, grace=15):
    for name in names:
        pid = pid_of(name)
        if pid is None:
            continue
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while pid_of(name) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_of(name):
            os.killpg(pid, signal.SIGKILL)
        (run_dir() / f"{name}.pid").unlink(missing_ok=True)
        print(f"{name}: stopped")


def print_urls(name):
    address = web_address(name)
    extra = f"  public: http://{address}/public/projects" if name == "planning" else ""
    print(f"{name}: metrics http://{address}/metrics  health http://{address}/health{extra}")


def run(names):
    deploy_topology()
    procs = {name: subprocess.Popen(command(name), cwd=ROOT) for name in names}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(health(n) for n in names):
        if any(p.poll() is not None for p in procs.values()):
            break
        time.sleep(0.2)
    print("\nThe suite is running (Ctrl-C stops it):")
    for name in names:
        print_urls(name)
    print("Try it: .venv/bin/nx demo\n", flush=True)
    interrupted = False
    try:
        while all(p.poll() is None for p in procs.values()):
            time.sleep(0.5)
    except KeyboardInterrupt:
        interrupted = True  # the services got the same Ctrl-C and are stopping
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    failed = [n for n, p in procs.items() if p.returncode not in (0, -signal.SIGTERM)]
    if failed and not interrupted:
        sys.exit(f"stopped with an error: {', '.join(failed)}")


def main(argv):
    if not argv or argv[0] not in ("run", "up", "down", "status"):
        sys.exit(__doc__)
    names = argv[1:] or service_names()
    unknown = set(names) - set(service_names())
    if unknown:
        sys.exit(f"unknown service(s): {', '.join(sorted(unknown))}")
    if argv[0] == "run":
        run(names)
    elif argv[0] == "up":
        up(names)
    elif argv[0] == "down":
        down(names)
    else:
        for name in names:
            pid = pid_of(name)
            state = "healthy" if health(name) else ("running" if pid else "stopped")
            print(f"{name}: {state}" + (f" (pid {pid})" if pid else ""))


if __name__ == "__main__":
    main(sys.argv[1:])
