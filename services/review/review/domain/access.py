"""Who may do what and see what (Art 4, 10, 11, 25): a planned project only, its owner acts, the
rest of the world sees it as the visibility rule says."""

from nxshared.core.caller import Caller, check_project_owner, may_see
from nxshared.core.errors import NotFound, RuleViolation
from review.domain.entities import PlannedProject, ReviewRules


def check_in_plan(project: PlannedProject | None) -> PlannedProject:
    """Art 10: only a project in the annual or supplementary plan is reviewed or filed. Review
    knows a project is planned only once planning's ``project.planned`` event has arrived."""
    if project is None:
        raise RuleViolation(
            "NOT_IN_ANNUAL_PLAN",
            "评审服务尚未收到该项目纳入年度建设计划或增补计划的通知，不能申请技术评审或备案；"
            "如计划刚刚批准，通知可能仍在途中，请稍后重试（第十条）",
            "Art 10",
        )
    return project


def check_owner(caller: Caller, project: PlannedProject) -> None:
    """Art 11: the unit submits its self-built project's plan; the data center writes a unified one's."""
    check_project_owner(caller, project, "提交建设方案或申请备案")


def can_see(caller: Caller, project: PlannedProject, rules: ReviewRules) -> bool:
    """Art 4, 25: a unit sees only its own projects; a classified project only its owner and the
    bureaus named in ``CLASSIFIED_VISIBLE_TO``; the bureaus see every other project."""
    return may_see(caller, project, rules.classified_visible_to)


def project_not_found() -> NotFound:
    """Art 4, 25: a project the caller may not see is answered as if it did not exist: the message
    names neither the project nor its owner."""
    return NotFound("PROJECT_NOT_FOUND", "项目不存在或无权查看（第四条、第二十五条）", "Art 25")


def review_not_found() -> NotFound:
    return NotFound("REVIEW_NOT_FOUND", "评审不存在或无权查看（第四条、第二十五条）", "Art 25")


def check_visible(caller: Caller, project: PlannedProject | None, rules: ReviewRules) -> PlannedProject:
    """The project, if the caller may see it; otherwise ``PROJECT_NOT_FOUND`` (Art 4, 25)."""
    if project is None or not can_see(caller, project, rules):
        raise project_not_found()
    return project


def check_review_visible(caller: Caller, project: PlannedProject | None, rules: ReviewRules) -> PlannedProject:
    """A review is seen by those who may see its project; otherwise ``REVIEW_NOT_FOUND`` (Art 4, 25)."""
    if project is None or not can_see(caller, project, rules):
        raise review_not_found()
    return project
