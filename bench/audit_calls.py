"""Audit's figures (issue 21), each beside its bare baseline measured in the same run.

    .venv/bin/python bench/audit_calls.py [PROJECTS] [N]

1. ``verify_trail`` of one project's trail of 1,000 and 10,000 entries, on SQLite and on
   PostgreSQL: the use case and the service's repository in this process (what the RPC runs,
   without the broker), median and best of 9, wall and CPU time.
2. The event hop into audit: review's commit of ``review.passed`` → audit's commit of the trail
   entry (commit probe), beside the bare nameko hop, sampled alternately (``run.event_hops``).
3. Audit's RPC methods beside the echo, ``N`` rounds on one project's trail.
4. The whole life: ``PROJECTS`` projects (default 1,000), 10 at a time, each from its declaration
   to a closed audit case across the six services (a filing: declared, planned, filed, approved,
   budget, procurement, contract, a disbursement, supervisor, product report, pre-check,
   acceptance, the audit case closed); projects per second, beside the rate at which the bare echo
   answers the same number of calls with the same 10 callers.
"""

import nxshared  # noqa: F401,I001
import eventlet

eventlet.monkey_patch()  # noqa: E402

import datetime as dt  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

from common import (  # noqa: E402
    ROOT,
    Callers,
    Suite,
    baseline,
    drop_postgres_databases,
    fresh_postgres_databases,
    measured,
    summary,
    vhost,
)
from disburse import on_free_ports  # noqa: E402
from nameko.exceptions import RemoteError  # noqa: E402

from nxshared.core.caller import Caller  # noqa: E402
from nxshared.core.events import Event  # noqa: E402
from nxshared.db import make_engine, migrate  # noqa: E402
from nxshared.demo import sample_project  # noqa: E402
from nxshared.discovery import installed_services  # noqa: E402

SIZES = (1_000, 10_000)
REPEATS = 9
TODAY = "2026-12-15"  # the suite runs on 2026-12-15
YEAR = 2026
LIFE_CALLERS = 10
POLL = 0.05
NOT_HEARD_YET = ("NOT_IN_ANNUAL_PLAN", "APPROVAL_NOT_GRANTED")
AUDIT_METHODS = ("get_trail", "verify_trail", "list_anomalies", "get_checkpoint")


# --- 1: verify_trail at 1,000 and 10,000 entries -------------------------------------------------------


class _Appending:
    """The unit of work the trail's use case needs, on an open connection (every event new)."""

    def __init__(self, repo):
        self.repo = repo

    def first_time(self, evt):
        return True


def _fill(engine, pid, count):
    from audit import usecases
    from audit.repository import SqlRepository

    with engine.begin() as conn:
        uow = _Appending(SqlRepository(conn))
        for n in range(count):
            sent = {
                "event_id": str(uuid.uuid4()),
                "event_type": "test_report.submitted",
                "version": 1,
                "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
                "source": "review",
                "project_id": pid,
                "actor": "li@unit:edu",
                "data": {"report_id": f"tr-{n}", "kind": "product", "agency": "某软件评测中心", "passed": True},
            }
            usecases.record_trail(uow, Event(**sent), dt.datetime.now(dt.UTC).isoformat())


def verify_times(url):
    """``{size: {median_ms, best_ms, cpu_median_ms}}`` of verify_trail on the database at ``url``."""
    from audit import domain, usecases
    from audit.repository import SqlRepository

    migrate(url, ROOT / "services" / "audit" / "migrations")
    engine = make_engine(url)
    rules = domain.AuditRules(("smart_office",))
    auditor = Caller("bench", "audit")
    found = {}
    try:
        for size in SIZES:
            pid = f"prj-{uuid.uuid4().hex[:12]}"
            _fill(engine, pid, size)
            walls, cpus = [], []
            for _ in range(REPEATS):
                with engine.connect() as conn:
                    wall, cpu = time.perf_counter(), time.process_time()
                    verified = usecases.verify_trail(SqlRepository(conn), pid, auditor, rules)
                    walls.append(time.perf_counter() - wall)
                    cpus.append(time.process_time() - cpu)
                assert verified.ok and verified.entries == size, verified
            found[size] = {
                "median_ms": statistics.median(walls) * 1000,
                "best_ms": min(walls) * 1000,
                "cpu_median_ms": statistics.median(cpus) * 1000,
            }
    finally:
        engine.dispose()
    return found


def verify_on_both(workdir):
    report = {"sqlite": verify_times(f"sqlite:///{workdir}/verify.db")}
    url = fresh_postgres_databases(["audit_verify"], "nxbench").format(service="audit_verify")
    try:
        report["postgresql"] = verify_times(url.replace("postgresql://", "postgresql+psycopg://", 1))
    finally:
        drop_postgres_databases(["audit_verify"], "nxbench")
    return report


# --- 2: the hop into audit --------------------------------------------------------------------------


def audit_hops(commits):
    """review.passed commit → audit's trail commit, for the events approval applied too (the hop
    run.event_hops samples beside the bare one)."""
    return [
        commits[("in:record_trail", e)][0] - committed
        for (kind, e), (committed, _) in commits.items()
        if kind == "out" and ("in:on_review_concluded", e) in commits and ("in:record_trail", e) in commits
    ]


# --- 3: audit's methods beside the echo --------------------------------------------------------------


def audit_calls(rpc, pid):
    audit = rpc("audit").audit
    return [
        ("get_trail", lambda: audit.get_trail(project_id=pid)),
        ("verify_trail", lambda: audit.verify_trail(project_id=pid)),
        ("list_anomalies", lambda: audit.list_anomalies(project_id=pid)),
        ("get_checkpoint", lambda: audit.get_checkpoint()),
    ]


# --- 4: the whole life --------------------------------------------------------------------------------


class Life:
    """One caller slot driving projects from declaration to a closed audit case, counting its calls."""

    def __init__(self, rpc, slot):
        self.rpc = rpc
        self.slot = slot
        self.calls = 0

    def __call__(self, org, service, method, **kwargs):
        self.calls += 1
        return getattr(getattr(self.rpc(org, self.slot), service), method)(**kwargs)

    def until(self, org, service, method, accept=bool, timeout=120, **kwargs):
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = self(org, service, method, **kwargs)
                if accept(found):
                    return found
            except RemoteError as exc:
                if not str(exc.value).startswith(NOT_HEARD_YET) or time.monotonic() > deadline:
                    raise
            if time.monotonic() > deadline:
                raise TimeoutError(f"{service}.{method} did not get there in time")
            time.sleep(POLL)

    def project(self, n):
        project = sample_project(YEAR)
        amount = "120000.00"
        project.update(
            name=f"档案扫描设备购置（基准 {self.slot}-{n}）",
            estimated_investment=amount,
            annual_investments=[{"year": YEAR, "amount": amount}],
            custom_software=False,
            hosted_on_big_data_center=False,
            requires_construction_plan=False,
        )
        pid = self("unit:edu", "planning", "declare_project", project=project)["project_id"]
        self("smart_office", "planning", "review_supplementary", project_id=pid, decision="approve", opinion="同意")
        self("county_gov", "planning", "approve_supplementary", project_id=pid)
        self.until("unit:edu", "review", "request_filing", project_id=pid)
        self.until("unit:edu", "approval", "apply_for_approval", project_id=pid, approval_type="file")
        self.until("drc", "approval", "get_approval", lambda a: a["status"] == "ready", project_id=pid)
        self("drc", "approval", "grant_approval", project_id=pid, opinion="同意备案")
        self.until("finance", "finance", "review_budget", project_id=pid, approved_amount=amount, opinion="同意")
        procurement = {"method": "inquiry", "supplier": "某科技公司", "amount": amount, "date": TODAY}
        self("unit:edu", "finance", "register_procurement", project_id=pid, procurement=procurement)
        contract = {"contract_no": f"HT-{pid}", "vendor": "某科技公司", "amount": amount, "om_years": 3}
        self(
            "unit:edu",
            "finance",
            "register_contract",
            project_id=pid,
            contract={**contract, "source_code_owner": "unit"},
        )
        self("finance", "finance", "disburse", project_id=pid, amount="36000.00", purpose="首付款")
        supervisor = {
            "company": "某监理公司",
            "qualification_no": "JL-1",
            "lead_name": "赵",
            "lead_certificate_no": "Z-1",
        }
        self.until("unit:edu", "review", "register_supervisor", project_id=pid, supervisor=supervisor)
        report = {"kind": "product", "agency": "某评测中心", "report_no": f"CS-{pid}", "passed": True}
        self("unit:edu", "review", "submit_test_report", project_id=pid, report=report)
        self.until("unit:edu", "review", "get_acceptance_readiness", lambda r: r["ready"], project_id=pid)
        self("unit:edu", "review", "request_acceptance_precheck", project_id=pid)
        self("data_center", "review", "conclude_acceptance_precheck", project_id=pid, verdict="passed", opinion="符合")
        acceptance = {"date": TODAY, "passed": True, "minutes": "通过"}
        self("unit:edu", "review", "record_acceptance", project_id=pid, acceptance=acceptance)
        cases = self.until(
            "audit", "audit", "list_cases", lambda found: any(c["project_id"] == pid for c in found), status="open"
        )
        case_id = next(c["case_id"] for c in cases if c["project_id"] == pid)
        self("audit", "audit", "close_case", case_id=case_id, conclusion="合规")
        return pid


def _warm(rpc, slots):
    for slot in range(slots):
        for org in ("unit:edu", "smart_office", "county_gov", "drc", "finance", "data_center", "audit"):
            rpc(org, slot).bench_echo.echo("x")


def whole_life(rpc, projects, callers=LIFE_CALLERS):
    """``projects`` lives, ``callers`` at a time; then the echo answering as many calls."""
    _warm(rpc, callers)
    lives = [Life(rpc, slot) for slot in range(callers)]
    share = [projects // callers + (1 if i < projects % callers else 0) for i in range(callers)]
    pool = eventlet.GreenPool(callers)
    started = time.perf_counter()
    done = list(pool.imap(lambda i: [lives[i].project(n) for n in range(share[i])], range(callers)))
    seconds = time.perf_counter() - started
    calls = sum(life.calls for life in lives)
    assert sum(len(d) for d in done) == projects

    def echoes(i):
        echo = rpc("unit:edu", i).bench_echo
        for _ in range(calls // callers + (1 if i < calls % callers else 0)):
            echo.echo("x")

    started = time.perf_counter()
    list(pool.imap(echoes, range(callers)))
    echo_seconds = time.perf_counter() - started
    return {
        "projects": projects,
        "callers": callers,
        "seconds": seconds,
        "per_s": projects / seconds,
        "calls": calls,
        "calls_per_project": calls / projects,
        "echo_seconds": echo_seconds,
        "echo_allows_per_s": projects / echo_seconds,
    }


def main(projects, n):
    from run import _answers, event_hops, latencies_for_hops, wait_until

    def suite_ready(suite, callers):
        wait_until(lambda: _answers(callers), 30, "the echo baseline")

    names = [service.name for service in installed_services()]
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        report["verify_trail"] = verify_on_both(work)
        with vhost() as amqp_uri:
            callers = Callers(amqp_uri)
            try:
                with baseline(amqp_uri, work / "echo"), on_free_ports(Suite(amqp_uri, work / "suite", names)) as suite:
                    suite_ready(suite, callers)
                    reviews = latencies_for_hops(suite, callers, 60)
                    hop = event_hops(suite, callers, reviews, 50, _NoTimings())
                    report["event_hop"] = hop
                    trail_pid = next(iter(reviews))
                    echo = callers.get("unit:edu").bench_echo
                    samples = measured(lambda: echo.echo("x"), audit_calls(callers.get, trail_pid), n)
                    echo_s = summary(samples.pop("echo"))
                    report["calls"] = {"echo": echo_s, **{k: summary(v) for k, v in samples.items()}}
                    report["whole_life"] = whole_life(callers.get, projects)
            finally:
                callers.close()
    print(json.dumps(report, indent=2, default=str))


class _NoTimings:
    def __call__(self, name, fn):
        return fn()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000, int(sys.argv[2]) if len(sys.argv) > 2 else 100)
