"""Disbursements (Art 14, 18, 27) and the ledger that shows them."""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from finance.domain.access import check_in_plan, check_visible
from finance.domain.entities import (
    Action,
    Contract,
    Disbursement,
    FinanceRules,
    Ledger,
    Procurement,
    Project,
    UnauthorizedChange,
    check_within_budget,
    new_id,
    transition,
)
from finance.events import FundsDisbursed
from nxshared.core.caller import Caller
from nxshared.core.errors import RuleViolation
from nxshared.core.money import format_money


def check_no_unauthorized_change(open_reports: Iterable[UnauthorizedChange]) -> None:
    """Art 18: no money moves while a change carried out without approval is open on the project."""
    open_ids = sorted(r.report_id for r in open_reports if not r.resolved)
    if open_ids:
        raise RuleViolation(
            "UNAUTHORIZED_CHANGE",
            f"项目存在未经审查的擅自变更（{', '.join(open_ids)}），处理完毕前不能拨付资金（第十八条）",
            "Art 18",
        )


def disburse(
    project: Project | None,
    reports: Iterable[UnauthorizedChange],
    amount: Decimal,
    purpose: str,
    caller: Caller,
    now: dt.datetime,
) -> tuple[Project, Disbursement, FundsDisbursed]:
    """Art 14, 18, 27: finance pays under a contract, within what remains of the approved budget."""
    project = check_in_plan(project)
    transition(project, Action.DISBURSE)
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
    return project, paid, event


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
