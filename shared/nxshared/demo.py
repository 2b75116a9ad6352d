"""``nx demo``: one sample project driven through the contract, as far as the running services go:
from its declaration to its first disbursement, its system graded and filed under MLPS by the data
center (Art 24; the sample project is hosted on the Big Data Center), then supervised, tested,
pre-checked and accepted (Art 19–21; a custom-software project reviewed by an expert panel, so all
four third-party reports); finally audited (Art 26–27): the audit bureau's case, opened when the
acceptance arrived, gets a finding and is closed, and the project's trail is verified.

It uses a supplementary project (Art 9), which can be declared any day of the year, so the demo
does not depend on the December declaration window.
"""

import datetime as dt
import os
import time

from nameko.exceptions import RemoteError, UnknownService

WAIT_SECONDS = 20
# refusals that only mean "this bureau has not heard the news yet": the demo asks again
NOT_HEARD_YET = ("NOT_IN_ANNUAL_PLAN", "APPROVAL_NOT_GRANTED")


class StopDemo(Exception):
    pass


def pass_review(rpc, project_id, review_id, opinion):
    """The data center concludes the review as passed; when the plan resembles a project the county
    already has (Art 12, ``DUPLICATES_NOT_ACKNOWLEDGED``), it first acknowledges the matches, as the
    center does once it has found them to be no duplicates. ``rpc(org, service, method, **kwargs)``."""
    try:
        return rpc("data_center", "review", "conclude_review", review_id=review_id, verdict="passed", opinion=opinion)
    except RemoteError as exc:
        if not str(exc.value).startswith("DUPLICATES_NOT_ACKNOWLEDGED"):
            raise
    rpc("data_center", "review", "acknowledge_duplicates", project_id=project_id, comment="经核实，不属于重复建设")
    return rpc("data_center", "review", "conclude_review", review_id=review_id, verdict="passed", opinion=opinion)


def _today():
    return dt.date.fromisoformat(os.environ["NX_TODAY"]) if os.environ.get("NX_TODAY") else dt.date.today()


def sample_project(year):
    return {
        "name": "县域智慧教育云平台（演示）",
        "unit": "unit:edu",
        "category": "e_government",
        "construction_mode": "self_built",
        "investment_mode": "government",
        "plan_year": year,
        "plan_type": "supplementary",
        "higher_level_requirement": "省教育厅关于推进教育数字化的通知（演示）",
        "basis": "县教育信息化行动计划",
        "summary": "建设覆盖全县中小学的教育管理与服务平台",
        "estimated_investment": "2500000.00",
        "funding_source": "县级财政",
        "annual_investments": [{"year": year, "amount": "2500000.00"}],
        "requires_construction_plan": True,
        "custom_software": True,
    }


def until(step, accept, what):
    """Retry ``step`` while the answer is not yet what the next bureau needs (events take a moment)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            result = step()
            if accept(result):
                return result
        except RemoteError as exc:
            if not str(exc.value).startswith(NOT_HEARD_YET) or time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise StopDemo(f"gave up waiting for {what}")
        time.sleep(0.3)


def run_demo(client_cls, print_step):
    clients = {}

    def rpc(org, service, method, **kwargs):
        if org not in clients:
            clients[org] = client_cls(org, sub="demo")
        try:
            return clients[org].call(service, method, **kwargs)
        except UnknownService:
            raise StopDemo(f"the {service} service is not running; the demo stops here") from None

    try:
        _drive(rpc, print_step)
    except StopDemo as stop:
        print_step(str(stop))
    finally:
        for client in clients.values():
            client.close()


def _drive(rpc, say):
    year = _today().year
    project = rpc("unit:edu", "planning", "declare_project", project=sample_project(year))
    pid = project["project_id"]
    say(f"declared {pid} ({project['name']}, {project['estimated_investment']} 元)")
    rpc(
        "smart_office",
        "planning",
        "review_supplementary",
        project_id=pid,
        decision="approve",
        opinion="同意列入增补计划",
    )
    rpc("county_gov", "planning", "approve_supplementary", project_id=pid)
    say("smart office agreed, county government approved: planned (supplementary plan)")

    applied = until(
        lambda: rpc("unit:edu", "approval", "apply_for_approval", project_id=pid, approval_type="approve"),
        lambda r: True,
        "approval to learn the project is planned",
    )
    say(f"applied for approval early: {applied['status']}")
    review = until(
        lambda: rpc(
            "unit:edu",
            "review",
            "submit_construction_plan",
            project_id=pid,
            plan={"title": "建设方案", "document_ref": "DOC-DEMO-1", "budget": "2500000.00"},
        ),
        lambda r: True,
        "review to learn the project is planned",
    )
    rid = review["review_id"]
    say(f"construction plan submitted: review {rid}, route {review['route']}")
    experts = [
        rpc(
            "data_center",
            "review",
            "register_expert",
            expert={"name": name, "level": level, "field": "信息化", "employer": "unit:yiyang_bdc"},
        )["expert_id"]
        for name, level in (("张三", "city"), ("李四", "provincial"), ("王五", "national"))
    ]
    rpc("data_center", "review", "assign_experts", review_id=rid, expert_ids=experts)
    for expert_id in experts:
        rpc(
            "data_center",
            "review",
            "record_expert_opinion",
            review_id=rid,
            expert_id=expert_id,
            verdict="pass",
            opinion="方案可行",
        )
    pass_review(rpc, pid, rid, "专家组评审通过")
    say("expert panel of three: passed")

    until(
        lambda: rpc("drc", "approval", "get_approval", project_id=pid),
        lambda r: r["status"] == "ready",
        "the review result to reach approval",
    )
    granted = rpc("drc", "approval", "grant_approval", project_id=pid, opinion="同意立项")
    say(f"DRC granted approval {granted['approval_no']}")
    _fund(rpc, say, pid)
    _secure(rpc, say, pid)
    _accept(rpc, say, pid)
    timeline = until(
        lambda: rpc("smart_office", "planning", "get_timeline", project_id=pid),
        lambda t: (
            t["stage"] == "accepted" and {"funds.disbursed", "mlps.filed"} <= {e["event_type"] for e in t["events"]}
        ),
        "the timeline to show the first disbursement, the MLPS filing and the acceptance",
    )
    say(f"timeline of {pid}: stage {timeline['stage']}")
    for entry in timeline["events"]:
        say(f"  {entry['occurred_at']}  {entry['event_type']}")
    _audit(rpc, say, pid)


def _fund(rpc, say, pid):
    """Finance: the budget (Art 14), procurement and contract (Art 15–17), the first payment."""
    budget = until(
        lambda: rpc(
            "finance", "finance", "review_budget", project_id=pid, approved_amount="2400000.00", opinion="预算评审通过"
        ),
        lambda r: True,
        "finance to learn the project is approved",
    )
    say(f"finance approved a budget of {budget['approved_budget']} 元")
    procurement = {"method": "open_tender", "supplier": "某信息技术有限公司", "amount": "2350000.00"}
    procurement["date"] = _today().isoformat()
    rpc("unit:edu", "finance", "register_procurement", project_id=pid, procurement=procurement)
    say("open tender registered: 2350000.00 元")
    contract = {
        "contract_no": f"HT-DEMO-{pid[-6:]}",
        "vendor": "某信息技术有限公司",
        "amount": "2350000.00",
        "om_years": 3,
        "source_code_owner": "unit",
    }
    signed = rpc("unit:edu", "finance", "register_contract", project_id=pid, contract=contract)
    say(f"contract {signed['contract_no']} registered, O&M until {signed['om_ends_on']}")
    paid = rpc("finance", "finance", "disburse", project_id=pid, amount="705000.00", purpose="合同首付款（30%）")
    say(f"first disbursement: {paid['amount']} 元 of {paid['approved_budget']} 元")


def _secure(rpc, say, pid):
    """Security: the data center grades the hosted system and files the grade (Art 24)."""
    graded = until(
        lambda: rpc(
            "data_center",
            "security",
            "grade_system",
            project_id=pid,
            level=2,
            basis="定级报告：业务信息安全保护等级二级，系统服务安全保护等级二级（演示）",
        ),
        lambda r: True,
        "security to learn the project is planned",
    )
    say(f"data center graded the system: MLPS level {graded['level']}")
    filed = rpc(
        "data_center",
        "security",
        "file_grading",
        project_id=pid,
        filing_no=f"43010099999-{pid[-6:]}",
        evaluation_agency="某网络安全等级保护测评中心（演示）",
    )
    say(f"MLPS grade filed: {filed['filing_no']} ({filed['evaluation_agency']})")


REPORT_KINDS = ("third_party_software", "source_code", "database", "network_security")


def _accept(rpc, say, pid):
    """Review: the supervisor (Art 19), the test reports (Art 20), the data center's pre-check and
    the acceptance (Art 21), once review has heard of the contract and the MLPS filing (Art 24)."""
    supervisor = {
        "company": "某信息工程监理有限公司（演示）",
        "qualification_no": "XXJL-DEMO-001",
        "lead_name": "赵监理",
        "lead_certificate_no": "JLS-DEMO-001",
    }
    until(
        lambda: rpc("unit:edu", "review", "register_supervisor", project_id=pid, supervisor=supervisor),
        lambda r: True,
        "review to hear of the approval",
    )
    say(f"supervisor registered: {supervisor['company']}")
    for n, kind in enumerate(REPORT_KINDS):
        report = {"kind": kind, "agency": "某软件评测中心（演示）", "report_no": f"CS-DEMO-{n + 1}", "passed": True}
        rpc("unit:edu", "review", "submit_test_report", project_id=pid, report=report)
    say(f"test reports submitted: {', '.join(REPORT_KINDS)}")
    until(
        lambda: rpc("unit:edu", "review", "get_acceptance_readiness", project_id=pid),
        lambda r: r["ready"],
        "review to hear of the contract and the MLPS filing",
    )
    rpc("unit:edu", "review", "request_acceptance_precheck", project_id=pid)
    rpc(
        "data_center",
        "review",
        "conclude_acceptance_precheck",
        project_id=pid,
        verdict="passed",
        opinion="建设内容与评审方案一致（演示）",
    )
    say("pre-check requested and passed by the data center")
    acceptance = {"date": _today().isoformat(), "passed": True, "minutes": "验收组一致同意通过竣工验收（演示）"}
    accepted = rpc("unit:edu", "review", "record_acceptance", project_id=pid, acceptance=acceptance)
    say(f"accepted on {accepted['date']}: the system may go into operation")


def _audit(rpc, say, pid):
    """Audit: the case opened on the acceptance (Art 26), what the trail shows (Art 27), a finding,
    the conclusion; then the project's trail re-checked."""
    cases = until(
        lambda: rpc("audit", "audit", "list_cases", status="open"),
        lambda found: any(c["project_id"] == pid for c in found),
        "audit to open the case on the acceptance",
    )
    case_id = next(c["case_id"] for c in cases if c["project_id"] == pid)
    say(f"audit case {case_id} opened on the acceptance")
    anomalies = rpc("audit", "audit", "list_anomalies", project_id=pid)
    say(f"anomalies on the trail: {len(anomalies)}")
    for anomaly in anomalies:
        say(f"  {anomaly['rule']} ({anomaly['article']}): {', '.join(anomaly['event_ids'])}")
    rpc(
        "audit",
        "audit",
        "record_finding",
        case_id=case_id,
        severity="low",
        description="验收资料归档目录不完整（演示）",
    )
    closed = rpc("audit", "audit", "close_case", case_id=case_id, conclusion="资金使用合规，建设程序完整（演示）")
    say(f"audit case closed with {len(closed['findings'])} finding(s): {closed['conclusion']}")
    timeline = until(
        lambda: rpc("smart_office", "planning", "get_timeline", project_id=pid),
        lambda t: t["stage"] == "audited",
        "the timeline to show the audit closed",
    )
    say(f"timeline of {pid}: stage {timeline['stage']}")
    until(
        lambda: rpc("audit", "audit", "get_trail", project_id=pid),
        lambda trail: "audit.closed" in {e["event_type"] for e in trail},
        "the trail to record the case closed",
    )
    verified = rpc("audit", "audit", "verify_trail", project_id=pid)
    say(
        f"verify_trail {pid}: ok {verified['ok']}, {verified['entries']} entries, first_bad {verified['first_bad']}, "
        f"head {verified['head'][:16]}…"
    )
