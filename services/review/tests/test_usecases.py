"""Review's use cases on an in-memory unit of work: what each one stores and emits, and that a
refused call leaves the repository and the emitted events as they were."""

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal

import pytest

from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, Forbidden, NotFound, RuleViolation
from nxshared.core.events import Event
from nxshared.core.uow import FakeUnitOfWork
from review import usecases
from review.domain import ReviewRules
from review.events import ReviewFailed, ReviewFiled, ReviewPassed, ReviewSubmitted

from .fakes import FakeRepository

RULES = ReviewRules.from_settings("2000000.00", "300000.00", 3, "city,provincial,national")
NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
EDU = Caller(sub="li", org="unit:edu")
CENTER = Caller(sub="wang", org="data_center")
PLAN = {"title": "建设方案", "document_ref": "doc-1"}


def planned_event(project_id="prj-1", **overrides):
    data = {
        "name": "智慧教育平台",
        "unit": "unit:edu",
        "construction_mode": "self_built",
        "plan_year": 2027,
        "plan_type": "annual",
        "estimated_investment": "2500000.00",
        "requires_construction_plan": True,
        "classified": False,
        "custom_software": True,
        "hosted_on_big_data_center": True,
        **overrides,
    }
    return Event(str(uuid.uuid4()), "project.planned", 2, NOW.isoformat(), "planning", project_id, "x@county_gov", data)


@pytest.fixture
def uow():
    return FakeUnitOfWork(FakeRepository())


def run(uow, use_case, *args, **kwargs):
    with uow.transaction():
        return use_case(uow, *args, **kwargs)


def state(repo):
    return {
        name: {key: dataclasses.asdict(entity) for key, entity in getattr(repo, name).items()}
        for name in ("projects", "reviews", "experts")
    }


def refused(uow, error, use_case, *args, **kwargs):
    """Run a use case that must be refused; nothing stored, nothing emitted."""
    before = (state(uow.repo), list(uow.emitted))
    with pytest.raises(error) as err:
        run(uow, use_case, *args, **kwargs)
    assert (state(uow.repo), uow.emitted) == before
    return err.value


def plan_project(uow, project_id="prj-1", **overrides):
    run(uow, usecases.record_planned, planned_event(project_id, **overrides))
    return project_id


def submit(uow, budget="2500000.00", project_id="prj-1", caller=EDU, now=NOW):
    return run(
        uow, usecases.submit_construction_plan, caller, RULES, now, project_id, {**PLAN, "budget": Decimal(budget)}
    )


def register(uow, *names, level="city", employer="unit:njupt"):
    return [run(uow, usecases.register_expert, n, level, "软件", employer).expert_id for n in names]


def test_a_planned_event_is_recorded_once(uow):
    evt = planned_event()
    run(uow, usecases.record_planned, evt)
    uow.repo.projects.clear()
    run(uow, usecases.record_planned, evt)
    assert uow.repo.projects == {}
    assert uow.emitted == []


def test_submission_stores_the_review_and_emits_submitted(uow):
    plan_project(uow)
    review = submit(uow, "2000000.00")
    assert uow.repo.reviews == {review.review_id: review}
    assert uow.emitted == [
        ReviewSubmitted(
            project_id="prj-1", actor="li@unit:edu", review_id=review.review_id, route="expert_panel",
            budget=Decimal("2000000.00"),
        )
    ]  # fmt: skip


def test_refused_submissions_store_and_emit_nothing(uow):
    refused(uow, RuleViolation, usecases.submit_construction_plan, EDU, RULES, NOW, "prj-1", {**PLAN, "budget": 1})
    plan_project(uow)
    refused(
        uow, Forbidden, usecases.submit_construction_plan, CENTER, RULES, NOW, "prj-1", {**PLAN, "budget": Decimal(1)}
    )
    submit(uow)
    refused(uow, Conflict, usecases.submit_construction_plan, EDU, RULES, NOW, "prj-1", {**PLAN, "budget": Decimal(1)})


def test_filing_stores_a_filed_review_and_emits_filed(uow):
    plan_project(uow, estimated_investment="299999.99", requires_construction_plan=False)
    filed = run(uow, usecases.request_filing, EDU, RULES, NOW, "prj-1")
    assert (filed.status, filed.budget) == ("filed", Decimal("299999.99"))
    assert uow.types() == ["review.filed"]
    assert isinstance(uow.emitted[0], ReviewFiled) and uow.emitted[0].review_id == filed.review_id
    refused(uow, Conflict, usecases.request_filing, EDU, RULES, NOW, "prj-1")


def test_filing_refused_above_the_threshold(uow):
    plan_project(uow, estimated_investment="300000.00", requires_construction_plan=False)
    refused(uow, RuleViolation, usecases.request_filing, EDU, RULES, NOW, "prj-1")


def test_a_panel_from_assignment_to_passed(uow):
    plan_project(uow)
    review_id = submit(uow).review_id
    experts = register(uow, "甲", "乙", "丙")
    refused(uow, NotFound, usecases.assign_experts, CENTER, RULES, review_id, [*experts[:2], "exp-none"])
    refused(uow, NotFound, usecases.assign_experts, CENTER, RULES, "rev-none", experts)
    run(uow, usecases.assign_experts, CENTER, RULES, review_id, experts)
    assert [seat.expert_id for seat in uow.repo.reviews[review_id].experts] == experts
    refused(uow, RuleViolation, usecases.conclude_review, CENTER, NOW, review_id, "passed", "通过")
    for expert_id in experts:
        run(uow, usecases.record_expert_opinion, CENTER, review_id, expert_id, "pass", "同意")
    refused(uow, Conflict, usecases.record_expert_opinion, CENTER, review_id, experts[0], "fail", "改主意")
    passed = run(uow, usecases.conclude_review, CENTER, NOW, review_id, "passed", "同意建设")
    assert (passed.status, passed.concluded_at) == ("passed", NOW)
    assert uow.emitted[-1] == ReviewPassed(
        project_id="prj-1", actor="wang@data_center", review_id=review_id, route="expert_panel", opinion="同意建设"
    )
    refused(uow, Conflict, usecases.conclude_review, CENTER, NOW, review_id, "failed", "不通过")


def test_a_refused_panel_seats_nobody(uow):
    plan_project(uow)
    review_id = submit(uow).review_id
    low = register(uow, "甲", "乙", "丙", level="county")
    refused(uow, RuleViolation, usecases.assign_experts, CENTER, RULES, review_id, low)
    insider = register(uow, "丁", employer="unit:edu")
    refused(
        uow, RuleViolation, usecases.assign_experts, CENTER, RULES, review_id, [*register(uow, "戊", "己"), *insider]
    )


def test_center_opinion_failed_then_resubmitted(uow):
    plan_project(uow)
    first = submit(uow, "1999999.99")
    run(uow, usecases.conclude_review, CENTER, NOW, first.review_id, "failed", "方案不完整")
    assert isinstance(uow.emitted[-1], ReviewFailed)
    second = submit(uow, "1999999.99", now=NOW + dt.timedelta(days=1))
    assert [r.review_id for r in usecases.list_reviews(uow.repo, EDU, "prj-1")] == [first.review_id, second.review_id]


def test_reading_is_for_those_who_may_see(uow):
    plan_project(uow)
    review_id = submit(uow).review_id
    assert usecases.get_review(uow.repo, EDU, review_id).review_id == review_id
    assert usecases.get_review(uow.repo, Caller("x", "drc"), review_id).review_id == review_id
    with pytest.raises(NotFound):
        usecases.get_review(uow.repo, Caller("x", "unit:health"), review_id)
    with pytest.raises(NotFound):
        usecases.get_review(uow.repo, EDU, "rev-none")
    with pytest.raises(NotFound):
        usecases.list_reviews(uow.repo, Caller("x", "unit:health"), "prj-1")
