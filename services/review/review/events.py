"""The events review emits, as its domain returns them: one frozen dataclass per event type, at the
newest version (CONTRACT §Events, source ``review``). Their data schemas per version are in
``review.event_schemas``."""

import datetime as dt
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


@dataclass(frozen=True, kw_only=True)
class DuplicatesAcknowledged(DomainEvent):
    """The data center acknowledged the strong matches of a review: the plan is no duplicate of
    those projects, or the duplication is justified (Art 12, recorded per Art 27)."""

    event_type: ClassVar[str] = "review.duplicates_acknowledged"
    version: ClassVar[int] = 1
    review_id: str
    project_ids: list[str]
    comment: str


CONCLUSION_EVENTS: dict[str, type[ReviewConcluded]] = {
    "passed": ReviewPassed,
    "failed": ReviewFailed,
    "filed": ReviewFiled,
}


# --- delivery and acceptance (Art 18–21, 24) -------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SupervisorRegistered(DomainEvent):
    """The project's supervisor (监理): a qualified company and a certified lead (Art 19)."""

    event_type: ClassVar[str] = "supervisor.registered"
    version: ClassVar[int] = 1
    company: str
    qualification_no: str
    lead_name: str
    lead_certificate_no: str


@dataclass(frozen=True, kw_only=True)
class TestReportSubmitted(DomainEvent):
    """A test report of one kind (Art 20); a failed one counts as missing."""

    __test__ = False  # a domain event, not a pytest class
    event_type: ClassVar[str] = "test_report.submitted"
    version: ClassVar[int] = 1
    report_id: str
    kind: str
    agency: str
    report_no: str
    passed: bool


@dataclass(frozen=True, kw_only=True)
class PrecheckRequested(DomainEvent):
    """The unit reports the finished project to the data center before acceptance (Art 21)."""

    event_type: ClassVar[str] = "acceptance.precheck_requested"
    version: ClassVar[int] = 1
    precheck_id: str


@dataclass(frozen=True, kw_only=True)
class Prechecked(DomainEvent):
    """The data center's pre-check concluded (Art 21): ``passed`` is ``verdict == "passed"``."""

    event_type: ClassVar[str] = "acceptance.prechecked"
    version: ClassVar[int] = 1
    precheck_id: str
    verdict: str
    passed: bool
    opinion: str


@dataclass(frozen=True, kw_only=True)
class AcceptanceRecorded(DomainEvent):
    """The data every recorded acceptance carries (one schema, ``AcceptanceRecordedV1``); passed and
    failed are each their own event type."""

    acceptance_id: str
    precheck_id: str
    date: dt.date
    minutes: str


@dataclass(frozen=True, kw_only=True)
class AcceptancePassed(AcceptanceRecorded):
    """Accepted: the system may go into operation (Art 21)."""

    event_type: ClassVar[str] = "acceptance.passed"
    version: ClassVar[int] = 1


@dataclass(frozen=True, kw_only=True)
class AcceptanceFailed(AcceptanceRecorded):
    """Not accepted; the unit may record its acceptance again later (Art 21)."""

    event_type: ClassVar[str] = "acceptance.failed"
    version: ClassVar[int] = 1
