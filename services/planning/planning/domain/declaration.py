"""Declaring a project (Art 6, 8, 9), who owns it (Art 4, 8, 11) and who sees it (Art 25)."""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from nxshared.core.caller import Caller, check_project_owner, may_see, org_list_setting
from nxshared.core.errors import Forbidden, NotFound, RuleViolation, ValidationError
from planning.domain import Decided, new_id
from planning.events import ProjectDeclared

if TYPE_CHECKING:  # risk reads the timeline, which reads this module
    from planning.domain.risk import RiskRules

MonthDay = tuple[int, int]


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


INFRASTRUCTURE = ("machine_room", "network", "storage", "compute")
EXEMPTIONS = ("classified", "internal_use_equipment", "higher_level_rule")


@dataclass(frozen=True)
class PlanningRules:
    """The settings behind the **Decisions** of RULES §Planning."""

    window_start: MonthDay
    window_end: MonthDay
    classified_visible_to: tuple[str, ...]
    risk: "RiskRules" = field(default_factory=lambda: _risk_rules({}))

    @classmethod
    def from_settings(
        cls,
        declaration_window: str,
        classified_visible_to: str | Iterable[str],
        risk_settings: Mapping[str, Any] | None = None,
    ) -> "PlanningRules":
        start, end = parse_window(declaration_window)
        return cls(start, end, org_list_setting(classified_visible_to), _risk_rules(risk_settings or {}))


def _risk_rules(config: Mapping[str, Any]) -> "RiskRules":
    from planning.domain.risk import RiskRules  # noqa: PLC0415  (see TYPE_CHECKING above)

    return RiskRules.from_settings(config)


def parse_window(text: str) -> tuple[MonthDay, MonthDay]:
    """``"12-11..12-20"`` → ((12, 11), (12, 20)); a window may wrap the year end."""
    try:
        start, end = (_month_day(part) for part in str(text).split(".."))
    except (ValueError, TypeError):
        raise ValueError(f"declaration_window must look like MM-DD..MM-DD, got {text!r}") from None
    return start, end


def _month_day(text: str) -> MonthDay:
    month, day = (int(x) for x in text.strip().split("-"))
    dt.date(2000, month, day)  # a leap year accepts 02-29
    return month, day


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
    annual_investments: list[dict[str, Any]]
    classified: bool = False
    hosted_on_big_data_center: bool = False
    standalone_infrastructure: list[str] = field(default_factory=list)
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
    # the read side of Art 25, kept with the project as its timeline grows (``planning.domain.timeline``)
    stage: str = ProjectStatus.DECLARED.value
    approval: dict[str, Any] | None = None
    contract: dict[str, Any] | None = None
    budget: dict[str, Any] | None = None
    procurement: dict[str, Any] | None = None
    disbursed: Decimal | None = None


# --- who may do what ------------------------------------------------------------------------


def check_owner(caller: Caller, project: Project) -> None:
    check_project_owner(caller, project, "办理此事项")


def check_declarer(caller: Caller, unit: str, construction_mode: str) -> None:
    """Art 8: units declare their own projects; Art 11: data_center acts for unified ones."""
    if caller.org == unit:
        return
    if caller.org == "data_center" and construction_mode == "unified":
        return
    raise Forbidden("NOT_PROJECT_OWNER", f"机构 {caller.org} 不能为 {unit} 申报项目（第八条）")


def can_see(caller: Caller, project: Project, rules: PlanningRules) -> bool:
    """A unit sees its own projects; a classified project only the orgs that need it (Art 25)."""
    return may_see(caller, project, rules.classified_visible_to)


@dataclass(frozen=True)
class Scope:
    """Which projects a caller sees (Art 4, 25), as a query can say it: ``can_see`` as data.

    ``unit``: only the projects of this unit (a unit sees its own, unified ones included);
    otherwise every project that is not classified, and the classified ones too when
    ``all_classified``, or only the unified ones when ``unified_classified`` (the data center
    builds them, Art 11)."""

    unit: str | None = None
    all_classified: bool = False
    unified_classified: bool = False


def scope_of(caller: Caller, rules: PlanningRules) -> Scope:
    if caller.is_unit:
        return Scope(unit=caller.org)
    return Scope(
        all_classified=caller.org in rules.classified_visible_to,
        unified_classified=caller.org == "data_center",
    )


def in_scope(scope: Scope, project: Project) -> bool:
    """``can_see`` for a ``Scope`` (the in-memory form of the repository's query)."""
    if scope.unit is not None:
        return project.unit == scope.unit
    if not project.classified or scope.all_classified:
        return True
    return scope.unified_classified and project.construction_mode == "unified"


def check_visible(caller: Caller, project: Project | None, rules: PlanningRules) -> Project:
    """The project, when it exists and ``caller`` may see it; otherwise it does not exist for them."""
    if project is None or not can_see(caller, project, rules):
        raise NotFound("PROJECT_NOT_FOUND", "项目不存在或无权查看")
    return project


# --- declaration (Art 6, 8, 9) --------------------------------------------------------------


def in_window(today: dt.date, rules: PlanningRules) -> bool:
    return declared_plan_year(today, rules.window_start, rules.window_end) is not None


def declared_plan_year(today: dt.date, start: MonthDay, end: MonthDay) -> int | None:
    """Art 8: the plan year being declared on ``today`` in the window ``start..end`` (inclusive),
    None outside it. The window opens in one year to declare the next one's projects: a window
    across the year end (``12-20..01-05``) declares year Y+1 from 12-20 of Y to 01-05 of Y+1, so
    on its January days the year being declared is the current one."""
    key = (today.month, today.day)
    if start <= end:
        return today.year + 1 if start <= key <= end else None
    if key >= start:
        return today.year + 1
    if key <= end:
        return today.year
    return None


def check_declaration_window(plan_type: str, plan_year: int, today: dt.date, rules: PlanningRules) -> None:
    """Art 8: next year's projects are declared in mid-December (window is a setting).
    Art 9: a supplementary project is declared any time, for the current year."""
    if plan_type == PlanType.SUPPLEMENTARY.value:
        if plan_year != today.year:
            raise RuleViolation(
                "SUPPLEMENTARY_YEAR_INVALID", f"增补计划项目只能申报本年度（{today.year}年）（第九条）", "Art 9"
            )
        return
    declaring = declared_plan_year(today, rules.window_start, rules.window_end)
    if plan_year != declaring:
        start = "{:02d}-{:02d}".format(*rules.window_start)
        end = "{:02d}-{:02d}".format(*rules.window_end)
        year = declaring or today.year + 1
        raise RuleViolation(
            "OUTSIDE_DECLARATION_WINDOW",
            f"年度计划项目应于申报期（{start} 至 {end}）内申报下一年度（{year}年）项目（第八条）",
            "Art 8",
        )


def check_annual_plan_open(plan_type: str, plan_year: int, plan_approved: bool) -> None:
    """Art 8, 9: once the county government approved a year's annual plan, no project joins it; a
    late annual declaration would stay ``declared`` for ever. **Decision:** refused; the way in is
    the supplementary plan (Art 9)."""
    if plan_type == PlanType.ANNUAL.value and plan_approved:
        raise RuleViolation(
            "ANNUAL_PLAN_CLOSED",
            f"{plan_year} 年度建设计划已经县人民政府审定，不再接受年度申报；确需建设的请按增补计划申报（第八条、第九条）",
            "Art 9",
        )


def check_annual_amounts(estimate: Decimal, annual_investments: list[dict[str, Any]]) -> None:
    """Art 8: the annual investment plan adds up to the estimate exactly."""
    years = [item["year"] for item in annual_investments]
    if len(set(years)) != len(years):
        raise ValidationError("INVALID_INPUT", "输入不合法：annual_investments: 年度重复")
    total = sum((Decimal(item["amount"]) for item in annual_investments), Decimal("0"))
    if total != estimate:
        raise RuleViolation(
            "ANNUAL_PLAN_MISMATCH", f"年度投资计划合计 {total} 元与投资概算 {estimate} 元不一致（第八条）", "Art 8"
        )


def check_standalone_infrastructure(
    standalone: list[str], exemption: str | None, basis: str | None, classified: bool
) -> None:
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


def check_supplementary_basis(plan_type: str, requirement: str | None) -> None:
    """Art 9: a supplementary project states the higher authority's requirement."""
    if plan_type == PlanType.SUPPLEMENTARY.value and not (requirement or "").strip():
        raise RuleViolation("SUPPLEMENTARY_BASIS_REQUIRED", "增补计划项目须提供上级要求的文件依据（第九条）", "Art 9")


def declare(
    fields_: Mapping[str, Any],
    caller: Caller,
    today: dt.date,
    rules: PlanningRules,
    now: dt.datetime,
    plan_approved: bool = False,
) -> Decided[Project]:
    """A new declared project, after every check of Art 6, 8 and 9; it causes ``project.declared``.
    ``plan_approved``: whether the annual plan of the declared year is already approved."""
    check_declarer(caller, fields_["unit"], fields_["construction_mode"])
    check_supplementary_basis(fields_["plan_type"], fields_.get("higher_level_requirement"))
    check_declaration_window(fields_["plan_type"], fields_["plan_year"], today, rules)
    check_annual_plan_open(fields_["plan_type"], fields_["plan_year"], plan_approved)
    check_annual_amounts(fields_["estimated_investment"], fields_["annual_investments"])
    check_standalone_infrastructure(
        fields_.get("standalone_infrastructure") or [],
        fields_.get("infrastructure_exemption"),
        fields_.get("exemption_basis"),
        fields_.get("classified", False),
    )
    project = Project(project_id=new_id("prj"), declared_by=caller.actor, declared_at=now, **fields_)
    if project.plan_type == PlanType.SUPPLEMENTARY.value:
        project.supplementary_status = SupplementaryStatus.AWAITING_OFFICE_REVIEW.value
    declared = ProjectDeclared(
        project_id=project.project_id,
        actor=caller.actor,
        name=project.name,
        summary=project.summary,
        unit=project.unit,
        category=project.category,
        construction_mode=project.construction_mode,
        plan_year=project.plan_year,
        plan_type=project.plan_type,
        estimated_investment=project.estimated_investment,
        classified=project.classified,
    )
    return project, [declared]
