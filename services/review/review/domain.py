"""Technical review rules and state machine, in plain Python (no nameko, SQLAlchemy or marshmallow).

RULES §Technical review: a planned project (Art 10) has its construction plan reviewed by the data
center (Art 11), by an expert panel or by the center's own opinion depending on the budget, or is
only filed when it is small and needs no construction plan (Art 12). Entities are dataclasses; the
service maps them to tables. Every guard raises a domain error carrying the rule's code and article.
A decision returns the events it causes (``review.events``); the use cases record them.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from nxshared.core.caller import Caller, check_project_owner, project_owner
from nxshared.core.errors import Conflict, NotFound, RuleViolation
from nxshared.core.events import DomainEvent
from nxshared.core.money import format_money, parse_money
from review.events import CONCLUSION_EVENTS, ReviewSubmitted


class ReviewRoute(StrEnum):
    EXPERT_PANEL = "expert_panel"
    CENTER_OPINION = "center_opinion"
    FILING = "filing"


class ReviewStatus(StrEnum):
    UNDER_REVIEW = "under_review"
    PASSED = "passed"
    FAILED = "failed"
    FILED = "filed"


class ExpertLevel(StrEnum):
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    CITY = "city"
    COUNTY = "county"


LEVEL_NAMES = {"national": "国家", "provincial": "省", "city": "市", "county": "县"}
EXPERT_VERDICTS = ("pass", "conditional", "fail")
CONCLUSIONS = (ReviewStatus.PASSED.value, ReviewStatus.FAILED.value)
REVIEWED_ROUTES = (ReviewRoute.EXPERT_PANEL.value, ReviewRoute.CENTER_OPINION.value)


@dataclass(frozen=True)
class ReviewRules:
    """The settings behind Art 12: the two thresholds and the make-up of an expert panel."""

    expert_panel_threshold: Decimal
    filing_threshold: Decimal
    panel_min_experts: int
    panel_expert_levels: tuple[str, ...]

    @classmethod
    def from_settings(
        cls,
        expert_panel_threshold: object,
        filing_threshold: object,
        panel_min_experts: object,
        panel_expert_levels: object,
    ) -> "ReviewRules":
        levels = _list_setting(panel_expert_levels)
        unknown = set(levels) - {level.value for level in ExpertLevel}
        if unknown or not levels:
            raise ValueError(f"PANEL_EXPERT_LEVELS: unknown or empty levels {sorted(unknown)}")
        return cls(
            _money_setting("EXPERT_PANEL_THRESHOLD", expert_panel_threshold),
            _money_setting("FILING_THRESHOLD", filing_threshold),
            int(str(panel_min_experts)),
            tuple(levels),
        )


def _list_setting(value: object) -> list[str]:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return [str(item) for item in value] if isinstance(value, (list, tuple)) else []


def _money_setting(name: str, value: object) -> Decimal:
    amount = parse_money(str(value))
    if amount is None:
        raise ValueError(f"{name}: expected a money string like '2000000.00', got {value!r}")
    return amount


@dataclass
class PlannedProject:
    """What review knows of a project in the annual or supplementary plan, from ``project.planned``."""

    project_id: str
    name: str
    unit: str
    construction_mode: str
    estimated_investment: Decimal
    requires_construction_plan: bool
    classified: bool
    custom_software: bool


@dataclass
class Expert:
    expert_id: str
    name: str
    level: str
    field: str
    employer: str


@dataclass(eq=False)
class PanelSeat:
    """One expert assigned to a review, and the opinion that expert gave."""

    review_id: str
    expert_id: str
    position: int
    verdict: str | None = None
    opinion: str | None = None


@dataclass
class Review:
    review_id: str
    project_id: str
    route: str
    status: str
    budget: Decimal
    title: str
    document_ref: str | None
    submitted_by: str
    submitted_at: dt.datetime
    experts: list[PanelSeat] = field(default_factory=list)
    opinion: str | None = None
    concluded_by: str | None = None
    concluded_at: dt.datetime | None = None


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def new_expert(name: str, level: str, field: str, employer: str) -> Expert:
    """A new member of the expert pool (Art 12)."""
    return Expert(expert_id=new_id("exp"), name=name, level=level, field=field, employer=employer)


# --- who may do what (Art 4, 10, 11) ------------------------------------------------------------


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


def can_see(caller: Caller, project: PlannedProject) -> bool:
    """A unit sees only its own projects' reviews; the bureaus see every review."""
    return not caller.is_unit or caller.org == project.unit


def check_visible(caller: Caller, project: PlannedProject | None, code: str = "REVIEW_NOT_FOUND") -> PlannedProject:
    if project is None or not can_see(caller, project):
        raise NotFound(code, "评审或项目不存在，或无权查看")
    return project


def review_not_found() -> NotFound:
    return NotFound("REVIEW_NOT_FOUND", "评审或项目不存在，或无权查看")


# --- submission and filing (Art 12) -------------------------------------------------------------


def check_one_open_review(history: list[Review]) -> None:
    """Art 12: a project has one review under way at a time."""
    for earlier in history:
        if earlier.status == ReviewStatus.UNDER_REVIEW.value:
            raise Conflict(
                "REVIEW_ALREADY_OPEN", f"该项目的技术评审 {earlier.review_id} 正在进行，不能重复提交（第十二条）"
            )


def check_not_already_reviewed(history: list[Review]) -> None:
    """Art 12: a passed review or a filing lets the project proceed; only a failed one is redone."""
    for earlier in history:
        if earlier.status in (ReviewStatus.PASSED.value, ReviewStatus.FILED.value):
            raise Conflict(
                "ALREADY_REVIEWED", f"该项目已通过技术评审或已备案（{earlier.review_id}），不能再次提交（第十二条）"
            )


def route_for_budget(budget: Decimal, rules: ReviewRules) -> ReviewRoute:
    """Art 12: a budget at or above the threshold goes to an expert panel, below it to the center."""
    if budget >= rules.expert_panel_threshold:
        return ReviewRoute.EXPERT_PANEL
    return ReviewRoute.CENTER_OPINION


def check_filing_allowed(project: PlannedProject, rules: ReviewRules) -> None:
    """Art 12 Decision: filing only for an estimate strictly below the threshold ("以内") and a
    project that needs no construction plan."""
    if project.estimated_investment >= rules.filing_threshold or project.requires_construction_plan:
        raise RuleViolation(
            "FILING_NOT_ALLOWED",
            f"只有投资概算低于 {format_money(rules.filing_threshold)} 元且无需编制建设方案的项目可以备案，"
            "其他项目须提交建设方案进行技术评审（第十二条）",
            "Art 12",
        )


def _check_may_apply(project: PlannedProject | None, history: list[Review], caller: Caller) -> PlannedProject:
    planned = check_in_plan(project)
    check_owner(caller, planned)
    check_one_open_review(history)
    check_not_already_reviewed(history)
    return planned


def submit_plan(
    project: PlannedProject | None,
    history: list[Review],
    plan: dict[str, Any],
    caller: Caller,
    rules: ReviewRules,
    now: dt.datetime,
) -> tuple[Review, list[DomainEvent]]:
    """A new review of the project's construction plan, routed by its budget (Art 10–12)."""
    planned = _check_may_apply(project, history, caller)
    review = Review(
        review_id=new_id("rev"),
        project_id=planned.project_id,
        route=route_for_budget(plan["budget"], rules).value,
        status=ReviewStatus.UNDER_REVIEW.value,
        budget=plan["budget"],
        title=plan["title"],
        document_ref=plan["document_ref"],
        submitted_by=caller.org,
        submitted_at=now,
    )
    submitted = ReviewSubmitted(
        project_id=review.project_id,
        actor=caller.actor,
        review_id=review.review_id,
        route=review.route,
        budget=review.budget,
    )
    return review, [submitted]


def file_project(
    project: PlannedProject | None,
    history: list[Review],
    caller: Caller,
    rules: ReviewRules,
    now: dt.datetime,
) -> tuple[Review, list[DomainEvent]]:
    """A filing (备案): recorded, not reviewed (Art 12)."""
    planned = _check_may_apply(project, history, caller)
    check_filing_allowed(planned, rules)
    review = Review(
        review_id=new_id("rev"),
        project_id=planned.project_id,
        route=ReviewRoute.FILING.value,
        status=ReviewStatus.FILED.value,
        budget=planned.estimated_investment,
        title=planned.name,
        document_ref=None,
        submitted_by=caller.org,
        submitted_at=now,
        opinion="投资概算低于备案限额且无需编制建设方案，予以备案（第十二条）",
        concluded_by=caller.org,
        concluded_at=now,
    )
    return review, [_conclusion_event(review, caller)]


def _conclusion_event(review: Review, caller: Caller) -> DomainEvent:
    """``review.passed``, ``review.failed`` or ``review.filed``: what approval waits for (Art 13)."""
    return CONCLUSION_EVENTS[review.status](
        project_id=review.project_id,
        actor=caller.actor,
        review_id=review.review_id,
        route=review.route,
        opinion=review.opinion or "",
    )


# --- the review itself (Art 12) -----------------------------------------------------------------

REVIEW_TRANSITIONS = {
    (ReviewStatus.UNDER_REVIEW, "assign_experts"): ReviewStatus.UNDER_REVIEW,
    (ReviewStatus.UNDER_REVIEW, "record_opinion"): ReviewStatus.UNDER_REVIEW,
    (ReviewStatus.UNDER_REVIEW, "passed"): ReviewStatus.PASSED,
    (ReviewStatus.UNDER_REVIEW, "failed"): ReviewStatus.FAILED,
}

_ACTION_NAMES = {
    "assign_experts": "指派专家",
    "record_opinion": "记录专家意见",
    "passed": "作出结论",
    "failed": "作出结论",
}


def _transition(review: Review, action: str) -> ReviewStatus:
    """Art 12: experts sit and the conclusion is given only while the review is under way."""
    target = REVIEW_TRANSITIONS.get((ReviewStatus(review.status), action))
    if target is None:
        raise Conflict(
            "REVIEW_NOT_OPEN",
            f"评审 {review.review_id} 当前状态为 {review.status}，不能{_ACTION_NAMES[action]}（第十二条）",
        )
    return target


def check_expert_panel(review: Review) -> None:
    """Art 12: experts are assigned to a review that goes to an expert panel."""
    if review.route != ReviewRoute.EXPERT_PANEL.value:
        raise Conflict(
            "NOT_EXPERT_PANEL", f"评审 {review.review_id} 的方式为 {review.route}，不组织专家组评审（第十二条）"
        )


def check_panel_not_assigned(review: Review) -> None:
    """Art 12: a review has one panel; the opinions it gives are the ones the conclusion rests on."""
    if review.experts:
        raise Conflict("PANEL_ALREADY_ASSIGNED", f"评审 {review.review_id} 已指派专家组（第十二条）")


def check_panel_size(experts: list[Expert], rules: ReviewRules) -> None:
    """Art 12: an expert panel has at least the minimum number of distinct experts."""
    if len({e.expert_id for e in experts}) < rules.panel_min_experts:
        raise RuleViolation(
            "PANEL_TOO_SMALL", f"专家组评审须由不少于 {rules.panel_min_experts} 名不同的专家组成（第十二条）", "Art 12"
        )


def check_expert_levels(experts: list[Expert], rules: ReviewRules) -> None:
    """Art 12: every panel expert is from the pool at city level or above."""
    low = [e.name for e in experts if e.level not in rules.panel_expert_levels]
    if low:
        raise RuleViolation(
            "EXPERT_LEVEL_TOO_LOW",
            f"专家 {'、'.join(low)} 的级别不符合要求，专家组成员须为专家库中的"
            f"{'、'.join(LEVEL_NAMES[level] for level in rules.panel_expert_levels)}级专家（第十二条）",
            "Art 12",
        )


def check_expert_conflict(experts: list[Expert], project: PlannedProject) -> None:
    """Art 12 Decision: no expert employed by the applying unit sits on its panel. For a unified
    project the data center applies on the unit's behalf, so neither may be the employer."""
    applicants = {project.unit, project_owner(project)}
    conflicted = [e.name for e in experts if e.employer in applicants]
    if conflicted:
        raise RuleViolation(
            "EXPERT_CONFLICT",
            f"专家 {'、'.join(conflicted)} 受雇于申报单位，须回避该项目的专家组评审（第十二条）",
            "Art 12",
        )


def assign_panel(
    review: Review, experts: list[Expert], project: PlannedProject, rules: ReviewRules, caller: Caller
) -> list[DomainEvent]:
    """Art 12: seat the panel of an expert-panel review under way."""
    _transition(review, "assign_experts")
    check_expert_panel(review)
    check_panel_not_assigned(review)
    distinct = list({e.expert_id: e for e in experts}.values())
    check_panel_size(distinct, rules)
    check_expert_levels(distinct, rules)
    check_expert_conflict(distinct, project)
    review.experts = [
        PanelSeat(review_id=review.review_id, expert_id=e.expert_id, position=i) for i, e in enumerate(distinct)
    ]
    return []


def check_on_panel(review: Review, expert_id: str) -> PanelSeat:
    """Art 12: only an expert assigned to the panel gives an opinion on it, once."""
    seat = next((s for s in review.experts if s.expert_id == expert_id), None)
    if seat is None:
        raise Conflict("EXPERT_NOT_ON_PANEL", f"专家 {expert_id} 未被指派参加评审 {review.review_id}（第十二条）")
    if seat.verdict is not None:
        raise Conflict("OPINION_ALREADY_RECORDED", f"专家 {expert_id} 已提交评审意见，不能重复提交（第十二条）")
    return seat


def record_opinion(review: Review, expert_id: str, verdict: str, opinion: str, caller: Caller) -> list[DomainEvent]:
    """Art 12: an assigned expert's opinion on the plan."""
    _transition(review, "record_opinion")
    seat = check_on_panel(review, expert_id)
    seat.verdict = verdict
    seat.opinion = opinion
    return []


def check_panel_complete(review: Review) -> None:
    """Art 12: a panel is concluded only after every assigned expert's opinion is in."""
    if review.route != ReviewRoute.EXPERT_PANEL.value:
        return
    missing = [s.expert_id for s in review.experts if s.verdict is None]
    if not review.experts or missing:
        waiting = "尚未指派专家组" if not review.experts else f"尚缺专家 {'、'.join(missing)} 的意见"
        raise RuleViolation(
            "PANEL_OPINIONS_INCOMPLETE",
            f"专家组评审须待全部专家提交意见后方可作出结论，{waiting}（第十二条）",
            "Art 12",
        )


def conclude(review: Review, verdict: str, opinion: str, caller: Caller, now: dt.datetime) -> list[DomainEvent]:
    """Art 12: the data center concludes a review as passed or failed, a panel once it is complete."""
    target = _transition(review, verdict)
    check_panel_complete(review)
    review.status = target.value
    review.opinion = opinion
    review.concluded_by = caller.org
    review.concluded_at = now
    return [_conclusion_event(review, caller)]
