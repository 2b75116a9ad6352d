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
from review.events import OpinionRecorded, PanelAssigned, ReviewFailed, ReviewFiled, ReviewPassed, ReviewSubmitted

from .fakes import FakeRepository

RULES = ReviewRules.from_settings(
    "2000000.00", "300000.00", 3, "city,provincial,national", "smart_office,county_gov,data_center,drc,finance,audit"
)
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


def change_approved(estimate, project_id="prj-1"):
    data = {"change_id": "chg-1", "opinion": "同意", "estimated_investment": estimate}
    return Event(
        str(uuid.uuid4()), "change.approved", 2, NOW.isoformat(), "planning", project_id, "x@smart_office", data
    )


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
    assert list(uow.repo.reviews) == [review.review_id]
    assert uow.repo.reviews[review.review_id].status == review.status == "under_review"
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
    refused(uow, RuleViolation, usecases.conclude_review, CENTER, RULES, NOW, review_id, "passed", "通过")
    for expert_id in experts:
        run(uow, usecases.record_expert_opinion, CENTER, RULES, review_id, expert_id, "pass", "同意")
    refused(uow, Conflict, usecases.record_expert_opinion, CENTER, RULES, review_id, experts[0], "fail", "改主意")
    passed = run(uow, usecases.conclude_review, CENTER, RULES, NOW, review_id, "passed", "同意建设")
    assert (passed.status, passed.concluded_at) == ("passed", NOW)
    assert uow.emitted[-1] == ReviewPassed(
        project_id="prj-1", actor="wang@data_center", review_id=review_id, route="expert_panel", opinion="同意建设"
    )
    refused(uow, Conflict, usecases.conclude_review, CENTER, RULES, NOW, review_id, "failed", "不通过")


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
    plan_project(uow, estimated_investment="1999999.99")
    first = submit(uow, "1999999.99")
    run(uow, usecases.conclude_review, CENTER, RULES, NOW, first.review_id, "failed", "方案不完整")
    assert isinstance(uow.emitted[-1], ReviewFailed)
    second = submit(uow, "1999999.99", now=NOW + dt.timedelta(days=1))
    assert [r.review_id for r in usecases.list_reviews(uow.repo, EDU, RULES, "prj-1")] == [
        first.review_id,
        second.review_id,
    ]


def test_reading_is_for_those_who_may_see(uow):
    plan_project(uow)
    review_id = submit(uow).review_id
    assert usecases.get_review(uow.repo, EDU, RULES, review_id).review_id == review_id
    assert usecases.get_review(uow.repo, Caller("x", "drc"), RULES, review_id).review_id == review_id
    with pytest.raises(NotFound):
        usecases.get_review(uow.repo, Caller("x", "unit:health"), RULES, review_id)
    with pytest.raises(NotFound):
        usecases.get_review(uow.repo, EDU, RULES, "rev-none")
    with pytest.raises(NotFound):
        usecases.list_reviews(uow.repo, Caller("x", "unit:health"), RULES, "prj-1")


def test_an_approved_change_raises_the_estimate_a_plan_is_held_to(uow):
    plan_project(uow, estimated_investment="1000000.00")
    refused(
        uow,
        RuleViolation,
        usecases.submit_construction_plan,
        EDU,
        RULES,
        NOW,
        "prj-1",
        {**PLAN, "budget": Decimal("2500000.00")},
    )
    run(uow, usecases.record_estimate_change, change_approved(None))
    assert uow.repo.projects["prj-1"].estimate == Decimal("1000000.00")
    raised = change_approved("2500000.00")
    run(uow, usecases.record_estimate_change, raised)
    run(uow, usecases.record_estimate_change, change_approved("2500000.00", project_id="prj-unknown"))
    assert uow.repo.projects["prj-1"].changed_estimate == Decimal("2500000.00")
    assert set(uow.repo.projects) == {"prj-1"}
    uow.repo.projects["prj-1"].changed_estimate = None
    run(uow, usecases.record_estimate_change, raised)  # redelivered: applied once
    assert uow.repo.projects["prj-1"].changed_estimate is None
    uow.repo.projects["prj-1"].changed_estimate = Decimal("2500000.00")
    assert submit(uow, "2500000.00").route == "expert_panel"
    assert uow.emitted[-1].budget == Decimal("2500000.00")


def test_the_panel_and_every_opinion_are_recorded_as_events(uow):
    plan_project(uow)
    review_id = submit(uow).review_id
    experts = register(uow, "甲", "乙", "丙")
    run(uow, usecases.assign_experts, CENTER, RULES, review_id, experts)
    assert uow.emitted[-1] == PanelAssigned(
        project_id="prj-1", actor="wang@data_center", review_id=review_id, route="expert_panel", expert_ids=experts
    )
    run(uow, usecases.record_expert_opinion, CENTER, RULES, review_id, experts[1], "fail", "不可行")
    assert uow.emitted[-1] == OpinionRecorded(
        project_id="prj-1", actor="wang@data_center", review_id=review_id, expert_id=experts[1], verdict="fail"
    )
    assert uow.types() == ["review.submitted", "review.panel_assigned", "review.opinion_recorded"]


def test_a_panel_whose_majority_failed_is_not_passed(uow):
    plan_project(uow)
    review_id = submit(uow).review_id
    experts = register(uow, "甲", "乙", "丙")
    run(uow, usecases.assign_experts, CENTER, RULES, review_id, experts)
    for expert_id, verdict in zip(experts, ["fail", "pass", "fail"], strict=True):
        run(uow, usecases.record_expert_opinion, CENTER, RULES, review_id, expert_id, verdict, "意见")
    error = refused(uow, RuleViolation, usecases.conclude_review, CENTER, RULES, NOW, review_id, "passed", "通过")
    assert error.code == "PANEL_MAJORITY_FAILED"
    assert run(uow, usecases.conclude_review, CENTER, RULES, NOW, review_id, "failed", "不通过").status == "failed"


def test_a_center_opinion_review_invites_experts_and_waits_for_them(uow):
    plan_project(uow, estimated_investment="1000000.00")
    review_id = submit(uow, "1000000.00").review_id
    [invited] = register(uow, "甲", level="county")
    run(uow, usecases.assign_experts, CENTER, RULES, review_id, [invited])
    refused(uow, RuleViolation, usecases.conclude_review, CENTER, RULES, NOW, review_id, "passed", "通过")
    run(uow, usecases.record_expert_opinion, CENTER, RULES, review_id, invited, "pass", "可行")
    assert run(uow, usecases.conclude_review, CENTER, RULES, NOW, review_id, "passed", "通过").status == "passed"


def test_a_classified_project_out_of_sight_is_not_found_and_nothing_changes(uow):
    rules = ReviewRules.from_settings("2000000.00", "300000.00", 3, "city", "smart_office")
    plan_project(uow, classified=True)
    review_id = submit(uow).review_id
    experts = register(uow, "甲", "乙", "丙")
    drc = Caller("x", "drc")
    for use_case, args in [
        (usecases.submit_construction_plan, (drc, rules, NOW, "prj-1", {**PLAN, "budget": Decimal(1)})),
        (usecases.request_filing, (drc, rules, NOW, "prj-1")),
    ]:
        assert refused(uow, NotFound, use_case, *args).code == "PROJECT_NOT_FOUND"
    for use_case, args in [
        (usecases.assign_experts, (CENTER, rules, review_id, experts)),
        (usecases.record_expert_opinion, (CENTER, rules, review_id, experts[0], "pass", "同意")),
        (usecases.conclude_review, (CENTER, rules, NOW, review_id, "failed", "不通过")),
    ]:
        assert refused(uow, NotFound, use_case, *args).code == "REVIEW_NOT_FOUND"
    with pytest.raises(NotFound):
        usecases.get_review(uow.repo, drc, rules, review_id)
    with pytest.raises(NotFound):
        usecases.list_reviews(uow.repo, drc, rules, "prj-1")
    assert usecases.get_review(uow.repo, Caller("x", "smart_office"), rules, review_id).review_id == review_id
