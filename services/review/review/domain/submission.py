"""Submission and filing (Art 10–12, 18): a construction plan routed by its budget and the
project's estimate, or a filing (备案) for a small project that needs no plan."""

import datetime as dt
from decimal import Decimal
from typing import Any

from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, RuleViolation
from nxshared.core.events import DomainEvent
from nxshared.core.money import format_money
from review.domain.access import check_in_plan, check_owner, check_visible
from review.domain.duplicates import DuplicateMatch
from review.domain.entities import PlannedProject, Review, ReviewRoute, ReviewRules, ReviewStatus, new_id
from review.events import CONCLUSION_EVENTS, ReviewSubmitted


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
    duplicates: list[DuplicateMatch] | None = None,
) -> tuple[Review, list[DomainEvent]]:
    """A new review of the project's construction plan, routed by its budget and estimate (Art 10–12),
    with the similar projects the county already has (Art 12, ``domain.duplicates``)."""
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
        duplicates=[match.as_record() for match in duplicates or ()],
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
    return review, [conclusion_event(review, caller)]


def conclusion_event(review: Review, caller: Caller) -> DomainEvent:
    """``review.passed``, ``review.failed`` or ``review.filed``: what approval waits for (Art 13)."""
    return CONCLUSION_EVENTS[review.status](
        project_id=review.project_id,
        actor=caller.actor,
        review_id=review.review_id,
        route=review.route,
        opinion=review.opinion or "",
    )
