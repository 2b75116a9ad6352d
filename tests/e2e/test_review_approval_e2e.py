"""Review and approval on a real broker: the first hand-off between two bureaus over events."""

import pytest

from nxshared.demo import pass_review

from .conftest import wait_for
from .flows import declare, plan, stage_becomes, timeline_types

pytestmark = pytest.mark.e2e
ALL = ("planning", "review", "approval")


def planned_project(suite, **overrides):
    pid = declare(suite, **overrides)
    plan(suite, pid)
    stage_becomes(suite, pid, "planned")
    return pid


def apply(suite, pid):
    return wait_for(
        lambda: suite.rpc("unit:edu", "approval", "apply_for_approval", project_id=pid, approval_type="approve"),
        what="approval to learn the project is planned",
    )


def submit(suite, pid, budget):
    plan_doc = {"title": "建设方案", "document_ref": "DOC-1", "budget": budget}
    return wait_for(
        lambda: suite.rpc("unit:edu", "review", "submit_construction_plan", project_id=pid, plan=plan_doc),
        what="review to learn the project is planned",
    )


def panel(suite, review_id, verdict="pass"):
    experts = [
        suite.rpc(
            "data_center",
            "review",
            "register_expert",
            expert={"name": f"专家{level}", "level": level, "field": "信息化", "employer": "unit:other"},
        )["expert_id"]
        for level in ("city", "provincial", "national")
    ]
    suite.rpc("data_center", "review", "assign_experts", review_id=review_id, expert_ids=experts)
    for expert_id in experts:
        suite.rpc(
            "data_center",
            "review",
            "record_expert_opinion",
            review_id=review_id,
            expert_id=expert_id,
            verdict=verdict,
            opinion="意见",
        )


def approval_status(suite, pid):
    return suite.rpc("drc", "approval", "get_approval", project_id=pid)["status"]


def grant(suite, pid):
    wait_for(lambda: approval_status(suite, pid) == "ready", what="approval to become ready")
    return suite.rpc("drc", "approval", "grant_approval", project_id=pid, opinion="同意立项")


def test_expert_panel_review_then_approval(suite):
    from nameko.exceptions import RemoteError

    suite.up(*ALL)
    pid = planned_project(suite)
    assert apply(suite, pid)["status"] == "awaiting_review"
    review = submit(suite, pid, "2500000.00")
    assert review["route"] == "expert_panel"
    with pytest.raises(RemoteError) as err:
        suite.rpc("drc", "approval", "grant_approval", project_id=pid, opinion="too early")
    assert err.value.exc_type == "RuleViolation" and err.value.value.startswith("REVIEW_NOT_PASSED: ")
    panel(suite, review["review_id"])
    pass_review(suite.rpc, review["project_id"], review["review_id"], "通过")
    granted = grant(suite, pid)
    assert granted["status"] == "granted" and granted["approval_no"]
    stage_becomes(suite, pid, "approved")
    assert timeline_types(suite, pid) == [
        "project.declared",
        "plan.compiled",
        "plan.concurred",
        "plan.concurred",
        "plan.approved",
        "project.planned",
        "approval.applied",
        "review.submitted",
        "review.panel_assigned",
        *["review.opinion_recorded"] * 3,
        "review.passed",
        "approval.granted",
    ]


def test_center_opinion_review_then_approval(suite):
    suite.up(*ALL)
    pid = planned_project(suite, estimated_investment="1000000.00")
    review = submit(suite, pid, "1000000.00")
    assert review["route"] == "center_opinion"
    pass_review(suite.rpc, review["project_id"], review["review_id"], "通过")
    apply(suite, pid)
    grant(suite, pid)
    stage_becomes(suite, pid, "approved")


def test_filing_then_approval(suite):
    suite.up(*ALL)
    pid = planned_project(suite, estimated_investment="200000.00", requires_construction_plan=False)
    filed = wait_for(lambda: suite.rpc("unit:edu", "review", "request_filing", project_id=pid), what="filing")
    assert (filed["route"], filed["status"]) == ("filing", "filed")
    apply(suite, pid)
    grant(suite, pid)
    stage_becomes(suite, pid, "approved")


def test_a_failed_review_keeps_approval_locked(suite):
    suite.up(*ALL)
    pid = planned_project(suite, estimated_investment="1000000.00")
    apply(suite, pid)
    review = submit(suite, pid, "1000000.00")
    suite.rpc(
        "data_center", "review", "conclude_review", review_id=review["review_id"], verdict="failed", opinion="不通过"
    )
    stage_becomes(suite, pid, "review_failed")
    wait_for(
        lambda: (
            "review.failed"
            in [
                e["event_type"] for e in suite.rpc("smart_office", "planning", "get_timeline", project_id=pid)["events"]
            ]
        ),
        what="failed on the timeline",
    )
    assert (
        suite.metric(
            "approval",
            'nx_events_consumed_total{event_type="review.failed",handler="on_review_concluded",outcome="applied"}',
        )
        == 1
    )
    assert approval_status(suite, pid) == "awaiting_review"


def test_approval_stopped_while_the_review_passes_still_unlocks(suite):
    suite.up(*ALL)
    pid = planned_project(suite, estimated_investment="1000000.00")
    apply(suite, pid)
    suite.down("approval")
    review = submit(suite, pid, "1000000.00")
    pass_review(suite.rpc, review["project_id"], review["review_id"], "通过")
    stage_becomes(suite, pid, "reviewed")
    suite.up("approval")
    grant(suite, pid)
    stage_becomes(suite, pid, "approved")


def test_an_event_published_before_its_consumer_ever_started_is_consumed(suite):
    suite.up("planning")  # declares approval's queue, though approval has never run
    pid = planned_project(suite)
    suite.up("approval", "review")
    assert apply(suite, pid)["status"] == "awaiting_review"
