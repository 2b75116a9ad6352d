"""Finance's rules, one test per rule, on plain objects (no broker, no database)."""

import datetime as dt
from decimal import Decimal

import pytest

from finance import domain
from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, Forbidden, NotFound, RuleViolation, ValidationError

NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
TODAY = dt.date(2027, 3, 1)
RULES = domain.FinanceRules.from_settings("smart_office,audit")
FINANCE = Caller("zhao", "finance")
UNIT = Caller("li", "unit:edu")
OTHER_UNIT = Caller("qian", "unit:health")

PLANNED = {
    "name": "智慧教育平台",
    "unit": "unit:edu",
    "construction_mode": "self_built",
    "classified": False,
    "plan_year": 2027,
    "estimated_investment": "2500000.00",
}


def planned(**data):
    return domain.learn_planned(domain.Project("prj-1"), {**PLANNED, **data})


def approved(**data):
    return domain.learn_approved(planned(**data), {"approval_no": "南发改审〔2027〕001号"})


def budgeted(amount="1000000.00", **data):
    project = approved(**data)
    domain.approve_budget(project, Decimal(amount), "同意", FINANCE, NOW)
    return project


def procurement(amount="900000.00", **overrides):
    return {
        "method": "open_tender",
        "supplier": "某科技公司",
        "amount": Decimal(amount),
        "date": dt.date(2027, 3, 10),
        **overrides,
    }


def contract(amount="900000.00", **overrides):
    return {
        "contract_no": "HT-2027-001",
        "vendor": "某科技公司",
        "amount": Decimal(amount),
        "om_years": 3,
        "om_exemption_basis": None,
        "source_code_owner": "unit",
        "signed_on": dt.date(2027, 4, 1),
        **overrides,
    }


def procured(budget="1000000.00", caller=UNIT, **data):
    project = budgeted(budget, **data)
    domain.register_procurement(project, procurement(), caller, RULES, NOW)
    return project


def contracted(budget="1000000.00", caller=UNIT, **data):
    project = procured(budget, caller, **data)
    domain.register_contract(project, contract(), None, caller, RULES, TODAY, NOW)
    return project


def pay(project, amount, reports=()):
    return domain.disburse(project, list(reports), Decimal(amount), "进度款", FINANCE, NOW)[1:]


# --- what finance learns (Art 10, 13, 18) -------------------------------------------------------------


def test_planned_event_makes_the_project_known_with_its_estimate():
    project = planned()
    assert (project.planned, project.unit, project.estimated_investment) == (True, "unit:edu", Decimal("2500000.00"))
    assert not project.approved


def test_an_estimate_change_sets_the_estimate_and_a_null_one_leaves_it():
    project = planned()
    domain.learn_change(project, {"change_id": "chg-1", "estimated_investment": None})
    assert project.estimated_investment == Decimal("2500000.00")
    domain.learn_change(project, {"change_id": "chg-2", "estimated_investment": "3000000.00"})
    assert project.estimated_investment == Decimal("3000000.00")


def test_a_planned_event_that_arrives_after_an_estimate_change_keeps_the_new_estimate():
    project = domain.learn_change(domain.Project("prj-1"), {"estimated_investment": "3000000.00"})
    domain.learn_planned(project, PLANNED)
    assert project.estimated_investment == Decimal("3000000.00")


def test_a_malformed_amount_in_an_event_is_refused():
    with pytest.raises(ValidationError, match="MALFORMED_EVENT"):
        planned(estimated_investment="1e6")


def test_a_resolution_closes_known_reports_and_keeps_unknown_ones_closed():
    known = domain.UnauthorizedChange("uc-1", "prj-1")
    resolved = domain.resolve_reports([known], ["uc-1", "uc-2"], "prj-1")
    assert [(r.report_id, r.resolved) for r in resolved] == [("uc-1", True), ("uc-2", True)]


# --- the budget (Art 10, 13, 14) -------------------------------------------------------------------


@pytest.mark.parametrize("project", [None, domain.Project("prj-1")], ids=["unknown", "known-not-planned"])
def test_no_budget_outside_the_plan(project):
    with pytest.raises(RuleViolation) as err:
        domain.approve_budget(project, Decimal("1.00"), "同意", FINANCE, NOW)
    assert err.value.code == "NOT_IN_ANNUAL_PLAN" and err.value.message.endswith("（第十条）")


def test_no_budget_before_the_approval():
    with pytest.raises(RuleViolation) as err:
        domain.approve_budget(planned(), Decimal("1.00"), "同意", FINANCE, NOW)
    assert err.value.code == "APPROVAL_NOT_GRANTED" and "第十四条" in err.value.message
    with pytest.raises(RuleViolation, match="APPROVAL_NOT_GRANTED"):
        domain.reject_budget(planned(), "不同意", FINANCE, NOW)


def test_the_budget_never_exceeds_the_estimate():
    project = approved()
    with pytest.raises(RuleViolation) as err:
        domain.approve_budget(project, Decimal("2500000.01"), "同意", FINANCE, NOW)
    assert err.value.code == "OVER_ESTIMATE" and "第十四条" in err.value.message
    assert project.stage == domain.Stage.AWAITING_BUDGET
    _, event = domain.approve_budget(project, Decimal("2500000.00"), "同意", FINANCE, NOW)
    assert (project.stage, project.approved_budget) == (domain.Stage.BUDGETED, Decimal("2500000.00"))
    assert event.data() == {
        "approved_amount": "2500000.00",
        "estimated_investment": "2500000.00",
        "opinion": "同意",
    }
    assert (event.actor, project.budget_decided_by) == ("zhao@finance", "zhao@finance")


def test_an_approved_change_of_the_estimate_raises_what_may_be_approved():
    project = approved()
    domain.learn_change(project, {"estimated_investment": "3000000.00"})
    domain.approve_budget(project, Decimal("3000000.00"), "同意", FINANCE, NOW)
    assert project.approved_budget == Decimal("3000000.00")


def test_a_rejected_budget_may_be_approved_later_an_approved_one_is_final():
    project = approved()
    _, rejected = domain.reject_budget(project, "材料不全", FINANCE, NOW)
    assert (rejected.event_type, project.stage) == ("budget.rejected", domain.Stage.BUDGET_REJECTED)
    with pytest.raises(Conflict, match="BUDGET_ALREADY_DECIDED"):
        domain.reject_budget(project, "再次退回", FINANCE, NOW)
    domain.approve_budget(project, Decimal("100.00"), "同意", FINANCE, NOW)
    for decide in (
        lambda: domain.approve_budget(project, Decimal("200.00"), "再核", FINANCE, NOW),
        lambda: domain.reject_budget(project, "退回", FINANCE, NOW),
    ):
        with pytest.raises(Conflict, match="BUDGET_ALREADY_DECIDED"):
            decide()
    assert project.approved_budget == Decimal("100.00")


# --- procurement (Art 15) ----------------------------------------------------------------------------


def test_procurement_only_after_the_budget():
    with pytest.raises(RuleViolation, match="BUDGET_NOT_APPROVED"):
        domain.register_procurement(approved(), procurement(), UNIT, RULES, NOW)


def test_procurement_within_the_budget():
    project = budgeted("1000000.00")
    with pytest.raises(RuleViolation) as err:
        domain.register_procurement(project, procurement("1000000.01"), UNIT, RULES, NOW)
    assert err.value.code == "OVER_BUDGET" and "采购金额" in err.value.message
    registered, event = domain.register_procurement(project, procurement("1000000.00"), UNIT, RULES, NOW)
    assert (registered.registered_by, project.stage) == ("li@unit:edu", domain.Stage.PROCURED)
    assert event.data() == {
        "method": "open_tender",
        "supplier": "某科技公司",
        "amount": "1000000.00",
        "date": "2027-03-10",
    }


def test_procurement_is_registered_once():
    project = procured()
    with pytest.raises(Conflict, match="ALREADY_REGISTERED"):
        domain.register_procurement(project, procurement(), UNIT, RULES, NOW)


def test_procurement_of_a_project_is_the_owners():
    with pytest.raises(NotFound, match="PROJECT_NOT_FOUND"):
        domain.register_procurement(budgeted(), procurement(), OTHER_UNIT, RULES, NOW)
    with pytest.raises(NotFound):
        domain.register_procurement(budgeted(), procurement(), Caller("dc", "data_center"), RULES, NOW)
    with pytest.raises(Forbidden, match="NOT_PROJECT_OWNER"):  # sees the ledger, does not buy
        domain.register_procurement(budgeted(), procurement(), Caller("a", "audit"), RULES, NOW)


def test_data_center_buys_for_a_unified_project_and_the_unit_does_not():
    project = budgeted(construction_mode="unified")
    with pytest.raises(Forbidden, match="NOT_PROJECT_OWNER"):
        domain.register_procurement(project, procurement(), UNIT, RULES, NOW)
    domain.register_procurement(project, procurement(), Caller("dc", "data_center"), RULES, NOW)
    assert project.stage == domain.Stage.PROCURED


# --- contracts (Art 15–17) -------------------------------------------------------------------------------


def test_contract_only_after_the_procurement():
    with pytest.raises(RuleViolation, match="PROCUREMENT_NOT_REGISTERED"):
        domain.register_contract(budgeted(), contract(), None, UNIT, RULES, TODAY, NOW)


def test_om_period_of_at_least_three_years_unless_a_basis_is_given():
    for basis in (None, "", "   "):
        with pytest.raises(RuleViolation) as err:
            domain.register_contract(
                procured(), contract(om_years=2, om_exemption_basis=basis), None, UNIT, RULES, TODAY, NOW
            )
        assert err.value.code == "OM_PERIOD_TOO_SHORT" and "第十六条" in err.value.message
    registered, _ = domain.register_contract(
        procured(), contract(om_years=1, om_exemption_basis="上级政策另有规定"), None, UNIT, RULES, TODAY, NOW
    )
    assert (registered.om_years, registered.om_exemption_basis) == (1, "上级政策另有规定")


def test_contract_within_the_budget():
    with pytest.raises(RuleViolation) as err:
        domain.register_contract(procured("1000000.00"), contract("1000000.01"), None, UNIT, RULES, TODAY, NOW)
    assert err.value.code == "OVER_BUDGET" and "合同金额" in err.value.message


def test_a_contract_number_is_used_once():
    taken, _ = domain.register_contract(procured(), contract(), None, UNIT, RULES, TODAY, NOW)
    with pytest.raises(Conflict, match="CONTRACT_NO_TAKEN"):
        domain.register_contract(procured(), contract(), taken, UNIT, RULES, TODAY, NOW)


def test_a_contract_is_registered_once():
    with pytest.raises(Conflict, match="ALREADY_REGISTERED"):
        domain.register_contract(contracted(), contract(contract_no="HT-2"), None, UNIT, RULES, TODAY, NOW)


def test_a_unit_owned_contract_causes_only_contract_registered():
    project = procured()
    registered, events = domain.register_contract(project, contract(), None, UNIT, RULES, TODAY, NOW)
    assert [e.event_type for e in events] == ["contract.registered"]
    assert project.stage == domain.Stage.CONTRACTED
    assert events[0].data() == {
        "contract_no": "HT-2027-001",
        "vendor": "某科技公司",
        "amount": "900000.00",
        "om_years": 3,
        "om_exemption_basis": None,
        "source_code_owner": "unit",
        "signed_on": "2027-04-01",
        "om_ends_on": "2030-04-01",
    }


@pytest.mark.parametrize("owner", ["vendor", "joint"])
def test_code_not_owned_by_the_unit_is_accepted_and_reported(owner):
    _, events = domain.register_contract(procured(), contract(source_code_owner=owner), None, UNIT, RULES, TODAY, NOW)
    assert [e.event_type for e in events] == ["contract.registered", "contract.ip_exception_reported"]
    assert events[1].data() == {
        "contract_no": "HT-2027-001",
        "vendor": "某科技公司",
        "source_code_owner": owner,
        "unit": "unit:edu",
    }


def test_the_om_period_runs_from_signing_today_when_not_given():
    registered, _ = domain.register_contract(procured(), contract(signed_on=None), None, UNIT, RULES, TODAY, NOW)
    assert (registered.signed_on, registered.om_ends_on) == (TODAY, dt.date(2030, 3, 1))
    assert domain.add_years(dt.date(2028, 2, 29), 3) == dt.date(2031, 2, 28)


def test_the_om_expiry_window_is_the_next_90_days():
    assert domain.om_expiry_window(TODAY) == (TODAY, dt.date(2027, 5, 30))


# --- disbursements (Art 14, 18, 27) ----------------------------------------------------------------------


def test_no_disbursement_before_a_contract():
    for project in (budgeted(), procured()):
        with pytest.raises(RuleViolation, match="CONTRACT_NOT_REGISTERED"):
            pay(project, "1.00")


def test_no_disbursement_outside_the_plan():
    with pytest.raises(RuleViolation, match="NOT_IN_ANNUAL_PLAN"):
        pay(None, "1.00")


def test_the_running_total_is_exact_to_the_fen_and_never_exceeds_the_budget():
    project = budgeted("0.30")
    domain.register_procurement(project, procurement("0.30"), UNIT, RULES, NOW)
    domain.register_contract(project, contract("0.30"), None, UNIT, RULES, TODAY, NOW)
    pay(project, "0.10")
    _, event = pay(project, "0.20")
    assert project.disbursed_total == Decimal("0.30")
    assert event.data()["disbursed_total"] == "0.30" and event.data()["approved_budget"] == "0.30"
    with pytest.raises(RuleViolation) as err:
        pay(project, "0.01")
    assert err.value.code == "OVER_BUDGET" and "第二十七条" in err.value.message
    assert project.disbursed_total == Decimal("0.30")


def test_a_disbursement_is_recorded_with_who_and_why():
    paid, event = pay(contracted(), "100.00")
    assert (paid.amount, paid.purpose, paid.disbursed_by) == (Decimal("100.00"), "进度款", "zhao@finance")
    assert event.data()["disbursement_id"] == paid.disbursement_id


def test_an_open_unauthorized_change_blocks_disbursement_until_resolved():
    project = contracted()
    report = domain.UnauthorizedChange("uc-1", "prj-1")
    with pytest.raises(RuleViolation) as err:
        pay(project, "1.00", [report])
    assert err.value.code == "UNAUTHORIZED_CHANGE" and "uc-1" in err.value.message and "第十八条" in err.value.message
    domain.resolve_reports([report], ["uc-1"], "prj-1")
    pay(project, "1.00", [report])
    assert project.disbursed_total == Decimal("1.00")


# --- who sees a ledger (Art 25) ----------------------------------------------------------------------------


def ledger_for(caller, project):
    return domain.ledger(project, caller, RULES, None, None, [])


@pytest.mark.parametrize("org", ["unit:edu", "finance", "audit", "smart_office"])
def test_owner_finance_audit_and_smart_office_see_the_ledger(org):
    assert ledger_for(Caller("x", org), budgeted()).approved_budget == Decimal("1000000.00")


@pytest.mark.parametrize("org", ["unit:health", "drc", "data_center", "county_gov"])
def test_anyone_else_is_told_nothing_exists(org):
    with pytest.raises(NotFound) as err:
        ledger_for(Caller("x", org), budgeted())
    assert err.value.message == "项目不存在或无权查看"


def test_a_project_not_known_as_planned_has_no_ledger():
    with pytest.raises(NotFound):
        ledger_for(FINANCE, domain.Project("prj-1"))


def test_a_classified_ledger_follows_the_setting():
    project = budgeted(classified=True)
    only_audit = domain.FinanceRules.from_settings("audit")
    for org in ("unit:edu", "finance", "audit"):
        domain.ledger(project, Caller("x", org), only_audit, None, None, [])
    with pytest.raises(NotFound):
        domain.ledger(project, Caller("x", "smart_office"), only_audit, None, None, [])


def test_the_classified_setting_adds_no_reader_to_a_ledger():
    drc_too = domain.FinanceRules.from_settings("drc,audit")
    with pytest.raises(NotFound):
        domain.ledger(budgeted(classified=True), Caller("x", "drc"), drc_too, None, None, [])


def test_the_data_center_sees_the_ledger_of_a_unified_project():
    assert ledger_for(Caller("x", "data_center"), budgeted(construction_mode="unified")).stage == "budgeted"


def test_the_visibility_setting_takes_only_org_codes():
    assert domain.FinanceRules.from_settings(" audit , smart_office ").classified_visible_to == (
        "audit",
        "smart_office",
    )
    with pytest.raises(ValueError, match="CLASSIFIED_VISIBLE_TO"):
        domain.FinanceRules.from_settings("audit,Finance Bureau")


# --- the state machine ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stage", "action"), [(s, a) for s in domain.Stage for a in domain.Action])
def test_every_action_outside_the_table_is_refused(stage, action):
    project = approved()
    project.stage = stage.value
    if (stage, action) in domain.TRANSITIONS:
        assert domain.transition(project, action) == domain.TRANSITIONS[(stage, action)]
    else:
        with pytest.raises((RuleViolation, Conflict)):
            domain.transition(project, action)
