"""Planning rules and state machines, in plain Python (no nameko, SQLAlchemy or marshmallow).

Entities are dataclasses; the service maps them to tables. Every guard raises a domain error
carrying the rule's code and article.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from nxshared.core.caller import Caller, check_project_owner, project_owner
from nxshared.core.errors import Conflict, Forbidden, NotFound, RuleViolation, ValidationError


class ProjectStatus(StrEnum):
    DECLARED = "declared"
    PLANNED = "planned"
    NOT_PLANNED = "not_planned"


class PlanType(StrEnum):
    ANNUAL = "annual"
    SUPPLEMENTARY = "supplementary"


class SupplementaryStatus(StrEnum):
    AWAITING_OFFICE_REVIEW = "awaiting_office_review"
    OFFICE_APPROVED = "office_approved"
    REJECTED = "rejected"
    APPROVED = "approved"


class PlanStatus(StrEnum):
    COMPILED = "compiled"
    CONCURRED = "concurred"
    APPROVED = "approved"


class ChangeStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


INFRASTRUCTURE = ("machine_room", "network", "storage", "compute")
EXEMPTIONS = ("classified", "internal_use_equipment", "higher_level_rule")
PLAN_CONCURRING_ORGS = ("finance", "drc")


@dataclass(frozen=True)
class PlanningRules:
    """The settings behind the **Decisions** of RULES §Planning."""

    window_start: tuple  # (month, day)
    window_end: tuple
    classified_visible_to: tuple

    @classmethod
    def from_settings(cls, declaration_window, classified_visible_to):
        start, end = parse_window(declaration_window)
        orgs = classified_visible_to
        if isinstance(orgs, str):
            orgs = [o.strip() for o in orgs.split(",") if o.strip()]
        return cls(start, end, tuple(orgs))


def parse_window(text):
    """``"12-11..12-20"`` → ((12, 11), (12, 20)); a window may wrap the year end."""
    try:
        start, end = (tuple(int(x) for x in part.strip().split("-")) for part in str(text).split(".."))
        for month, day in (start, end):
            dt.date(2000, month, day)  # a leap year accepts 02-29
    except (ValueError, TypeError):
        raise ValueError(f"declaration_window must look like MM-DD..MM-DD, got {text!r}") from None
    return start, end


@dataclass
class Project:
    project_id: str
    name: str
    unit: str
    category: str
    construction_mode: str
    investment_mode: str
    plan_year: int
    plan_type: str
    basis: str
    summary: str
    estimated_investment: Decimal
    funding_source: str
    annual_investments: list
    classified: bool = False
    hosted_on_big_data_center: bool = False
    standalone_infrastructure: list = field(default_factory=list)
    infrastructure_exemption: str | None = None
    exemption_basis: str | None = None
    requires_construction_plan: bool = True
    custom_software: bool = False
    higher_level_requirement: str | None = None
    status: str = ProjectStatus.DECLARED.value
    supplementary_status: str | None = None
    supplementary_opinion: str | None = None
    declared_by: str = ""
    declared_at: dt.datetime | None = None


@dataclass
class AnnualPlan:
    year: int
    project_ids: list
    total_investment: Decimal
    status: str = PlanStatus.COMPILED.value
    concurred_by: list = field(default_factory=list)
    compiled_by: str = ""
    approved_by: str | None = None


@dataclass
class ChangeRequest:
    change_id: str
    project_id: str
    description: str
    reason: str
    requested_by: str
    status: str = ChangeStatus.PENDING.value
    opinion: str | None = None
    decided_by: str | None = None


@dataclass
class UnauthorizedChange:
    report_id: str
    project_id: str
    description: str
    reported_by: str
    resolved: bool = False
    resolution: str | None = None
    resolved_by: str | None = None


def new_id(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# --- who may do what ------------------------------------------------------------------------


def check_owner(caller: Caller, project):
    check_project_owner(caller, project, "办理此事项")


def check_declarer(caller: Caller, unit, construction_mode):
    """Art 8: units declare their own projects; Art 11: data_center acts for unified ones."""
    if caller.org == unit:
        return
    if caller.org == "data_center" and construction_mode == "unified":
        return
    raise Forbidden("NOT_PROJECT_OWNER", f"机构 {caller.org} 不能为 {unit} 申报项目（第八条）")


def can_see(caller: Caller, project, rules: PlanningRules):
    """A unit sees its own projects; a classified project only the orgs that need it (Art 25)."""
    if caller.org in (project.unit, project_owner(project)):
        return True
    if caller.is_unit:
        return False
    if project.classified:
        return caller.org in rules.classified_visible_to
    return True


def check_visible(caller, project, rules):
    if project is None or not can_see(caller, project, rules):
        raise NotFound("PROJECT_NOT_FOUND", "项目不存在或无权查看")


# --- declaration (Art 6, 8, 9) --------------------------------------------------------------


def in_window(today: dt.date, rules: PlanningRules):
    key = (today.month, today.day)
    if rules.window_start <= rules.window_end:
        return rules.window_start <= key <= rules.window_end
    return key >= rules.window_start or key <= rules.window_end


def check_declaration_window(plan_type, plan_year, today, rules):
    """Art 8: next year's projects are declared in mid-December (window is a setting).
    Art 9: a supplementary project is declared any time, for the current year."""
    if plan_type == PlanType.SUPPLEMENTARY.value:
        if plan_year != today.year:
            raise RuleViolation(
                "SUPPLEMENTARY_YEAR_INVALID", f"增补计划项目只能申报本年度（{today.year}年）（第九条）", "Art 9"
            )
        return
    if plan_year != today.year + 1 or not in_window(today, rules):
        start = "{:02d}-{:02d}".format(*rules.window_start)
        end = "{:02d}-{:02d}".format(*rules.window_end)
        raise RuleViolation(
            "OUTSIDE_DECLARATION_WINDOW",
            f"年度计划项目应于申报期（{start} 至 {end}）内申报下一年度（{today.year + 1}年）项目（第八条）",
            "Art 8",
        )


def check_annual_amounts(estimate: Decimal, annual_investments):
    """Art 8: the annual investment plan adds up to the estimate exactly."""
    years = [item["year"] for item in annual_investments]
    if len(set(years)) != len(years):
        raise ValidationError("INVALID_INPUT", "输入不合法：annual_investments: 年度重复")
    total = sum((Decimal(item["amount"]) for item in annual_investments), Decimal("0"))
    if total != estimate:
        raise RuleViolation(
            "ANNUAL_PLAN_MISMATCH", f"年度投资计划合计 {total} 元与投资概算 {estimate} 元不一致（第八条）", "Art 8"
        )


def check_standalone_infrastructure(standalone, exemption, basis, classified):
    """Art 6: build on the Big Data Center; own infrastructure only under a named exemption."""
    if not standalone:
        return
    if exemption not in EXEMPTIONS or not (basis or "").strip():
        raise RuleViolation(
            "STANDALONE_INFRA_NOT_ALLOWED",
            "项目应依托县大数据中心建设，自建机房、网络、存储或计算资源须注明豁免情形"
            "（涉密、内部专用设备或上级规定）及书面依据（第六条）",
            "Art 6",
        )
    if exemption == "classified" and not classified:
        raise RuleViolation(
            "STANDALONE_INFRA_NOT_ALLOWED", "以涉密为由自建基础设施的项目必须标记为涉密项目（第六条）", "Art 6"
        )


def check_supplementary_basis(plan_type, requirement):
    """Art 9: a supplementary project states the higher authority's requirement."""
    if plan_type == PlanType.SUPPLEMENTARY.value and not (requirement or "").strip():
        raise RuleViolation("SUPPLEMENTARY_BASIS_REQUIRED", "增补计划项目须提供上级要求的文件依据（第九条）", "Art 9")


def declare(fields_, caller, today, rules, now):
    """A new declared project, after every check of Art 6, 8 and 9."""
    check_declarer(caller, fields_["unit"], fields_["construction_mode"])
    check_supplementary_basis(fields_["plan_type"], fields_.get("higher_level_requirement"))
    check_declaration_window(fields_["plan_type"], fields_["plan_year"], today, rules)
    check_annual_amounts(fields_["estimated_investment"], fields_["annual_investments"])
    check_standalone_infrastructure(
        fields_.get("standalone_infrastructure") or [],
        fields_.get("infrastructure_exemption"),
        fields_.get("exemption_basis"),
        fields_.get("classified", False),
    )
    project = Project(project_id=new_id("prj"), declared_by=caller.org, declared_at=now, **fields_)
    if project.plan_type == PlanType.SUPPLEMENTARY.value:
        project.supplementary_status = SupplementaryStatus.AWAITING_OFFICE_REVIEW.value
    return project


# --- annual plan (Art 9) ------------------------------------------------------------------------

PLAN_TRANSITIONS = {
    (None, "compile"): PlanStatus.COMPILED,
    (PlanStatus.COMPILED, "compile"): PlanStatus.COMPILED,
    (PlanStatus.COMPILED, "concur"): PlanStatus.COMPILED,  # becomes CONCURRED when all have concurred
    (PlanStatus.CONCURRED, "approve"): PlanStatus.APPROVED,
}

_PLAN_ACTION_NAMES = {"compile": "编制", "concur": "会签", "approve": "审定"}


def _plan_transition(plan, action):
    current = PlanStatus(plan.status) if plan else None
    target = PLAN_TRANSITIONS.get((current, action))
    if target is None:
        state = current.value if current else "未编制"
        raise Conflict("PLAN_STATE_CONFLICT", f"年度计划当前状态为 {state}，不能{_PLAN_ACTION_NAMES[action]}（第九条）")
    return target


def compile_plan(year, projects, existing, caller):
    """Art 9: the smart office compiles the year's plan from declared annual projects. Recompiling
    (before both concurrences are in) updates ``existing`` in place and restarts the concurrence."""
    _plan_transition(existing, "compile")
    if not projects:
        raise ValidationError("INVALID_INPUT", "输入不合法：project_ids: 至少选择一个项目")
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
    plan.status = PlanStatus.COMPILED.value
    plan.concurred_by = []
    plan.compiled_by = caller.org
    return plan


def concur_plan(plan, caller):
    """Art 9: finance and DRC each concur with the compiled plan."""
    _plan_transition(plan, "concur")
    if caller.org not in plan.concurred_by:
        plan.concurred_by = [*plan.concurred_by, caller.org]
    if all(org in plan.concurred_by for org in PLAN_CONCURRING_ORGS):
        plan.status = PlanStatus.CONCURRED.value
    return plan


def approve_plan(plan, declared_for_year, caller):
    """Art 9: the county government approves; selected projects become planned, the year's other
    declared annual projects not planned. Returns (planned, not_planned)."""
    if plan is None:
        raise Conflict("PLAN_STATE_CONFLICT", "年度计划尚未编制，不能审定（第九条）")
    if PlanStatus(plan.status) is PlanStatus.COMPILED:
        missing = [org for org in PLAN_CONCURRING_ORGS if org not in plan.concurred_by]
        raise Conflict("PLAN_NOT_CONCURRED", f"年度计划尚待 {'、'.join(missing)} 会签，不能报县政府审定（第九条）")
    _plan_transition(plan, "approve")
    plan.status = PlanStatus.APPROVED.value
    plan.approved_by = caller.org
    planned, not_planned = [], []
    for project in declared_for_year:
        if project.status != ProjectStatus.DECLARED.value or project.plan_type != PlanType.ANNUAL.value:
            continue
        if project.project_id in plan.project_ids:
            project.status = ProjectStatus.PLANNED.value
            planned.append(project)
        else:
            project.status = ProjectStatus.NOT_PLANNED.value
            not_planned.append(project)
    return planned, not_planned


# --- supplementary plan (Art 9) -----------------------------------------------------------------


def review_supplementary(project, decision, opinion):
    """Art 9: the smart office reviews a supplementary project first."""
    if project.plan_type != PlanType.SUPPLEMENTARY.value:
        raise Conflict("NOT_SUPPLEMENTARY", "该项目不是增补计划项目")
    if project.supplementary_status != SupplementaryStatus.AWAITING_OFFICE_REVIEW.value:
        raise Conflict("SUPPLEMENTARY_STATE_CONFLICT", f"增补项目当前状态为 {project.supplementary_status}，不能审核")
    project.supplementary_opinion = opinion
    if decision == "approve":
        project.supplementary_status = SupplementaryStatus.OFFICE_APPROVED.value
    else:
        project.supplementary_status = SupplementaryStatus.REJECTED.value
        project.status = ProjectStatus.NOT_PLANNED.value
    return project


def approve_supplementary(project):
    """Art 9: the county government approves a supplementary project the office agreed to."""
    if project.plan_type != PlanType.SUPPLEMENTARY.value:
        raise Conflict("NOT_SUPPLEMENTARY", "该项目不是增补计划项目")
    if project.supplementary_status != SupplementaryStatus.OFFICE_APPROVED.value:
        raise Conflict("SUPPLEMENTARY_NOT_REVIEWED", "增补项目须经县智慧办审核同意后方可报县人民政府批准（第九条）")
    project.supplementary_status = SupplementaryStatus.APPROVED.value
    project.status = ProjectStatus.PLANNED.value
    return project


# --- change control (Art 18) --------------------------------------------------------------------


def check_in_plan(project):
    """Art 10: only a project in the annual or supplementary plan goes further."""
    if project.status != ProjectStatus.PLANNED.value:
        raise RuleViolation("NOT_IN_ANNUAL_PLAN", "项目未纳入年度建设计划或增补计划（第十条）", "Art 10")


def request_change(project, caller, description, reason):
    check_in_plan(project)
    return ChangeRequest(
        change_id=new_id("chg"),
        project_id=project.project_id,
        description=description,
        reason=reason,
        requested_by=caller.org,
    )


def decide_change(change, decision, opinion, caller):
    """Art 18: the smart office reviews every change to the approved scope."""
    if change.status != ChangeStatus.PENDING.value:
        raise Conflict("CHANGE_ALREADY_DECIDED", f"变更申请已处理（{change.status}）")
    change.status = ChangeStatus.APPROVED.value if decision == "approve" else ChangeStatus.REJECTED.value
    change.opinion = opinion
    change.decided_by = caller.org
    return change


def report_unauthorized_change(project, description, caller):
    """Art 18: a change carried out without approval; it blocks acceptance until resolved."""
    return UnauthorizedChange(
        report_id=new_id("uac"), project_id=project.project_id, description=description, reported_by=caller.org
    )


def resolve_unauthorized_changes(open_reports, opinion, caller):
    if not open_reports:
        raise Conflict("NO_OPEN_UNAUTHORIZED_CHANGE", "该项目没有未处理的擅自变更")
    for report in open_reports:
        report.resolved = True
        report.resolution = opinion
        report.resolved_by = caller.org
    return open_reports


# --- timeline -----------------------------------------------------------------------------------

STAGE_OF_EVENT = {
    "project.declared": "declared",
    "project.planned": "planned",
    "project.not_planned": "not_planned",
    "review.submitted": "under_review",
    "review.passed": "reviewed",
    "review.filed": "reviewed",
    "review.failed": "review_failed",
    "approval.granted": "approved",
    "approval.rejected": "approval_rejected",
    "budget.approved": "budgeted",
    "budget.rejected": "budget_rejected",
    "contract.registered": "contracted",
    "acceptance.passed": "accepted",
    "audit.closed": "audited",
}


def stage_of(entries):
    """The project's stage: the stage named by its latest stage-changing event. ``entries`` are in
    the order they occurred; a passed pre-check (``acceptance.prechecked`` with ``passed``) counts."""
    stage = None
    for entry in entries:
        if entry.event_type == "acceptance.prechecked":
            if (entry.data or {}).get("passed") or (entry.data or {}).get("verdict") == "passed":
                stage = "prechecked"
        elif entry.event_type in STAGE_OF_EVENT:
            stage = STAGE_OF_EVENT[entry.event_type]
    return stage


@dataclass
class TimelineEntry:
    event_id: str
    project_id: str
    event_type: str
    source: str
    occurred_at: str
    actor: str | None
    data: dict
    seq: int | None = None


@dataclass
class IpException:
    """Art 17: a contract whose source code is not owned by the building unit."""

    contract_no: str
    project_id: str
    vendor: str
    source_code_owner: str
    unit: str | None
    reported_at: str
