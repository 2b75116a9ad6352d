"""Every planning rule as a pure unit test: no broker, no database."""

import datetime as dt
from decimal import Decimal

import pytest

from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, Forbidden, NotFound, RuleViolation, ValidationError
from planning import domain

from .factories import declaration

RULES = domain.PlanningRules.from_settings("12-11..12-20", "smart_office,county_gov,drc,finance")
IN_WINDOW = dt.date(2026, 12, 15)
NOW = dt.datetime(2026, 12, 15, 9, tzinfo=dt.UTC)
EDU = Caller("li", "unit:edu")


def fields(**overrides):
    raw = declaration(**overrides)
    raw["estimated_investment"] = Decimal(raw["estimated_investment"])
    return raw


def declare(caller=EDU, today=IN_WINDOW, **overrides):
    return domain.declare(fields(**overrides), caller, today, RULES, NOW)


# --- Art 8: declaration window and contents ---


@pytest.mark.parametrize("day", [dt.date(2026, 12, 11), dt.date(2026, 12, 15), dt.date(2026, 12, 20)])
def test_annual_declaration_inside_the_window_is_accepted(day):
    assert declare(today=day).status == "declared"


@pytest.mark.parametrize("day", [dt.date(2026, 12, 10), dt.date(2026, 12, 21), dt.date(2026, 6, 1)])
def test_annual_declaration_outside_the_window_is_refused(day):
    with pytest.raises(RuleViolation) as err:
        declare(today=day)
    assert err.value.code == "OUTSIDE_DECLARATION_WINDOW"


@pytest.mark.parametrize("year", [2026, 2028])
def test_annual_declaration_is_for_next_year_only(year):
    with pytest.raises(RuleViolation) as err:
        declare(plan_year=year)
    assert err.value.code == "OUTSIDE_DECLARATION_WINDOW"


def test_window_is_a_setting_and_may_wrap_the_year_end():
    wrapping = domain.PlanningRules.from_settings("12-20..01-05", ())
    assert domain.in_window(dt.date(2026, 12, 31), wrapping)
    assert domain.in_window(dt.date(2027, 1, 5), wrapping)
    assert not domain.in_window(dt.date(2027, 1, 6), wrapping)
    with pytest.raises(ValueError):
        domain.PlanningRules.from_settings("13-01..12-20", ())


def test_annual_amounts_must_add_up_to_the_estimate_to_the_cent():
    with pytest.raises(RuleViolation) as err:
        declare(estimated_investment="2500000.01")
    assert err.value.code == "ANNUAL_PLAN_MISMATCH"


def test_annual_amounts_may_not_repeat_a_year():
    twice = [{"year": 2027, "amount": "1250000.00"}, {"year": 2027, "amount": "1250000.00"}]
    with pytest.raises(ValidationError):
        declare(annual_investments=twice)


# --- Art 6: standalone infrastructure ---


def test_standalone_infrastructure_without_exemption_is_refused():
    with pytest.raises(RuleViolation) as err:
        declare(standalone_infrastructure=["machine_room"])
    assert err.value.code == "STANDALONE_INFRA_NOT_ALLOWED"


def test_an_exemption_needs_a_written_basis():
    with pytest.raises(RuleViolation):
        declare(
            standalone_infrastructure=["network"],
            infrastructure_exemption="internal_use_equipment",
            exemption_basis=" ",
        )


def test_standalone_infrastructure_with_exemption_and_basis_is_accepted():
    project = declare(
        standalone_infrastructure=["network"],
        infrastructure_exemption="internal_use_equipment",
        exemption_basis="会议室显示屏内部专网",
    )
    assert project.standalone_infrastructure == ["network"]


def test_classified_exemption_requires_a_classified_project():
    with pytest.raises(RuleViolation):
        declare(standalone_infrastructure=["compute"], infrastructure_exemption="classified", exemption_basis="涉密")
    assert declare(
        standalone_infrastructure=["compute"],
        infrastructure_exemption="classified",
        exemption_basis="涉密",
        classified=True,
    ).classified


# --- Art 9: supplementary plan ---


def test_supplementary_needs_the_higher_level_requirement():
    with pytest.raises(RuleViolation) as err:
        declare(plan_type="supplementary", plan_year=2026, today=dt.date(2026, 6, 1))
    assert err.value.code == "SUPPLEMENTARY_BASIS_REQUIRED"


def test_supplementary_is_declared_any_day_for_the_current_year():
    project = declare(
        plan_type="supplementary",
        plan_year=2026,
        today=dt.date(2026, 6, 1),
        higher_level_requirement="省厅通知",
        annual_investments=[{"year": 2026, "amount": "2500000.00"}],
    )
    assert project.supplementary_status == "awaiting_office_review"
    with pytest.raises(RuleViolation):
        declare(
            plan_type="supplementary", plan_year=2027, today=dt.date(2026, 6, 1), higher_level_requirement="省厅通知"
        )


def test_supplementary_needs_office_review_before_county_approval():
    project = declare(plan_type="supplementary", plan_year=2026, higher_level_requirement="省厅通知")
    with pytest.raises(Conflict) as err:
        domain.approve_supplementary(project)
    assert err.value.code == "SUPPLEMENTARY_NOT_REVIEWED"
    domain.review_supplementary(project, "approve", "同意")
    domain.approve_supplementary(project)
    assert project.status == "planned"


def test_supplementary_rejected_by_the_office_is_not_planned():
    project = declare(plan_type="supplementary", plan_year=2026, higher_level_requirement="省厅通知")
    domain.review_supplementary(project, "reject", "不必要")
    assert project.status == "not_planned"
    with pytest.raises(Conflict):
        domain.approve_supplementary(project)


# --- Art 8, 11: who declares ---


def test_a_unit_declares_only_its_own_projects():
    with pytest.raises(Forbidden):
        declare(caller=Caller("x", "unit:health"))


def test_data_center_declares_unified_projects_only():
    assert declare(caller=Caller("dc", "data_center"), construction_mode="unified").declared_by == "data_center"
    with pytest.raises(Forbidden):
        declare(caller=Caller("dc", "data_center"))


def test_owner_is_the_unit_or_data_center_for_unified():
    self_built = declare()
    unified = declare(construction_mode="unified")
    domain.check_owner(EDU, self_built)
    domain.check_owner(Caller("dc", "data_center"), unified)
    with pytest.raises(Forbidden):
        domain.check_owner(EDU, unified)


# --- Art 25: visibility ---


def test_units_see_only_their_own_projects():
    project = declare()
    assert domain.can_see(EDU, project, RULES)
    assert not domain.can_see(Caller("x", "unit:health"), project, RULES)
    with pytest.raises(NotFound):
        domain.check_visible(Caller("x", "unit:health"), project, RULES)


def test_classified_projects_only_to_the_orgs_that_need_them():
    project = declare(classified=True)
    assert domain.can_see(Caller("o", "smart_office"), project, RULES)
    assert domain.can_see(EDU, project, RULES)
    assert not domain.can_see(Caller("a", "audit"), project, RULES)  # not in this RULES' list
    assert domain.can_see(Caller("a", "audit"), declare(), RULES)


# --- Art 9: the annual plan ---

OFFICE, FINANCE, DRC, COUNTY = (Caller("p", org) for org in ("smart_office", "finance", "drc", "county_gov"))


def compiled(*projects):
    return domain.compile_plan(2027, list(projects), None, OFFICE)


def test_compile_takes_declared_annual_projects_of_that_year():
    plan = compiled(
        declare(), declare(estimated_investment="100.00", annual_investments=[{"year": 2027, "amount": "100.00"}])
    )
    assert plan.total_investment == Decimal("2500100.00")
    with pytest.raises(Conflict):
        domain.compile_plan(2028, [declare()], None, OFFICE)


def test_county_approves_only_after_finance_and_drc_concur():
    chosen, other = declare(), declare()
    plan = compiled(chosen)
    domain.concur_plan(plan, FINANCE)
    with pytest.raises(Conflict) as err:
        domain.approve_plan(plan, [chosen, other], COUNTY)
    assert err.value.code == "PLAN_NOT_CONCURRED"
    domain.concur_plan(plan, DRC)
    planned, not_planned = domain.approve_plan(plan, [chosen, other], COUNTY)
    assert (planned, not_planned) == ([chosen], [other])
    assert (chosen.status, other.status) == ("planned", "not_planned")


def test_an_approved_plan_is_not_recompiled_or_approved_again():
    project = declare()
    plan = compiled(project)
    domain.concur_plan(plan, FINANCE)
    domain.concur_plan(plan, DRC)
    domain.approve_plan(plan, [project], COUNTY)
    with pytest.raises(Conflict):
        domain.compile_plan(2027, [project], plan, OFFICE)
    with pytest.raises(Conflict):
        domain.approve_plan(plan, [project], COUNTY)


# --- Art 10, 18: change control ---


def test_changes_only_for_planned_projects_and_decided_once():
    project = declare()
    with pytest.raises(RuleViolation) as err:
        domain.request_change(project, EDU, "增加模块", "")
    assert err.value.code == "NOT_IN_ANNUAL_PLAN"
    project.status = "planned"
    change = domain.request_change(project, EDU, "增加模块", "业务需要")
    domain.decide_change(change, "approve", "同意", OFFICE)
    assert change.status == "approved"
    with pytest.raises(Conflict):
        domain.decide_change(change, "reject", "", OFFICE)


def test_unauthorized_change_is_resolved_once():
    report = domain.report_unauthorized_change(declare(), "擅自增加硬件", OFFICE)
    domain.resolve_unauthorized_changes([report], "已补办变更", OFFICE)
    assert report.resolved
    with pytest.raises(Conflict):
        domain.resolve_unauthorized_changes([], "", OFFICE)


# --- timeline ---


def entry(event_type, **data):
    return domain.TimelineEntry("e", "p", event_type, "s", "t", None, data)


def test_stage_follows_the_latest_stage_changing_event():
    entries = [
        entry("project.declared"),
        entry("project.planned"),
        entry("review.submitted"),
        entry("review.failed"),
        entry("review.submitted"),
        entry("change.approved"),
    ]
    assert domain.stage_of(entries) == "under_review"
    assert domain.stage_of([*entries, entry("review.passed"), entry("approval.granted")]) == "approved"
    assert domain.stage_of([entry("acceptance.prechecked", passed=False)]) is None
    assert domain.stage_of([entry("acceptance.prechecked", passed=True)]) == "prechecked"


def test_recompiling_restarts_the_concurrence():
    first, second = declare(), declare()
    plan = compiled(first)
    domain.concur_plan(plan, FINANCE)
    again = domain.compile_plan(2027, [first, second], plan, OFFICE)
    assert again is plan
    assert plan.project_ids == [first.project_id, second.project_id] and plan.concurred_by == []
