"""Finance's rules and the state machine of a project's ledger (RULES §Budget and funds, §Contracts;
Art 10, 13–18, 25, 27), in plain Python.

Finance learns of projects only from events, in whatever order they arrive: ``project.planned``
(Art 10), ``approval.granted`` (Art 13), ``change.approved`` carrying a new estimate (Art 18) and the
open or resolved unauthorized changes (Art 18). The decisions taken here:

- **Budget review (Art 14).** Only for a planned *and* approved project; the approved amount never
  exceeds the project's current estimate. A rejected budget may be reviewed again and approved; an
  approved budget is final here (it is what procurement, contract and every disbursement are
  measured against). An estimate changed after the budget was approved does not move the budget.
- **One procurement, then one contract (Art 15–17)** per project, each within the approved budget:
  they are the ledger's ``procurement`` and ``contract``. A contract number is used once.
- **O&M period (Art 16).** At least 3 years unless a legal or higher-level basis is written down. It
  runs from the day the contract is signed (``signed_on``, today when not given) for ``om_years``
  calendar years; a gauge counts the contracts whose period ends within 90 days.
- **Source code (Art 17).** A contract whose code is not owned by the unit is accepted, and reported
  to the smart office's register (``contract.ip_exception_reported``).
- **Disbursements (Art 14, 18, 27).** Only under a registered contract, never while an unauthorized
  change of the project is open, and their running total never exceeds the approved budget. The
  total lives on the project's row, which every change takes under lock, so concurrent
  disbursements are counted one after the other.
- **Who sees a ledger.** The owner (the unit; ``data_center`` too for a unified project) and finance;
  the smart office and audit for a project that is not classified; for a classified one, only the
  orgs of the ``CLASSIFIED_VISIBLE_TO`` setting besides the owner and finance (Art 25). To anyone
  else the project does not exist.
"""

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from finance.events import (
    BudgetApproved,
    BudgetRejected,
    ContractRegistered,
    FundsDisbursed,
    IpExceptionReported,
    ProcurementRegistered,
)
from nxshared.core.caller import Caller, check_project_owner, is_org, project_owner
from nxshared.core.errors import Conflict, NotFound, RuleViolation, ValidationError
from nxshared.core.events import DomainEvent, Event
from nxshared.core.money import format_money, parse_money

MIN_OM_YEARS = 3  # Art 16
OM_EXPIRY_DAYS = 90  # the gauge of O&M periods about to end
LEDGER_READERS = ("smart_office", "audit")  # besides the owner and finance (see the module docstring)
KEEPER = "finance"


class Stage(StrEnum):
    """Where a project's money stands. Being planned and approved is checked before any of these."""

    AWAITING_BUDGET = "awaiting_budget"
    BUDGET_REJECTED = "budget_rejected"
    BUDGETED = "budgeted"
    PROCURED = "procured"
    CONTRACTED = "contracted"


class Action(StrEnum):
    APPROVE_BUDGET = "approve_budget"
    REJECT_BUDGET = "reject_budget"
    REGISTER_PROCUREMENT = "register_procurement"
    REGISTER_CONTRACT = "register_contract"
    DISBURSE = "disburse"


class ProcurementMethod(StrEnum):
    """Art 15: the lawful ways of buying."""

    OPEN_TENDER = "open_tender"
    INVITED_TENDER = "invited_tender"
    COMPETITIVE_NEGOTIATION = "competitive_negotiation"
    COMPETITIVE_CONSULTATION = "competitive_consultation"
    SINGLE_SOURCE = "single_source"
    INQUIRY = "inquiry"
    FRAMEWORK_AGREEMENT = "framework_agreement"


class SourceCodeOwner(StrEnum):
    UNIT = "unit"
    VENDOR = "vendor"
    JOINT = "joint"


TRANSITIONS: dict[tuple[Stage, Action], Stage] = {
    (Stage.AWAITING_BUDGET, Action.APPROVE_BUDGET): Stage.BUDGETED,
    (Stage.AWAITING_BUDGET, Action.REJECT_BUDGET): Stage.BUDGET_REJECTED,
    (Stage.BUDGET_REJECTED, Action.APPROVE_BUDGET): Stage.BUDGETED,
    (Stage.BUDGETED, Action.REGISTER_PROCUREMENT): Stage.PROCURED,
    (Stage.PROCURED, Action.REGISTER_CONTRACT): Stage.CONTRACTED,
    (Stage.CONTRACTED, Action.DISBURSE): Stage.CONTRACTED,
}

# what an action needs first, for the refusal of an action taken too early
PREREQUISITE: dict[Action, tuple[Stage, str, str, str]] = {
    Action.REGISTER_PROCUREMENT: (
        Stage.BUDGETED,
        "BUDGET_NOT_APPROVED",
        "预算尚未核定，不能登记采购（第十四条、第十五条）",
        "Art 14",
    ),
    Action.REGISTER_CONTRACT: (
        Stage.PROCURED,
        "PROCUREMENT_NOT_REGISTERED",
        "尚未登记采购，不能登记合同（第十五条）",
        "Art 15",
    ),
    Action.DISBURSE: (
        Stage.CONTRACTED,
        "CONTRACT_NOT_REGISTERED",
        "尚未登记合同，不能拨付资金（第十四条、第十六条）",
        "Art 16",
    ),
}
RANK = {Stage.AWAITING_BUDGET: 0, Stage.BUDGET_REJECTED: 0, Stage.BUDGETED: 1, Stage.PROCURED: 2, Stage.CONTRACTED: 3}


@dataclass(frozen=True)
class FinanceRules:
    """The setting behind who sees a classified project's ledger (Art 25)."""

    classified_visible_to: tuple[str, ...]

    @classmethod
    def from_settings(cls, classified_visible_to: str | Iterable[str]) -> "FinanceRules":
        orgs = classified_visible_to
        if isinstance(orgs, str):
            orgs = [o.strip() for o in orgs.split(",") if o.strip()]
        orgs = tuple(orgs)
        bad = [o for o in orgs if not is_org(o)]
        if bad:
            raise ValueError(f"CLASSIFIED_VISIBLE_TO: not org codes: {bad}")
        return cls(orgs)


@dataclass
class Project:
    """What finance knows of a project, and where its money stands (the aggregate every call locks)."""

    project_id: str
    planned: bool = False
    name: str | None = None
    unit: str | None = None
    construction_mode: str | None = None
    classified: bool = False
    plan_year: int | None = None
    estimated_investment: Decimal | None = None
    estimate_revised: bool = False
    approved: bool = False
    approval_no: str | None = None
    stage: str = Stage.AWAITING_BUDGET.value
    approved_budget: Decimal | None = None
    budget_opinion: str | None = None
    budget_decided_by: str | None = None
    budget_decided_at: dt.datetime | None = None
    disbursed_total: Decimal = field(default_factory=lambda: Decimal("0.00"))


@dataclass
class Procurement:
    project_id: str
    method: str
    supplier: str
    amount: Decimal
    date: dt.date
    registered_by: str
    registered_at: dt.datetime


@dataclass
class Contract:
    project_id: str
    contract_no: str
    vendor: str
    amount: Decimal
    om_years: int
    om_exemption_basis: str | None
    source_code_owner: str
    signed_on: dt.date
    om_ends_on: dt.date
    registered_by: str
    registered_at: dt.datetime


@dataclass
class Disbursement:
    disbursement_id: str
    project_id: str
    amount: Decimal
    purpose: str
    disbursed_by: str
    disbursed_at: dt.datetime


@dataclass
class UnauthorizedChange:
    """Art 18: a change carried out without approval, as planning reported it."""

    report_id: str
    project_id: str
    resolved: bool = False


@dataclass
class Ledger:
    project_id: str
    stage: str
    approved_budget: Decimal | None
    disbursed_total: Decimal
    disbursements: list[Disbursement]
    procurement: Procurement | None
    contract: Contract | None


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _transition(project: Project, action: Action) -> Stage:
    current = Stage(project.stage)
    target = TRANSITIONS.get((current, action))
    if target is not None:
        return target
    needed = PREREQUISITE.get(action)
    if needed is not None and RANK[current] < RANK[needed[0]]:
        raise RuleViolation(needed[1], needed[2], needed[3])
    if action in (Action.APPROVE_BUDGET, Action.REJECT_BUDGET):
        raise Conflict(
            "BUDGET_ALREADY_DECIDED",
            f"该项目预算已{'核定' if RANK[current] else '退回'}，不能再次{action_text(action)}（第十四条）",
        )
    raise Conflict("ALREADY_REGISTERED", f"该项目已{stage_text(current)}，不能再次{action_text(action)}")


def action_text(action: Action) -> str:
    return {
        Action.APPROVE_BUDGET: "核定预算",
        Action.REJECT_BUDGET: "退回预算",
        Action.REGISTER_PROCUREMENT: "登记采购",
        Action.REGISTER_CONTRACT: "登记合同",
        Action.DISBURSE: "拨付资金",
    }[action]


def stage_text(stage: Stage) -> str:
    return {
        Stage.AWAITING_BUDGET: "待核定预算",
        Stage.BUDGET_REJECTED: "退回预算",
        Stage.BUDGETED: "核定预算",
        Stage.PROCURED: "登记采购",
        Stage.CONTRACTED: "登记合同",
    }[stage]


# --- what finance learns from events ----------------------------------------------------------


def project_of(evt: Event) -> str:
    """The project an event is about; finance consumes only project events."""
    if not evt.project_id:
        raise ValidationError("MALFORMED_EVENT", f"事件 {evt.event_type} 缺少 project_id")
    return evt.project_id


def _money(value: Any) -> Decimal:
    amount = parse_money(value)
    if amount is None:
        raise ValidationError("MALFORMED_EVENT", f"事件中的金额不合法：{value!r}")
    return amount


def learn_planned(project: Project, data: Mapping[str, Any]) -> Project:
    """Art 10: planning's ``project.planned``. An estimate already revised by a change (whose event
    overtook this one) is kept."""
    project.planned = True
    project.name = data.get("name") or ""
    project.unit = data["unit"]
    project.construction_mode = data["construction_mode"]
    project.classified = data["classified"]
    project.plan_year = data["plan_year"]
    if not project.estimate_revised:
        project.estimated_investment = _money(data["estimated_investment"])
    return project


def learn_approved(project: Project, data: Mapping[str, Any]) -> Project:
    """Art 13: the DRC's ``approval.granted``: the project may ask for its budget (Art 14)."""
    project.approved = True
    project.approval_no = data.get("approval_no")
    return project


def learn_change(project: Project, data: Mapping[str, Any]) -> Project:
    """Art 18: an approved change that alters the estimate (``estimated_investment`` not null) sets
    the estimate future budget reviews are held to; any other approved change leaves it."""
    if data.get("estimated_investment") is not None:
        project.estimated_investment = _money(data["estimated_investment"])
        project.estimate_revised = True
    return project


def resolve_reports(
    reports: Iterable[UnauthorizedChange], report_ids: Iterable[str], project_id: str
) -> list[UnauthorizedChange]:
    """Art 18: planning resolved these reports. A resolution that overtook its report is kept as a
    resolved report, so the late report cannot reopen it."""
    known = {r.report_id: r for r in reports}
    resolved = []
    for report_id in report_ids:
        report = known.get(report_id) or UnauthorizedChange(report_id, project_id)
        report.resolved = True
        resolved.append(report)
    return resolved


# --- who may do what -----------------------------------------------------------------------------


def check_in_plan(project: Project | None) -> Project:
    """Art 10: no funds for a project outside the annual or supplementary plan. Finance knows the
    plan only from planning's ``project.planned`` event, which may still be on its way."""
    if project is None or not project.planned:
        raise RuleViolation(
            "NOT_IN_ANNUAL_PLAN",
            "财政服务尚未收到该项目纳入年度建设计划或增补计划的通知，不能安排资金；如计划刚刚批准，请稍后重试（第十条）",
            "Art 10",
        )
    return project


def check_approved(project: Project) -> None:
    """Art 13, 14: the budget is reviewed after the DRC approved the project."""
    if not project.approved:
        raise RuleViolation(
            "APPROVAL_NOT_GRANTED",
            "尚未收到该项目批准立项的通知，不能进行预算评审；如刚刚批准，请稍后重试（第十三条、第十四条）",
            "Art 14",
        )


def can_see(caller: Caller, project: Project, rules: FinanceRules) -> bool:
    if caller.org in (project.unit, project_owner(project), KEEPER):
        return True
    if project.classified:
        return caller.org in rules.classified_visible_to
    return caller.org in LEDGER_READERS


def check_visible(caller: Caller, project: Project | None, rules: FinanceRules) -> Project:
    """The project, when finance knows it is planned and ``caller`` may see it; otherwise it does
    not exist for them (the refusal names nothing)."""
    if project is None or not project.planned or not can_see(caller, project, rules):
        raise NotFound("PROJECT_NOT_FOUND", "项目不存在或无权查看")
    return project


def check_owner(caller: Caller, project: Project, action: str) -> None:
    """Art 4, 11: the unit acts for its self-built project, ``data_center`` for a unified one."""
    check_project_owner(caller, project, action)


def check_within_estimate(project: Project, amount: Decimal) -> None:
    """Art 14: the approved budget never exceeds the project's estimate."""
    estimate = project.estimated_investment
    if estimate is None or amount > estimate:
        raise RuleViolation(
            "OVER_ESTIMATE",
            f"核定预算 {format_money(amount)} 元超过项目概算 {format_money(estimate or 0)} 元（第十四条）",
            "Art 14",
        )


def check_within_budget(project: Project, amount: Decimal, what: str) -> None:
    """Art 14, 27: nothing is bought, contracted or paid beyond the approved budget."""
    budget = project.approved_budget or Decimal("0.00")
    if amount > budget:
        raise RuleViolation(
            "OVER_BUDGET",
            f"{what} {format_money(amount)} 元超过核定预算 {format_money(budget)} 元（第十四条、第二十七条）",
            "Art 27",
        )


def check_om_period(om_years: int, basis: str | None) -> None:
    """Art 16: an O&M period of at least 3 years, unless a legal or higher-level basis says less."""
    if om_years < MIN_OM_YEARS and not (basis and basis.strip()):
        raise RuleViolation(
            "OM_PERIOD_TOO_SHORT",
            f"合同约定的运维期为 {om_years} 年，不少于 {MIN_OM_YEARS} 年；如法律法规或上级政策另有规定，请填写依据（第十六条）",
            "Art 16",
        )


def check_contract_no_free(contract_no: str, taken: Contract | None) -> None:
    if taken is not None:
        raise Conflict("CONTRACT_NO_TAKEN", f"合同编号 {contract_no} 已登记")


def check_no_unauthorized_change(open_reports: Iterable[UnauthorizedChange]) -> None:
    """Art 18: no money moves while a change carried out without approval is open on the project."""
    open_ids = sorted(r.report_id for r in open_reports if not r.resolved)
    if open_ids:
        raise RuleViolation(
            "UNAUTHORIZED_CHANGE",
            f"项目存在未经审查的擅自变更（{', '.join(open_ids)}），处理完毕前不能拨付资金（第十八条）",
            "Art 18",
        )


# --- decisions, and the events they cause ---------------------------------------------------------


def approve_budget(
    project: Project | None, amount: Decimal, opinion: str, caller: Caller, now: dt.datetime
) -> BudgetApproved:
    """Art 14: finance approves the budget of an approved project, within its estimate."""
    project = check_in_plan(project)
    check_approved(project)
    target = _transition(project, Action.APPROVE_BUDGET)
    check_within_estimate(project, amount)
    project.stage = target.value
    project.approved_budget = amount
    _decided(project, opinion, caller, now)
    return BudgetApproved(
        project_id=project.project_id,
        actor=caller.actor,
        approved_amount=amount,
        estimated_investment=project.estimated_investment or amount,
        opinion=opinion,
    )


def reject_budget(project: Project | None, opinion: str, caller: Caller, now: dt.datetime) -> BudgetRejected:
    project = check_in_plan(project)
    check_approved(project)
    project.stage = _transition(project, Action.REJECT_BUDGET).value
    _decided(project, opinion, caller, now)
    return BudgetRejected(project_id=project.project_id, actor=caller.actor, opinion=opinion)


def _decided(project: Project, opinion: str, caller: Caller, now: dt.datetime) -> None:
    project.budget_opinion = opinion
    project.budget_decided_by = caller.actor
    project.budget_decided_at = now


def _owned(project: Project | None, caller: Caller, rules: FinanceRules, action: str) -> Project:
    project = check_visible(caller, check_in_plan(project), rules)
    check_owner(caller, project, action)
    return project


def register_procurement(
    project: Project | None,
    procurement: Mapping[str, Any],
    caller: Caller,
    rules: FinanceRules,
    now: dt.datetime,
) -> tuple[Procurement, ProcurementRegistered]:
    """Art 15: the owner registers how it bought, after the budget and within it."""
    project = _owned(project, caller, rules, "登记采购")
    target = _transition(project, Action.REGISTER_PROCUREMENT)
    check_within_budget(project, procurement["amount"], "采购金额")
    project.stage = target.value
    registered = Procurement(
        project_id=project.project_id,
        method=ProcurementMethod(procurement["method"]).value,
        supplier=procurement["supplier"],
        amount=procurement["amount"],
        date=procurement["date"],
        registered_by=caller.actor,
        registered_at=now,
    )
    event = ProcurementRegistered(
        project_id=project.project_id,
        actor=caller.actor,
        method=registered.method,
        supplier=registered.supplier,
        amount=registered.amount,
        date=registered.date,
    )
    return registered, event


def add_years(day: dt.date, years: int) -> dt.date:
    """``years`` calendar years after ``day``; 29 February gives 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def register_contract(
    project: Project | None,
    contract: Mapping[str, Any],
    same_number: Contract | None,
    caller: Caller,
    rules: FinanceRules,
    today: dt.date,
    now: dt.datetime,
) -> tuple[Contract, list[DomainEvent]]:
    """Art 15–17: the owner registers the contract after the procurement. ``same_number`` is the
    contract already registered under this number, if any."""
    project = _owned(project, caller, rules, "登记合同")
    target = _transition(project, Action.REGISTER_CONTRACT)
    basis = (contract.get("om_exemption_basis") or "").strip() or None
    check_om_period(contract["om_years"], basis)
    check_within_budget(project, contract["amount"], "合同金额")
    check_contract_no_free(contract["contract_no"], same_number)
    project.stage = target.value
    signed_on = contract.get("signed_on") or today
    registered = Contract(
        project_id=project.project_id,
        contract_no=contract["contract_no"],
        vendor=contract["vendor"],
        amount=contract["amount"],
        om_years=contract["om_years"],
        om_exemption_basis=basis,
        source_code_owner=SourceCodeOwner(contract["source_code_owner"]).value,
        signed_on=signed_on,
        om_ends_on=add_years(signed_on, contract["om_years"]),
        registered_by=caller.actor,
        registered_at=now,
    )
    return registered, contract_events(project, registered, caller)


def contract_events(project: Project, contract: Contract, caller: Caller) -> list[DomainEvent]:
    """``contract.registered``, and Art 17's report when the unit does not own the source code."""
    events: list[DomainEvent] = [
        ContractRegistered(
            project_id=project.project_id,
            actor=caller.actor,
            contract_no=contract.contract_no,
            vendor=contract.vendor,
            amount=contract.amount,
            om_years=contract.om_years,
            om_exemption_basis=contract.om_exemption_basis,
            source_code_owner=contract.source_code_owner,
            signed_on=contract.signed_on,
            om_ends_on=contract.om_ends_on,
        )
    ]
    if contract.source_code_owner != SourceCodeOwner.UNIT:
        events.append(
            IpExceptionReported(
                project_id=project.project_id,
                actor=caller.actor,
                contract_no=contract.contract_no,
                vendor=contract.vendor,
                source_code_owner=contract.source_code_owner,
                unit=project.unit or "",
            )
        )
    return events


def disburse(
    project: Project | None,
    reports: Iterable[UnauthorizedChange],
    amount: Decimal,
    purpose: str,
    caller: Caller,
    now: dt.datetime,
) -> tuple[Disbursement, FundsDisbursed]:
    """Art 14, 18, 27: finance pays under a contract, within what remains of the approved budget."""
    project = check_in_plan(project)
    _transition(project, Action.DISBURSE)
    check_no_unauthorized_change(reports)
    total = project.disbursed_total + amount
    check_within_budget(project, total, f"已拨付 {format_money(project.disbursed_total)} 元，本次拨付后累计")
    project.disbursed_total = total
    paid = Disbursement(
        disbursement_id=new_id("dsb"),
        project_id=project.project_id,
        amount=amount,
        purpose=purpose,
        disbursed_by=caller.actor,
        disbursed_at=now,
    )
    event = FundsDisbursed(
        project_id=project.project_id,
        actor=caller.actor,
        disbursement_id=paid.disbursement_id,
        amount=amount,
        purpose=purpose,
        disbursed_total=total,
        approved_budget=project.approved_budget or Decimal("0.00"),
    )
    return paid, event


def ledger(
    project: Project | None,
    caller: Caller,
    rules: FinanceRules,
    procurement: Procurement | None,
    contract: Contract | None,
    disbursements: list[Disbursement],
) -> Ledger:
    project = check_visible(caller, project, rules)
    return Ledger(
        project_id=project.project_id,
        stage=project.stage,
        approved_budget=project.approved_budget,
        disbursed_total=project.disbursed_total,
        disbursements=disbursements,
        procurement=procurement,
        contract=contract,
    )


def om_expiry_window(today: dt.date, within_days: int = OM_EXPIRY_DAYS) -> tuple[dt.date, dt.date]:
    """The days on which an O&M period that ends soon ends: from today to ``within_days`` ahead."""
    return today, today + dt.timedelta(days=within_days)
