"""Approval's service tests: the real container on a real broker (per-test vhost) and database, with
planning's and review's events delivered through the broker."""

import pytest
import requests
from sqlalchemy import func, select

from approval.models import outbox, reviews
from approval.service import ApprovalService
from nxshared.core.errors import Conflict, Forbidden, NotFound, RuleViolation, ValidationError
from nxshared.db import make_engine
from nxshared.testing import call, make_event
from nxshared.testing import deliver as deliver_to
from nxshared.testing import planned_event as shared_planned_event

PROJECT = "prj-0123456789ab"


@pytest.fixture
def approval(container_factory, service_config):
    container = container_factory(ApprovalService, service_config("approval", TODAY="2027-03-01"))
    container.start()
    return container


def handler_for(payload):
    return "on_project_planned" if payload["event_type"] == "project.planned" else "on_review_concluded"


def deliver(container, payload):
    return deliver_to(container, handler_for(payload), payload)


def planned_event(project_id=PROJECT, **data):
    return shared_planned_event(project_id, **data)


def review_event(outcome, review_id="rev-1", project_id=PROJECT):
    data = {"review_id": review_id, "route": "expert_panel", "opinion": "专家组评审意见"}
    return make_event(f"review.{outcome}", project_id, data)


def apply(container, org="unit:edu", project_id=PROJECT):
    return call(container, "apply_for_approval", org, project_id=project_id, approval_type="approve")


def grant(container, org="drc"):
    return call(container, "grant_approval", org, project_id=PROJECT, opinion="同意立项")


def scalar(container, query):
    engine = make_engine(container.config["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return conn.execute(query).scalar()
    finally:
        engine.dispose()


def test_application_lodged_before_the_review_is_unlocked_by_review_passed(approval):
    deliver(approval, planned_event())
    assert apply(approval)["status"] == "awaiting_review"
    with pytest.raises(RuleViolation) as err:
        grant(approval)
    assert str(err.value).startswith("REVIEW_NOT_PASSED: ")
    deliver(approval, review_event("passed"))
    assert call(approval, "get_approval", "unit:edu", project_id=PROJECT)["status"] == "ready"
    granted = grant(approval)
    assert granted["status"] == "granted"
    assert granted["approval_no"] == "南发改审〔2027〕001号"
    assert granted["review_id"] == "rev-1"
    emitted = select(func.count()).select_from(outbox).where(outbox.c.event_type == "approval.granted")
    assert scalar(approval, emitted) == 1


def test_review_known_before_the_plan_and_the_application_makes_it_ready_at_once(approval):
    deliver(approval, review_event("filed"))
    deliver(approval, planned_event())
    assert apply(approval)["status"] == "ready"


def test_the_same_review_event_twice_has_one_effect(approval):
    deliver(approval, planned_event())
    apply(approval)
    passed = deliver(approval, review_event("passed"))
    first = grant(approval)
    deliver(approval, passed)
    after = call(approval, "get_approval", "drc", project_id=PROJECT)
    assert (after["status"], after["approval_no"]) == ("granted", first["approval_no"])
    assert scalar(approval, select(func.count()).select_from(reviews)) == 1


def test_a_failed_review_keeps_the_application_locked(approval):
    deliver(approval, planned_event())
    apply(approval)
    deliver(approval, review_event("failed"))
    assert call(approval, "get_approval", "unit:edu", project_id=PROJECT)["status"] == "awaiting_review"
    with pytest.raises(RuleViolation, match="REVIEW_NOT_PASSED"):
        grant(approval)


@pytest.mark.parametrize("org", ["unit:edu", "data_center", "smart_office"])
def test_only_drc_may_grant(approval, org):
    deliver(approval, planned_event())
    deliver(approval, review_event("passed"))
    apply(approval)
    with pytest.raises(Forbidden):
        grant(approval, org=org)
    with pytest.raises(Forbidden):
        call(approval, "reject_approval", org, project_id=PROJECT, opinion="不予立项")


def test_unplanned_project_is_refused_with_a_clear_message(approval):
    with pytest.raises(RuleViolation) as err:
        apply(approval)
    assert str(err.value).startswith("NOT_IN_ANNUAL_PLAN: 审批服务尚未收到")
    with pytest.raises(NotFound):
        call(approval, "get_approval", "drc", project_id=PROJECT)


def test_owner_type_and_open_application_are_checked(approval):
    deliver(approval, planned_event())
    with pytest.raises(Forbidden, match="NOT_PROJECT_OWNER"):
        apply(approval, org="unit:health")
    with pytest.raises(ValidationError):
        call(approval, "apply_for_approval", "unit:edu", project_id=PROJECT, approval_type="bless")
    apply(approval)
    with pytest.raises(Conflict, match="APPLICATION_ALREADY_OPEN"):
        apply(approval)


def test_rejected_then_applied_again(approval):
    deliver(approval, planned_event())
    deliver(approval, review_event("passed"))
    apply(approval)
    rejected = call(approval, "reject_approval", "drc", project_id=PROJECT, opinion="材料不全")
    assert rejected["status"] == "rejected"
    with pytest.raises(Conflict, match="APPROVAL_ALREADY_DECIDED"):
        grant(approval)
    again = apply(approval)
    assert again["status"] == "ready"
    assert again["application_id"] != rejected["application_id"]
    assert grant(approval)["approval_no"] == "南发改审〔2027〕001号"


def test_approval_numbers_follow_each_other(approval):
    for n, project_id in enumerate(["prj-a", "prj-b"], start=1):
        deliver(approval, planned_event(project_id))
        deliver(approval, review_event("passed", f"rev-{n}", project_id))
        apply(approval, project_id=project_id)
        granted = call(approval, "grant_approval", "drc", project_id=project_id, opinion="同意")
        assert granted["approval_no"] == f"南发改审〔2027〕{n:03d}号"


def test_unified_project_is_applied_for_by_data_center_and_seen_by_its_unit_only(approval):
    deliver(approval, planned_event(construction_mode="unified"))
    with pytest.raises(Forbidden, match="NOT_PROJECT_OWNER"):
        apply(approval, org="unit:edu")
    apply(approval, org="data_center")
    assert call(approval, "get_approval", "unit:edu", project_id=PROJECT)["status"] == "awaiting_review"
    with pytest.raises(NotFound):
        call(approval, "get_approval", "unit:health", project_id=PROJECT)


def test_business_gauges(approval):
    deliver(approval, planned_event())
    apply(approval)
    text = requests.get(f"http://{approval.config['WEB_SERVER_ADDRESS']}/metrics", timeout=5).text
    assert "nx_approval_awaiting_review 1.0" in text
    assert 'nx_approval_applications{status="awaiting_review"} 1.0' in text
    assert 'nx_approval_applications{status="granted"} 0.0' in text
