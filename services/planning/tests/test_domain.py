"""Every planning rule as a pure unit test: no broker, no database."""

import datetime as dt
from decimal import Decimal

import pytest

from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, Forbidden, NotFound, RuleViolation, ValidationError
from planning.domain import changes, declaration, plans, timeline
from planning.events import ProjectDeclared

from .factories import declaration as sample_declaration

RULES = declaration.PlanningRules.from_settings("12-11..12-20", "smart_office,county_gov,drc,finance")
IN_WINDOW = dt.date(2026, 12, 15)
NOW = dt.datetime(2026, 12, 15, 9, tzinfo=dt.UTC)
EDU = Caller("li", "unit:edu")
OFFICE, FINANCE, DRC, COUNTY = (Caller("p", org) for org in ("smart_office", "finance", "drc", "county_gov"))


def fields(**overrides):
    raw = sample_declaration(**overrides)
    raw["estimated_investment"] = Decimal(raw["estimated_investment"])
    return raw


def declare(caller=EDU, today=IN_WINDOW, **overrides):
    project, _ = declaration.declare(fields(**overrides), caller, today, RULES, NOW)
    return project


def types(events):
    return [e.event_type for e in events]


# --- Art 8: declaration window and contents ---


@pytest.mark.parametrize("day", [dt.date(2026, 12, 11), dt.date(2026, 12, 15), dt.date(2026, 12, 20)])
def test_annual_declaration_inside_the_window_is_accepted(day):
    assert declare(today=day).status == "declared"


def test_a_declaration_causes_project_declared_with_its_data():
    project, events = declaration.declare(fields(), EDU, IN_WINDOW, RULES, NOW)
    (declared,) = events
    assert isinstance(declared, ProjectDeclared)
    assert (declared.project_id, declared.actor) == (project.project_id, "li@unit:edu")
    assert declared.data()["estimated_investment"] == "2500000.00"
    assert declared.data()["plan_type"] == "annual"
    assert declared.data()["summary"] == project.summary  # v2: review compares plans with it (Art 12)


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
    wrapping = declaration.PlanningRules.from_settings("12-20..01-05", ())
    assert declaration.in_window(dt.date(2026, 12, 31), wrapping)
    assert declaration.in_window(dt.date(2027, 1, 5), wrapping)
    assert not declaration.in_window(dt.date(2027, 1, 6), wrapping)
    with pytest.raises(ValueError):
        declaration.PlanningRules.from_settings("13-01..12-20", ())


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


def test_a_classified_projects_name_does_not_travel_in_project_planned():
    for classified, travelling in ((False, "智慧教育平台"), (True, "")):
        project = declare(
            plan_type="supplementary", plan_year=2026, higher_level_requirement="省厅通知", classified=classified
        )
        assert plans.planned(project, COUNTY).data()["name"] == travelling


def test_supplementary_needs_office_review_before_county_approval():
    project = declare(plan_type="supplementary", plan_year=2026, higher_level_requirement="省厅通知")
    with pytest.raises(Conflict) as err:
        plans.approve_supplementary(project, COUNTY)
    assert err.value.code == "SUPPLEMENTARY_NOT_REVIEWED"
    _, reviewed = plans.review_supplementary(project, "approve", "同意", OFFICE)
    assert reviewed == []
    _, approved = plans.approve_supplementary(project, COUNTY)
    assert project.status == "planned"
    assert types(approved) == ["project.planned"] and approved[0].data()["plan_type"] == "supplementary"
    with pytest.raises(Conflict) as err:
        plans.review_supplementary(project, "approve", "同意", OFFICE)
    assert err.value.code == "SUPPLEMENTARY_STATE_CONFLICT"


def test_supplementary_rejected_by_the_office_is_not_planned():
    project = declare(plan_type="supplementary", plan_year=2026, higher_level_requirement="省厅通知")
    _, events = plans.review_supplementary(project, "reject", "不必要", OFFICE)
    assert project.status == "not_planned"
    assert types(events) == ["project.not_planned"] and events[0].data() == {"plan_year": 2026, "reason": "不必要"}
    with pytest.raises(Conflict):
        plans.approve_supplementary(project, COUNTY)


def test_only_a_supplementary_project_goes_through_the_supplementary_plan():
    with pytest.raises(Conflict) as err:
        plans.review_supplementary(declare(), "approve", "同意", OFFICE)
    assert err.value.code == "NOT_SUPPLEMENTARY"


# --- Art 8, 11: who declares ---


def test_a_unit_declares_only_its_own_projects():
    with pytest.raises(Forbidden):
        declare(caller=Caller("x", "unit:health"))


def test_data_center_declares_unified_projects_only():
    assert declare(caller=Caller("dc", "data_center"), construction_mode="unified").declared_by == "dc@data_center"
    with pytest.raises(Forbidden):
        declare(caller=Caller("dc", "data_center"))


def test_owner_is_the_unit_or_data_center_for_unified():
    self_built = declare()
    unified = declare(construction_mode="unified")
    declaration.check_owner(EDU, self_built)
    declaration.check_owner(Caller("dc", "data_center"), unified)
    with pytest.raises(Forbidden):
        declaration.check_owner(EDU, unified)


# --- Art 25: visibility ---


def test_units_see_only_their_own_projects():
    project = declare()
    assert declaration.can_see(EDU, project, RULES)
    assert not declaration.can_see(Caller("x", "unit:health"), project, RULES)
    with pytest.raises(NotFound):
        declaration.check_visible(Caller("x", "unit:health"), project, RULES)


def test_classified_projects_only_to_the_orgs_that_need_them():
    project = declare(classified=True)
    assert declaration.can_see(Caller("o", "smart_office"), project, RULES)
    assert declaration.can_see(EDU, project, RULES)
    assert not declaration.can_see(Caller("a", "audit"), project, RULES)  # not in this RULES' list
    assert declaration.can_see(Caller("a", "audit"), declare(), RULES)


# --- Art 9: the annual plan ---


def compiled(*projects):
    plan, events = plans.compile_plan(2027, list(projects), None, OFFICE)
    assert types(events) == ["plan.compiled"]
    return plan


def test_compile_takes_declared_annual_projects_of_that_year():
    plan = compiled(
        declare(), declare(estimated_investment="100.00", annual_investments=[{"year": 2027, "amount": "100.00"}])
    )
    assert plan.total_investment == Decimal("2500100.00")
    with pytest.raises(Conflict):
        plans.compile_plan(2028, [declare()], None, OFFICE)


def test_county_approves_only_after_finance_and_drc_concur():
    chosen, other = declare(), declare()
    plan = compiled(chosen)
    plans.concur_plan(plan, FINANCE)
    plans.concur_plan(plan, FINANCE)
    assert (plan.status, plan.concurred_by) == ("compiled", ["finance"])
    with pytest.raises(Conflict) as err:
        plans.approve_plan(plan, [chosen, other], COUNTY)
    assert err.value.code == "PLAN_NOT_CONCURRED"
    _, concurred = plans.concur_plan(plan, DRC)
    assert (plan.status, types(concurred)) == ("concurred", ["plan.concurred"])
    _, events = plans.approve_plan(plan, [chosen, other], COUNTY)
    assert [(e.event_type, e.project_id) for e in events] == [
        ("plan.approved", None),
        ("project.planned", chosen.project_id),
        ("project.not_planned", other.project_id),
    ]
    assert events[2].data() == {"plan_year": 2027, "reason": "未列入县人民政府审定的年度建设计划"}
    assert (chosen.status, other.status, plan.status) == ("planned", "not_planned", "approved")


def test_a_plan_not_compiled_is_not_approved():
    with pytest.raises(Conflict) as err:
        plans.approve_plan(None, [], COUNTY)
    assert err.value.code == "PLAN_STATE_CONFLICT"


def test_the_plan_transitions_come_from_the_table():
    assert plans.PLAN_TRANSITIONS[(plans.PlanStatus.COMPILED, "complete_concurrence")] is plans.PlanStatus.CONCURRED
    plan = compiled(declare())
    for org in ("finance", "drc"):
        plans.concur_plan(plan, Caller("p", org))
    with pytest.raises(Conflict) as err:
        plans.concur_plan(plan, FINANCE)
    assert err.value.code == "PLAN_STATE_CONFLICT"


def test_an_approved_plan_is_not_recompiled_or_approved_again():
    project = declare()
    plan = compiled(project)
    plans.concur_plan(plan, FINANCE)
    plans.concur_plan(plan, DRC)
    plans.approve_plan(plan, [project], COUNTY)
    with pytest.raises(Conflict):
        plans.compile_plan(2027, [project], plan, OFFICE)
    with pytest.raises(Conflict):
        plans.approve_plan(plan, [project], COUNTY)


# --- Art 10, 18: change control ---


def test_changes_only_for_planned_projects_and_decided_once():
    project = declare()
    with pytest.raises(RuleViolation) as err:
        changes.request_change(project, EDU, "增加模块", "")
    assert err.value.code == "NOT_IN_ANNUAL_PLAN"
    project.status = "planned"
    change, requested = changes.request_change(project, EDU, "增加模块", "业务需要")
    assert requested == []
    _, decided = changes.decide_change(change, project, "approve", "同意", OFFICE)
    assert change.status == "approved"
    assert types(decided) == ["change.approved"]
    assert decided[0].data() == {"change_id": change.change_id, "opinion": "同意", "estimated_investment": None}
    other, _ = changes.request_change(project, EDU, "删减模块", "业务需要")
    assert types(changes.decide_change(other, project, "reject", "不同意", OFFICE)[1]) == ["change.rejected"]
    with pytest.raises(Conflict):
        changes.decide_change(change, project, "reject", "", OFFICE)


def test_unauthorized_change_is_resolved_once():
    project = declare()
    report, reported = changes.report_unauthorized_change(project, "擅自增加硬件", OFFICE)
    assert types(reported) == ["change.unauthorized_reported"]
    _, resolved = changes.resolve_unauthorized_changes(project, [report], "已补办变更", OFFICE)
    assert report.resolved
    assert resolved[0].data() == {"report_ids": [report.report_id], "opinion": "已补办变更"}
    with pytest.raises(Conflict):
        changes.resolve_unauthorized_changes(project, [], "", OFFICE)


# --- timeline ---


def entry(event_type, **data):
    return timeline.TimelineEntry("e", "p", event_type, "s", "t", None, data)


def test_stage_follows_the_latest_stage_changing_event():
    entries = [
        entry("project.declared"),
        entry("project.planned"),
        entry("review.submitted"),
        entry("review.failed"),
        entry("review.submitted"),
        entry("change.approved"),
    ]
    assert timeline.stage_of(entries) == "under_review"
    assert timeline.stage_of([*entries, entry("review.passed"), entry("approval.granted")]) == "approved"
    assert timeline.stage_of([entry("acceptance.prechecked", passed=False)]) is None
    assert timeline.stage_of([entry("acceptance.prechecked", passed=True)]) == "prechecked"


def test_review_s_pre_check_and_acceptance_take_the_project_to_prechecked_and_accepted():
    """The stages of Art 21 from the events review emits, with their data as review sends it."""
    entries = [entry("project.planned"), entry("contract.registered", contract_no="HT-1")]
    precheck = {"precheck_id": "pck-1", "opinion": "符合"}
    steps = [
        (entry("acceptance.precheck_requested", precheck_id="pck-1"), "contracted"),
        (entry("acceptance.prechecked", **precheck, verdict="failed", passed=False), "contracted"),
        (entry("acceptance.prechecked", **precheck, verdict="passed", passed=True), "prechecked"),
        (entry("acceptance.failed", acceptance_id="acc-1", date="2027-06-30", minutes="整改"), "acceptance_failed"),
        (entry("acceptance.passed", acceptance_id="acc-2", date="2027-07-30", minutes="通过"), "accepted"),
    ]
    for step, stage in steps:
        entries.append(step)
        assert timeline.stage_of(entries) == stage


def test_recompiling_restarts_the_concurrence():
    first, second = declare(), declare()
    plan = compiled(first)
    plans.concur_plan(plan, FINANCE)
    again, _ = plans.compile_plan(2027, [first, second], plan, OFFICE)
    assert again is plan
    assert plan.project_ids == [first.project_id, second.project_id] and plan.concurred_by == []


# --- Art 8: the plan year a window declares, across the year end ---

WRAPPING = ((12, 20), (1, 5))


@pytest.mark.parametrize(
    ("today", "year"),
    [
        (dt.date(2026, 12, 19), None),
        (dt.date(2026, 12, 20), 2027),
        (dt.date(2026, 12, 25), 2027),
        (dt.date(2026, 12, 31), 2027),
        (dt.date(2027, 1, 1), 2027),
        (dt.date(2027, 1, 3), 2027),
        (dt.date(2027, 1, 5), 2027),
        (dt.date(2027, 1, 6), None),
        (dt.date(2027, 6, 1), None),
    ],
)
def test_a_window_across_the_year_end_declares_the_year_it_opened_for(today, year):
    assert declaration.declared_plan_year(today, *WRAPPING) == year


@pytest.mark.parametrize(
    ("today", "year"),
    [
        (dt.date(2026, 12, 10), None),
        (dt.date(2026, 12, 11), 2027),
        (dt.date(2026, 12, 20), 2027),
        (dt.date(2027, 1, 3), None),
    ],
)
def test_a_window_within_the_year_declares_the_next_year(today, year):
    assert declaration.declared_plan_year(today, (12, 11), (12, 20)) == year


def test_on_the_january_days_of_a_wrapping_window_this_year_is_declared():
    wrapping = declaration.PlanningRules.from_settings("12-20..01-05", ())
    project, _ = declaration.declare(fields(plan_year=2027), EDU, dt.date(2027, 1, 3), wrapping, NOW)
    assert project.plan_year == 2027
    with pytest.raises(RuleViolation) as err:
        declaration.declare(
            fields(plan_year=2028, annual_investments=[{"year": 2028, "amount": "2500000.00"}]),
            EDU,
            dt.date(2027, 1, 3),
            wrapping,
            NOW,
        )
    assert err.value.code == "OUTSIDE_DECLARATION_WINDOW"


# --- Art 8, 9: no annual declaration into an approved plan ---


def test_an_annual_declaration_for_a_year_whose_plan_is_approved_is_refused():
    with pytest.raises(RuleViolation) as err:
        declaration.declare(fields(), EDU, IN_WINDOW, RULES, NOW, plan_approved=True)
    assert (err.value.code, err.value.article) == ("ANNUAL_PLAN_CLOSED", "Art 9")
    assert "增补计划" in err.value.message
    supplementary = fields(
        plan_type="supplementary",
        plan_year=2026,
        higher_level_requirement="省厅通知",
        annual_investments=[{"year": 2026, "amount": "2500000.00"}],
    )
    project, _ = declaration.declare(supplementary, EDU, IN_WINDOW, RULES, NOW, plan_approved=True)
    assert project.status == "declared"


# --- Art 9: a project is compiled into a plan once ---


def test_a_project_named_twice_is_refused_not_counted_twice():
    project = declare()
    with pytest.raises(ValidationError) as err:
        plans.compile_plan(2027, [project, project], None, OFFICE)
    assert "project_ids" in err.value.message


# --- Art 27: the plan's records name the person ---


def test_compiling_concurring_and_approving_record_who_did_it():
    project = declare()
    plan, (compiled_event,) = plans.compile_plan(2027, [project], None, Caller("wang", "smart_office"))
    assert compiled_event.data() == {
        "year": 2027,
        "project_ids": [project.project_id],
        "total_investment": "2500000.00",
    }
    assert (compiled_event.project_id, compiled_event.actor, plan.compiled_by) == (
        None,
        "wang@smart_office",
        "wang@smart_office",
    )
    _, (concurred,) = plans.concur_plan(plan, Caller("zhao", "finance"))
    assert concurred.data() == {"year": 2027, "org": "finance", "concurred_by": ["finance"]}
    plans.concur_plan(plan, Caller("qian", "drc"))
    assert (plan.concurred_by, plan.concurrences) == (["finance", "drc"], ["zhao@finance", "qian@drc"])
    _, events = plans.approve_plan(plan, [project], Caller("sun", "county_gov"))
    assert events[0].data() == {"year": 2027, "project_ids": [project.project_id]}
    assert plan.approved_by == "sun@county_gov"


# --- Art 18: a change may bring a new estimate ---


def test_an_approved_change_with_a_new_estimate_sets_the_project_s_estimate():
    project = declare()
    project.status = "planned"
    change, _ = changes.request_change(project, EDU, "扩容", "业务需要", Decimal("3000000.00"))
    assert change.requested_by == "li@unit:edu"
    _, (approved,) = changes.decide_change(change, project, "approve", "同意", Caller("wang", "smart_office"))
    assert project.estimated_investment == Decimal("3000000.00")
    assert approved.data()["estimated_investment"] == "3000000.00"
    assert change.decided_by == "wang@smart_office"
    rejected_change, _ = changes.request_change(project, EDU, "再扩容", "", Decimal("9000000.00"))
    _, (rejected,) = changes.decide_change(rejected_change, project, "reject", "不同意", OFFICE)
    assert project.estimated_investment == Decimal("3000000.00")
    assert rejected.data()["estimated_investment"] is None


# --- Art 25: a scope says can_see as data ---


@pytest.mark.parametrize("org", ["unit:edu", "unit:health", "smart_office", "audit", "data_center", "drc"])
def test_a_scope_sees_what_can_see_sees(org):
    caller = Caller("x", org)
    projects = [
        declare(),
        declare(classified=True),
        declare(caller=Caller("dc", "data_center"), construction_mode="unified", classified=True),
        declare(caller=Caller("h", "unit:health"), unit="unit:health"),
    ]
    scope = declaration.scope_of(caller, RULES)
    assert [declaration.in_scope(scope, p) for p in projects] == [
        declaration.can_see(caller, p, RULES) for p in projects
    ]


# --- Art 25: what the public sees is kept with the project ---


def test_the_disclosure_follows_the_timeline():
    project = declare()
    entries = [
        entry("project.declared"),
        entry("project.planned"),
        entry("approval.granted", approval_no="南发改〔2027〕1号", opinion="同意"),
        entry("contract.registered", contract_no="HT-1", vendor="某公司", amount="100.00", signed_at="x"),
    ]
    timeline.disclose(project, entries)
    assert (project.stage, project.approval, project.contract) == (
        "contracted",
        {"approval_no": "南发改〔2027〕1号"},
        {"contract_no": "HT-1", "vendor": "某公司", "amount": "100.00"},
    )
    timeline.advance(project, entry("plan.concurred"))
    assert project.stage == "contracted"


@pytest.mark.parametrize(
    "latest",
    [
        entry("review.passed"),
        entry("approval.granted", approval_no="南发改〔2027〕2号", opinion="同意"),
        entry("contract.registered", contract_no="HT-2", vendor="另一公司", amount="90.00", signed_on="x"),
        entry("acceptance.prechecked", passed=True),
    ],
)
def test_the_latest_entry_alone_moves_the_disclosure_on_as_the_whole_timeline_would(latest):
    before = [
        entry("project.declared"),
        entry("approval.granted", approval_no="南发改〔2027〕1号"),
        entry("contract.registered", contract_no="HT-1", vendor="某公司", amount="100.00"),
    ]
    project, whole = declare(), declare()
    timeline.disclose(project, before)
    assert timeline.advance(project, latest) is True
    timeline.disclose(whole, [*before, latest])
    assert (project.stage, project.approval, project.contract) == (whole.stage, whole.approval, whole.contract)


FACTS = [
    entry("budget.approved", approved_amount="90.00", estimated_investment="100.00"),
    entry("procurement.registered", method="open_tender", supplier="某公司", amount="80.00", date="2027-03-01"),
    entry("funds.disbursed", disbursement_id="d1", amount="30.00", disbursed_total="30.00", approved_budget="90.00"),
    entry("funds.disbursed", disbursement_id="d2", amount="20.00", disbursed_total="50.00", approved_budget="90.00"),
]


@pytest.mark.parametrize("n", range(1, len(FACTS) + 1))
def test_the_budget_procurement_and_disbursed_total_follow_the_timeline_entry_by_entry(n):
    """Art 25 (the portal): a disbursement or a procurement names no stage and leaves it; what it
    discloses moves on from the latest entry alone exactly as from the whole timeline."""
    before = [entry("project.declared"), entry("approval.granted", approval_no="A-1"), *FACTS[: n - 1]]
    project, whole = declare(), declare()
    timeline.disclose(project, before)
    assert timeline.advance(project, FACTS[n - 1]) is True
    timeline.disclose(whole, [*before, FACTS[n - 1]])
    shown = [(p.stage, p.budget, p.procurement, p.disbursed) for p in (project, whole)]
    assert shown[0] == shown[1] and project.stage in ("approved", "budgeted")


def test_the_whole_timeline_keeps_the_latest_of_each_fact():
    project = declare()
    timeline.disclose(project, [entry("project.declared"), *FACTS])
    assert project.budget == {"approved_amount": "90.00", "approved_on": FACTS[0].occurred_at[:10]}
    assert project.procurement == {
        "method": "open_tender",
        "supplier": "某公司",
        "amount": "80.00",
        "date": "2027-03-01",
    }
    assert (project.stage, project.disbursed) == ("budgeted", Decimal("50.00"))


def test_an_entry_naming_no_stage_leaves_the_disclosure_to_the_whole_timeline():
    """Its stage is the one before it or, if none, the status: the project does not keep which."""
    project = declare()
    timeline.disclose(project, [entry("review.passed")])
    assert timeline.advance(project, entry("acceptance.prechecked", passed=False)) is False
    assert project.stage == "reviewed"


def test_a_plan_event_goes_on_the_timeline_of_each_project_without_the_plan_s_list():
    from nxshared.core.events import Event

    evt = Event("e1", "plan.approved", 1, "t", "planning", None, "a@county_gov", {"year": 2027, "project_ids": ["a"]})
    entries = timeline.own_entries(evt, ["a", "b", "a"])
    assert [(e.project_id, e.event_id, e.data) for e in entries] == [
        ("a", "e1", {"year": 2027}),
        ("b", "e1", {"year": 2027}),
    ]
