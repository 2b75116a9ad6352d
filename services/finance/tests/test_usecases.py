"""Finance's use cases on an in-memory unit of work: what each loads, keeps and emits, and that a
refused call leaves nothing behind."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from finance import domain, usecases
from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, RuleViolation
from nxshared.core.events import Event
from nxshared.core.uow import FakeUnitOfWork

from .fakes import FakeRepository

NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
TODAY = dt.date(2027, 3, 1)
RULES = domain.FinanceRules.from_settings("smart_office,audit")
FINANCE = Caller("zhao", "finance")
UNIT = Caller("li", "unit:edu")
PID = "prj-1"
PLANNED = {
    "name": "智慧教育平台",
    "unit": "unit:edu",
    "construction_mode": "self_built",
    "classified": False,
    "plan_year": 2027,
    "estimated_investment": "2500000.00",
}


def event(event_type, data, source="planning", project_id=PID):
    return Event(str(uuid.uuid4()), event_type, 1, NOW.isoformat(), source, project_id, "x@smart_office", data)


@pytest.fixture
def uow():
    return FakeUnitOfWork(FakeRepository())


def run(uow, use_case, *args, **kwargs):
    with uow.transaction():
        return use_case(uow, *args, **kwargs)


def learn(uow, evt):
    handler = usecases.on_approval_granted if evt.event_type == "approval.granted" else usecases.on_planning_event
    run(uow, handler, evt)
    return evt


def approved(uow):
    learn(uow, event("project.planned", PLANNED))
    learn(uow, event("approval.granted", {"approval_no": "南发改审〔2027〕001号"}, source="approval"))


def contracted(uow, budget="1000.00", source_code_owner="unit"):
    approved(uow)
    run(uow, usecases.review_budget, PID, Decimal(budget), "同意", FINANCE, NOW)
    buy = {"method": "inquiry", "supplier": "某公司", "amount": Decimal(budget), "date": TODAY}
    run(uow, usecases.register_procurement, PID, buy, UNIT, RULES, NOW)
    deal = {
        "contract_no": "HT-1",
        "vendor": "某公司",
        "amount": Decimal(budget),
        "om_years": 3,
        "om_exemption_basis": None,
        "source_code_owner": source_code_owner,
        "signed_on": None,
    }
    run(uow, usecases.register_contract, PID, deal, UNIT, RULES, TODAY, NOW)


def test_the_same_event_twice_has_one_effect(uow):
    planned = learn(uow, event("project.planned", PLANNED))
    learn(uow, event("change.approved", {"change_id": "c", "opinion": "", "estimated_investment": "3000000.00"}))
    learn(uow, planned)
    assert uow.repo.projects[PID].estimated_investment == Decimal("3000000.00")
    assert len(uow.inbox) == 2


def test_a_budget_review_waits_for_both_events_in_either_order(uow):
    learn(uow, event("approval.granted", {"approval_no": "1"}, source="approval"))
    with pytest.raises(RuleViolation, match="NOT_IN_ANNUAL_PLAN"):
        run(uow, usecases.review_budget, PID, Decimal("1.00"), "同意", FINANCE, NOW)
    learn(uow, event("project.planned", PLANNED))
    project = run(uow, usecases.review_budget, PID, Decimal("1.00"), "同意", FINANCE, NOW)
    assert project.stage == "budgeted"
    assert uow.types() == ["budget.approved"]


def test_a_refused_review_changes_nothing_and_emits_nothing(uow):
    approved(uow)
    with pytest.raises(RuleViolation, match="OVER_ESTIMATE"):
        run(uow, usecases.review_budget, PID, Decimal("2500000.01"), "同意", FINANCE, NOW)
    assert uow.repo.projects[PID].stage == "awaiting_budget" and uow.emitted == []


def test_the_whole_way_to_the_last_disbursement(uow):
    contracted(uow, "1000.00")
    for amount in ("600.00", "400.00"):
        run(uow, usecases.disburse, PID, Decimal(amount), "进度款", FINANCE, NOW)
    with pytest.raises(RuleViolation, match="OVER_BUDGET"):
        run(uow, usecases.disburse, PID, Decimal("0.01"), "尾款", FINANCE, NOW)
    ledger = usecases.get_ledger(uow.repo, PID, Caller("a", "audit"), RULES)
    assert (ledger.approved_budget, ledger.disbursed_total) == (Decimal("1000.00"), Decimal("1000.00"))
    assert [d.amount for d in ledger.disbursements] == [Decimal("600.00"), Decimal("400.00")]
    assert ledger.procurement.method == "inquiry" and ledger.contract.contract_no == "HT-1"
    assert ledger.contract.signed_on == TODAY
    assert uow.types() == [
        "budget.approved",
        "procurement.registered",
        "contract.registered",
        "funds.disbursed",
        "funds.disbursed",
    ]


def test_a_vendor_owned_contract_is_reported(uow):
    contracted(uow, source_code_owner="vendor")
    assert uow.types()[-2:] == ["contract.registered", "contract.ip_exception_reported"]


def test_a_contract_number_already_used_by_another_project_is_refused(uow):
    contracted(uow)
    other = "prj-2"
    learn(uow, event("project.planned", PLANNED, project_id=other))
    learn(uow, event("approval.granted", {"approval_no": "2"}, source="approval", project_id=other))
    run(uow, usecases.review_budget, other, Decimal("10.00"), "同意", FINANCE, NOW)
    buy = {"method": "inquiry", "supplier": "某公司", "amount": Decimal("10.00"), "date": TODAY}
    run(uow, usecases.register_procurement, other, buy, UNIT, RULES, NOW)
    deal = {
        "contract_no": "HT-1",
        "vendor": "某公司",
        "amount": Decimal("10.00"),
        "om_years": 3,
        "source_code_owner": "unit",
    }
    with pytest.raises(Conflict, match="CONTRACT_NO_TAKEN"):
        run(uow, usecases.register_contract, other, deal, UNIT, RULES, TODAY, NOW)
    assert other not in uow.repo.contracts


def test_an_unauthorized_change_blocks_disbursement_until_planning_resolves_it(uow):
    contracted(uow)
    learn(uow, event("change.unauthorized_reported", {"report_id": "uc-1", "description": "擅自增加模块"}))
    with pytest.raises(RuleViolation, match="UNAUTHORIZED_CHANGE"):
        run(uow, usecases.disburse, PID, Decimal("1.00"), "进度款", FINANCE, NOW)
    learn(uow, event("change.unauthorized_resolved", {"report_ids": ["uc-1"], "opinion": "已整改"}))
    run(uow, usecases.disburse, PID, Decimal("1.00"), "进度款", FINANCE, NOW)


def test_a_resolution_that_overtook_its_report_is_not_reopened_by_it(uow):
    contracted(uow)
    learn(uow, event("change.unauthorized_resolved", {"report_ids": ["uc-1"], "opinion": "已整改"}))
    learn(uow, event("change.unauthorized_reported", {"report_id": "uc-1", "description": "擅自增加模块"}))
    run(uow, usecases.disburse, PID, Decimal("1.00"), "进度款", FINANCE, NOW)
