"""The events review emits (CONTRACT §Events, source ``review``): a data schema per version,
registered in the catalog through the ``nx.events`` entry point, and a typed event per type (the
newest version) that the domain returns."""

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from marshmallow import Schema, fields

from nxshared.core.events import DomainEvent
from nxshared.events import EventSpec, money_field

SOURCE = "review"


class ReviewSubmittedV1(Schema):
    review_id = fields.String(required=True)
    route = fields.String(required=True)
    budget = money_field(required=True)


class ReviewConcludedV1(Schema):
    review_id = fields.String(required=True)
    route = fields.String(required=True)
    opinion = fields.String(load_default="")


SPECS = [
    EventSpec.of("review.submitted", SOURCE, ReviewSubmittedV1),
    EventSpec.of("review.passed", SOURCE, ReviewConcludedV1),
    EventSpec.of("review.failed", SOURCE, ReviewConcludedV1),
    EventSpec.of("review.filed", SOURCE, ReviewConcludedV1),
]


@dataclass(frozen=True, kw_only=True)
class ReviewSubmitted(DomainEvent):
    event_type: ClassVar[str] = "review.submitted"
    version: ClassVar[int] = 1
    review_id: str
    route: str
    budget: Decimal


@dataclass(frozen=True, kw_only=True)
class ReviewPassed(DomainEvent):
    event_type: ClassVar[str] = "review.passed"
    version: ClassVar[int] = 1
    review_id: str
    route: str
    opinion: str


@dataclass(frozen=True, kw_only=True)
class ReviewFailed(DomainEvent):
    event_type: ClassVar[str] = "review.failed"
    version: ClassVar[int] = 1
    review_id: str
    route: str
    opinion: str


@dataclass(frozen=True, kw_only=True)
class ReviewFiled(DomainEvent):
    event_type: ClassVar[str] = "review.filed"
    version: ClassVar[int] = 1
    review_id: str
    route: str
    opinion: str


CONCLUSION_EVENTS = {"passed": ReviewPassed, "failed": ReviewFailed, "filed": ReviewFiled}
