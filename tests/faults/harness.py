"""What the fault suite drives and injects: projects through planning → review → approval at a steady
rate, a prober that measures how long each service stops answering, and the faults themselves."""

import contextlib
import os
import random
import shlex
import signal
import sqlite3
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import eventlet
from eventlet.queue import LightQueue
from kombu import Connection, Queue
from nameko.exceptions import RemoteError, RpcTimeout

from nxshared.demo import pass_review, sample_project
from nxshared.discovery import installed_services
from nxshared.rpcclient import BrokerUnavailable, ResilientRpc
from nxshared.testing import bearer
from nxshared.topology import subscriptions_of

PLAN_YEAR = 2026  # the suite runs with NX_TODAY=2026-12-15; supplementary projects of the current year
BUDGET = "1000000.00"  # Art 12: the data center's own opinion, no expert panel
NOWHERE = "prj-000000000000"
EXPECTED_TIMELINE = sorted(
    ["project.declared", "project.planned", "approval.applied", "review.submitted", "review.passed", "approval.granted"]
)


class Unsure(Exception):
    """A write whose outcome is unknown (its connection or its reply was lost)."""


class Clients:
    """A pool of RPC clients per org, shared by the driver's green threads (one client serves one
    call at a time)."""

    def __init__(self, amqp_uri, timeout=10, retry_for=20):
        self.amqp_uri = amqp_uri
        self.timeout = timeout
        self.retry_for = retry_for
        self._idle = {}

    @contextmanager
    def borrow(self, org):
        idle = self._idle.setdefault(org, LightQueue())
        client = idle.get() if idle.qsize() else None
        if client is None:
            client = ResilientRpc(
                self.amqp_uri, {"authorization": bearer(org)}, timeout=self.timeout, retry_for=self.retry_for
            )
        try:
            yield client
        finally:
            idle.put(client)

    def call(self, org, service, method, **kwargs):
        with self.borrow(org) as client:
            return client.call(service, method, **kwargs)

    def close(self):
        for idle in self._idle.values():
            while idle.qsize():
                idle.get().close()


@dataclass
class Project:
    index: int
    project_id: str | None = None
    review_id: str | None = None
    finished: bool = False
    abandoned: str | None = None  # the declaration's outcome is unknown: not counted
    stuck: str | None = None
    retries: int = 0


@dataclass
class Driver:
    """Starts a project every ``interval`` seconds and drives each through the contract. Every write
    after the declaration is guarded by a read of the state it should produce, so a write whose
    outcome is unknown (timeout, dropped connection) is checked before it is sent again."""

    clients: Clients
    interval: float
    deadline_per_project: float = 240
    projects: list = field(default_factory=list)
    _threads: list = field(default_factory=list)
    _running: bool = False

    def start(self):
        self._running = True
        self._threads.append(eventlet.spawn(self._pace))

    def stop_starting(self):
        self._running = False

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while any(not (p.finished or p.abandoned or p.stuck) for p in self.projects):
            if time.monotonic() > deadline:
                break
            eventlet.sleep(0.5)

    def _pace(self):
        while self._running:
            project = Project(len(self.projects) + 1)
            self.projects.append(project)
            self._threads.append(eventlet.spawn(self._drive, project))
            eventlet.sleep(self.interval)

    def _drive(self, p):
        try:
            self._declare(p)
            if p.abandoned:
                return
            deadline = time.monotonic() + self.deadline_per_project
            for step in (self._office_review, self._county_approval, self._apply, self._submit, self._conclude):
                self._ensure(p, step, deadline)
            self._ensure(p, self._grant, deadline)
            p.finished = True
        except Exception as exc:  # recorded, then reported by the test as a stuck project
            p.stuck = f"{type(exc).__name__}: {exc}"

    def _ensure(self, p, step, deadline):
        """Run ``step`` (which returns True once its effect is visible) until done."""
        while True:
            try:
                if step(p):
                    return
            except (RemoteError, BrokerUnavailable, RpcTimeout, Unsure) as exc:
                if isinstance(exc, RemoteError) and exc.exc_type not in ("NotFound", "Conflict", "RuleViolation"):
                    raise
            p.retries += 1
            if time.monotonic() > deadline:
                raise TimeoutError(f"step {step.__name__} not done")
            eventlet.sleep(1.0)

    def _call(self, org, service, method, **kwargs):
        return self.clients.call(org, service, method, **kwargs)

    def _declare(self, p):
        """Declarations carry no key of the caller's, so one whose outcome is unknown is looked up
        by its (unique) name before it is sent again."""
        project = sample_project(PLAN_YEAR)
        project.update(
            name=f"故障演练项目{p.index:04d}",
            estimated_investment=BUDGET,
            annual_investments=[{"year": PLAN_YEAR, "amount": BUDGET}],
        )
        unsure = False
        deadline = time.monotonic() + self.deadline_per_project
        while time.monotonic() < deadline:
            try:
                if unsure:
                    p.project_id = self._find(project["name"])
                    if p.project_id:
                        return
                p.project_id = self._call("unit:edu", "planning", "declare_project", project=project)["project_id"]
                return
            except (BrokerUnavailable, RpcTimeout) as exc:
                unsure = unsure or isinstance(exc, RpcTimeout) or exc.maybe_applied
            except RemoteError as exc:
                if exc.exc_type != "Conflict" or "INTERNAL_ERROR" not in str(exc.value):
                    raise
            p.retries += 1
            eventlet.sleep(1.0)
        p.abandoned = "declaration of unknown outcome never settled"

    def _find(self, name):
        page = 1
        while True:
            found = self._call("unit:edu", "planning", "list_projects", year=PLAN_YEAR, page=page, page_size=100)
            for item in found["items"]:
                if item["name"] == name:
                    return item["project_id"]
            if page * 100 >= found["total"]:
                return None
            page += 1

    def _project(self, p):
        return self._call("smart_office", "planning", "get_project", project_id=p.project_id)

    def _office_review(self, p):
        if self._project(p)["supplementary_status"] != "awaiting_office_review":
            return True
        self._write(
            "smart_office",
            "planning",
            "review_supplementary",
            project_id=p.project_id,
            decision="approve",
            opinion="同意列入增补计划",
        )
        return False

    def _county_approval(self, p):
        if self._project(p)["status"] == "planned":
            return True
        self._write("county_gov", "planning", "approve_supplementary", project_id=p.project_id)
        return False

    def _apply(self, p):
        try:
            self._call("drc", "approval", "get_approval", project_id=p.project_id)
            return True
        except RemoteError as exc:
            if exc.exc_type != "NotFound":
                raise
        self._write("unit:edu", "approval", "apply_for_approval", project_id=p.project_id, approval_type="approve")
        return False

    def _submit(self, p):
        reviews = self._call("data_center", "review", "list_reviews", project_id=p.project_id)
        if reviews:
            p.review_id = reviews[0]["review_id"]
            return True
        plan = {"title": "建设方案", "document_ref": f"DOC-{p.index}", "budget": BUDGET}
        self._write("unit:edu", "review", "submit_construction_plan", project_id=p.project_id, plan=plan)
        return False

    def _conclude(self, p):
        if self._call("data_center", "review", "get_review", review_id=p.review_id)["status"] == "passed":
            return True
        pass_review(self._write, p.project_id, p.review_id, "通过")  # the driven projects' names are alike (Art 12)
        return False

    def _grant(self, p):
        status = self._call("drc", "approval", "get_approval", project_id=p.project_id)["status"]
        if status == "granted":
            return True
        if status == "ready":
            self._write("drc", "approval", "grant_approval", project_id=p.project_id, opinion="同意立项")
        return False

    def _write(self, org, service, method, **kwargs):
        try:
            self._call(org, service, method, **kwargs)
        except BrokerUnavailable as exc:
            raise Unsure(str(exc)) from None


class Prober:
    """Asks each service a read every ``period`` seconds, without retries, and remembers when each
    stopped and started answering again. A refusal (``NotFound``) is an answer."""

    PROBES = {
        "planning": ("smart_office", "list_projects", {"page_size": 1}),
        "review": ("data_center", "list_reviews", {"project_id": NOWHERE}),
        "approval": ("drc", "get_approval", {"project_id": NOWHERE}),
    }

    def __init__(self, amqp_uri, services, period=0.25):
        self.services = [s for s in services if s in self.PROBES]
        self.period = period
        self.clients = Clients(amqp_uri, timeout=2, retry_for=0)
        self.down_since = {}
        self.outages = []  # (service, started, ended)
        self.last_failure = {}  # service -> why its latest probe got no answer
        self._running = False

    def start(self):
        self._running = True
        self._threads = [eventlet.spawn(self._watch, name) for name in self.services]

    def stop(self):
        self._running = False
        for thread in self._threads:
            thread.wait()
        self.clients.close()

    def answers(self, name):
        org, method, kwargs = self.PROBES[name]
        try:
            self.clients.call(org, name, method, **kwargs)
        except RemoteError:
            return True
        except Exception as exc:
            self.last_failure[name] = f"{type(exc).__name__}: {exc}"[:300]
            return False
        return True

    def all_up(self):
        return not self.down_since

    def _watch(self, name):
        while self._running:
            now = time.monotonic()
            if self.answers(name):
                if name in self.down_since:
                    self.outages.append((name, self.down_since.pop(name), now))
            else:
                self.down_since.setdefault(name, now)
            eventlet.sleep(self.period)

    def served_again(self, name, since):
        """When ``name`` answered again after ``since`` (None while it has not)."""
        if name in self.down_since:
            return None
        ends = [end for service, _, end in self.outages if service == name and end >= since]
        return max(ends) if ends else since


def settled(clients, project_id):
    timeline = clients.call("smart_office", "planning", "get_timeline", project_id=project_id)
    return timeline if timeline["stage"] == "approved" else None


def agrees(clients, p):
    """Planning, review and approval say the same about the project."""
    planned = clients.call("smart_office", "planning", "get_project", project_id=p.project_id)["status"] == "planned"
    reviews = clients.call("data_center", "review", "list_reviews", project_id=p.project_id)
    approval = clients.call("drc", "approval", "get_approval", project_id=p.project_id)
    return (
        planned
        and [r["status"] for r in reviews] == ["passed"]
        and approval["status"] == "granted"
        and approval["review_id"] == reviews[0]["review_id"]
    )


def parked_count(amqp_uri, names):
    subscriptions = [sub for s in installed_services() if s.name in names for sub in subscriptions_of(s.load())]
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        return sum(
            Queue(sub.dead_queue_name)(channel).queue_declare(passive=True).message_count for sub in subscriptions
        )


def wait_until(probe, timeout, what):
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        eventlet.sleep(0.1)
    return value


# --- faults --------------------------------------------------------------------------------------


def drop_connections(rabbit_manager, vhost):
    """The broker closes every connection of ``vhost`` (services, relays, clients): what a broker
    restart does to them, without disturbing anyone else on the broker. Returns how many."""
    names = [c["name"] for c in rabbit_manager.get_connections() if c.get("vhost") == vhost]
    for name in names:
        with contextlib.suppress(Exception):  # closed meanwhile
            rabbit_manager.delete_connection(name)
    return len(names)


def rabbitmqctl(*args):
    """``rabbitmqctl`` for the broker under test: ``NX_FAULTS_RABBITMQCTL`` may name another node
    (e.g. ``rabbitmqctl -n faults@localhost``), so the full form can run on a broker of its own."""
    command = shlex.split(os.environ.get("NX_FAULTS_RABBITMQCTL", "rabbitmqctl"))
    subprocess.run([*command, *args], check=True, capture_output=True, timeout=120)


def restart_broker(down_seconds=3):
    """A real restart of the RabbitMQ application (every vhost, every user of that broker)."""
    rabbitmqctl("stop_app")
    eventlet.sleep(down_seconds)
    rabbitmqctl("start_app")


def kill9(run_dir, name):
    """``kill -9`` the service's process group, as the OOM killer would; its supervisor restarts it."""
    pid = int((run_dir / f"{name}.pid").read_text())
    os.killpg(pid, signal.SIGKILL)
    return pid


@contextmanager
def database_locked(path):
    """Hold an exclusive write transaction on a service's SQLite file: its writers wait (and the
    service with them, its driver blocks in C) until the lock is gone."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


@contextmanager
def tables_locked(url, tables=("outbox", "inbox")):
    """PostgreSQL's counterpart of ``database_locked``: every unit of work of the service writes its
    outbox or its inbox, so with both locked (``ACCESS EXCLUSIVE``) its writers wait, its replicas
    alike, until the lock is gone."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(text(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE"))
            yield
    finally:
        engine.dispose()


def pick_moment(low, high):
    eventlet.sleep(random.uniform(low, high))
