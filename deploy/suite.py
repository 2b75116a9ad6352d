"""Start, stop, supervise and watch the suite's services.

    python deploy/suite.py run            every service in the foreground, supervised (Ctrl-C stops them)
    python deploy/suite.py up [NAME…]     in the background, supervised; waits until each is healthy
    python deploy/suite.py up --replicas 2   two processes of each service (PostgreSQL only)
    python deploy/suite.py down [NAME…]   stop them (SIGTERM, then SIGKILL after 15 s)
    python deploy/suite.py status         health, pid, restarts and the last unexpected exit of each

The services are the installed ones (``nx.services`` entry points, see ``nxshared.discovery``):
adding a service package adds it here. Before starting any, the broker topology of every installed
service is declared (as ``nx deploy`` does), so no event waits for its consumer to start first. Each
service runs as ``python -m nxshared.runner <its folder>``, which migrates its database and serves
it. Settings come from each ``config.yaml`` and ``NX_*`` variables (README).

**Supervision.** A service that exits without being asked to (a crash, ``kill -9``, its container
killed on a lost broker connection) is started again after a back-off of 1 s, doubling up to 30 s,
back to 1 s once it has stayed up for a minute; each exit and restart is logged (``supervisor:``
lines). ``run`` supervises in the foreground. ``up`` leaves one small supervisor process per service
in the background (``suite.py supervise NAME``); ``down`` stops it, and it stops its service.
``up`` of a service that is already supervised with the same settings does nothing; with other
settings (``NX_*`` changed) it replaces it, as ``docker compose up`` recreates a changed container.

**Processes.** Each service is one process (``<name>``); a service whose settings name public pages
(``PUBLIC_APP``) has a second one, its public side (``<name>-public``: ``python -m
nxshared.public_runner <its folder>``, reading its database read-only), started, supervised, stopped and
shown with it. ``up NAME`` / ``down NAME`` of a service covers both; a process name covers one.
Health is asked on each process's ops address (``OPS_ADDRESS``, ``PUBLIC_OPS_ADDRESS``).

**Replicas.** ``up --replicas N`` (``make up REPLICAS=2``) runs N processes of each service:
``<name>`` and ``<name>.2`` … ``<name>.N``, each supervised as any process. They consume the same
queues (RPC and events) and share the service's database; replica k serves its ops address on the
service's port + 10·(k−1) (finance: 9004, 9014, …; at most 9 replicas, below planning's public ops
port 9101). Only on PostgreSQL: there a relay claims the outbox rows it publishes and migrations
take a lock (``nxshared.outbox``, ``nxshared.db``); a SQLite database is one process's, and ``up``
refuses replicas of a service that uses one. A public side stays one process. ``down`` and
``status`` cover the replicas that run.

Files in ``NX_RUN_DIR`` (default ``.run/``), per process: ``<name>.pid`` the service process (its
own process group), ``<name>.supervisor.pid`` its supervisor, ``<name>.state.json`` restarts and
last exit reason, ``<name>.log`` the service's and its supervisor's output.
"""

import contextlib
import functools
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from nxshared.discovery import installed_service, installed_services  # noqa: E402
from nxshared.settings import apply_overrides, load_settings  # noqa: E402
from nxshared.topology import queue_type_setting  # noqa: E402

FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0
STEADY_AFTER = 60.0  # seconds up after which the back-off starts again from FIRST_BACKOFF
GRACE = 15.0


PUBLIC_SUFFIX = "-public"
REPLICA_SEPARATOR = "."
MAX_REPLICAS = 9  # replica k's ops port is the service's + 10·(k−1): 9 keeps below 9101 (planning-public)
REPLICA_PORT_STEP = 10


def service_names():
    return [service.name for service in installed_services()]


def replica_number(process):
    """1 for ``finance``, 2 for ``finance.2``."""
    base, _, number = process.rpartition(REPLICA_SEPARATOR)
    return int(number) if base and number.isdigit() else 1


def replica_name(name, number):
    return name if number == 1 else f"{name}{REPLICA_SEPARATOR}{number}"


def service_of(process):
    """The service a process belongs to: ``planning`` for ``planning``, ``planning.2`` and ``planning-public``."""
    if replica_number(process) > 1:
        process = process.rpartition(REPLICA_SEPARATOR)[0]
    if process.endswith(PUBLIC_SUFFIX) and process not in service_names():
        return process.removesuffix(PUBLIC_SUFFIX)
    return process


def is_public(process):
    return replica_number(process) == 1 and service_of(process) != process


def service_dir(name):
    return installed_service(service_of(name)).directory


def has_public_side(name):
    return bool(load_settings(service_dir(name)).get("PUBLIC_APP"))


def processes(names, replicas=1, running=False):
    """Every process of the named services (a process name stands for itself), in order: with
    ``replicas``, each service's replicas; with ``running``, also the replicas that ran (``down``,
    ``status``)."""
    found = []
    for name in names:
        if is_public(name) or replica_number(name) > 1:
            found.append(name)
            continue
        found.append(name)
        found.extend(replica_name(name, k) for k in range(2, replicas + 1))
        if running:
            found.extend(running_replicas(name))
        if has_public_side(name):
            found.append(name + PUBLIC_SUFFIX)
    return list(dict.fromkeys(found))


def running_replicas(name):
    """The replicas of ``name`` that have files in the run directory (supervised, or last seen)."""
    found = []
    for path in run_dir().glob(f"{name}{REPLICA_SEPARATOR}*.state.json"):
        process = path.name.removesuffix(".state.json")
        if service_of(process) == name and replica_number(process) > 1:
            found.append(process)
    return sorted(found, key=replica_number)


def check_replicas(names, replicas):
    """Replicas only where they are safe: PostgreSQL (see the module's docstring)."""
    if not 1 <= replicas <= MAX_REPLICAS:
        sys.exit(f"--replicas: between 1 and {MAX_REPLICAS}, not {replicas}")
    if replicas == 1:
        return
    on_sqlite = [
        name
        for name in dict.fromkeys(service_of(n) for n in names)
        if str(load_settings(service_dir(name))["DATABASE_URL"]).startswith("sqlite")
    ]
    if on_sqlite:
        sys.exit(
            f"replicas need PostgreSQL: {', '.join(on_sqlite)} use(s) SQLite, whose database belongs to one "
            "process (set NX_DATABASE_URL=postgresql://…/nx_{service}, or run without REPLICAS)"
        )


def process_names():
    return processes(service_names())


def managed_broker():
    """No ``AMQP_URI`` given: the suite runs in its own vhost on the local broker, one user per party
    (``nxshared.broker_access``), set up here idempotently before anything starts."""
    from nxshared.broker_access import explicit_amqp_uri

    return explicit_amqp_uri() is None


def setup_broker_parties():
    import requests

    sys.path.insert(0, str(ROOT / "deploy"))
    import broker_setup

    try:
        broker_setup.apply(broker_setup.every_grant())
    except requests.RequestException as exc:
        sys.exit(f"cannot set up the broker's users through its management API: {exc} (`make broker`)")


def service_env(name):
    """The environment a service starts with: its own broker user when the broker is managed here
    (its public side reads only its database and is given no broker user at all); a replica's own
    ops address."""
    from nxshared.broker_access import local_party_uri, service_user

    env = None
    service = service_of(name)
    if managed_broker() and not is_public(name):
        env = {**os.environ, f"NX_{service.upper()}_AMQP_URI": local_party_uri(service_user(service))}
    if (number := replica_number(name)) > 1:
        host, port = load_settings(service_dir(service))["OPS_ADDRESS"].rsplit(":", 1)
        offset = REPLICA_PORT_STEP * (number - 1)
        env = {**(env or os.environ), f"NX_{service.upper()}_OPS_ADDRESS": f"{host}:{int(port) + offset}"}
    return env


def deploy_topology():
    """Declare every installed service's exchange and queues (``nx deploy``), as the operator."""
    from kombu import Connection

    from nxshared.broker_access import OPERATOR_USER, local_party_uri
    from nxshared.topology import deploy_installed

    if managed_broker():
        setup_broker_parties()
        config = {**queue_type_setting(), "AMQP_URI": local_party_uri(OPERATOR_USER)}
    else:
        config = {**queue_type_setting(), **apply_overrides({"AMQP_URI": ""})}
    try:
        with Connection(config["AMQP_URI"], connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=3)
            deploy_installed(conn, config)
    except OSError as exc:
        sys.exit(
            f"cannot reach the broker at {config['AMQP_URI'].split('@')[-1]}: {exc} (is RabbitMQ running? `make broker`)"
        )


def run_dir():
    path = Path(os.environ.get("NX_RUN_DIR", ROOT / ".run"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _reachable(address):
    host, port = address.rsplit(":", 1)
    return f"{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"


def ops_address(name):
    """Where the process serves ``/health`` and ``/metrics`` (never its public address)."""
    settings = load_settings(service_dir(name), environ=service_env(name))
    return _reachable(settings["PUBLIC_OPS_ADDRESS"] if is_public(name) else settings["WEB_SERVER_ADDRESS"])


def public_address(name):
    return _reachable(load_settings(service_dir(name))["PUBLIC_ADDRESS"])


def command(name):
    module = "nxshared.public_runner" if is_public(name) else "nxshared.runner"
    return [sys.executable, "-m", module, str(service_dir(name))]


def settings_digest(name):
    """What the service would run with from this environment: ``up`` compares it with the running one."""
    settings = load_settings(service_dir(name), environ=service_env(name))
    text = json.dumps({**queue_type_setting(), **settings}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def health(name):
    try:
        with urllib.request.urlopen(f"http://{ops_address(name)}/health", timeout=2) as resp:
            return json.loads(resp.read()).get("status") == "ok"
    except (OSError, ValueError):
        return False


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(path):
    try:
        pid = int(path.read_text())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def pid_of(name):
    """The service process, if it runs."""
    return _read_pid(run_dir() / f"{name}.pid")


def supervisor_of(name):
    """The background supervisor of the service, if one runs."""
    return _read_pid(run_dir() / f"{name}.supervisor.pid")


def state_of(name):
    try:
        return json.loads((run_dir() / f"{name}.state.json").read_text())
    except (OSError, ValueError):
        return {}


def exit_reason(returncode):
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


def _now():
    return datetime.now(UTC).isoformat(timespec="seconds")


def say(text):
    print(f"{_now()} supervisor: {text}", flush=True)


class Supervised:
    """One service kept running: started again after an unexpected exit, with back-off.

    ``tick()`` is called a few times a second by the loop that owns it (``run`` for every service,
    ``supervise`` for one). The service gets its own process group, so ``kill -9`` of that group
    (``<name>.pid``) is a crash of the service alone, which the supervisor sees and repairs."""

    def __init__(self, name, output=None):
        self.name = name
        self.output = output
        self.proc = None
        self.started_at = 0.0
        self.restarts = 0
        self.backoff = FIRST_BACKOFF
        self.restart_at = None
        self.last_exit = None
        self.settings = settings_digest(name)

    def start(self):
        self.proc = subprocess.Popen(
            command(self.name),
            cwd=ROOT,
            env=service_env(self.name),
            stdin=subprocess.DEVNULL,
            stdout=self.output,
            stderr=subprocess.STDOUT if self.output else None,
            start_new_session=True,
        )
        self.started_at = time.monotonic()
        self.restart_at = None
        (run_dir() / f"{self.name}.pid").write_text(str(self.proc.pid))
        self.save("running")

    def tick(self):
        now = time.monotonic()
        if self.proc is None:
            if self.restart_at is not None and now >= self.restart_at:
                self.restarts += 1
                self.start()
                say(f"{self.name} restarted (restart {self.restarts}, pid {self.proc.pid})")
            return
        returncode = self.proc.poll()
        if returncode is None:
            if now - self.started_at >= STEADY_AFTER:
                self.backoff = FIRST_BACKOFF
            return
        self.last_exit = {"reason": exit_reason(returncode), "at": _now()}
        delay = FIRST_BACKOFF if now - self.started_at >= STEADY_AFTER else self.backoff
        self.backoff = min(delay * 2, MAX_BACKOFF)
        self.proc = None
        self.restart_at = now + delay
        say(f"{self.name} exited unexpectedly ({self.last_exit['reason']}); restarting in {delay:g} s")
        self.save(f"restarting in {delay:g} s")

    def stop(self, grace=GRACE):
        self.restart_at = None
        if self.proc is not None and self.proc.poll() is None:
            _signal_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        (run_dir() / f"{self.name}.pid").unlink(missing_ok=True)
        self.save("stopped")

    def save(self, status):
        state = {
            "status": status,
            "pid": self.proc.pid if self.proc else None,
            "supervisor_pid": os.getpid(),
            "restarts": self.restarts,
            "last_exit": self.last_exit,
            "settings": self.settings,
        }
        (run_dir() / f"{self.name}.state.json").write_text(json.dumps(state, ensure_ascii=False))


def _signal_group(pid, sig):
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop


def supervise(name):
    """The background supervisor ``up`` leaves behind for one service (its output: the service log)."""
    pid_file = run_dir() / f"{name}.supervisor.pid"
    pid_file.write_text(str(os.getpid()))
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    service = Supervised(name, output=sys.stdout)
    try:
        service.start()
        say(f"{name} started (pid {service.proc.pid})")
        while _read_pid(pid_file) == os.getpid():  # its run directory removed: nobody can `down` it
            service.tick()
            time.sleep(0.2)
        say(f"{pid_file} is gone; stopping {name}")
        raise _Stop
    except _Stop:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        service.stop()
        say(f"{name} stopped")
    finally:
        pid_file.unlink(missing_ok=True)


def spawn_supervisor(name):
    with open(run_dir() / f"{name}.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "supervise", name],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def ensure_token_issuer():
    """Token v2: with no trusted set named (``NX_AUTH_JWKS_FILE`` / ``NX_AUTH_JWKS_URL``), the
    services trust the local issuer's public set; its first key pair is made here once
    (``nx keys init``). A set named in the environment is used exactly as given."""
    if os.environ.get("NX_AUTH_JWKS_FILE") or os.environ.get("NX_AUTH_JWKS_URL"):
        return
    from nxshared.issuer import Issuer
    from nxshared.secrets import secrets_file

    if kid := Issuer(secrets_file()).init():
        say(f"token issuer key {kid} created (nx keys init): the services trust .data/jwks.json")


def prepare():
    ensure_token_issuer()
    deploy_topology()


def up(names, timeout=60):
    prepare()
    spawned = {}
    for name in names:
        if supervisor_of(name):
            if state_of(name).get("settings") == settings_digest(name):
                print(f"{name}: already running, supervised (supervisor pid {supervisor_of(name)})")
                continue
            print(f"{name}: settings changed, replacing it")
            down([name], quiet=True)
        elif pid_of(name):
            print(f"{name}: already running, unsupervised (pid {pid_of(name)}); `down` it first to supervise it")
            continue
        (run_dir() / f"{name}.state.json").unlink(missing_ok=True)
        spawned[name] = spawn_supervisor(name)
    deadline = time.monotonic() + timeout
    pending = list(names)
    while pending and time.monotonic() < deadline:
        pending = [n for n in pending if not health(n)]
        for name in set(pending) & set(spawned):
            log = run_dir() / f"{name}.log"
            if spawned[name].poll() is not None:
                sys.exit(f"{name}: its supervisor exited; see {log}")
            last_exit = state_of(name).get("last_exit")
            if last_exit:  # a service that cannot start is not retried forever from here
                down([name], quiet=True)
                sys.exit(f"{name} exited while starting ({last_exit['reason']}); see {log}")
        time.sleep(0.2)
    if pending:
        sys.exit(f"not healthy after {timeout}s: {', '.join(pending)}; see the logs in {run_dir()}")
    for name in names:
        print_urls(name)


def down(names, grace=GRACE, quiet=False):
    for name in names:
        supervisor, pid = supervisor_of(name), pid_of(name)
        if supervisor is None and pid is None:
            continue
        if supervisor is not None:
            os.kill(supervisor, signal.SIGTERM)  # it stops its service, then exits
            _wait_gone(functools.partial(supervisor_of, name), grace + 5)
            if supervisor_of(name):
                _signal_group(supervisor, signal.SIGKILL)
        pid = pid_of(name)
        if pid is not None:  # unsupervised, or its supervisor did not manage to stop it
            _signal_group(pid, signal.SIGTERM)
            _wait_gone(functools.partial(pid_of, name), grace)
            if pid_of(name):
                _signal_group(pid, signal.SIGKILL)
        for suffix in (".pid", ".supervisor.pid"):
            (run_dir() / f"{name}{suffix}").unlink(missing_ok=True)
        if not quiet:
            print(f"{name}: stopped")


def _wait_gone(probe, timeout):
    deadline = time.monotonic() + timeout
    while probe() and time.monotonic() < deadline:
        time.sleep(0.1)


def print_urls(name):
    address = ops_address(name)
    extra = ""
    if is_public(name):
        from nxshared.publicside import load_pages

        first = next(iter(load_pages(load_settings(service_dir(name))["PUBLIC_APP"]).routes))
        extra = f"  public: http://{public_address(name)}{first}"
    print(f"{name}: metrics http://{address}/metrics  health http://{address}/health{extra}")


def run(names):
    prepare()
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)  # Ctrl-C, even when started with SIGINT ignored
    services = [Supervised(name) for name in names]
    try:
        for service in services:
            service.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(health(n) for n in names):
            for service in services:
                service.tick()
            time.sleep(0.2)
        print("\nThe suite is running, supervised (Ctrl-C stops it):")
        for name in names:
            print_urls(name)
        print("Try it: .venv/bin/nx demo\n", flush=True)
        while True:
            for service in services:
                service.tick()
            time.sleep(0.2)
    except _Stop:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("\nstopping…", flush=True)
    finally:
        for service in services:
            if service.proc is not None and service.proc.poll() is None:
                _signal_group(service.proc.pid, signal.SIGTERM)
        for service in services:
            service.stop()


def status(names):
    for name in names:
        pid, supervisor, state = pid_of(name), supervisor_of(name), state_of(name)
        condition = "healthy" if health(name) else ("running" if pid else "stopped")
        parts = [f"{name}: {condition}" + (f" (pid {pid})" if pid else "")]
        if supervisor:
            parts.append(f"supervised (pid {supervisor}), {state.get('status', '?')}")
        if state:
            parts.append(f"restarts {state.get('restarts', 0)}")
            last = state.get("last_exit")
            parts.append(f"last exit: {last['reason']} at {last['at']}" if last else "last exit: none")
        print(", ".join(parts))


def main(argv):
    if not argv or argv[0] not in ("run", "up", "down", "status", "supervise"):
        sys.exit(__doc__)
    replicas = 1
    if "--replicas" in argv:
        at = argv.index("--replicas")
        try:
            replicas = int(argv[at + 1])
        except (IndexError, ValueError):
            sys.exit("--replicas takes a number")
        argv = argv[:at] + argv[at + 2 :]
    known = set(process_names()) | set(service_names())
    unknown = {n for n in argv[1:] if n not in known and service_of(n) not in known}
    if unknown:
        sys.exit(f"unknown service(s): {', '.join(sorted(unknown))}")
    names = (
        argv[1:]
        if argv[0] == "supervise"
        else processes(argv[1:] or service_names(), replicas, running=argv[0] in ("down", "status"))
    )
    if argv[0] in ("run", "up"):
        check_replicas(names, replicas)
    if argv[0] == "supervise":
        if len(names) != 1:
            sys.exit("usage: suite.py supervise NAME")
        supervise(names[0])
    elif argv[0] == "run":
        run(names)
    elif argv[0] == "up":
        up(names)
    elif argv[0] == "down":
        down(names)
    else:
        status(names)


if __name__ == "__main__":
    main(sys.argv[1:])
