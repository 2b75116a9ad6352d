"""Latency of security's RPC methods beside a bare nameko echo RPC, in the same run.

    .venv/bin/python bench/security_calls.py [N]

The suite (every installed service, as `make up` starts it, on SQLite) and the echo baseline run as
separate processes on a private RabbitMQ virtual host; the client is this process. One supplementary
project is planned (security learns it from ``project.planned``), then each round calls, each beside
one echo (alternating, so a busy machine slows both alike): ``grade_system`` and ``file_grading`` (a
re-grade, then its filing: the project row locked, the grade kept, its event in the outbox),
``record_inspection``, ``report_incident`` and ``resolve_incident`` (an incident and its response),
``get_posture`` and ``list_overdue``. Prints p50/p99 of each and their ratios to echo's as JSON.
"""

import nxshared  # noqa: F401,I001
import eventlet

eventlet.monkey_patch()  # noqa: E402

import sys  # noqa: E402

from common import beside_the_echo  # noqa: E402
from disburse import YEAR, until  # noqa: E402

from nxshared.demo import sample_project  # noqa: E402

METHODS = (
    "grade_system",
    "file_grading",
    "record_inspection",
    "report_incident",
    "resolve_incident",
    "get_posture",
    "list_overdue",
)
OCCURRED_AT = "2026-12-14T08:00:00+08:00"  # the suite runs on 2026-12-15


def planned_project(rpc):
    """A supplementary project (Art 9) in the plan, once security has learned it; its id."""
    project = sample_project(YEAR)
    project.update(estimated_investment="1000000.00", annual_investments=[{"year": YEAR, "amount": "1000000.00"}])
    pid = rpc("unit:edu").planning.declare_project(project=project)["project_id"]
    rpc("smart_office").planning.review_supplementary(project_id=pid, decision="approve", opinion="同意")
    rpc("county_gov").planning.approve_supplementary(project_id=pid)
    until(lambda: rpc("data_center").security.grade_system(project_id=pid, level=2, basis="初次定级"))
    return pid


def security_calls(rpc, pid):
    """``(method, call)`` pairs for one round; each round re-grades, files, inspects, reports and
    resolves one incident, and reads the posture and the overdue list."""
    center = rpc("data_center").security
    office = rpc("smart_office").security
    state = {"round": 0, "incident": None}

    def grade():
        state["round"] += 1
        return center.grade_system(project_id=pid, level=3, basis="基准测试定级")

    def file():
        return center.file_grading(project_id=pid, filing_no=f"BENCH-{state['round']}", evaluation_agency="某测评中心")

    def report():
        incident = {"project_id": pid, "severity": "high", "description": "基准测试事件", "occurred_at": OCCURRED_AT}
        state["incident"] = center.report_incident(incident=incident)["incident_id"]

    return [
        ("grade_system", grade),
        ("file_grading", file),
        ("record_inspection", lambda: center.record_inspection(project_id=pid, findings="", passed=True)),
        ("report_incident", report),
        ("resolve_incident", lambda: center.resolve_incident(incident_id=state["incident"], response="已处置")),
        ("get_posture", lambda: office.get_posture(project_id=pid)),
        ("list_overdue", lambda: office.list_overdue()),
    ]


def main(n):
    beside_the_echo(n, "data_center", lambda get: security_calls(get, planned_project(get)))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
