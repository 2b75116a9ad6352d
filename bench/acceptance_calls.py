"""Latency of review's delivery and acceptance RPC methods beside a bare nameko echo RPC, in the
same run.

    .venv/bin/python bench/acceptance_calls.py [N]

The suite (every installed service, as `make up` starts it, on SQLite) and the echo baseline run as
separate processes on a private RabbitMQ virtual host; the client is this process. A few projects
are driven to a registered contract (a hosted custom-software project reviewed by the center: it
needs a supervisor, a third-party software report and its MLPS filing, which the data center grades
and files), then each round calls, on one of them in turn and each beside one echo (alternating, so
a busy machine slows both alike): ``register_supervisor``, ``submit_test_report`` (a passing
third-party software report), ``get_acceptance_readiness`` (as the smart office),
``request_acceptance_precheck``, ``conclude_acceptance_precheck`` (passed: every condition checked
again) and ``record_acceptance`` (recorded as failed, so that the next round may ask for a pre-check
again). Every write locks the project's delivery, checks the conditions it needs and keeps its event
in the outbox. Prints p50/p99 of each and their ratios to echo's as JSON.
"""

import nxshared  # noqa: F401,I001
import eventlet

eventlet.monkey_patch()  # noqa: E402

import itertools  # noqa: E402
import sys  # noqa: E402

from common import beside_the_echo  # noqa: E402
from disburse import contracted_project, until  # noqa: E402

METHODS = (
    "register_supervisor",
    "submit_test_report",
    "get_acceptance_readiness",
    "request_acceptance_precheck",
    "conclude_acceptance_precheck",
    "record_acceptance",
)
TODAY = "2026-12-15"  # the suite runs on 2026-12-15
ROUNDS_PER_PROJECT = 30  # a project's reports, pre-checks and acceptances grow by one a round
SUPERVISOR = {
    "company": "某监理公司",
    "qualification_no": "JL-BENCH",
    "lead_name": "赵监理",
    "lead_certificate_no": "ZS-1",
}
REPORT = {"kind": "third_party_software", "agency": "某评测中心", "report_no": "CS-BENCH", "passed": True}


def ready_projects(rpc, count):
    """``count`` contracted projects whose MLPS grade is filed, once review has heard of both."""
    ids = []
    center = rpc("data_center").security
    for n in range(count):
        pid = contracted_project(rpc, contract_no=f"HT-BENCH-ACC-{n}")
        until(lambda p=pid: center.grade_system(project_id=p, level=2, basis="基准测试定级"))
        center.file_grading(project_id=pid, filing_no=f"BENCH-ACC-{n}", evaluation_agency="某测评中心")
        ids.append(pid)
    readiness = rpc("unit:edu").review.get_acceptance_readiness
    for pid in ids:
        until(
            lambda p=pid: readiness(project_id=p),
            lambda r: [u["code"] for u in r["unmet"]] == ["supervisor", "third_party_software"],
        )
    return ids


def acceptance_calls(rpc, ids):
    """``(method, call)`` pairs for one round, on the next project in turn."""
    unit = rpc("unit:edu").review
    center = rpc("data_center").review
    office = rpc("smart_office").review
    turn = itertools.cycle(ids)
    state = {"pid": ids[0]}

    def supervise():
        state["pid"] = next(turn)
        return unit.register_supervisor(project_id=state["pid"], supervisor=SUPERVISOR)

    def conclude():
        return center.conclude_acceptance_precheck(project_id=state["pid"], verdict="passed", opinion="符合")

    def record():
        acceptance = {"date": TODAY, "passed": False, "minutes": "基准测试：验收不通过，整改后再验"}
        return unit.record_acceptance(project_id=state["pid"], acceptance=acceptance)

    return [
        ("register_supervisor", supervise),
        ("submit_test_report", lambda: unit.submit_test_report(project_id=state["pid"], report=REPORT)),
        ("get_acceptance_readiness", lambda: office.get_acceptance_readiness(project_id=state["pid"])),
        ("request_acceptance_precheck", lambda: unit.request_acceptance_precheck(project_id=state["pid"])),
        ("conclude_acceptance_precheck", conclude),
        ("record_acceptance", record),
    ]


def projects_for(n):
    return max(1, -(-n // ROUNDS_PER_PROJECT))


def main(n):
    beside_the_echo(n, "unit:edu", lambda get: acceptance_calls(get, ready_projects(get, projects_for(n + 5))))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
