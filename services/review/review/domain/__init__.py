"""Review's rules and state machines (RULES §Technical review, §Testing and acceptance), in plain
Python: no nameko, SQLAlchemy or marshmallow.

A planned project (Art 10) has its construction plan reviewed by the data center (Art 11), by an
expert panel or by the center's own opinion depending on the budget, or is only filed when it is
small and needs no construction plan (Art 12). Every guard raises a domain error carrying the
rule's code and article; a decision returns the events it causes (``review.events``) and the use
cases record them.

By article group: ``entities`` (entities, states, the Art 12 settings), ``access`` (Art 4, 10, 11,
25), ``submission`` (Art 10–12, 18: plans and filings), ``panel`` (Art 12: experts, opinions,
conclusion).
"""

from review.domain.access import (
    can_see,
    check_in_plan,
    check_owner,
    check_review_visible,
    check_visible,
    project_not_found,
    review_not_found,
)
from review.domain.entities import (
    ART_12_MIN_PANEL,
    CONCLUSIONS,
    EXPERT_VERDICTS,
    LEVEL_NAMES,
    REVIEWED_ROUTES,
    Expert,
    ExpertLevel,
    PanelSeat,
    PlannedProject,
    Review,
    ReviewRoute,
    ReviewRules,
    ReviewStatus,
    new_expert,
    new_id,
)
from review.domain.panel import (
    REVIEW_TRANSITIONS,
    assign_panel,
    check_expert_conflict,
    check_expert_levels,
    check_on_panel,
    check_panel_complete,
    check_panel_majority,
    check_panel_not_assigned,
    check_panel_size,
    conclude,
    is_panel,
    record_opinion,
)
from review.domain.submission import (
    apply_estimate_change,
    check_filing_allowed,
    check_not_already_reviewed,
    check_one_open_review,
    check_within_estimate,
    conclusion_event,
    file_project,
    route_for,
    route_for_budget,
    submit_plan,
)

__all__ = [
    "ART_12_MIN_PANEL",
    "CONCLUSIONS",
    "EXPERT_VERDICTS",
    "Expert",
    "ExpertLevel",
    "LEVEL_NAMES",
    "PanelSeat",
    "PlannedProject",
    "REVIEWED_ROUTES",
    "REVIEW_TRANSITIONS",
    "Review",
    "ReviewRoute",
    "ReviewRules",
    "ReviewStatus",
    "apply_estimate_change",
    "assign_panel",
    "can_see",
    "check_expert_conflict",
    "check_expert_levels",
    "check_filing_allowed",
    "check_in_plan",
    "check_not_already_reviewed",
    "check_on_panel",
    "check_one_open_review",
    "check_owner",
    "check_panel_complete",
    "check_panel_majority",
    "check_panel_not_assigned",
    "check_panel_size",
    "check_review_visible",
    "check_visible",
    "check_within_estimate",
    "conclude",
    "conclusion_event",
    "file_project",
    "is_panel",
    "new_expert",
    "new_id",
    "project_not_found",
    "record_opinion",
    "review_not_found",
    "route_for",
    "route_for_budget",
    "submit_plan",
]
