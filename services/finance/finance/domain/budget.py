"""The budget review (Art 13, 14): after the approval, within the estimate."""

import datetime as dt
from decimal import Decimal

from finance.domain.access import check_in_plan
from finance.domain.entities import Action, Project, transition
from finance.events import BudgetApproved, BudgetRejected
from nxshared.core.caller import Caller
from nxshared.core.errors import RuleViolation
from nxshared.core.money import format_money


def check_approved(project: Project) -> None:
    """Art 13, 14: the budget is reviewed after the DRC approved the project."""
    if not project.approved:
        raise RuleViolation(
            "APPROVAL_NOT_GRANTED",
            "尚未收到该项目批准立项的通知，不能进行预算评审；如刚刚批准，请稍后重试（第十三条、第十四条）",
            "Art 14",
        )


def check_within_estimate(project: Project, amount: Decimal) -> None:
    """Art 14: the approved budget never exceeds the project's estimate."""
    estimate = project.estimated_investment
    if estimate is None or amount > estimate:
        raise RuleViolation(
            "OVER_ESTIMATE",
            f"核定预算 {format_money(amount)} 元超过项目概算 {format_money(estimate or 0)} 元（第十四条）",
            "Art 14",
        )


def approve_budget(
    project: Project | None, amount: Decimal, opinion: str, caller: Caller, now: dt.datetime
) -> tuple[Project, BudgetApproved]:
    """Art 14: finance approves the budget of an approved project, within its estimate."""
    project = check_in_plan(project)
    check_approved(project)
    target = transition(project, Action.APPROVE_BUDGET)
    check_within_estimate(project, amount)
    project.stage = target.value
    project.approved_budget = amount
    _decided(project, opinion, caller, now)
    approved = BudgetApproved(
        project_id=project.project_id,
        actor=caller.actor,
        approved_amount=amount,
        estimated_investment=project.estimated_investment or amount,
        opinion=opinion,
    )
    return project, approved


def reject_budget(
    project: Project | None, opinion: str, caller: Caller, now: dt.datetime
) -> tuple[Project, BudgetRejected]:
    project = check_in_plan(project)
    check_approved(project)
    project.stage = transition(project, Action.REJECT_BUDGET).value
    _decided(project, opinion, caller, now)
    return project, BudgetRejected(project_id=project.project_id, actor=caller.actor, opinion=opinion)


def _decided(project: Project, opinion: str, caller: Caller, now: dt.datetime) -> None:
    project.budget_opinion = opinion
    project.budget_decided_by = caller.actor
    project.budget_decided_at = now
