"""Finance on a real broker: from declaration to the last disbursement, the source-code exception
register fed by a contract, and finance catching up on an approval granted while it was down."""

import time

import pytest
from nameko.exceptions import RemoteError

from nxshared.demo import pass_review

from .conftest import wait_for
from .flows import declare, plan, stage_becomes, timeline_types

pytestmark = pytest.mark.e2e
ALL = ("planning", "review", "approval", "finance")
ESTIMATE = "1000000.00"  # a center-opinion review: the shortest way to an approval
NOT_YET = ("NOT_IN_ANNUAL_PLAN", "APPROVAL_NOT_GRANTED")  # finance has not heard yet


def reviewed(suite):
    """A planned project whose review passed and whose application waits for the DRC."""
    pid = declare(suite, estimated_investment=ESTIMATE)
    plan(suite, pid)
    stage_becomes(suite, pid, "planned")
    plan_doc = {"title": "建设方案", "document_ref": "DOC-1", "budget": ESTIMATE}
    review = wait_for(
        lambda: suite.rpc("unit:edu", "review", "submit_construction_plan", project_id=pid, plan=plan_doc),
        what="review to learn the project is planned",
    )
    pass_review(suite.rpc, review["project_id"], review["review_id"], "通过")
    wait_for(
        lambda: suite.rpc("unit:edu", "approval", "apply_for_approval", project_id=pid, approval_type="approve"),
        what="approval to learn the project is planned",
    )
    wait_for(
        lambda: suite.rpc("drc", "approval", "get_approval", project_id=pid)["status"] == "ready",
        what="approval to learn the review passed",
    )
    return pid


def grant(suite, pid):
    suite.rpc("drc", "approval", "grant_approval", project_id=pid, opinion="同意立项")


def review_budget(suite, pid, amount, timeout=30):
    """Finance reviews the budget as soon as it has learned that the project is planned and approved."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return suite.rpc(
                "finance", "finance", "review_budget", project_id=pid, approved_amount=amount, opinion="同意"
            )
        except RemoteError as exc:
            if not exc.value.startswith(NOT_YET) or time.monotonic() > deadline:
                raise
        time.sleep(0.1)


def test_from_declaration_to_the_last_disbursement(suite):
    suite.up(*ALL)
    pid = reviewed(suite)
    grant(suite, pid)
    assert review_budget(suite, pid, "900000.00")["approved_budget"] == "900000.00"
    stage_becomes(suite, pid, "budgeted")
    procurement = {"method": "open_tender", "supplier": "某科技公司", "amount": "880000.00", "date": "2027-01-20"}
    suite.rpc("unit:edu", "finance", "register_procurement", project_id=pid, procurement=procurement)
    contract = {
        "contract_no": "HT-E2E-001",
        "vendor": "某科技公司",
        "amount": "880000.00",
        "om_years": 3,
        "source_code_owner": "vendor",
    }
    suite.rpc("unit:edu", "finance", "register_contract", project_id=pid, contract=contract)
    stage_becomes(suite, pid, "contracted")
    register = wait_for(
        lambda: [e for e in suite.rpc("smart_office", "planning", "list_ip_exceptions") if e["project_id"] == pid],
        what="the contract in the source-code exception register",
    )
    assert [(e["contract_no"], e["vendor"], e["source_code_owner"], e["unit"]) for e in register] == [
        ("HT-E2E-001", "某科技公司", "vendor", "unit:edu")
    ]
    for amount in ("300000.00", "300000.00", "299999.99", "0.01"):
        suite.rpc("finance", "finance", "disburse", project_id=pid, amount=amount, purpose="进度款")
    with pytest.raises(RemoteError) as err:
        suite.rpc("finance", "finance", "disburse", project_id=pid, amount="0.01", purpose="超额")
    assert err.value.exc_type == "RuleViolation" and err.value.value.startswith("OVER_BUDGET: ")
    ledger = suite.rpc("unit:edu", "finance", "get_ledger", project_id=pid)
    assert (ledger["approved_budget"], ledger["disbursed_total"]) == ("900000.00", "900000.00")
    assert len(ledger["disbursements"]) == 4 and ledger["contract"]["contract_no"] == "HT-E2E-001"
    with pytest.raises(RemoteError) as err:
        suite.rpc("unit:health", "finance", "get_ledger", project_id=pid)
    assert err.value.exc_type == "NotFound"
    wait_for(lambda: timeline_types(suite, pid).count("funds.disbursed") == 4, what="disbursements on the timeline")
    assert timeline_types(suite, pid)[-8:] == [
        "budget.approved",
        "procurement.registered",
        "contract.registered",
        "contract.ip_exception_reported",
        "funds.disbursed",
        "funds.disbursed",
        "funds.disbursed",
        "funds.disbursed",
    ]
    public = suite.http("planning", f"/public/projects/{pid}")
    assert public["contract"] == {
        "contract_no": "HT-E2E-001",
        "vendor": "某科技公司",
        "amount": "880000.00",
        "om_years": 3,
        "signed_on": "2026-12-15",
        "om_ends_on": "2029-12-15",
    }
    rated_from_the_timeline(suite, pid)


def rated_from_the_timeline(suite, pid):
    """Issue 24: the project fully disbursed within its budget and contracted in its plan year is
    rated 1; an unauthorized change reported by the data center raises it, with the reason."""
    assert suite.rpc("unit:edu", "planning", "get_risk", project_id=pid)["reasons"] == []
    report = suite.rpc(
        "data_center", "planning", "report_unauthorized_change", project_id=pid, description="擅自增加服务器"
    )
    risk = suite.rpc("unit:edu", "planning", "get_risk", project_id=pid)
    assert risk == {
        "project_id": pid,
        "rating": 3,
        "computed_rating": 3,
        "reasons": [
            {
                "code": "UNAUTHORIZED_CHANGE",
                "text": "有 1 项擅自变更尚未处理（第十八条）",
                "evidence": {"report_ids": [report["report_id"]]},
            }
        ],
        "override": None,
    }
    wait_for(  # the public side may still hold the page it served a moment ago (PUBLIC_CACHE_SECONDS)
        lambda: suite.http("planning", f"/public/projects/{pid}")["risk"]["reasons"] == risk["reasons"],
        what="the rating on the public page",
    )


def test_finance_stopped_while_the_approval_is_granted_catches_up(suite):
    suite.up(*ALL)
    pid = reviewed(suite)
    suite.down("finance")
    grant(suite, pid)
    stage_becomes(suite, pid, "approved")
    suite.up("finance")
    assert review_budget(suite, pid, ESTIMATE)["stage"] == "budgeted"
    stage_becomes(suite, pid, "budgeted")
