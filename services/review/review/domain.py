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

from nxshared.core.caller import Caller, check_project_owner, may_see, org_list_setting, project_owner
from nxshared.core.errors import Conflict, NotFound, RuleViolation
from nxshared.core.events import DomainEvent
from nxshared.core.money import format_money, parse_money
from review.events import CONCLUSION_EVENTS, OpinionRecorded, PanelAssigned, ReviewSubmitted


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
ART_12_MIN_PANEL = 3  # "不少于3人": a setting may raise the panel's size, never lower it


@dataclass(frozen=True)
class ReviewRules:
    """The settings behind Art 12: the two thresholds and the make-up of an expert panel."""

    expert_panel_threshold: Decimal
    filing_threshold: Decimal
    panel_min_experts: int
    panel_expert_levels: tuple[str, ...]
    classified_visible_to: tuple[str, ...] = ()

    @classmethod
    def from_settings(
        cls,
        expert_panel_threshold: object,
        filing_threshold: object,
        panel_min_experts: object,
        panel_expert_levels: object,
        classified_visible_to: object = "",
    ) -> "ReviewRules":
        """The rules from config values; a value that would break Art 12 stops the service at start."""
        levels = _list_setting(panel_expert_levels)
        unknown = set(levels) - {level.value for level in ExpertLevel}
        if unknown or not levels:
            raise ValueError(f"PANEL_EXPERT_LEVELS: unknown or empty levels {sorted(unknown)}")
        if ExpertLevel.COUNTY.value in levels:
            raise ValueError("PANEL_EXPERT_LEVELS: Art 12 seats panel experts at city level or above, not county")
        panel_threshold = _money_setting("EXPERT_PANEL_THRESHOLD", expert_panel_threshold)
        filing = _money_setting("FILING_THRESHOLD", filing_threshold)
        if filing > panel_threshold:
            raise ValueError(
                f"FILING_THRESHOLD ({filing}) may not exceed EXPERT_PANEL_THRESHOLD ({panel_threshold}): "
                "Art 12 would then file projects that need an expert panel"
            )
        minimum = _int_setting("PANEL_MIN_EXPERTS", panel_min_experts)
        if minimum < ART_12_MIN_PANEL:
            raise ValueError(f"PANEL_MIN_EXPERTS: Art 12 requires at least {ART_12_MIN_PANEL} experts, got {minimum}")
        orgs = org_list_setting(classified_visible_to if isinstance(classified_visible_to, (str, list, tuple)) else "")
        return cls(panel_threshold, filing, minimum, tuple(levels), orgs)


def _int_setting(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{name}: expected a whole number, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}: expected a whole number, got {value!r}") from None


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
    changed_estimate: Decimal | None = None
    estimate_change_id: str | None = None

    @property
    def estimate(self) -> Decimal:
        """The estimate (概算) as it stands: as planned, or as an approved change set it (Art 18)."""
        return self.estimated_investment if self.changed_estimate is None else self.changed_estimate


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


def route_for(project: PlannedProject, budget: Decimal, rules: ReviewRules) -> ReviewRoute:
    """Art 12 Decision: the route follows the larger of the plan's budget and the project's estimate,
    so a plan cannot be priced below the estimate to escape an expert panel."""
    return route_for_budget(max(budget, project.estimate), rules)


def check_within_estimate(project: PlannedProject, budget: Decimal) -> None:
    """Art 12, 18: the construction plan's budget stays within the estimate (概算) the project was
    planned with, unless an approved change (Art 18) raised it."""
    if budget > project.estimate:
        raise RuleViolation(
            "OVER_ESTIMATE",
            f"建设方案预算 {format_money(budget)} 元超过项目投资概算 {format_money(project.estimate)} 元；"
            "调增概算须经变更审批（第十二条、第十八条）",
            "Art 12, Art 18",
        )


def apply_estimate_change(project: PlannedProject, change_id: str, estimate: Decimal | None) -> None:
    """Art 18: an approved change that alters the estimate sets it; ``None`` leaves it as it was."""
    if estimate is not None:
        project.changed_estimate = estimate
        project.estimate_change_id = change_id


def check_filing_allowed(project: PlannedProject, rules: ReviewRules) -> None:
    """Art 12 Decision: filing only for an estimate strictly below the threshold ("以内") and a
    project that needs no construction plan."""
    if project.estimate >= rules.filing_threshold or project.requires_construction_plan:
        raise RuleViolation(
            "FILING_NOT_ALLOWED",
            f"只有投资概算低于 {format_money(rules.filing_threshold)} 元且无需编制建设方案的项目可以备案，"
            "其他项目须提交建设方案进行技术评审（第十二条）",
            "Art 12",
        )


def _check_may_apply(
    project: PlannedProject | None, history: list[Review], caller: Caller, rules: ReviewRules
) -> PlannedProject:
    planned = check_in_plan(project)
    check_visible(caller, planned, rules)
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
    """A new review of the project's construction plan, routed by its budget and estimate (Art 10–12)."""
    planned = _check_may_apply(project, history, caller, rules)
    check_within_estimate(planned, plan["budget"])
    review = Review(
        review_id=new_id("rev"),
        project_id=planned.project_id,
        route=route_for(planned, plan["budget"], rules).value,
        status=ReviewStatus.UNDER_REVIEW.value,
        budget=plan["budget"],
        title=plan["title"],
        document_ref=plan["document_ref"],
        submitted_by=caller.actor,
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
    planned = _check_may_apply(project, history, caller, rules)
    check_filing_allowed(planned, rules)
    review = Review(
        review_id=new_id("rev"),
        project_id=planned.project_id,
        route=ReviewRoute.FILING.value,
        status=ReviewStatus.FILED.value,
        budget=planned.estimate,
        title=planned.name,
        document_ref=None,
        submitted_by=caller.actor,
        submitted_at=now,
        opinion="投资概算低于备案限额且无需编制建设方案，予以备案（第十二条）",
        concluded_by=caller.actor,
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


def is_panel(review: Review) -> bool:
    return review.route == ReviewRoute.EXPERT_PANEL.value


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
            f"专家 {'、'.join(conflicted)} 受雇于申报单位，须回避该项目的评审（第十二条）",
            "Art 12",
        )


def assign_panel(
    review: Review, experts: list[Expert], project: PlannedProject, rules: ReviewRules, caller: Caller
) -> list[DomainEvent]:
    """Art 12: seat the experts of a review under way: an expert panel of the required size and
    levels, or the experts a center-opinion review optionally invites (any number, any level).
    No expert employed by the applicant sits on either."""
    _transition(review, "assign_experts")
    check_panel_not_assigned(review)
    distinct = list({e.expert_id: e for e in experts}.values())
    if is_panel(review):
        check_panel_size(distinct, rules)
        check_expert_levels(distinct, rules)
    elif not distinct:
        raise RuleViolation("PANEL_TOO_SMALL", "至少须邀请一名专家（第十二条）", "Art 12")
    check_expert_conflict(distinct, project)
    review.experts = [
        PanelSeat(review_id=review.review_id, expert_id=e.expert_id, position=i) for i, e in enumerate(distinct)
    ]
    assigned = PanelAssigned(
        project_id=review.project_id,
        actor=caller.actor,
        review_id=review.review_id,
        route=review.route,
        expert_ids=[seat.expert_id for seat in review.experts],
    )
    return [assigned]


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
    recorded = OpinionRecorded(
        project_id=review.project_id,
        actor=caller.actor,
        review_id=review.review_id,
        expert_id=expert_id,
        verdict=verdict,
    )
    return [recorded]


def check_panel_complete(review: Review) -> None:
    """Art 12: a panel is concluded only after every assigned expert's opinion is in; so is a
    center-opinion review that invited experts."""
    missing = [s.expert_id for s in review.experts if s.verdict is None]
    if missing or (is_panel(review) and not review.experts):
        waiting = "尚未指派专家组" if not review.experts else f"尚缺专家 {'、'.join(missing)} 的意见"
        raise RuleViolation(
            "PANEL_OPINIONS_INCOMPLETE",
            f"评审须待全部指派的专家提交意见后方可作出结论，{waiting}（第十二条）",
            "Art 12",
        )


def check_panel_majority(review: Review, verdict: str) -> None:
    """Art 12 Decision: an expert panel's review does not pass when most of its experts said ``fail``."""
    if verdict != ReviewStatus.PASSED.value or not is_panel(review):
        return
    failing = sum(1 for seat in review.experts if seat.verdict == "fail")
    if failing * 2 > len(review.experts):
        raise RuleViolation(
            "PANEL_MAJORITY_FAILED",
            f"专家组 {len(review.experts)} 名专家中有 {failing} 名意见为不通过，评审结论不能为通过（第十二条）",
            "Art 12",
        )


def conclude(review: Review, verdict: str, opinion: str, caller: Caller, now: dt.datetime) -> list[DomainEvent]:
    """Art 12: the data center concludes a review as passed or failed, once every assigned expert's
    opinion is in; a panel's majority of ``fail`` cannot be concluded as passed."""
    target = _transition(review, verdict)
    check_panel_complete(review)
    check_panel_majority(review, verdict)
    review.status = target.value
    review.opinion = opinion
    review.concluded_by = caller.actor
    review.concluded_at = now
    return [_conclusion_event(review, caller)]
