"""Review's service tests: the real container on a real broker (per-test vhost) and database.
Projects become known as planned only through a real ``project.planned`` event."""

import time
import uuid

import eventlet
import pytest
from sqlalchemy import func, select

from nxshared.catalog import REGISTRY
from nxshared.core.errors import Conflict, Forbidden, NotFound, RuleViolation, ValidationError
from nxshared.db import INBOX, OUTBOX, make_engine
from nxshared.metrics import registry_for
from nxshared.testing import bearer, call, deliver, make_event, planned_event, schema_drift
from review.models import experts as experts_table
from review.models import panel_seats as panel_seats_table
from review.models import reviews as reviews_table
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
    """A planned project, named apart from the others (alike ones would be duplicates, Art 12)."""
    data.setdefault("name", f"project {uuid.uuid4().hex[:12]}")
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
    project_id = planned(review, config, estimated_investment="1999999.99")
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
    with pytest.raises(Forbidden, match="NOT_PROJECT_OWNER"):
        submit(review, self_built, org="data_center")
    unified = planned(review, config, construction_mode="unified")
    with pytest.raises(Forbidden):
        submit(review, unified, org="unit:edu")
    assert submit(review, unified, org="data_center")["submitted_by"] == "tester@data_center"


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
    concluded = submit(review, planned(review, config, estimated_investment="1999999.99"), budget="1999999.99")
    call(review, "conclude_review", "data_center", review_id=concluded["review_id"], verdict="passed", opinion="同意")
    registry = registry_for(review).registry
    assert registry.get_sample_value("nx_review_open", {"route": "expert_panel"}) == 1
    assert registry.get_sample_value("nx_review_open", {"route": "center_opinion"}) == 0
    assert registry.get_sample_value("nx_review_oldest_open_age_seconds") > 0


# --- issue 7: Art 12 cannot be got round; visibility; records; bad input -------------------------


def change_approved(project_id, estimate):
    data = {"change_id": f"chg-{uuid.uuid4().hex[:8]}", "opinion": "同意变更", "estimated_investment": estimate}
    return make_event("change.approved", project_id, data, actor="tester@smart_office")


def rows(config, table):
    engine = make_engine(config["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return conn.execute(select(table)).all()
    finally:
        engine.dispose()


def outbox_ids(config):
    """The events recorded, without the relay's bookkeeping (it marks them sent meanwhile)."""
    return [row.event_id for row in rows(config, OUTBOX)]


def test_the_route_follows_the_planned_estimate_and_only_an_approved_change_raises_it(review, config):
    project_id = planned(review, config, estimated_investment="9000000.00")
    assert submit(review, project_id, budget="1999999.99")["route"] == "expert_panel"
    other = planned(review, config, estimated_investment="9000000.00")
    with pytest.raises(RuleViolation, match="OVER_ESTIMATE") as err:
        submit(review, other, budget="9000000.01")
    assert "第十二条" in str(err.value) and "第十八条" in str(err.value)
    deliver(review, "on_change_approved", change_approved(other, None))
    with pytest.raises(RuleViolation, match="OVER_ESTIMATE"):
        submit(review, other, budget="9000000.01")
    deliver(review, "on_change_approved", change_approved(other, "9500000.00"))
    assert submit(review, other, budget="9500000.00")["budget"] == "9500000.00"


def test_filing_follows_the_estimate_as_changed(review, config):
    small = planned(review, config, estimated_investment="250000.00", requires_construction_plan=False)
    deliver(review, "on_change_approved", change_approved(small, "300000.00"))
    with pytest.raises(RuleViolation, match="FILING_NOT_ALLOWED"):
        call(review, "request_filing", "unit:edu", project_id=small)


@pytest.mark.parametrize("employer", ["UNIT:EDU", " unit:edu", "unit:edu ", "unit:edu\n", "", 7])
def test_an_employer_spelled_otherwise_is_refused_so_it_cannot_be_seated(review, config, employer):
    with pytest.raises(ValidationError, match="employer"):
        call(review, "register_expert", "data_center", expert=expert("丁", employer=employer))
    assert rows(config, experts_table) == []


def test_an_expert_of_the_applying_unit_is_not_seated(review, config):
    review_id = submit(review, planned(review, config))["review_id"]
    chosen = register(review, expert("甲"), expert("乙"), expert("丁", employer="unit:edu"))
    with pytest.raises(RuleViolation, match="EXPERT_CONFLICT"):
        call(review, "assign_experts", "data_center", review_id=review_id, expert_ids=chosen)


def opinions(container, review_id, experts, verdicts):
    for expert_id, verdict in zip(experts, verdicts, strict=True):
        call(
            container,
            "record_expert_opinion",
            "data_center",
            review_id=review_id,
            expert_id=expert_id,
            verdict=verdict,
            opinion="意见",
        )


def test_a_panel_whose_majority_failed_cannot_pass(review, config):
    review_id = submit(review, planned(review, config))["review_id"]
    experts = register(review, expert("甲"), expert("乙"), expert("丙"))
    call(review, "assign_experts", "data_center", review_id=review_id, expert_ids=experts)
    opinions(review, review_id, experts, ["fail", "pass", "fail"])
    with pytest.raises(RuleViolation, match="PANEL_MAJORITY_FAILED"):
        call(review, "conclude_review", "data_center", review_id=review_id, verdict="passed", opinion="通过")
    failed = call(review, "conclude_review", "data_center", review_id=review_id, verdict="failed", opinion="不通过")
    assert failed["status"] == "failed"


def test_a_center_opinion_review_may_invite_experts_and_waits_for_them(review, config):
    project_id = planned(review, config, estimated_investment="1000000.00")
    review_id = submit(review, project_id, budget="1000000.00")["review_id"]
    invited = register(review, expert("甲", level="county"))
    seated = call(review, "assign_experts", "data_center", review_id=review_id, expert_ids=invited)
    assert [e["expert_id"] for e in seated["experts"]] == invited
    with pytest.raises(RuleViolation, match="PANEL_OPINIONS_INCOMPLETE"):
        call(review, "conclude_review", "data_center", review_id=review_id, verdict="passed", opinion="通过")
    opinions(review, review_id, invited, ["pass"])
    passed = call(review, "conclude_review", "data_center", review_id=review_id, verdict="passed", opinion="通过")
    assert passed["status"] == "passed"


@pytest.mark.parametrize(
    ("setting", "value"),
    [("PANEL_MIN_EXPERTS", 2), ("PANEL_EXPERT_LEVELS", "county,city"), ("FILING_THRESHOLD", "2000000.01")],
)
def test_settings_that_would_break_art_12_stop_the_service_at_start(container_factory, service_config, setting, value):
    container = container_factory(ReviewService, service_config("review", **{setting: value}))
    with pytest.raises(ValueError, match=setting):
        container.start()


def test_a_project_out_of_sight_is_not_found_and_names_nothing(review, config):
    project_id = planned(review, config, name="保密的项目名称")
    review_id = submit(review, project_id)["review_id"]
    for attempt in (
        lambda: submit(review, project_id, org="unit:health"),
        lambda: call(review, "request_filing", "unit:health", project_id=project_id),
        lambda: call(review, "list_reviews", "unit:health", project_id=project_id),
        lambda: call(review, "get_review", "unit:health", review_id=review_id),
    ):
        with pytest.raises(NotFound) as err:
            attempt()
        assert str(err.value).split(":")[0] in ("PROJECT_NOT_FOUND", "REVIEW_NOT_FOUND")
        for leak in ("unit:edu", "保密的项目名称", project_id, review_id):
            assert leak not in str(err.value)


def test_classified_projects_are_seen_only_by_the_orgs_the_setting_names(container_factory, service_config):
    config = service_config("review", CLASSIFIED_VISIBLE_TO="smart_office,data_center")
    container = container_factory(ReviewService, config)
    container.start()
    secret = planned(container, config, classified=True)
    review_id = submit(container, secret)["review_id"]
    for org in ("drc", "finance"):
        with pytest.raises(NotFound, match="REVIEW_NOT_FOUND"):
            call(container, "get_review", org, review_id=review_id)
        with pytest.raises(NotFound, match="PROJECT_NOT_FOUND"):
            call(container, "list_reviews", org, project_id=secret)
    assert call(container, "get_review", "smart_office", review_id=review_id)["project_id"] == secret
    open_ = planned(container, config)
    assert call(container, "list_reviews", "drc", project_id=open_) == []


def test_classified_projects_are_seen_by_the_default_bureaus(review, config):
    secret = planned(review, config, classified=True)
    review_id = submit(review, secret)["review_id"]
    assert call(review, "get_review", "drc", review_id=review_id)["review_id"] == review_id


def call_as(container, method, org, sub, **kwargs):
    from nameko.testing.services import entrypoint_hook

    with entrypoint_hook(container, method, context_data={"authorization": bearer(org, sub=sub)}) as hook:
        return hook(**kwargs)


def test_the_panel_and_each_opinion_are_recorded_with_the_person(review, config):
    person = "z" * 128  # the longest sub a token may carry
    project_id = planned(review, config)
    submitted = call_as(
        review, "submit_construction_plan", "unit:edu", person, project_id=project_id, plan=construction_plan()
    )
    assert submitted["submitted_by"] == f"{person}@unit:edu"
    review_id = submitted["review_id"]
    experts = register(review, expert("甲"), expert("乙"), expert("丙"))
    call_as(review, "assign_experts", "data_center", person, review_id=review_id, expert_ids=experts)
    for expert_id in experts:
        call_as(
            review,
            "record_expert_opinion",
            "data_center",
            "wang",
            review_id=review_id,
            expert_id=expert_id,
            verdict="pass",
            opinion="同意",
        )
    passed = call_as(
        review, "conclude_review", "data_center", person, review_id=review_id, verdict="passed", opinion="通过"
    )
    assert passed["concluded_by"] == f"{person}@data_center"
    [assigned] = published(config, "review.panel_assigned")
    assert (assigned.project_id, assigned.actor) == (project_id, f"{person}@data_center")
    assert assigned.data == {"review_id": review_id, "route": "expert_panel", "expert_ids": experts}
    recorded = published(config, "review.opinion_recorded")
    assert [(e.actor, e.data["expert_id"], e.data["verdict"]) for e in recorded] == [
        ("wang@data_center", expert_id, "pass") for expert_id in experts
    ]


LONG = "长" * 5001
BAD_INPUT = [
    (
        "submit_construction_plan",
        "unit:edu",
        {"plan": {"title": "方" * 201, "document_ref": "D", "budget": "1.00"}},
        "plan.title",
    ),
    (
        "submit_construction_plan",
        "unit:edu",
        {"plan": {"title": "  ", "document_ref": "D", "budget": "1.00"}},
        "plan.title",
    ),
    (
        "submit_construction_plan",
        "unit:edu",
        {"plan": {"title": "T", "document_ref": "D" * 65, "budget": "1.00"}},
        "plan.document_ref",
    ),
    (
        "submit_construction_plan",
        "unit:edu",
        {"plan": {"title": "T", "document_ref": " D", "budget": "1.00"}},
        "plan.document_ref",
    ),
    (
        "submit_construction_plan",
        "unit:edu",
        {"plan": {"title": "T", "document_ref": "D", "budget": "1" * 30}},
        "plan.budget",
    ),
    (
        "submit_construction_plan",
        "unit:edu",
        {"plan": {"title": "T", "document_ref": "D", "budget": "1e3"}},
        "plan.budget",
    ),
    (
        "submit_construction_plan",
        "unit:edu",
        {"plan": {"title": "T", "document_ref": "D", "budget": "-0"}},
        "plan.budget",
    ),
    ("submit_construction_plan", "unit:edu", {"plan": "建设方案"}, "plan"),
    ("submit_construction_plan", "unit:edu", {"project_id": ["prj"]}, "project_id"),
    ("submit_construction_plan", "unit:edu", {"project_id": "p" * 65}, "project_id"),
    ("request_filing", "unit:edu", {"project_id": 42}, "project_id"),
    ("register_expert", "data_center", {"expert": {**expert("甲"), "name": "名" * 201}}, "name"),
    ("register_expert", "data_center", {"expert": {**expert("甲"), "field": "领" * 201}}, "field"),
    ("register_expert", "data_center", {"expert": {**expert("甲"), "name": " \n"}}, "name"),
    ("assign_experts", "data_center", {"expert_ids": [f"exp-{n}" for n in range(51)]}, "expert_ids"),
    ("assign_experts", "data_center", {"expert_ids": []}, "expert_ids"),
    ("assign_experts", "data_center", {"expert_ids": "exp-1"}, "expert_ids"),
    ("assign_experts", "data_center", {"expert_ids": [{"id": 1}]}, "expert_ids"),
    ("assign_experts", "data_center", {"review_id": {"id": 1}}, "review_id"),
    ("record_expert_opinion", "data_center", {"opinion": LONG}, "opinion"),
    ("record_expert_opinion", "data_center", {"expert_id": "e" * 65}, "expert_id"),
    ("record_expert_opinion", "data_center", {"verdict": "maybe"}, "verdict"),
    ("conclude_review", "data_center", {"opinion": LONG}, "opinion"),
    ("conclude_review", "data_center", {"opinion": "   "}, "opinion"),
    ("conclude_review", "data_center", {"review_id": 7}, "review_id"),
    ("get_review", "data_center", {"review_id": None}, "review_id"),
    ("list_reviews", "data_center", {"project_id": ["prj"]}, "project_id"),
]


def valid_arguments(method, project_id, review_id, expert_id):
    return {
        "submit_construction_plan": {"project_id": project_id, "plan": construction_plan()},
        "request_filing": {"project_id": project_id},
        "register_expert": {"expert": expert("甲")},
        "assign_experts": {"review_id": review_id, "expert_ids": [expert_id]},
        "record_expert_opinion": {"review_id": review_id, "expert_id": expert_id, "verdict": "pass", "opinion": "同意"},
        "conclude_review": {"review_id": review_id, "verdict": "passed", "opinion": "通过"},
        "get_review": {"review_id": review_id},
        "list_reviews": {"project_id": project_id},
    }[method]


@pytest.mark.parametrize(("method", "org", "bad", "field"), BAD_INPUT)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(review, config, method, org, bad, field):
    project_id = planned(review, config, estimated_investment="1000000.00")
    failed = submit(review, project_id, budget="1000000.00")["review_id"]
    call(review, "conclude_review", "data_center", review_id=failed, verdict="failed", opinion="重做")
    [expert_id] = register(review, expert("甲"))
    tables = (experts_table, reviews_table, panel_seats_table)
    before = {table.name: rows(config, table) for table in tables}, outbox_ids(config)
    with pytest.raises(ValidationError) as err:
        call(review, method, org, **{**valid_arguments(method, project_id, failed, expert_id), **bad})
    assert f"：{field}" in str(err.value) or f"; {field}" in str(err.value)
    assert ({table.name: rows(config, table) for table in tables}, outbox_ids(config)) == before


def test_the_migrations_build_the_tables_the_models_describe(config):
    """Column sizes are the input limits: the migrated schema is the models' (lengths where enforced)."""
    from review.models import metadata

    # column types compared where the database enforces them (SQLite keeps any length)
    assert (
        schema_drift(config["DATABASE_URL"], metadata, compare_type=config["DATABASE_URL"].startswith("postgres")) == []
    )
