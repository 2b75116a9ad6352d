"""The duplicate check (Art 12) in the running service, on each backend: review learns projects
from planning's ``project.declared`` / ``project.planned`` / ``project.not_planned``, lists the
similar ones on the review, and a strong match needs the data center's acknowledgement."""

import pytest

from nxshared.core.errors import Conflict, Forbidden, RuleViolation, ValidationError
from nxshared.testing import call, deliver, make_event, planned_event
from review.service import ReviewService

from .test_service import published

SCHOOL = {
    "name": "城关镇智慧校园管理平台",
    "summary": "建设全县中小学统一身份认证、电子班牌和家校互通系统，对接省教育平台。",
}
SCHOOL_AGAIN = {
    "name": "城关镇智慧校园管理平台（二期）",
    "summary": "建设全县中小学电子班牌、统一身份认证与家校互通系统，对接省教育平台。",
}
PARKING = {"name": "县城智慧停车收费系统", "summary": "建设城区路内泊位检测、无感支付和停车诱导屏。"}
DECLARED = {
    "unit": "unit:edu", "category": "platform", "construction_mode": "self_built", "plan_year": 2027,
    "plan_type": "annual", "estimated_investment": "1000000.00", "classified": False,
}  # fmt: skip
PLAN = {"title": "智慧校园建设方案", "document_ref": "doc/edu-1.pdf", "budget": "1000000.00"}


@pytest.fixture
def config(service_config):
    return service_config("review")


@pytest.fixture
def review(container_factory, config):
    container = container_factory(ReviewService, config)
    container.start()
    return container


def declare(container, project_id, text, **data):
    payload = make_event("project.declared", project_id, {**DECLARED, **text, **data}, actor="li@unit:edu")
    deliver(container, "on_project_declared", payload)


def plan(container, project_id, text, **data):
    fields = {"name": text["name"], "estimated_investment": "1000000.00", "unit": "unit:edu", **data}
    deliver(container, "on_project_planned", planned_event(project_id, **fields))


def conclude(container, review_id):
    return call(container, "conclude_review", "data_center", review_id=review_id, verdict="passed", opinion="通过")


def test_a_plan_like_a_declared_project_lists_it_and_passes_only_once_acknowledged(review, config):
    declare(review, "prj-old", SCHOOL, unit="unit:health")
    plan(review, "prj-old", SCHOOL, unit="unit:health")
    declare(review, "prj-park", PARKING, unit="unit:transport")
    declare(review, "prj-new", SCHOOL_AGAIN)
    plan(review, "prj-new", SCHOOL_AGAIN)
    submitted = call(review, "submit_construction_plan", "unit:edu", project_id="prj-new", plan=PLAN)
    seen = call(review, "get_review", "data_center", review_id=submitted["review_id"])
    [match] = seen["duplicates"]
    assert (match["project_id"], match["name"], match["status"]) == ("prj-old", SCHOOL["name"], "planned")
    assert float(match["score"]) > 0.6
    assert call(review, "get_review", "unit:edu", review_id=submitted["review_id"])["duplicates"] == []  # Art 25
    with pytest.raises(RuleViolation, match="^DUPLICATES_NOT_ACKNOWLEDGED: "):
        conclude(review, submitted["review_id"])
    with pytest.raises(Forbidden):
        call(review, "acknowledge_duplicates", "unit:edu", project_id="prj-new", comment="不重复")
    acknowledged = call(
        review, "acknowledge_duplicates", "data_center", project_id="prj-new", comment="服务对象不同，不属于重复建设"
    )
    assert acknowledged["duplicates_acknowledged_by"].endswith("@data_center")
    with pytest.raises(Conflict, match="DUPLICATES_ALREADY_ACKNOWLEDGED"):
        call(review, "acknowledge_duplicates", "data_center", project_id="prj-new", comment="再次")
    assert conclude(review, submitted["review_id"])["status"] == "passed"
    [event] = published(config, "review.duplicates_acknowledged")
    assert (event.project_id, event.data["project_ids"]) == ("prj-new", ["prj-old"])


def test_a_project_heard_of_after_a_lookup_is_found_by_the_next_and_one_left_out_is_not(review, config):
    declare(review, "prj-a", SCHOOL_AGAIN)
    plan(review, "prj-a", SCHOOL_AGAIN)
    first = call(review, "submit_construction_plan", "unit:edu", project_id="prj-a", plan=PLAN)
    assert first["duplicates"] == []
    call(review, "conclude_review", "data_center", review_id=first["review_id"], verdict="failed", opinion="重做")
    declare(review, "prj-b", SCHOOL, unit="unit:health")  # after the index was built: caught up
    again = call(review, "submit_construction_plan", "unit:edu", project_id="prj-a", plan=PLAN)
    assert [m["project_id"] for m in call(review, "get_review", "drc", review_id=again["review_id"])["duplicates"]] == [
        "prj-b"
    ]
    call(review, "conclude_review", "data_center", review_id=again["review_id"], verdict="failed", opinion="重做")
    deliver(review, "on_project_declared", make_event("project.not_planned", "prj-b", {"plan_year": 2027}))
    third = call(review, "submit_construction_plan", "unit:edu", project_id="prj-a", plan=PLAN)
    assert call(review, "get_review", "drc", review_id=third["review_id"])["duplicates"] == []


def test_nothing_to_acknowledge_is_a_conflict_and_bad_input_names_the_field(review, config):
    declare(review, "prj-c", PARKING)
    plan(review, "prj-c", PARKING)
    with pytest.raises(Conflict, match="NO_OPEN_REVIEW"):
        call(review, "acknowledge_duplicates", "data_center", project_id="prj-c", comment="无")
    call(review, "submit_construction_plan", "unit:edu", project_id="prj-c", plan=PLAN)
    with pytest.raises(Conflict, match="NO_DUPLICATES_TO_ACKNOWLEDGE"):
        call(review, "acknowledge_duplicates", "data_center", project_id="prj-c", comment="无")
    with pytest.raises(ValidationError, match="comment"):
        call(review, "acknowledge_duplicates", "data_center", project_id="prj-c", comment=" ")
