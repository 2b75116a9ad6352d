"""Where a project's money stands: the entities, the state machine of its ledger as data, the
setting of who sees a classified ledger, and the one budget ceiling everything is measured against
(Art 14, 27)."""

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from nxshared.core.caller import org_list_setting
from nxshared.core.errors import Conflict, RuleViolation
from nxshared.core.money import format_money

MIN_OM_YEARS = 3  # Art 16
OM_EXPIRY_DAYS = 90  # the gauge of O&M periods about to end
KEEPER = "finance"  # keeps every ledger, so sees every one
LEDGER_READERS = ("smart_office", "audit")  # besides the owner and finance, unless classified (Art 25)


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
        return cls(org_list_setting(classified_visible_to))


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


def transition(project: Project, action: Action) -> Stage:
    """The stage ``action`` takes the project to, or the refusal: too early (the rule it would
    break) or already done (a conflict)."""
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


def check_within_budget(project: Project, amount: Decimal, what: str) -> None:
    """Art 14, 27: nothing is bought, contracted or paid beyond the approved budget."""
    budget = project.approved_budget or Decimal("0.00")
    if amount > budget:
        raise RuleViolation(
            "OVER_BUDGET",
            f"{what} {format_money(amount)} 元超过核定预算 {format_money(budget)} 元（第十四条、第二十七条）",
            "Art 27",
        )
