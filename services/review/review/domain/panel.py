"""The review itself (Art 12): experts seated, their opinions, the data center's conclusion."""

import datetime as dt

from nxshared.core.caller import Caller, project_owner
from nxshared.core.errors import Conflict, RuleViolation
from nxshared.core.events import DomainEvent
from review.domain.duplicates import check_duplicates_acknowledged
from review.domain.entities import (
    LEVEL_NAMES,
    Expert,
    PanelSeat,
    PlannedProject,
    Review,
    ReviewRoute,
    ReviewRules,
    ReviewStatus,
)
from review.domain.submission import conclusion_event
from review.events import OpinionRecorded, PanelAssigned

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


def conclude(
    review: Review, verdict: str, opinion: str, caller: Caller, now: dt.datetime, rules: ReviewRules
) -> list[DomainEvent]:
    """Art 12: the data center concludes a review as passed or failed, once every assigned expert's
    opinion is in; a panel's majority of ``fail`` cannot be concluded as passed, nor a plan whose
    strong duplicate matches the data center has not acknowledged."""
    target = _transition(review, verdict)
    check_panel_complete(review)
    check_panel_majority(review, verdict)
    if verdict == ReviewStatus.PASSED.value:
        check_duplicates_acknowledged(review, rules)
    review.status = target.value
    review.opinion = opinion
    review.concluded_by = caller.actor
    review.concluded_at = now
    return [conclusion_event(review, caller)]
