"""The events approval emits, as its domain returns them: one frozen dataclass per event type, at the
newest version (CONTRACT §Events, source ``approval``). Their data schemas per version are in
``approval.event_schemas``."""

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from nxshared.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ApprovalApplied(DomainEvent):
    event_type: ClassVar[str] = "approval.applied"
    version: ClassVar[int] = 1
    approval_type: str
    status: str


@dataclass(frozen=True, kw_only=True)
class ApprovalGranted(DomainEvent):
    event_type: ClassVar[str] = "approval.granted"
    version: ClassVar[int] = 2
    approval_no: str
    approval_type: str
    review_id: str
    opinion: str
    estimated_investment: Decimal | None  # v2: the project's planned estimate the grant was decided on


@dataclass(frozen=True, kw_only=True)
class ApprovalRejected(DomainEvent):
    event_type: ClassVar[str] = "approval.rejected"
    version: ClassVar[int] = 1
    opinion: str
