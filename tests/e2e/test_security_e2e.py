"""Security on a real broker: a project hosted on the Big Data Center from planned to its MLPS filing,
with an inspection and an incident resolved; the overdue check sees the filing missing once the
contract is registered, and reminds of it once (planning's timeline, ``nx reminders``); planning's
timeline shows security's events; security stopped while the project is planned catches up;
``nx demo`` grades and files its project."""

import subprocess
import sys
from pathlib import Path

import pytest
from nameko.exceptions import RemoteError

from nxshared.demo import run_demo

from .conftest import ROOT, wait_for
from .flows import declare, plan, stage_becomes, timeline_types
from .test_finance_e2e import grant, review_budget, reviewed

pytestmark = pytest.mark.e2e
ALL = ("planning", "review", "approval", "finance", "security")
CHECK_EVERY = {"NX_SECURITY_OVERDUE_CHECK_SECONDS": "0.2"}


def contract(suite, pid):
    """Finance's steps from the approval to a registered contract (the project comes under way)."""
    review_budget(suite, pid, "900000.00")
    procurement = {"method": "open_tender", "supplier": "某科技公司", "amount": "880000.00", "date": "2026-12-15"}
    suite.rpc("unit:edu", "finance", "register_procurement", project_id=pid, procurement=procurement)
    terms = {"contract_no": f"HT-{pid}", "vendor": "某科技公司", "amount": "880000.00", "om_years": 3}
    suite.rpc(
        "unit:edu", "finance", "register_contract", project_id=pid, contract={**terms, "source_code_owner": "unit"}
    )
    stage_becomes(suite, pid, "contracted")


def overdue(suite, pid, org="data_center"):
    return sorted(
        item["kind"] for item in suite.rpc(org, "security", "list_overdue")["overdue"] if item["project_id"] == pid
    )


def posture(suite, pid, org="data_center"):
    return suite.rpc(org, "security", "get_posture", project_id=pid)


def reminded(suite, pid):
    """The filing found missing is a reminder (reminder.due, once): on planning's timeline without a
    stage of its own, in ``list_reminders`` and ``nx reminders``."""
    wait_for(lambda: "reminder.due" in timeline_types(suite, pid), what="security's reminder on the timeline")
    stage_becomes(suite, pid, "contracted")
    listed = suite.rpc("unit:edu", "planning", "list_reminders", kind="mlps_filing_due", project_id=pid)
    assert [(r["source"], r["owner_org"]) for r in listed["items"]] == [("security", "data_center")]
    assert suite.rpc("unit:health", "planning", "list_reminders", project_id=pid)["total"] == 0
    nx = Path(sys.executable).with_name("nx")
    shown = subprocess.run(
        [str(nx), "reminders", "--project", pid, "--org", "unit:edu"],
        env=suite.env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "mlps_filing_due" in shown.stdout and "等保定级备案到期" in shown.stdout
    assert "1 of 1 reminder(s)" in shown.stdout
    counted = 'nx_reminders_emitted_total{kind="mlps_filing_due"}'
    wait_for(lambda: suite.metric("security", counted) == 1, what="the reminder counted once")


def test_a_hosted_project_from_planned_to_filed_with_an_inspection_and_an_incident(suite):
    suite.up(*ALL, **CHECK_EVERY)
    pid = reviewed(suite)  # planned, its review passed, its application waiting for the DRC
    graded = wait_for(
        lambda: suite.rpc("data_center", "security", "grade_system", project_id=pid, level=3, basis="定级报告（三级）"),
        what="security to learn the project is planned",
    )
    assert (graded["status"], graded["level"]) == ("graded", 3)
    seen = posture(suite, pid, "unit:edu")
    assert seen["hosted_on_big_data_center"] is True and seen["overdue"] == []

    grant(suite, pid)
    contract(suite, pid)
    wait_for(lambda: overdue(suite, pid) == ["mlps_filing"], what="the check to find the filing missing")
    assert [o["kind"] for o in posture(suite, pid)["overdue"]] == ["mlps_filing"]
    assert suite.metric("security", 'nx_security_overdue{kind="mlps_filing"}') >= 1
    reminded(suite, pid)

    filed = suite.rpc(
        "data_center",
        "security",
        "file_grading",
        project_id=pid,
        filing_no=f"43010099999-{pid[-6:]}",
        evaluation_agency="湖南某等级保护测评中心",
    )
    assert filed["status"] == "filed"
    inspected = suite.rpc("data_center", "security", "record_inspection", project_id=pid, findings="", passed=True)
    assert inspected["passed"] is True
    incident = {
        "project_id": pid,
        "severity": "critical",
        "description": "门户网站遭受拒绝服务攻击",
        "occurred_at": "2026-12-14T20:00:00+08:00",
    }
    reported = suite.rpc("data_center", "security", "report_incident", incident=incident)
    assert (reported["status"], reported["deadline"]) == ("open", "2026-12-14T14:00:00+00:00")
    wait_for(lambda: overdue(suite, pid) == ["incident"], what="the check to see the filing and the open incident")
    with pytest.raises(RemoteError) as err:
        suite.rpc("unit:edu", "security", "list_overdue")
    assert err.value.exc_type == "Forbidden"

    resolved = suite.rpc(
        "data_center", "security", "resolve_incident", incident_id=reported["incident_id"], response="已切换清洗线路"
    )
    assert resolved["status"] == "resolved"
    with pytest.raises(RemoteError) as err:
        suite.rpc("data_center", "security", "resolve_incident", incident_id=reported["incident_id"], response="再次")
    assert err.value.exc_type == "Conflict" and err.value.value.startswith("ALREADY_RESOLVED: ")
    wait_for(lambda: overdue(suite, pid) == [], what="nothing late any more")

    final = posture(suite, pid, "audit")
    assert {k: final["mlps"][k] for k in ("level", "status", "evaluation_agency")} == {
        "level": 3,
        "status": "filed",
        "evaluation_agency": "湖南某等级保护测评中心",
    }
    assert final["last_inspection"]["passed"] is True and final["open_incidents"] == [] and final["overdue"] == []
    with pytest.raises(RemoteError) as err:
        posture(suite, pid, "unit:health")
    assert err.value.exc_type == "NotFound"

    security_events = ["mlps.graded", "mlps.filed", "inspection.recorded", "incident.reported", "incident.resolved"]
    wait_for(
        lambda: [t for t in timeline_types(suite, pid) if t in security_events] == security_events,
        what="security's events on planning's timeline",
    )
    assert timeline_types(suite, pid)[-1] == "incident.resolved"
    stage_becomes(suite, pid, "contracted")  # security's events name no stage


def test_security_stopped_while_the_project_is_planned_catches_up(suite):
    suite.up("planning", "security")
    suite.down("security")
    pid = declare(suite, estimated_investment="1000000.00", annual_investments=[{"year": 2027, "amount": "1000000.00"}])
    plan(suite, pid)
    stage_becomes(suite, pid, "planned")
    suite.up("security")
    graded = wait_for(
        lambda: suite.rpc("data_center", "security", "grade_system", project_id=pid, level=2, basis="定级报告"),
        what="security to catch up on the plan",
    )
    assert graded["level"] == 2
    wait_for(lambda: "mlps.graded" in timeline_types(suite, pid), what="the grading on the timeline")


def test_nx_demo_grades_and_files_its_project(suite, monkeypatch):
    """``nx demo``'s steps (``nxshared.demo.run_demo``) against the suite, with the suite's callers."""
    monkeypatch.setenv("NX_TODAY", "2026-12-15")  # the demo's plan year is the suite's
    suite.up(*ALL)

    class SuiteClient:
        def __init__(self, org, sub):
            self.org = org

        def call(self, service, method, **kwargs):
            return suite.rpc(self.org, service, method, **kwargs)

        def close(self):
            pass

    said = []
    run_demo(SuiteClient, said.append)
    assert "data center graded the system: MLPS level 2" in said
    assert any(line.startswith("MLPS grade filed: 43010099999-") for line in said)
    timeline = said[next(i for i, line in enumerate(said) if line.startswith("timeline of")) :]
    assert any(line.endswith("  mlps.filed") for line in timeline), said
