"""The annual plan and the supplementary plan (Art 9): who compiles, concurs and approves, and what
becomes of the projects in them. Both are state machines applied from their transition tables."""

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, ValidationError
from nxshared.core.events import DomainEvent
from planning.domain import Decided
from planning.domain.declaration import PlanType, Project, ProjectStatus, SupplementaryStatus
from planning.events import PlanApproved, PlanCompiled, PlanConcurred, ProjectNotPlanned, ProjectPlanned

PLAN_CONCURRING_ORGS = ("finance", "drc")
NOT_IN_APPROVED_PLAN = "未列入县人民政府审定的年度建设计划"


class PlanStatus(StrEnum):
    COMPILED = "compiled"
    CONCURRED = "concurred"
    APPROVED = "approved"


@dataclass
class AnnualPlan:
    year: int
    project_ids: list[str]
    total_investment: Decimal
    status: str = PlanStatus.COMPILED.value
    concurred_by: list[str] = field(default_factory=list)  # the orgs, for the rule
    concurrences: list[str] = field(default_factory=list)  # who concurred, person@org (Art 27)
    compiled_by: str = ""
    approved_by: str | None = None


def planned(project: Project, caller: Caller) -> ProjectPlanned:
    """``project.planned``: what review, approval and finance need to know of a project in a plan.
    A classified project's name does not travel: no consumer's rule needs it (Art 25)."""
    return ProjectPlanned(
        project_id=project.project_id,
        actor=caller.actor,
        name="" if project.classified else project.name,
        unit=project.unit,
        construction_mode=project.construction_mode,
        plan_year=project.plan_year,
        plan_type=project.plan_type,
        estimated_investment=project.estimated_investment,
        requires_construction_plan=project.requires_construction_plan,
        classified=project.classified,
        custom_software=project.custom_software,
        hosted_on_big_data_center=project.hosted_on_big_data_center,
    )


# --- annual plan (Art 9) ------------------------------------------------------------------------

PLAN_TRANSITIONS: dict[tuple[PlanStatus | None, str], PlanStatus] = {
    (None, "compile"): PlanStatus.COMPILED,
    (PlanStatus.COMPILED, "compile"): PlanStatus.COMPILED,
    (PlanStatus.COMPILED, "concur"): PlanStatus.COMPILED,
    (PlanStatus.COMPILED, "complete_concurrence"): PlanStatus.CONCURRED,
    (PlanStatus.CONCURRED, "approve"): PlanStatus.APPROVED,
}

_PLAN_ACTION_NAMES = {"compile": "编制", "concur": "会签", "complete_concurrence": "会签", "approve": "审定"}


def _plan_transition(plan: AnnualPlan | None, action: str) -> PlanStatus:
    current = PlanStatus(plan.status) if plan else None
    target = PLAN_TRANSITIONS.get((current, action))
    if target is None:
        state = current.value if current else "未编制"
        raise Conflict("PLAN_STATE_CONFLICT", f"年度计划当前状态为 {state}，不能{_PLAN_ACTION_NAMES[action]}（第九条）")
    return target


def compile_plan(
    year: int, projects: list[Project], existing: AnnualPlan | None, caller: Caller
) -> Decided[AnnualPlan]:
    """Art 9: the smart office compiles the year's plan from declared annual projects. Recompiling
    (before both concurrences are in) updates ``existing`` in place and restarts the concurrence.
    A project named twice is refused, not collapsed: the total would count it twice."""
    target = _plan_transition(existing, "compile")
    if not projects:
        raise ValidationError("INVALID_INPUT", "输入不合法：project_ids: 至少选择一个项目")
    ids = [p.project_id for p in projects]
    if len(set(ids)) != len(ids):
        raise ValidationError("INVALID_INPUT", "输入不合法：project_ids: 项目重复")
    for project in projects:
        if project.plan_type != PlanType.ANNUAL.value or project.plan_year != year:
            raise Conflict(
                "NOT_IN_PLAN_YEAR", f"项目 {project.project_id} 不是 {year} 年度的年度计划申报项目（第九条）"
            )
        if project.status != ProjectStatus.DECLARED.value:
            raise Conflict(
                "PROJECT_NOT_DECLARED", f"项目 {project.project_id} 当前状态为 {project.status}，不能编入计划"
            )
    plan = existing or AnnualPlan(year=year, project_ids=[], total_investment=Decimal("0"))
    plan.project_ids = [p.project_id for p in projects]
    plan.total_investment = sum((p.estimated_investment for p in projects), Decimal("0"))
    plan.status = target.value
    plan.concurred_by = []
    plan.concurrences = []
    plan.compiled_by = caller.actor
    compiled = PlanCompiled(
        project_id=None,
        actor=caller.actor,
        year=year,
        project_ids=list(plan.project_ids),
        total_investment=plan.total_investment,
    )
    return plan, [compiled]


def concur_plan(plan: AnnualPlan, caller: Caller) -> Decided[AnnualPlan]:
    """Art 9: finance and DRC each concur with the compiled plan; the last of them completes the
    concurrence. A repeated concurrence of the same org counts once."""
    concurred = plan.concurred_by if caller.org in plan.concurred_by else [*plan.concurred_by, caller.org]
    complete = all(org in concurred for org in PLAN_CONCURRING_ORGS)
    plan.status = _plan_transition(plan, "complete_concurrence" if complete else "concur").value
    plan.concurred_by = concurred
    plan.concurrences = [*plan.concurrences, caller.actor]
    concurred_event = PlanConcurred(
        project_id=None, actor=caller.actor, year=plan.year, org=caller.org, concurred_by=list(concurred)
    )
    return plan, [concurred_event]


def approve_plan(plan: AnnualPlan | None, declared_for_year: list[Project], caller: Caller) -> Decided[AnnualPlan]:
    """Art 9: the county government approves; selected projects become planned (``project.planned``),
    the year's other declared annual projects not planned (``project.not_planned``)."""
    if plan is None:
        raise Conflict("PLAN_STATE_CONFLICT", "年度计划尚未编制，不能审定（第九条）")
    if PlanStatus(plan.status) is PlanStatus.COMPILED:
        missing = [org for org in PLAN_CONCURRING_ORGS if org not in plan.concurred_by]
        raise Conflict("PLAN_NOT_CONCURRED", f"年度计划尚待 {'、'.join(missing)} 会签，不能报县政府审定（第九条）")
    plan.status = _plan_transition(plan, "approve").value
    plan.approved_by = caller.actor
    in_plan: list[DomainEvent] = [
        PlanApproved(project_id=None, actor=caller.actor, year=plan.year, project_ids=list(plan.project_ids))
    ]
    left_out: list[DomainEvent] = []
    for project in declared_for_year:
        if project.status != ProjectStatus.DECLARED.value or project.plan_type != PlanType.ANNUAL.value:
            continue
        if project.project_id in plan.project_ids:
            project.status = ProjectStatus.PLANNED.value
            in_plan.append(planned(project, caller))
        else:
            project.status = ProjectStatus.NOT_PLANNED.value
            left_out.append(
                ProjectNotPlanned(
                    project_id=project.project_id, actor=caller.actor, plan_year=plan.year, reason=NOT_IN_APPROVED_PLAN
                )
            )
    return plan, in_plan + left_out


# --- supplementary plan (Art 9) -----------------------------------------------------------------

SUPPLEMENTARY_TRANSITIONS: dict[tuple[SupplementaryStatus, str], tuple[SupplementaryStatus, ProjectStatus | None]] = {
    # (supplementary status, action) → (supplementary status, the project's status if it changes)
    (SupplementaryStatus.AWAITING_OFFICE_REVIEW, "office_approves"): (SupplementaryStatus.OFFICE_APPROVED, None),
    (SupplementaryStatus.AWAITING_OFFICE_REVIEW, "office_rejects"): (
        SupplementaryStatus.REJECTED,
        ProjectStatus.NOT_PLANNED,
    ),
    (SupplementaryStatus.OFFICE_APPROVED, "county_approves"): (SupplementaryStatus.APPROVED, ProjectStatus.PLANNED),
}


def _supplementary_refusal(project: Project, action: str) -> Conflict:
    if action == "county_approves":
        return Conflict("SUPPLEMENTARY_NOT_REVIEWED", "增补项目须经县智慧办审核同意后方可报县人民政府批准（第九条）")
    return Conflict("SUPPLEMENTARY_STATE_CONFLICT", f"增补项目当前状态为 {project.supplementary_status}，不能审核")


def _supplementary_transition(project: Project, action: str) -> None:
    if project.plan_type != PlanType.SUPPLEMENTARY.value:
        raise Conflict("NOT_SUPPLEMENTARY", "该项目不是增补计划项目")
    current = SupplementaryStatus(project.supplementary_status) if project.supplementary_status else None
    step = SUPPLEMENTARY_TRANSITIONS.get((current, action)) if current else None
    if step is None:
        raise _supplementary_refusal(project, action)
    supplementary_status, project_status = step
    project.supplementary_status = supplementary_status.value
    if project_status is not None:
        project.status = project_status.value


def review_supplementary(project: Project, decision: str, opinion: str, caller: Caller) -> Decided[Project]:
    """Art 9: the smart office reviews a supplementary project first; a rejected one is not planned."""
    approves = decision == "approve"
    _supplementary_transition(project, "office_approves" if approves else "office_rejects")
    project.supplementary_opinion = opinion
    if approves:
        return project, []
    return project, [
        ProjectNotPlanned(
            project_id=project.project_id, actor=caller.actor, plan_year=project.plan_year, reason=opinion
        )
    ]


def approve_supplementary(project: Project, caller: Caller) -> Decided[Project]:
    """Art 9: the county government approves a supplementary project the office agreed to."""
    _supplementary_transition(project, "county_approves")
    return project, [planned(project, caller)]
