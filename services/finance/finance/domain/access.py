"""Who may act on or see a project's money: planned projects only (Art 10), the owner for its
procurement and contract (Art 4, 11), the ledger's readers (Art 25)."""

from finance.domain.entities import KEEPER, LEDGER_READERS, FinanceRules, Project
from nxshared.core.caller import Caller, check_project_owner, project_owner
from nxshared.core.errors import NotFound, RuleViolation


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


def can_see(caller: Caller, project: Project, rules: FinanceRules) -> bool:
    """The owner and finance always; the ledger's readers, and of a classified project only those
    of them that ``CLASSIFIED_VISIBLE_TO`` names (Art 25). A ledger has no other readers, whatever
    that suite-wide setting adds."""
    if caller.org in (project.unit, project_owner(project), KEEPER):
        return True
    if caller.org not in LEDGER_READERS:
        return False
    return not project.classified or caller.org in rules.classified_visible_to


def check_visible(caller: Caller, project: Project | None, rules: FinanceRules) -> Project:
    """The project, when finance knows it is planned and ``caller`` may see it; otherwise it does
    not exist for them (the refusal names nothing)."""
    if project is None or not project.planned or not can_see(caller, project, rules):
        raise NotFound("PROJECT_NOT_FOUND", "项目不存在或无权查看")
    return project


def check_owner(caller: Caller, project: Project, action: str) -> None:
    """Art 4, 11: the unit acts for its self-built project, ``data_center`` for a unified one."""
    check_project_owner(caller, project, action)


def owned(project: Project | None, caller: Caller, rules: FinanceRules, action: str) -> Project:
    project = check_visible(caller, check_in_plan(project), rules)
    check_owner(caller, project, action)
    return project
