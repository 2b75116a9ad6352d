"""The events approval emits (CONTRACT §Events, source ``approval``): a data schema per version,
registered in the catalog through the ``nx.events`` entry point, and a typed event per type (the
newest version) that the domain returns."""

from dataclasses import dataclass
from typing import ClassVar

from marshmallow import Schema, fields

from nxshared.core.events import DomainEvent
from nxshared.events import EventSpec

SOURCE = "approval"


class ApprovalAppliedV1(Schema):
    approval_type = fields.String(required=True)
    status = fields.String(required=True)


class ApprovalGrantedV1(Schema):
    approval_no = fields.String(required=True)
    approval_type = fields.String(required=True)
    review_id = fields.String(required=True)
    opinion = fields.String(load_default="")


class ApprovalRejectedV1(Schema):
    opinion = fields.String(load_default="")


SPECS = [
    EventSpec.of("approval.applied", SOURCE, ApprovalAppliedV1),
    EventSpec.of("approval.granted", SOURCE, ApprovalGrantedV1),
    EventSpec.of("approval.rejected", SOURCE, ApprovalRejectedV1),
]


@dataclass(frozen=True, kw_only=True)
class ApprovalApplied(DomainEvent):
    event_type: ClassVar[str] = "approval.applied"
    version: ClassVar[int] = 1
    approval_type: str
    status: str


@dataclass(frozen=True, kw_only=True)
class ApprovalGranted(DomainEvent):
    event_type: ClassVar[str] = "approval.granted"
    version: ClassVar[int] = 1
    approval_no: str
    approval_type: str
    review_id: str
    opinion: str


@dataclass(frozen=True, kw_only=True)
class ApprovalRejected(DomainEvent):
    event_type: ClassVar[str] = "approval.rejected"
    version: ClassVar[int] = 1
    opinion: str
