"""Every planning use case on an in-memory unit of work: what it returns, the events it emits, and
that a refused call leaves the repository and the emitted events as they were."""

import copy
import datetime as dt
from decimal import Decimal

import pytest

from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, Forbidden, NotFound, RuleViolation
from nxshared.core.events import Event
from nxshared.core.uow import FakeUnitOfWork
from planning import usecases
from planning.domain.declaration import PlanningRules
from planning.domain.risk import RiskRules

from .factories import declaration
from .fakes import FakeRepository

RULES = PlanningRules.from_settings("12-11..12-20", "smart_office,county_gov,drc,finance")
TODAY = dt.date(2026, 12, 15)
NOW = dt.datetime(2026, 12, 15, 9, tzinfo=dt.UTC)
EDU, HEALTH, DATA_CENTER = Caller("li", "unit:edu"), Caller("wu", "unit:health"), Caller("dc", "data_center")
OFFICE, FINANCE, DRC, COUNTY = (Caller("p", org) for org in ("smart_office", "finance", "drc", "county_gov"))
SUPPLEMENTARY = {
    "plan_type": "supplementary",
    "plan_year": 2026,
    "higher_level_requirement": "省厅通知",
    "annual_investments": [{"year": 2026, "amount": "2500000.00"}],
}


@pytest.fixture
def uow():
    return FakeUnitOfWork(FakeRepository())


def run(uow, use_case, *args, **kwargs):
    with uow.transaction():
        return use_case(uow, *args, **kwargs)


def refused(uow, error, use_case, *args):
    """``use_case`` raises ``error`` and leaves the repository and the emitted events unchanged."""
    before = copy.deepcopy((vars(uow.repo), uow.emitted))
    with pytest.raises(error) as err:
        run(uow, use_case, *args)
    assert (vars(uow.repo), uow.emitted) == before
    return err.value


def fields(**overrides):
    raw = declaration(**overrides)
    raw["estimated_investment"] = Decimal(raw["estimated_investment"])
    return raw


def declare(uow, caller=EDU, **overrides):
    return run(uow, usecases.declare_project, fields(**overrides), caller, TODAY, NOW, RULES)


def approved_plan(uow, *projects):
    ids = [p.project_id for p in projects]
    run(uow, usecases.compile_annual_plan, 2027, ids, OFFICE, RULES)
    run(uow, usecases.concur_annual_plan, 2027, FINANCE, RULES)
    run(uow, usecases.concur_annual_plan, 2027, DRC, RULES)
    return run(uow, usecases.approve_annual_plan, 2027, COUNTY, RULES)


def planned_project(uow):
    project = declare(uow)
    approved_plan(uow, project)
    return project


def event(event_type, project_id, event_id="e1", data=None, source="review", occurred_at="2026-12-15T08:00:00+00:00"):
    return Event(event_id, event_type, 1, occurred_at, source, project_id, "a@x", data or {})


# --- declarations ---------------------------------------------------------------------------------


def test_declare_project_stores_it_and_emits_project_declared(uow):
    project = declare(uow)
    assert uow.repo.project(project.project_id) is project
    assert uow.types() == ["project.declared"]
    assert (uow.emitted[0].project_id, uow.emitted[0].actor) == (project.project_id, "li@unit:edu")


def test_a_refused_declaration_changes_nothing(uow):
    declare(uow)
    error = refused(
        uow, RuleViolation, usecases.declare_project, fields(estimated_investment="1.00"), EDU, TODAY, NOW, RULES
    )
    assert error.code == "ANNUAL_PLAN_MISMATCH"
    refused(uow, Forbidden, usecases.declare_project, fields(), HEALTH, TODAY, NOW, RULES)


def test_get_project_only_to_those_who_may_see_it(uow):
    project = declare(uow)
    assert usecases.get_project(uow.repo, project.project_id, OFFICE, RULES) is project
    with pytest.raises(NotFound):
        usecases.get_project(uow.repo, project.project_id, HEALTH, RULES)
    with pytest.raises(NotFound):
        usecases.get_project(uow.repo, "prj-none", OFFICE, RULES)


def test_list_projects_filters_what_the_caller_sees_and_pages(uow):
    for _ in range(3):
        declare(uow)
    page = usecases.list_projects(uow.repo, OFFICE, RULES, year=2027, page=2, page_size=2)
    assert (len(page.items), page.total) == (1, 3)
    assert usecases.list_projects(uow.repo, HEALTH, RULES).total == 0
    assert usecases.list_projects(uow.repo, OFFICE, RULES, status="planned").total == 0


# --- annual plan (Art 9) ---------------------------------------------------------------------------


def test_compile_concur_approve_emit_planned_and_not_planned(uow):
    chosen, other = declare(uow), declare(uow)
    uow.emitted.clear()
    plan = run(uow, usecases.compile_annual_plan, 2027, [chosen.project_id], OFFICE, RULES)
    assert uow.repo.locked_plan(2027).project_ids == plan.project_ids == [chosen.project_id]
    assert uow.types() == ["plan.compiled"]
    run(uow, usecases.concur_annual_plan, 2027, FINANCE, RULES)
    concurred = run(uow, usecases.concur_annual_plan, 2027, DRC, RULES)
    assert (concurred.status, concurred.concurred_by) == ("concurred", ["finance", "drc"])
    assert uow.types() == ["plan.compiled", "plan.concurred", "plan.concurred"]
    uow.emitted.clear()
    approved = run(uow, usecases.approve_annual_plan, 2027, COUNTY, RULES)
    assert approved.status == "approved"
    assert [(e.event_type, e.project_id) for e in uow.emitted] == [
        ("plan.approved", None),
        ("project.planned", chosen.project_id),
        ("project.not_planned", other.project_id),
    ]
    assert (chosen.status, other.status) == ("planned", "not_planned")


def test_refused_plan_steps_change_nothing(uow):
    project = declare(uow)
    refused(uow, NotFound, usecases.compile_annual_plan, 2027, ["prj-none"], OFFICE, RULES)
    refused(uow, Conflict, usecases.compile_annual_plan, 2028, [project.project_id], OFFICE, RULES)
    refused(uow, NotFound, usecases.concur_annual_plan, 2027, FINANCE, RULES)
    refused(uow, Conflict, usecases.approve_annual_plan, 2027, COUNTY, RULES)
    run(uow, usecases.compile_annual_plan, 2027, [project.project_id], OFFICE, RULES)
    run(uow, usecases.concur_annual_plan, 2027, FINANCE, RULES)
    assert refused(uow, Conflict, usecases.approve_annual_plan, 2027, COUNTY, RULES).code == "PLAN_NOT_CONCURRED"
    run(uow, usecases.concur_annual_plan, 2027, DRC, RULES)
    run(uow, usecases.approve_annual_plan, 2027, COUNTY, RULES)
    assert refused(uow, Conflict, usecases.concur_annual_plan, 2027, FINANCE, RULES).code == "PLAN_STATE_CONFLICT"
    refused(uow, Conflict, usecases.approve_annual_plan, 2027, COUNTY, RULES)
    refused(uow, Conflict, usecases.compile_annual_plan, 2027, [project.project_id], OFFICE, RULES)


# --- supplementary plan (Art 9) --------------------------------------------------------------------


def test_supplementary_reviewed_then_approved_emits_planned(uow):
    project = declare(uow, **SUPPLEMENTARY)
    uow.emitted.clear()
    run(uow, usecases.review_supplementary, project.project_id, "approve", "同意", OFFICE, RULES)
    assert uow.emitted == []
    approved = run(uow, usecases.approve_supplementary, project.project_id, COUNTY, RULES)
    assert approved.status == "planned" and uow.types() == ["project.planned"]


def test_supplementary_rejected_emits_not_planned(uow):
    project = declare(uow, **SUPPLEMENTARY)
    uow.emitted.clear()
    rejected = run(uow, usecases.review_supplementary, project.project_id, "reject", "不必要", OFFICE, RULES)
    assert rejected.status == "not_planned" and uow.types() == ["project.not_planned"]


def test_refused_supplementary_steps_change_nothing(uow):
    annual, supplementary = declare(uow), declare(uow, **SUPPLEMENTARY)
    error = refused(uow, Conflict, usecases.approve_supplementary, supplementary.project_id, COUNTY, RULES)
    assert error.code == "SUPPLEMENTARY_NOT_REVIEWED"
    error = refused(uow, Conflict, usecases.review_supplementary, annual.project_id, "approve", "", OFFICE, RULES)
    assert error.code == "NOT_SUPPLEMENTARY"
    refused(uow, NotFound, usecases.review_supplementary, "prj-none", "approve", "", OFFICE, RULES)


# --- change control (Art 18) -----------------------------------------------------------------------


def test_a_change_is_requested_by_the_owner_and_decided_once(uow):
    project = planned_project(uow)
    uow.emitted.clear()
    change = run(uow, usecases.request_change, project.project_id, {"description": "增加移动端"}, EDU, RULES)
    assert uow.repo.locked_change(change.change_id) is change and uow.emitted == []
    decided = run(uow, usecases.review_change, change.change_id, "approve", "同意", OFFICE)
    assert decided.status == "approved" and uow.types() == ["change.approved"]
    assert refused(uow, Conflict, usecases.review_change, change.change_id, "reject", "", OFFICE).code == (
        "CHANGE_ALREADY_DECIDED"
    )
    other = run(uow, usecases.request_change, project.project_id, {"description": "删减模块"}, EDU, RULES)
    run(uow, usecases.review_change, other.change_id, "reject", "不同意", OFFICE)
    assert uow.types()[-1] == "change.rejected"


def test_refused_change_requests_change_nothing(uow):
    declared = declare(uow)
    change = {"description": "x"}
    refused(uow, RuleViolation, usecases.request_change, declared.project_id, change, EDU, RULES)
    planned = planned_project(uow)
    refused(uow, NotFound, usecases.request_change, planned.project_id, change, HEALTH, RULES)
    refused(uow, Forbidden, usecases.request_change, planned.project_id, change, DATA_CENTER, RULES)
    refused(uow, NotFound, usecases.review_change, "chg-none", "approve", "", OFFICE)


def test_unauthorized_changes_are_reported_then_resolved_together(uow):
    project = planned_project(uow)
    uow.emitted.clear()
    first = run(uow, usecases.report_unauthorized_change, project.project_id, "擅自增加服务器", DATA_CENTER, RULES)
    second = run(uow, usecases.report_unauthorized_change, project.project_id, "擅自更换软件", OFFICE, RULES)
    assert uow.types() == ["change.unauthorized_reported"] * 2
    resolved = run(uow, usecases.resolve_unauthorized_change, project.project_id, "已补办", OFFICE, RULES)
    assert resolved == [first, second] and first.resolved and second.resolved
    assert uow.types()[-1] == "change.unauthorized_resolved"
    assert uow.emitted[-1].data()["report_ids"] == [first.report_id, second.report_id]
    error = refused(uow, Conflict, usecases.resolve_unauthorized_change, project.project_id, "again", OFFICE, RULES)
    assert error.code == "NO_OPEN_UNAUTHORIZED_CHANGE"
    refused(uow, NotFound, usecases.report_unauthorized_change, "prj-none", "x", OFFICE, RULES)


# --- timeline and the IP exception register ----------------------------------------------------------


def test_the_timeline_records_each_event_once_and_names_the_stage(uow):
    project = declare(uow)
    assert usecases.get_timeline(uow.repo, project.project_id, EDU, RULES).stage == "declared"  # the status
    submitted = event("review.submitted", project.project_id)
    assert run(uow, usecases.record_timeline, submitted, RiskRules()) is not None
    assert run(uow, usecases.record_timeline, submitted, RiskRules()) is None  # redelivered
    assert run(uow, usecases.record_timeline, event("audit.opened", None, event_id="e2"), RiskRules()) is None
    found = usecases.get_timeline(uow.repo, project.project_id, EDU, RULES)
    assert (found.stage, [e.event_type for e in found.entries]) == (
        "under_review",
        ["project.declared", "review.submitted"],
    )
    assert project.stage == "under_review"
    assert uow.types() == ["project.declared"]  # recording emits nothing
    with pytest.raises(NotFound):
        usecases.get_timeline(uow.repo, project.project_id, HEALTH, RULES)


def test_the_ip_exception_register_keeps_one_line_per_contract(uow):
    data = {"contract_no": "HT-1", "vendor": "某公司", "source_code_owner": "vendor", "unit": "unit:edu"}
    reported = event("contract.ip_exception_reported", "prj-1", data=data, source="finance")
    assert run(uow, usecases.register_ip_exception, reported, data).contract_no == "HT-1"
    assert run(uow, usecases.register_ip_exception, reported, data) is None  # redelivered
    again = event("contract.ip_exception_reported", "prj-1", "e2", data, source="finance")
    run(uow, usecases.register_ip_exception, again, {**data, "source_code_owner": "shared"})
    register = usecases.list_ip_exceptions(uow.repo)
    assert [(r.contract_no, r.source_code_owner) for r in register] == [("HT-1", "shared")]
    assert uow.emitted == []


# --- planning's own events on the timeline, in the deciding transaction ------------------------------


def test_planning_s_own_events_are_on_the_timeline_with_their_published_ids(uow):
    project = declare(uow)
    (declared,) = uow.repo.timeline(project.project_id)
    assert (declared.event_type, declared.source, declared.actor) == ("project.declared", "test", "li@unit:edu")
    assert project.stage == "declared"
    approved_plan(uow, project)
    types = [e.event_type for e in uow.repo.timeline(project.project_id)]
    assert types == [
        "project.declared",
        "plan.compiled",
        "plan.concurred",
        "plan.concurred",
        "plan.approved",
        "project.planned",
    ]
    assert project.stage == "planned"
    concurred = [e for e in uow.repo.timeline(project.project_id) if e.event_type == "plan.concurred"]
    assert [(e.actor, e.data["org"]) for e in concurred] == [("p@finance", "finance"), ("p@drc", "drc")]


def test_planning_s_own_event_arriving_from_the_broker_changes_nothing(uow):
    project = declare(uow)
    (declared,) = uow.repo.timeline(project.project_id)
    again = Event(
        declared.event_id, "project.declared", 1, declared.occurred_at, "planning", project.project_id, "li@unit:edu"
    )
    assert run(uow, usecases.record_timeline, again, RiskRules()) is None
    assert len(uow.repo.timeline(project.project_id)) == 1


def test_each_plan_event_is_on_the_timeline_of_every_project_it_names(uow):
    first, second, left_out = declare(uow), declare(uow), declare(uow)
    approved_plan(uow, first, second)
    for project in (first, second):
        types = [e.event_type for e in uow.repo.timeline(project.project_id)]
        assert types.count("plan.compiled") == types.count("plan.approved") == 1
    assert [e.event_type for e in uow.repo.timeline(left_out.project_id)] == [
        "project.declared",
        "project.not_planned",
    ]
    assert left_out.stage == "not_planned"


def test_another_service_s_event_keeps_the_project_s_disclosure(uow):
    project = planned_project(uow)
    granted = event("approval.granted", project.project_id, "e9", {"approval_no": "A-1"}, source="approval")
    run(uow, usecases.record_timeline, granted, RiskRules())
    assert (project.stage, project.approval) == ("approved", {"approval_no": "A-1"})


# after every event of the fake's (its own are stamped with the real clock)
LATER, LATEST = "2999-01-01T08:00:00+00:00", "2999-01-02T08:00:00+00:00"


def test_an_event_that_occurred_before_one_recorded_already_keeps_the_later_disclosure(uow):
    project = planned_project(uow)
    granted = event("approval.granted", project.project_id, "e9", {"approval_no": "A-1"}, "approval", LATEST)
    run(uow, usecases.record_timeline, granted, RiskRules())
    passed = event("review.passed", project.project_id, "e8", occurred_at=LATER)
    run(uow, usecases.record_timeline, passed, RiskRules())
    assert (project.stage, project.approval) == ("approved", {"approval_no": "A-1"})
    assert [e.event_type for e in uow.repo.timeline(project.project_id)][-2:] == ["review.passed", "approval.granted"]


def test_the_latest_event_moves_the_disclosure_on_without_reading_the_timeline(uow, monkeypatch):
    project = planned_project(uow)
    monkeypatch.setattr(uow.repo, "timeline", lambda project_id: pytest.fail("the whole timeline read"))
    granted = event("approval.granted", project.project_id, "e9", {"approval_no": "A-1"}, "approval", LATER)
    run(uow, usecases.record_timeline, granted, RiskRules())
    assert (project.stage, project.approval) == ("approved", {"approval_no": "A-1"})


def test_a_failed_pre_check_arriving_last_takes_the_stage_from_the_whole_timeline(uow):
    """A timeline naming no stage (a project from before its own events were on it) shows the
    status, which the project's kept stage need not be."""
    project = declare(uow)
    uow.repo.entries.clear()
    project.status = "planned"
    failed = event("acceptance.prechecked", project.project_id, "e9", {"passed": False}, "acceptance", LATEST)
    run(uow, usecases.record_timeline, failed, RiskRules())
    assert project.stage == "planned"


def test_another_service_s_event_is_known_new_by_the_inbox_alone(uow, monkeypatch):
    """Only planning's own events are on the timeline without an inbox row: another service's is
    not looked for there."""
    project = planned_project(uow)
    monkeypatch.setattr(uow.repo, "on_timeline", lambda *ids: pytest.fail("looked for on the timeline"))
    passed = event("review.passed", project.project_id, "e8", occurred_at=LATER)
    assert run(uow, usecases.record_timeline, passed, RiskRules()) is not None
    assert run(uow, usecases.record_timeline, passed, RiskRules()) is None  # redelivered
    assert project.stage == "reviewed"


# --- Art 8, 9: an approved plan takes no more annual declarations ---------------------------------------


def test_an_annual_declaration_into_an_approved_plan_is_refused(uow):
    planned_project(uow)
    error = refused(uow, RuleViolation, usecases.declare_project, fields(), EDU, TODAY, NOW, RULES)
    assert error.code == "ANNUAL_PLAN_CLOSED"
    assert declare(uow, **SUPPLEMENTARY).status == "declared"


def test_a_declaration_while_the_plan_is_only_compiled_is_taken(uow):
    project = declare(uow)
    run(uow, usecases.compile_annual_plan, 2027, [project.project_id], OFFICE, RULES)
    assert declare(uow).status == "declared"


# --- Art 25: the plan as each caller may see it ------------------------------------------------------


def test_the_plan_shows_classified_projects_only_to_those_who_may_see_them(uow):
    rules = PlanningRules.from_settings("12-11..12-20", "smart_office,county_gov,drc")  # not finance
    open_one, secret = declare(uow), declare(uow, classified=True)
    ids = [open_one.project_id, secret.project_id]
    compiled = run(uow, usecases.compile_annual_plan, 2027, ids, OFFICE, rules)
    assert compiled.project_ids == ids
    concurred = run(uow, usecases.concur_annual_plan, 2027, FINANCE, rules)
    assert concurred.project_ids == [open_one.project_id]
    assert concurred.total_investment == Decimal("5000000.00")  # the true total
    assert run(uow, usecases.concur_annual_plan, 2027, DRC, rules).project_ids == ids


def test_a_project_the_office_may_not_see_is_not_found_naming_nothing(uow):
    rules = PlanningRules.from_settings("12-11..12-20", "county_gov")
    secret = declare(uow, classified=True, name="涉密项目")
    error = refused(uow, NotFound, usecases.compile_annual_plan, 2027, [secret.project_id], OFFICE, rules)
    assert secret.project_id not in error.message and "涉密项目" not in error.message
    assert "unit:edu" not in error.message


def test_a_unit_asking_to_change_another_unit_s_project_is_not_told_it_exists(uow):
    project = planned_project(uow)
    error = refused(uow, NotFound, usecases.request_change, project.project_id, {"description": "x"}, HEALTH, RULES)
    assert "unit:edu" not in error.message and project.project_id not in error.message


# --- Art 18: a change with a new estimate -------------------------------------------------------------


def test_an_approved_change_with_a_new_estimate_updates_the_project(uow):
    project = planned_project(uow)
    wanted = {"description": "扩容", "reason": "业务增长", "estimated_investment": Decimal("3200000.00")}
    change = run(uow, usecases.request_change, project.project_id, wanted, EDU, RULES)
    assert change.estimated_investment == Decimal("3200000.00")
    run(uow, usecases.review_change, change.change_id, "approve", "同意", OFFICE)
    assert project.estimated_investment == Decimal("3200000.00")
    assert uow.emitted[-1].data()["estimated_investment"] == "3200000.00"
    assert uow.repo.timeline(project.project_id)[-1].event_type == "change.approved"


# --- Art 25: lists in the caller's scope -----------------------------------------------------------------


def test_list_projects_pages_within_the_caller_s_scope(uow):
    rules = PlanningRules.from_settings("12-11..12-20", "county_gov")
    mine = [declare(uow) for _ in range(3)]
    secret = declare(uow, classified=True)
    unified_secret = declare(uow, DATA_CENTER, construction_mode="unified", classified=True)
    assert usecases.list_projects(uow.repo, EDU, rules).total == 5
    office = usecases.list_projects(uow.repo, OFFICE, rules, page=1, page_size=2)
    assert (office.total, [p.project_id for p in office.items]) == (3, sorted(p.project_id for p in mine)[:2])
    center = usecases.list_projects(uow.repo, DATA_CENTER, rules)
    assert unified_secret in center.items and secret not in center.items
    assert usecases.list_projects(uow.repo, COUNTY, rules).total == 5
