"""The events planning emits (CONTRACT §Events, source ``planning``): a data schema per version,
registered in the catalog through the ``nx.events`` entry point, and a typed event per type (the
newest version) that the domain returns."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from marshmallow import Schema, fields

from nxshared.core.events import DomainEvent
from nxshared.events import EventSpec, money_field

SOURCE = "planning"


class ProjectDeclaredV1(Schema):
    name = fields.String(required=True)
    unit = fields.String(required=True)
    category = fields.String(required=True)
    construction_mode = fields.String(required=True)
    plan_year = fields.Integer(required=True)
    plan_type = fields.String(required=True)
    estimated_investment = money_field(required=True)
    classified = fields.Boolean(required=True)


class ProjectPlannedV1(Schema):
    unit = fields.String(required=True)
    construction_mode = fields.String(required=True)
    plan_year = fields.Integer(required=True)
    estimated_investment = money_field(required=True)
    requires_construction_plan = fields.Boolean(required=True)
    classified = fields.Boolean(required=True)


class ProjectPlannedV2(ProjectPlannedV1):
    """v2 adds which plan the project entered and what review and acceptance need to know."""

    plan_type = fields.String(required=True)
    name = fields.String(load_default="")
    custom_software = fields.Boolean(load_default=False)
    hosted_on_big_data_center = fields.Boolean(load_default=False)


def _planned_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    data.setdefault("plan_type", "annual")
    return data


class ProjectNotPlannedV1(Schema):
    plan_year = fields.Integer(required=True)
    reason = fields.String(load_default="")


class ChangeDecidedV1(Schema):
    change_id = fields.String(required=True)
    opinion = fields.String(load_default="")


class UnauthorizedChangeReportedV1(Schema):
    report_id = fields.String(required=True)
    description = fields.String(required=True)


class UnauthorizedChangeResolvedV1(Schema):
    report_ids = fields.List(fields.String(), required=True)
    opinion = fields.String(load_default="")


SPECS = [
    EventSpec.of("project.declared", SOURCE, ProjectDeclaredV1),
    EventSpec.of("project.planned", SOURCE, ProjectPlannedV1, ProjectPlannedV2, upcasters={1: _planned_v1_to_v2}),
    EventSpec.of("project.not_planned", SOURCE, ProjectNotPlannedV1),
    EventSpec.of("change.approved", SOURCE, ChangeDecidedV1),
    EventSpec.of("change.rejected", SOURCE, ChangeDecidedV1),
    EventSpec.of("change.unauthorized_reported", SOURCE, UnauthorizedChangeReportedV1),
    EventSpec.of("change.unauthorized_resolved", SOURCE, UnauthorizedChangeResolvedV1),
]


@dataclass(frozen=True, kw_only=True)
class ProjectDeclared(DomainEvent):
    event_type: ClassVar[str] = "project.declared"
    version: ClassVar[int] = 1
    name: str
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
class ChangeApproved(DomainEvent):
    event_type: ClassVar[str] = "change.approved"
    version: ClassVar[int] = 1
    change_id: str
    opinion: str


@dataclass(frozen=True, kw_only=True)
class ChangeRejected(DomainEvent):
    event_type: ClassVar[str] = "change.rejected"
    version: ClassVar[int] = 1
    change_id: str
    opinion: str


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
