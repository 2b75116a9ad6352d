"""Delivery and acceptance on a real broker (Art 18–21, 24): three shapes of project from their
declaration to their acceptance, each through every bureau as the contract says:

- a 2,500,000.00 custom-software system hosted on the Big Data Center: an expert panel, all four
  third-party reports (software, source code, database, network security) and its MLPS filing;
- an 800,000.00 hardware purchase: the center's opinion, then only supervision and a product report;
- a 120,000.00 filing (备案): supervision and a product report.

Review learns every fact from its owner's event (approval, finance, security, planning), never by a
call. A pre-check requested too early names every unmet condition at once; a fresh contract's
readiness lists what the unit still lacks. Each shape's time from declaration to acceptance (the
``accepted`` stage on planning's timeline) is printed."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nameko.exceptions import RemoteError

from nxshared.demo import pass_review, sample_project

from .conftest import ROOT, wait_for
from .flows import stage_becomes, timeline_types
from .test_finance_e2e import review_budget

pytestmark = pytest.mark.e2e
ALL = ("planning", "review", "approval", "finance", "security")
YEAR = 2026  # the suite runs with NX_TODAY=2026-12-15: a supplementary project of this year
TODAY = "2026-12-15"
NOT_HEARD_YET = ("NOT_IN_ANNUAL_PLAN", "APPROVAL_NOT_GRANTED")
SUPERVISOR = {
    "company": "湖南某信息工程监理有限公司",
    "qualification_no": "XXJL-2024-0123",
    "lead_name": "赵监理",
    "lead_certificate_no": "JLS-43-000987",
}
EVERY_CONDITION = [
    "approval",
    "contract",
    "supervisor",
    "third_party_software",
    "source_code",
    "database",
    "network_security",
    "mlps_filing",
]


def retrying(step, what, timeout=30):
    """``step()`` once the bureau it calls has heard what it needs (an event still on its way is
    refused with one of ``NOT_HEARD_YET``); bounded."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return step()
        except RemoteError as exc:
            if not str(exc.value).startswith(NOT_HEARD_YET) or time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def declare(suite, estimate, **overrides):
    project = sample_project(YEAR)
    project.update(
        name=overrides.pop("name"),
        estimated_investment=estimate,
        annual_investments=[{"year": YEAR, "amount": estimate}],
        **overrides,
    )
    pid = suite.rpc("unit:edu", "planning", "declare_project", project=project)["project_id"]
    suite.rpc("smart_office", "planning", "review_supplementary", project_id=pid, decision="approve", opinion="同意")
    suite.rpc("county_gov", "planning", "approve_supplementary", project_id=pid)
    return pid


def panel_review(suite, pid, budget):
    review = retrying(
        lambda: suite.rpc(
            "unit:edu",
            "review",
            "submit_construction_plan",
            project_id=pid,
            plan={"title": "建设方案", "document_ref": f"DOC-{pid}", "budget": budget},
        ),
        "review to learn the project is planned",
    )
    assert review["route"] == "expert_panel"
    experts = [
        suite.rpc(
            "data_center",
            "review",
            "register_expert",
            expert={"name": name, "level": level, "field": "信息化", "employer": "unit:yiyang_bdc"},
        )["expert_id"]
        for name, level in (("张三", "city"), ("李四", "provincial"), ("王五", "national"))
    ]
    suite.rpc("data_center", "review", "assign_experts", review_id=review["review_id"], expert_ids=experts)
    for expert_id in experts:
        suite.rpc(
            "data_center",
            "review",
            "record_expert_opinion",
            review_id=review["review_id"],
            expert_id=expert_id,
            verdict="pass",
            opinion="方案可行",
        )
    conclude(suite, review)


def center_review(suite, pid, budget):
    review = retrying(
        lambda: suite.rpc(
            "unit:edu",
            "review",
            "submit_construction_plan",
            project_id=pid,
            plan={"title": "采购方案", "document_ref": f"DOC-{pid}", "budget": budget},
        ),
        "review to learn the project is planned",
    )
    assert review["route"] == "center_opinion"
    conclude(suite, review)


def conclude(suite, review):
    pass_review(suite.rpc, review["project_id"], review["review_id"], "通过")


def filing(suite, pid):
    filed = retrying(lambda: suite.rpc("unit:edu", "review", "request_filing", project_id=pid), "the filing")
    assert (filed["route"], filed["status"]) == ("filing", "filed")


def approve(suite, pid, approval_type="approve"):
    retrying(
        lambda: suite.rpc("unit:edu", "approval", "apply_for_approval", project_id=pid, approval_type=approval_type),
        "approval to learn the project is planned",
    )
    wait_for(
        lambda: suite.rpc("drc", "approval", "get_approval", project_id=pid)["status"] == "ready",
        what="approval to learn the review passed",
    )
    suite.rpc("drc", "approval", "grant_approval", project_id=pid, opinion="同意立项")


def contract(suite, pid, amount):
    review_budget(suite, pid, amount)
    procurement = {"method": "open_tender", "supplier": "某科技公司", "amount": amount, "date": TODAY}
    suite.rpc("unit:edu", "finance", "register_procurement", project_id=pid, procurement=procurement)
    terms = {"contract_no": f"HT-{pid}", "vendor": "某科技公司", "amount": amount, "om_years": 3}
    suite.rpc(
        "unit:edu", "finance", "register_contract", project_id=pid, contract={**terms, "source_code_owner": "unit"}
    )


def readiness(suite, pid, org="unit:edu"):
    return suite.rpc(org, "review", "get_acceptance_readiness", project_id=pid)


def codes(answer):
    return [u["code"] for u in answer["unmet"]]


def supervise_and_test(suite, pid, kinds):
    retrying(
        lambda: suite.rpc("unit:edu", "review", "register_supervisor", project_id=pid, supervisor=SUPERVISOR),
        "review to learn the approval",
    )
    for n, kind in enumerate(kinds):
        report = {
            "kind": kind,
            "agency": "某软件评测中心（CMA、CNAS）",
            "report_no": f"CS-{pid[-6:]}-{n}",
            "passed": True,
        }
        suite.rpc("unit:edu", "review", "submit_test_report", project_id=pid, report=report)


def grade_and_file(suite, pid):
    retrying(
        lambda: suite.rpc("data_center", "security", "grade_system", project_id=pid, level=3, basis="定级报告（三级）"),
        "security to learn the project is planned",
    )
    suite.rpc(
        "data_center",
        "security",
        "file_grading",
        project_id=pid,
        filing_no=f"43010099999-{pid[-6:]}",
        evaluation_agency="湖南某等级保护测评中心",
    )


def accept(suite, pid):
    """Once review has heard every fact: pre-check requested, concluded, acceptance recorded."""
    wait_for(lambda: readiness(suite, pid)["ready"], what="review to hear the contract and the filing")
    suite.rpc("unit:edu", "review", "request_acceptance_precheck", project_id=pid)
    suite.rpc(
        "data_center",
        "review",
        "conclude_acceptance_precheck",
        project_id=pid,
        verdict="passed",
        opinion="建设内容与评审方案一致",
    )
    acceptance = {"date": TODAY, "passed": True, "minutes": "验收组审阅材料、现场测试，一致同意通过竣工验收"}
    accepted = suite.rpc("unit:edu", "review", "record_acceptance", project_id=pid, acceptance=acceptance)
    assert accepted["passed"] is True
    stage_becomes(suite, pid, "accepted")


def contracted_readiness(suite, pid):
    """The readiness once review has heard of the approval and the contract; None before."""
    answer = readiness(suite, pid)
    return None if {"approval", "contract"} & set(codes(answer)) else answer


def report_time(shape, started):
    seconds = time.monotonic() - started
    print(f"\nacceptance e2e: {shape}: declaration to accepted in {seconds:.2f} s")
    return seconds


def test_a_hosted_custom_software_system_with_an_expert_panel_to_acceptance(suite):
    suite.up(*ALL)
    started = time.monotonic()
    pid = declare(suite, "2500000.00", name="县域智慧教育云平台", custom_software=True, hosted_on_big_data_center=True)
    panel_review(suite, pid, "2500000.00")
    with pytest.raises(RemoteError) as err:  # every condition at once, not the first one
        suite.rpc("unit:edu", "review", "request_acceptance_precheck", project_id=pid)
    assert err.value.exc_type == "RuleViolation"
    assert err.value.value.startswith("ACCEPTANCE_CONDITIONS_UNMET: ")
    for code in EVERY_CONDITION:
        assert f"[{code}]" in err.value.value
    assert codes(readiness(suite, pid)) == EVERY_CONDITION
    approve(suite, pid)
    contract(suite, pid, "2400000.00")
    stage_becomes(suite, pid, "contracted")
    fresh = wait_for(lambda: contracted_readiness(suite, pid), what="review to hear the approval and the contract")
    print("\nreadiness of a freshly contracted major project:\n" + json.dumps(fresh, ensure_ascii=False, indent=2))
    assert codes(fresh) == EVERY_CONDITION[2:]
    assert readiness(suite, pid, "drc") == fresh
    with pytest.raises(RemoteError) as err:
        readiness(suite, pid, "unit:health")
    assert err.value.exc_type == "NotFound"

    supervise_and_test(suite, pid, ["third_party_software", "source_code", "database", "network_security"])
    grade_and_file(suite, pid)
    accept(suite, pid)
    report_time("2,500,000.00 custom software hosted on the Big Data Center (panel, four reports, MLPS)", started)
    types = timeline_types(suite, pid)
    steps = ["acceptance.precheck_requested", "acceptance.prechecked", "acceptance.passed"]
    assert [t for t in types if t in steps] == steps
    assert {"supervisor.registered", "test_report.submitted", "mlps.filed"} <= set(types)
    assert suite.http("planning", f"/public/projects/{pid}")["stage"] == "accepted"
    security_heard = (
        'nx_events_consumed_total{event_type="acceptance.passed",handler="on_acceptance_passed",outcome="applied"}'
    )
    wait_for(lambda: suite.metric("security", security_heard) >= 1, what="security to hear of the acceptance")


def test_a_hardware_purchase_with_the_centers_opinion_to_acceptance(suite):
    suite.up(*ALL)
    started = time.monotonic()
    pid = declare(
        suite, "800000.00", name="县会议室视频终端采购", custom_software=False, hosted_on_big_data_center=False
    )
    center_review(suite, pid, "800000.00")
    approve(suite, pid)
    contract(suite, pid, "780000.00")
    wait_for(lambda: codes(readiness(suite, pid)) == ["supervisor", "product"], what="review to hear the contract")
    supervise_and_test(suite, pid, ["product"])
    accept(suite, pid)
    report_time("800,000.00 hardware purchase (center opinion, supervision and a product report)", started)


def test_a_filing_to_acceptance(suite):
    suite.up(*ALL)
    started = time.monotonic()
    pid = declare(
        suite,
        "120000.00",
        name="县档案馆扫描设备购置",
        custom_software=False,
        hosted_on_big_data_center=False,
        requires_construction_plan=False,
    )
    filing(suite, pid)
    approve(suite, pid, approval_type="file")
    contract(suite, pid, "118000.00")
    supervise_and_test(suite, pid, ["product"])
    accept(suite, pid)
    report_time("120,000.00 filing (supervision and a product report)", started)


def test_nx_demo_drives_its_project_to_accepted(suite):
    suite.up(*ALL)
    nx = Path(sys.executable).with_name("nx")
    done = subprocess.run([str(nx), "demo"], env=suite.env, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert "pre-check requested and passed by the data center" in done.stdout
    assert f"accepted on {TODAY}: the system may go into operation" in done.stdout
    assert "stage accepted" in done.stdout.split("timeline of", 1)[1]
