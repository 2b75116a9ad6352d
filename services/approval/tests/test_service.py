"""Approval's service tests: the real container on a real broker (per-test vhost) and database, with
planning's and review's events delivered through the broker."""

import pytest
import requests
from nameko.testing.services import entrypoint_hook
from sqlalchemy import func, select

from approval.models import applications, outbox, projects, reviews
from approval.service import ApprovalService
from nxshared.core.errors import Conflict, Forbidden, NotFound, RuleViolation, ValidationError
from nxshared.db import make_engine
from nxshared.testing import bearer, call, make_event, schema_drift
from nxshared.testing import deliver as deliver_to
from nxshared.testing import planned_event as shared_planned_event

PROJECT = "prj-0123456789ab"


@pytest.fixture
def approval(container_factory, service_config):
    container = container_factory(ApprovalService, service_config("approval", TODAY="2027-03-01"))
    container.start()
    return container


HANDLERS = {"project.planned": "on_project_planned", "change.approved": "on_change_approved"}


def handler_for(payload):
    return HANDLERS.get(payload["event_type"], "on_review_concluded")


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


def test_a_conclusion_told_again_in_another_event_is_recorded_once(approval):
    deliver(approval, planned_event())
    apply(approval)
    deliver(approval, review_event("passed"))
    deliver(approval, review_event("passed"))  # the same review, a new event id
    assert scalar(approval, select(func.count()).select_from(reviews)) == 1
    assert call(approval, "get_approval", "unit:edu", project_id=PROJECT)["status"] == "ready"


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
    with pytest.raises(NotFound, match="PROJECT_NOT_FOUND"):
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


# --- visibility (Art 4, 25) -------------------------------------------------------------------


def test_another_units_project_is_not_found_and_nothing_of_it_is_told(approval):
    deliver(approval, planned_event())
    apply(approval)
    for method, kwargs in [("apply_for_approval", {"approval_type": "approve"}), ("get_approval", {})]:
        with pytest.raises(NotFound) as err:
            call(approval, method, "unit:health", project_id=PROJECT, **kwargs)
        assert str(err.value).startswith("PROJECT_NOT_FOUND: ")
        assert "unit:edu" not in str(err.value) and "智慧教育平台" not in str(err.value)


def test_a_classified_project_is_hidden_from_bureaus_outside_classified_visible_to(container_factory, service_config):
    config = service_config("approval", TODAY="2027-03-01", CLASSIFIED_VISIBLE_TO="smart_office,data_center")
    container = container_factory(ApprovalService, config)
    container.start()
    deliver(container, planned_event(classified=True))
    deliver(container, review_event("passed"))
    assert apply(container)["status"] == "ready"
    assert call(container, "get_approval", "smart_office", project_id=PROJECT)["status"] == "ready"
    for method, kwargs in [
        ("get_approval", {}),
        ("grant_approval", {"opinion": "同意"}),
        ("reject_approval", {"opinion": "否"}),
    ]:
        with pytest.raises(NotFound, match="PROJECT_NOT_FOUND"):
            call(container, method, "drc", project_id=PROJECT, **kwargs)
    with pytest.raises(NotFound, match="PROJECT_NOT_FOUND"):
        call(container, "get_approval", "finance", project_id=PROJECT)
    assert call(container, "get_approval", "unit:edu", project_id=PROJECT)["status"] == "ready"


def test_the_default_setting_lets_the_drc_decide_on_a_classified_project(approval):
    deliver(approval, planned_event(classified=True))
    deliver(approval, review_event("passed"))
    apply(approval)
    assert grant(approval)["status"] == "granted"


# --- the planned estimate (Art 12, 18) ----------------------------------------------------------


def test_the_planned_estimate_follows_an_approved_change_into_the_grant_event(approval):
    deliver(approval, planned_event(estimated_investment="2500000.00"))
    assert apply(approval)["estimated_investment"] == "2500000.00"
    change = {"change_id": "chg-1", "opinion": "同意变更", "estimated_investment": "9000000.00"}
    deliver(approval, make_event("change.approved", PROJECT, change))
    deliver(
        approval, make_event("change.approved", PROJECT, {**change, "change_id": "chg-2", "estimated_investment": None})
    )
    assert call(approval, "get_approval", "unit:edu", project_id=PROJECT)["estimated_investment"] == "9000000.00"
    deliver(approval, review_event("passed"))
    assert grant(approval)["estimated_investment"] == "9000000.00"
    payload = scalar(approval, select(outbox.c.payload).where(outbox.c.event_type == "approval.granted"))
    assert (payload["version"], payload["data"]["estimated_investment"]) == (2, "9000000.00")


# --- records (Art 27) ---------------------------------------------------------------------------


def call_as(container, method, org, sub, **kwargs):
    with entrypoint_hook(container, method, context_data={"authorization": bearer(org, sub=sub)}) as hook:
        return hook(**kwargs)


def test_who_applied_and_who_decided_keep_the_person_however_long(approval):
    unit = "unit:" + "e" * 59  # the longest org code
    applicant, decider = "李" * 128, "w" * 128  # the longest sub a token may carry
    deliver(approval, planned_event(unit=unit))
    deliver(approval, review_event("passed"))
    applied = call_as(approval, "apply_for_approval", unit, applicant, project_id=PROJECT, approval_type="approve")
    assert applied["applied_by"] == f"{applicant}@{unit}"
    granted = call_as(approval, "grant_approval", "drc", decider, project_id=PROJECT, opinion="同意立项")
    assert granted["decided_by"] == f"{decider}@drc"
    stored = scalar(approval, select(applications.c.applied_by + "|" + applications.c.decided_by))
    assert stored == f"{applicant}@{unit}|{decider}@drc"


# --- bad input ----------------------------------------------------------------------------------

BAD_PROJECT_IDS = [123, None, ["prj-1"], "", "   ", " prj-1", "prj-1\n", "p" * 65]


def row_counts(container):
    return [scalar(container, select(func.count()).select_from(t)) for t in (projects, applications, outbox)]


@pytest.mark.parametrize("project_id", BAD_PROJECT_IDS, ids=repr)
def test_a_bad_project_id_is_refused_naming_the_field_and_nothing_is_stored(approval, project_id):
    deliver(approval, planned_event())
    before = row_counts(approval)
    calls = [
        ("apply_for_approval", "unit:edu", {"approval_type": "approve"}),
        ("grant_approval", "drc", {"opinion": "同意"}),
        ("reject_approval", "drc", {"opinion": "不同意"}),
        ("get_approval", "drc", {}),
    ]
    for method, org, kwargs in calls:
        with pytest.raises(ValidationError) as err:
            call(approval, method, org, project_id=project_id, **kwargs)
        assert "project_id" in str(err.value)
    assert row_counts(approval) == before


@pytest.mark.parametrize("opinion", [None, 5, "", "  \n ", "意" * 5001], ids=repr)
def test_a_bad_opinion_is_refused_naming_the_field_and_nothing_changes(approval, opinion):
    deliver(approval, planned_event())
    deliver(approval, review_event("passed"))
    apply(approval)
    before = row_counts(approval)
    for method in ("grant_approval", "reject_approval"):
        with pytest.raises(ValidationError) as err:
            call(approval, method, "drc", project_id=PROJECT, opinion=opinion)
        assert "opinion" in str(err.value)
    assert row_counts(approval) == before
    assert call(approval, "get_approval", "drc", project_id=PROJECT)["status"] == "ready"


@pytest.mark.parametrize("approval_type", [None, 1, "", "APPROVE", "approve ", "bless"], ids=repr)
def test_an_unknown_approval_type_is_refused_naming_the_field(approval, approval_type):
    deliver(approval, planned_event())
    with pytest.raises(ValidationError) as err:
        call(approval, "apply_for_approval", "unit:edu", project_id=PROJECT, approval_type=approval_type)
    assert "approval_type" in str(err.value)
    assert scalar(approval, select(func.count()).select_from(applications)) == 0


# --- migrations ---------------------------------------------------------------------------------


def test_the_migrated_schema_matches_the_models(service_config):
    """0002 widens the actor columns and adds the estimates: the migrated tables are the models'."""
    from approval.models import metadata

    assert schema_drift(service_config("approval")["DATABASE_URL"], metadata) == []
