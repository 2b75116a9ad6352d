"""Finance's service tests: the real container on a real broker (per-test vhost) and database, with
planning's and approval's events delivered through the broker."""

import datetime as dt

import pytest
import requests
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import select, text

from finance.models import outbox
from finance.service import FinanceService
from nxshared.core.errors import Conflict, Forbidden, NotFound, RuleViolation, ValidationError
from nxshared.db import make_engine
from nxshared.testing import bearer, call, make_event, planned_event, schema_drift
from nxshared.testing import deliver as deliver_to

PROJECT = "prj-0123456789ab"


@pytest.fixture
def finance(container_factory, service_config):
    container = container_factory(FinanceService, service_config("finance", TODAY="2027-03-01"))
    container.start()
    return container


def deliver(container, payload):
    handler = "on_approval_granted" if payload["event_type"] == "approval.granted" else "on_planning_event"
    return deliver_to(container, handler, payload)


def granted_event(project_id=PROJECT):
    data = {"approval_no": "南发改审〔2027〕001号", "approval_type": "approve", "review_id": "rev-1", "opinion": "同意"}
    return make_event("approval.granted", project_id, data, actor="wang@drc")


def approved(container, project_id=PROJECT, **planned):
    deliver(container, planned_event(project_id, **planned))
    deliver(container, granted_event(project_id))


def review(container, amount="2000000.00", project_id=PROJECT):
    return call(container, "review_budget", "finance", project_id=project_id, approved_amount=amount, opinion="同意")


def procure(container, amount="1800000.00", org="unit:edu", project_id=PROJECT, **overrides):
    procurement = {"method": "open_tender", "supplier": "某科技公司", "amount": amount, "date": "2027-03-10"}
    return call(container, "register_procurement", org, project_id=project_id, procurement={**procurement, **overrides})


def contract(container, amount="1800000.00", org="unit:edu", project_id=PROJECT, **overrides):
    terms = {"contract_no": f"HT-{project_id}", "vendor": "某科技公司", "amount": amount, "om_years": 3}
    terms.update({"source_code_owner": "unit", **overrides})
    return call(container, "register_contract", org, project_id=project_id, contract=terms)


def contracted(container, budget="2000000.00", project_id=PROJECT, **overrides):
    approved(container, project_id)
    review(container, budget, project_id)
    procure(container, budget, project_id=project_id)
    return contract(container, budget, project_id=project_id, **overrides)


def disburse(container, amount, project_id=PROJECT):
    return call(container, "disburse", "finance", project_id=project_id, amount=amount, purpose="进度款")


def query(container, statement):
    engine = make_engine(container.config["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return conn.execute(statement).all()
    finally:
        engine.dispose()


def emitted(container, event_type):
    rows = query(container, select(outbox.c.payload).where(outbox.c.event_type == event_type).order_by(outbox.c.id))
    return [payload for (payload,) in rows]


# --- from declaration's events to the last disbursement -------------------------------------------------


def test_budget_procurement_contract_and_disbursements_to_the_last_fen(finance):
    approved(finance)
    budget = review(finance, "2000000.00")
    assert (budget["stage"], budget["approved_budget"], budget["decided_by"]) == (
        "budgeted",
        "2000000.00",
        "tester@finance",
    )
    assert procure(finance, "1800000.00")["registered_by"] == "tester@unit:edu"
    signed = contract(finance, "1800000.00", signed_on="2027-04-01")
    assert (signed["signed_on"], signed["om_ends_on"]) == ("2027-04-01", "2030-04-01")
    paid = [disburse(finance, amount) for amount in ("0.10", "0.20", "1999999.70")]
    assert paid[-1]["disbursed_total"] == "2000000.00"
    with pytest.raises(RuleViolation) as err:
        disburse(finance, "0.01")
    assert str(err.value).startswith("OVER_BUDGET: ")
    ledger = call(finance, "get_ledger", "audit", project_id=PROJECT)
    assert (ledger["approved_budget"], ledger["disbursed_total"]) == ("2000000.00", "2000000.00")
    assert [d["amount"] for d in ledger["disbursements"]] == ["0.10", "0.20", "1999999.70"]
    assert ledger["procurement"]["method"] == "open_tender" and ledger["contract"]["amount"] == "1800000.00"
    assert [p["data"]["disbursed_total"] for p in emitted(finance, "funds.disbursed")] == [
        "0.10",
        "0.30",
        "2000000.00",
    ]
    (registered,) = emitted(finance, "contract.registered")
    assert {k: registered["data"][k] for k in ("contract_no", "vendor", "amount", "om_years", "source_code_owner")} == {
        "contract_no": f"HT-{PROJECT}",
        "vendor": "某科技公司",
        "amount": "1800000.00",
        "om_years": 3,
        "source_code_owner": "unit",
    }
    assert emitted(finance, "contract.ip_exception_reported") == []


def test_a_vendor_owned_contract_is_accepted_and_reported_for_the_register(finance):
    signed = contracted(finance, source_code_owner="vendor")
    assert signed["source_code_owner"] == "vendor"
    (reported,) = emitted(finance, "contract.ip_exception_reported")
    assert reported["data"] == {
        "contract_no": f"HT-{PROJECT}",
        "vendor": "某科技公司",
        "source_code_owner": "vendor",
        "unit": "unit:edu",
    }
    assert reported["actor"] == "tester@unit:edu"


def test_no_budget_outside_the_plan_or_before_the_approval(finance):
    with pytest.raises(RuleViolation, match="^NOT_IN_ANNUAL_PLAN: "):
        review(finance)
    deliver(finance, planned_event(PROJECT))
    with pytest.raises(RuleViolation, match="^APPROVAL_NOT_GRANTED: "):
        review(finance)
    deliver(finance, granted_event())
    with pytest.raises(RuleViolation, match="^OVER_ESTIMATE: "):
        review(finance, "2500000.01")
    assert review(finance, "2500000.00")["stage"] == "budgeted"


def test_an_approved_estimate_change_is_what_the_budget_is_held_to(finance):
    approved(finance)
    change = {"change_id": "chg-1", "opinion": "同意", "estimated_investment": "3000000.00"}
    deliver(finance, make_event("change.approved", PROJECT, change))
    assert review(finance, "3000000.00")["estimated_investment"] == "3000000.00"


def test_a_rejected_budget_is_emitted_and_stops_procurement(finance):
    approved(finance)
    rejected = call(finance, "reject_budget", "finance", project_id=PROJECT, opinion="材料不全")
    assert rejected["stage"] == "budget_rejected"
    assert emitted(finance, "budget.rejected")[0]["data"] == {"opinion": "材料不全"}
    with pytest.raises(RuleViolation, match="^BUDGET_NOT_APPROVED: "):
        procure(finance)


def test_the_order_of_procurement_contract_and_disbursement(finance):
    approved(finance)
    review(finance)
    with pytest.raises(RuleViolation, match="^PROCUREMENT_NOT_REGISTERED: "):
        contract(finance)
    with pytest.raises(RuleViolation, match="^CONTRACT_NOT_REGISTERED: "):
        disburse(finance, "1.00")
    procure(finance)
    with pytest.raises(Conflict, match="^ALREADY_REGISTERED: "):
        procure(finance)
    with pytest.raises(RuleViolation, match="^OM_PERIOD_TOO_SHORT: "):
        contract(finance, om_years=2)
    with pytest.raises(RuleViolation, match="^OVER_BUDGET: "):
        contract(finance, "2000000.01")
    assert contract(finance, om_years=2, om_exemption_basis="上级政策规定运维期两年")["om_years"] == 2


def test_an_open_unauthorized_change_blocks_disbursement_until_resolved(finance):
    contracted(finance)
    reported = {"report_id": "uc-1", "description": "擅自增加模块"}
    deliver(finance, make_event("change.unauthorized_reported", PROJECT, reported))
    with pytest.raises(RuleViolation, match="^UNAUTHORIZED_CHANGE: "):
        disburse(finance, "1.00")
    deliver(finance, make_event("change.unauthorized_resolved", PROJECT, {"report_ids": ["uc-1"], "opinion": "已整改"}))
    assert disburse(finance, "1.00")["disbursed_total"] == "1.00"


def test_the_same_event_twice_has_one_effect(finance):
    planned = deliver(finance, planned_event(PROJECT))
    change = {"change_id": "chg-1", "opinion": "同意", "estimated_investment": "100.00"}
    deliver(finance, make_event("change.approved", PROJECT, change))
    deliver(finance, planned)
    deliver(finance, granted_event())
    with pytest.raises(RuleViolation, match="OVER_ESTIMATE"):
        review(finance, "100.01")


# --- who may do and see what -------------------------------------------------------------------------------


@pytest.mark.parametrize("org", ["unit:edu", "drc", "audit", "smart_office"])
def test_only_finance_decides_budgets_and_pays(finance, org):
    contracted(finance)
    for method, kwargs in (
        ("review_budget", {"approved_amount": "1.00", "opinion": "同意"}),
        ("reject_budget", {"opinion": "不同意"}),
        ("disburse", {"amount": "1.00", "purpose": "进度款"}),
    ):
        with pytest.raises(Forbidden):
            call(finance, method, org, project_id=PROJECT, **kwargs)


def test_only_the_owner_registers_procurement_and_contract(finance):
    approved(finance)
    review(finance)
    with pytest.raises(NotFound, match="^PROJECT_NOT_FOUND: "):
        procure(finance, org="unit:health")
    with pytest.raises(Forbidden):
        procure(finance, org="finance")
    approved(finance, "prj-unified", construction_mode="unified")
    review(finance, project_id="prj-unified")
    with pytest.raises(Forbidden, match="NOT_PROJECT_OWNER"):
        procure(finance, project_id="prj-unified")
    assert procure(finance, org="data_center", project_id="prj-unified")["registered_by"] == "tester@data_center"


@pytest.mark.parametrize("org", ["unit:edu", "finance", "audit", "smart_office"])
def test_owner_finance_audit_and_smart_office_see_the_ledger(finance, org):
    approved(finance)
    assert call(finance, "get_ledger", org, project_id=PROJECT)["approved_budget"] is None


@pytest.mark.parametrize("org", ["unit:health", "drc", "data_center", "county_gov"])
def test_others_are_told_nothing_exists(finance, org):
    approved(finance)
    with pytest.raises(NotFound) as err:
        call(finance, "get_ledger", org, project_id=PROJECT)
    assert str(err.value) == "PROJECT_NOT_FOUND: 项目不存在或无权查看"


def test_a_classified_ledger_follows_the_setting(container_factory, service_config):
    container = container_factory(FinanceService, service_config("finance", CLASSIFIED_VISIBLE_TO="audit"))
    container.start()
    approved(container, classified=True)
    assert call(container, "get_ledger", "audit", project_id=PROJECT)["project_id"] == PROJECT
    with pytest.raises(NotFound):
        call(container, "get_ledger", "smart_office", project_id=PROJECT)


# --- bounded input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"method": "friendship"}, "procurement.method"),
        ({"amount": 1800000.0}, "procurement.amount"),
        ({"amount": "0.00"}, "procurement.amount"),
        ({"supplier": "   "}, "procurement.supplier"),
        ({"supplier": "x" * 201}, "procurement.supplier"),
        ({"date": "10/03/2027"}, "procurement.date"),
        ({"bribe": "yes"}, "procurement.bribe"),
    ],
)
def test_bad_procurement_input_is_refused_naming_the_field(finance, overrides, field):
    approved(finance)
    review(finance)
    with pytest.raises(ValidationError) as err:
        procure(finance, **overrides)
    assert f"{field}:" in str(err.value)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"om_years": "3"}, "contract.om_years"),
        ({"om_years": 51}, "contract.om_years"),
        ({"source_code_owner": "nobody"}, "contract.source_code_owner"),
        ({"contract_no": " HT-1"}, "contract.contract_no"),
        ({"signed_on": "2027-13-01"}, "contract.signed_on"),
    ],
)
def test_bad_contract_input_is_refused_naming_the_field(finance, overrides, field):
    approved(finance)
    review(finance)
    procure(finance)
    with pytest.raises(ValidationError) as err:
        contract(finance, **overrides)
    assert f"{field}:" in str(err.value)


def test_bad_amounts_and_purposes_are_refused_naming_the_field(finance):
    for kwargs, field in (
        ({"approved_amount": "1e6", "opinion": "同意"}, "approved_amount"),
        ({"approved_amount": "1.00", "opinion": ""}, "opinion"),
    ):
        with pytest.raises(ValidationError, match=f"{field}:"):
            call(finance, "review_budget", "finance", project_id=PROJECT, **kwargs)
    with pytest.raises(ValidationError, match="purpose:"):
        call(finance, "disburse", "finance", project_id=PROJECT, amount="1.00", purpose="x" * 5001)


# --- concurrency, and what operators watch ---------------------------------------------------------------


def outcome(reply):
    try:
        return reply.result()
    except RemoteError as exc:
        return exc


def test_twenty_concurrent_disbursements_pass_exactly_as_many_as_fit(finance):
    """Budget 1000.00, twenty calls of 150.00 at once: six fit (900.00), fourteen are refused."""
    contracted(finance, "1000.00")
    context = {"authorization": bearer("finance")}
    with ClusterRpcProxy(finance.config, context_data=context, timeout=60) as cluster:
        replies = [
            cluster.finance.disburse.call_async(project_id=PROJECT, amount="150.00", purpose="并发拨付")
            for _ in range(20)
        ]
        outcomes = [outcome(reply) for reply in replies]
    passed = [o for o in outcomes if isinstance(o, dict)]
    refused = [o for o in outcomes if isinstance(o, RemoteError)]
    assert len(passed) == 6 and len(refused) == 14
    assert {(e.exc_type, e.value.split(":")[0]) for e in refused} == {("RuleViolation", "OVER_BUDGET")}
    assert sorted(p["disbursed_total"] for p in passed) == [f"{150 * n}.00" for n in range(1, 7)]
    ledger = call(finance, "get_ledger", "finance", project_id=PROJECT)
    assert ledger["disbursed_total"] == "900.00" and len(ledger["disbursements"]) == 6
    assert query(finance, text("SELECT sum(amount) FROM disbursements")) == [(90000,)]  # stored as whole fen
    assert len(emitted(finance, "funds.disbursed")) == 6


def test_business_gauges(finance):
    """What ends soon is counted from the suite's day (TODAY), as the reminders are; budgets and
    disbursements by the year their decision was stamped (real time)."""
    today = dt.date.fromisoformat(finance.config["TODAY"])
    contracted(finance, "1000.00", signed_on=(today - dt.timedelta(days=3 * 365 - 30)).isoformat())
    contracted(finance, "500.00", project_id="prj-later", signed_on=today.isoformat())
    disburse(finance, "100.25")
    disburse(finance, "0.50", project_id="prj-later")
    text = requests.get(f"http://{finance.config['WEB_SERVER_ADDRESS']}/metrics", timeout=5).text
    year = dt.datetime.now(dt.UTC).year
    assert f'nx_finance_approved_budget_yuan{{year="{year}"}} 1500.0' in text
    assert f'nx_finance_disbursed_yuan{{year="{year}"}} 100.75' in text
    assert "nx_finance_contracts_om_ending_soon 1.0" in text


# --- migrations ---------------------------------------------------------------------------------


def test_the_migrated_schema_matches_the_models(service_config):
    """Every table, column and index of the models (the outbox's partial index too) is what the
    migrations made."""
    from finance.models import metadata

    assert schema_drift(service_config("finance")["DATABASE_URL"], metadata) == []
