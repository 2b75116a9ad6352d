"""Review's service tests: the real container on a real broker (per-test vhost) and database.
Projects become known as planned only through a real ``project.planned`` event."""

import time

import eventlet
import pytest
from sqlalchemy import func, select

from nxshared.catalog import REGISTRY
from nxshared.core.errors import Conflict, Forbidden, NotFound, RuleViolation, ValidationError
from nxshared.db import INBOX, OUTBOX, make_engine
from nxshared.metrics import registry_for
from nxshared.testing import call, deliver, planned_event
from review.service import ReviewService

from .factories import construction_plan, expert


@pytest.fixture
def config(service_config):
    return service_config("review")


@pytest.fixture
def review(container_factory, config):
    container = container_factory(ReviewService, config)
    container.start()
    return container


def planned(container, config, **data):
    return deliver(container, "on_project_planned", planned_event(**data))["project_id"]


def submit(container, project_id, budget="2500000.00", org="unit:edu"):
    return call(container, "submit_construction_plan", org, project_id=project_id, plan=construction_plan(budget))


def register(container, *experts):
    return [call(container, "register_expert", "data_center", expert=e)["expert_id"] for e in experts]


def published(config, event_type, timeout=10):
    """The events of ``event_type`` in the outbox, once the relay has published every one of them."""
    engine = make_engine(config["DATABASE_URL"])
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as conn:
                rows = conn.execute(select(OUTBOX).where(OUTBOX.c.event_type == event_type).order_by(OUTBOX.c.id)).all()
            if (rows and all(r.sent_at for r in rows)) or time.monotonic() > deadline:
                return [REGISTRY.decode(r.payload) for r in rows if r.sent_at]
            eventlet.sleep(0.05)
    finally:
        engine.dispose()


def test_review_before_the_planned_event_is_refused_and_says_retry(review, config):
    with pytest.raises(RuleViolation) as err:
        submit(review, "prj-not-yet")
    assert str(err.value).startswith("NOT_IN_ANNUAL_PLAN: ")
    assert "稍后重试" in str(err.value)
    with pytest.raises(RuleViolation):
        call(review, "request_filing", "unit:edu", project_id="prj-not-yet")
    assert submit(review, planned(review, config, project_id="prj-not-yet"))["status"] == "under_review"


def test_expert_panel_from_submission_to_passed(review, config):
    project_id = planned(review, config)
    experts = register(review, expert("甲"), expert("乙", "provincial"), expert("丙", "national"))
    insider = register(review, expert("丁", employer="unit:edu"))
    submitted = submit(review, project_id, budget="2000000.00")
    assert (submitted["route"], submitted["budget"]) == ("expert_panel", "2000000.00")
    review_id = submitted["review_id"]
    with pytest.raises(RuleViolation, match="EXPERT_CONFLICT"):
        call(review, "assign_experts", "data_center", review_id=review_id, expert_ids=experts[:2] + insider)
    call(review, "assign_experts", "data_center", review_id=review_id, expert_ids=experts)
    with pytest.raises(RuleViolation, match="PANEL_OPINIONS_INCOMPLETE"):
        call(review, "conclude_review", "data_center", review_id=review_id, verdict="passed", opinion="通过")
    for expert_id, verdict in zip(experts, ["pass", "conditional", "pass"], strict=True):
        call(
            review,
            "record_expert_opinion",
            "data_center",
            review_id=review_id,
            expert_id=expert_id,
            verdict=verdict,
            opinion="意见",
        )
    passed = call(review, "conclude_review", "data_center", review_id=review_id, verdict="passed", opinion="同意建设")
    assert passed["status"] == "passed"
    assert [(e["expert_id"], e["verdict"]) for e in passed["experts"]] == list(
        zip(experts, ["pass", "conditional", "pass"], strict=True)
    )
    [evt] = published(config, "review.passed")
    assert (evt.project_id, evt.actor) == (project_id, "tester@data_center")
    assert evt.data == {"review_id": review_id, "route": "expert_panel", "opinion": "同意建设"}
    [sub] = published(config, "review.submitted")
    assert sub.data == {"review_id": review_id, "route": "expert_panel", "budget": "2000000.00"}


def test_center_opinion_failed_then_resubmitted_keeps_history(review, config):
    project_id = planned(review, config)
    first = submit(review, project_id, budget="1999999.99")
    assert first["route"] == "center_opinion"
    with pytest.raises(Conflict, match="REVIEW_ALREADY_OPEN"):
        submit(review, project_id)
    call(review, "conclude_review", "data_center", review_id=first["review_id"], verdict="failed", opinion="方案不完整")
    second = submit(review, project_id, budget="1999999.99")
    history = call(review, "list_reviews", "unit:edu", project_id=project_id)
    assert [(r["review_id"], r["status"]) for r in history] == [
        (first["review_id"], "failed"),
        (second["review_id"], "under_review"),
    ]
    [failed] = published(config, "review.failed")
    assert failed.data["review_id"] == first["review_id"]


def test_filing_on_both_sides_of_the_threshold(review, config):
    small = planned(review, config, estimated_investment="299999.99", requires_construction_plan=False)
    filed = call(review, "request_filing", "unit:edu", project_id=small)
    assert (filed["route"], filed["status"], filed["budget"]) == ("filing", "filed", "299999.99")
    [evt] = published(config, "review.filed")
    assert evt.data["review_id"] == filed["review_id"]
    with pytest.raises(Conflict, match="ALREADY_REVIEWED"):
        submit(review, small)
    at_threshold = planned(review, config, estimated_investment="300000.00", requires_construction_plan=False)
    with pytest.raises(RuleViolation, match="FILING_NOT_ALLOWED"):
        call(review, "request_filing", "unit:edu", project_id=at_threshold)


def test_duplicate_planned_event_is_applied_once(review, config):
    evt = planned_event(estimated_investment="100000.00", requires_construction_plan=False)
    deliver(review, "on_project_planned", evt)
    redelivered = {**evt, "data": {**evt["data"], "estimated_investment": "900000.00"}}
    deliver(review, "on_project_planned", redelivered)
    engine = make_engine(config["DATABASE_URL"])
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(INBOX).where(INBOX.c.event_id == evt["event_id"])) == 1
    engine.dispose()
    assert call(review, "request_filing", "unit:edu", project_id=evt["project_id"])["budget"] == "100000.00"


def test_only_the_owner_submits(review, config):
    self_built = planned(review, config)
    for org in ("unit:health", "data_center"):
        with pytest.raises(Forbidden, match="NOT_PROJECT_OWNER"):
            submit(review, self_built, org=org)
    unified = planned(review, config, construction_mode="unified")
    with pytest.raises(Forbidden):
        submit(review, unified, org="unit:edu")
    assert submit(review, unified, org="data_center")["submitted_by"] == "data_center"


def test_units_see_only_their_own_reviews(review, config):
    project_id = planned(review, config)
    review_id = submit(review, project_id)["review_id"]
    assert call(review, "get_review", "unit:edu", review_id=review_id)["project_id"] == project_id
    assert call(review, "get_review", "drc", review_id=review_id)["title"] == "智慧教育平台建设方案"
    with pytest.raises(NotFound):
        call(review, "get_review", "unit:health", review_id=review_id)
    with pytest.raises(NotFound):
        call(review, "list_reviews", "unit:health", project_id=project_id)
    assert len(call(review, "list_reviews", "drc", project_id=project_id)) == 1


def test_expert_pool_and_panel_are_the_data_centers(review, config):
    with pytest.raises(Forbidden):
        call(review, "register_expert", "unit:edu", expert=expert("甲"))
    with pytest.raises(ValidationError, match="level"):
        call(review, "register_expert", "data_center", expert=expert("甲", level="township"))
    review_id = submit(review, planned(review, config))["review_id"]
    with pytest.raises(Forbidden):
        call(review, "assign_experts", "unit:edu", review_id=review_id, expert_ids=["exp-x"])
    with pytest.raises(NotFound, match="EXPERT_NOT_FOUND"):
        call(review, "assign_experts", "data_center", review_id=review_id, expert_ids=["exp-x"])
    outsider = register(review, expert("戊"))[0]
    with pytest.raises(Conflict, match="EXPERT_NOT_ON_PANEL"):
        call(
            review,
            "record_expert_opinion",
            "data_center",
            review_id=review_id,
            expert_id=outsider,
            verdict="pass",
            opinion="同意",
        )


def test_refused_assignment_changes_nothing(review, config):
    review_id = submit(review, planned(review, config))["review_id"]
    experts = register(review, expert("甲"), expert("乙"), expert("丙", "county"))
    with pytest.raises(RuleViolation, match="EXPERT_LEVEL_TOO_LOW"):
        call(review, "assign_experts", "data_center", review_id=review_id, expert_ids=experts)
    assert call(review, "get_review", "data_center", review_id=review_id)["experts"] == []


def test_open_reviews_gauges(review, config):
    submit(review, planned(review, config), budget="2000000.00")
    concluded = submit(review, planned(review, config), budget="1999999.99")
    call(review, "conclude_review", "data_center", review_id=concluded["review_id"], verdict="passed", opinion="同意")
    registry = registry_for(review).registry
    assert registry.get_sample_value("nx_review_open", {"route": "expert_panel"}) == 1
    assert registry.get_sample_value("nx_review_open", {"route": "center_opinion"}) == 0
    assert registry.get_sample_value("nx_review_oldest_open_age_seconds") > 0
