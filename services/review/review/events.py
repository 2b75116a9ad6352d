"""The events review emits, as its domain returns them: one frozen dataclass per event type, at the
newest version (CONTRACT §Events, source ``review``). Their data schemas per version are in
``review.event_schemas``."""

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from nxshared.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ReviewSubmitted(DomainEvent):
    event_type: ClassVar[str] = "review.submitted"
    version: ClassVar[int] = 1
    review_id: str
    route: str
    budget: Decimal


@dataclass(frozen=True, kw_only=True)
class ReviewConcluded(DomainEvent):
    """The data every conclusion carries (one schema, ``ReviewConcludedV1``); each outcome is its
    own event type."""

    review_id: str
    route: str
    opinion: str


@dataclass(frozen=True, kw_only=True)
class ReviewPassed(ReviewConcluded):
    event_type: ClassVar[str] = "review.passed"
    version: ClassVar[int] = 1


@dataclass(frozen=True, kw_only=True)
class ReviewFailed(ReviewConcluded):
    event_type: ClassVar[str] = "review.failed"
    version: ClassVar[int] = 1


@dataclass(frozen=True, kw_only=True)
class ReviewFiled(ReviewConcluded):
    event_type: ClassVar[str] = "review.filed"
    version: ClassVar[int] = 1


@dataclass(frozen=True, kw_only=True)
class PanelAssigned(DomainEvent):
    """The experts seated on a review, in order (Art 12, recorded per Art 27)."""

    event_type: ClassVar[str] = "review.panel_assigned"
    version: ClassVar[int] = 1
    review_id: str
    route: str
    expert_ids: list[str]


@dataclass(frozen=True, kw_only=True)
class OpinionRecorded(DomainEvent):
    """One assigned expert's verdict (Art 12, recorded per Art 27)."""

    event_type: ClassVar[str] = "review.opinion_recorded"
    version: ClassVar[int] = 1
    review_id: str
    expert_id: str
    verdict: str


CONCLUSION_EVENTS: dict[str, type[ReviewConcluded]] = {
    "passed": ReviewPassed,
    "failed": ReviewFailed,
    "filed": ReviewFiled,
}
