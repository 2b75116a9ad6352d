"""Which projects security acts on and who sees them: planned projects only (Art 10), every bureau
and the owner (Art 4), a classified one only its owner and ``CLASSIFIED_VISIBLE_TO`` (Art 25)."""

from nxshared.core.caller import Caller, may_see
from nxshared.core.errors import NotFound, RuleViolation
from security.domain.entities import Project, SecurityRules


def check_in_plan(project: Project | None) -> Project:
    """Art 10: a project outside the annual or supplementary plan has no system to secure yet.
    Security knows the plan only from planning's ``project.planned``, which may still be on its way."""
    if project is None or not project.planned:
        raise RuleViolation(
            "NOT_IN_ANNUAL_PLAN",
            "安全服务尚未收到该项目纳入年度建设计划或增补计划的通知，不能办理；如计划刚刚批准，请稍后重试（第十条）",
            "Art 10",
        )
    return project


def can_see(caller: Caller, project: Project, rules: SecurityRules) -> bool:
    """Art 4, 25: the suite's one visibility rule."""
    return may_see(caller, project, rules.classified_visible_to)


def check_visible(caller: Caller, project: Project | None, rules: SecurityRules) -> Project:
    """The project, when security knows it is planned and ``caller`` may see it; otherwise it does
    not exist for them (the refusal names nothing)."""
    if project is None or not project.planned or not can_see(caller, project, rules):
        raise NotFound("PROJECT_NOT_FOUND", "项目不存在或无权查看")
    return project


def acted_on(project: Project | None, caller: Caller, rules: SecurityRules) -> Project:
    """A project the data center decides about: planned, and visible to it."""
    return check_visible(caller, check_in_plan(project), rules)
