"""The events planning emits, as its domain returns them: one frozen dataclass per event type, at the
newest version (CONTRACT §Events, source ``planning``). Their data schemas per version are in
``planning.event_schemas``."""

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from nxshared.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ProjectDeclared(DomainEvent):
    event_type: ClassVar[str] = "project.declared"
    version: ClassVar[int] = 2
    name: str
    summary: str
    unit: str
    category: str
    construction_mode: str
    plan_year: int
    plan_type: str
    estimated_investment: Decimal
    classified: bool


@dataclass(frozen=True, kw_only=True)
class ProjectPlanned(DomainEvent):
    event_type: ClassVar[str] = "project.planned"
    version: ClassVar[int] = 2
    name: str
    unit: str
    construction_mode: str
    plan_year: int
    plan_type: str
    estimated_investment: Decimal
    requires_construction_plan: bool
    classified: bool
    custom_software: bool
    hosted_on_big_data_center: bool


@dataclass(frozen=True, kw_only=True)
class ProjectNotPlanned(DomainEvent):
    event_type: ClassVar[str] = "project.not_planned"
    version: ClassVar[int] = 1
    plan_year: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class ChangeDecided(DomainEvent):
    """The data of either decision on a change (one schema, ``ChangeDecidedV2``): an approved change
    that alters the estimate carries the new one (Art 18)."""

    change_id: str
    opinion: str
    estimated_investment: Decimal | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeApproved(ChangeDecided):
    event_type: ClassVar[str] = "change.approved"
    version: ClassVar[int] = 2


@dataclass(frozen=True, kw_only=True)
class ChangeRejected(ChangeDecided):
    event_type: ClassVar[str] = "change.rejected"
    version: ClassVar[int] = 2


@dataclass(frozen=True, kw_only=True)
class UnauthorizedChangeReported(DomainEvent):
    event_type: ClassVar[str] = "change.unauthorized_reported"
    version: ClassVar[int] = 1
    report_id: str
    description: str


@dataclass(frozen=True, kw_only=True)
class UnauthorizedChangeResolved(DomainEvent):
    event_type: ClassVar[str] = "change.unauthorized_resolved"
    version: ClassVar[int] = 1
    report_ids: list[str]
    opinion: str


@dataclass(frozen=True, kw_only=True)
class PlanCompiled(DomainEvent):
    """Art 9, 27: the smart office compiled (or recompiled) a year's annual plan; about no single
    project (``project_id`` None)."""

    event_type: ClassVar[str] = "plan.compiled"
    version: ClassVar[int] = 1
    year: int
    project_ids: list[str]
    total_investment: Decimal


@dataclass(frozen=True, kw_only=True)
class PlanConcurred(DomainEvent):
    """Art 9, 27: finance or DRC concurred with the compiled plan; ``concurred_by``: every org that
    has concurred so far."""

    event_type: ClassVar[str] = "plan.concurred"
    version: ClassVar[int] = 1
    year: int
    org: str
    concurred_by: list[str]


@dataclass(frozen=True, kw_only=True)
class PlanApproved(DomainEvent):
    """Art 9, 27: the county government approved the plan; its projects are planned."""

    event_type: ClassVar[str] = "plan.approved"
    version: ClassVar[int] = 1
    year: int
    project_ids: list[str]


@dataclass(frozen=True, kw_only=True)
class RiskOverridden(DomainEvent):
    """The smart office rated a project's risk (1 low – 5 high) in place of the computed rating,
    with its comment (issue 24)."""

    event_type: ClassVar[str] = "risk.overridden"
    version: ClassVar[int] = 1
    rating: int
    comment: str
    computed_rating: int
