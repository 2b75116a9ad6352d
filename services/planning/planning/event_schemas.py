"""The data schemas of the events planning emits, per version, with the upcasters between versions;
registered in the catalog through the ``nx.events`` entry point (``planning.event_schemas:SPECS``).
A new version only adds fields; its typed event in ``planning.events`` carries the new version number."""

from typing import Any

from marshmallow import Schema, fields

from nxshared import reminders
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


class ProjectDeclaredV2(ProjectDeclaredV1):
    """v2 adds the summary: what review compares a construction plan with (Art 12 duplicates)."""

    summary = fields.String(load_default="")


def _declared_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    data.setdefault("summary", "")
    return data


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


class ChangeDecidedV2(ChangeDecidedV1):
    """v2: an approved change that alters the project's estimate carries the new one (Art 18);
    null when the change leaves it as it was."""

    estimated_investment = money_field(load_default=None, allow_none=True)


def _change_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    data.setdefault("estimated_investment", None)
    return data


class UnauthorizedChangeReportedV1(Schema):
    report_id = fields.String(required=True)
    description = fields.String(required=True)


class UnauthorizedChangeResolvedV1(Schema):
    report_ids = fields.List(fields.String(), required=True)
    opinion = fields.String(load_default="")


class PlanCompiledV1(Schema):
    year = fields.Integer(required=True)
    project_ids = fields.List(fields.String(), required=True)
    total_investment = money_field(required=True)


class PlanConcurredV1(Schema):
    year = fields.Integer(required=True)
    org = fields.String(required=True)
    concurred_by = fields.List(fields.String(), required=True)


class PlanApprovedV1(Schema):
    year = fields.Integer(required=True)
    project_ids = fields.List(fields.String(), required=True)


class RiskOverriddenV1(Schema):
    rating = fields.Integer(required=True)
    comment = fields.String(required=True)
    computed_rating = fields.Integer(required=True)


SPECS = [
    EventSpec.of("project.declared", SOURCE, ProjectDeclaredV1, ProjectDeclaredV2, upcasters={1: _declared_v1_to_v2}),
    EventSpec.of("project.planned", SOURCE, ProjectPlannedV1, ProjectPlannedV2, upcasters={1: _planned_v1_to_v2}),
    EventSpec.of("project.not_planned", SOURCE, ProjectNotPlannedV1),
    EventSpec.of("change.approved", SOURCE, ChangeDecidedV1, ChangeDecidedV2, upcasters={1: _change_v1_to_v2}),
    EventSpec.of("change.rejected", SOURCE, ChangeDecidedV1, ChangeDecidedV2, upcasters={1: _change_v1_to_v2}),
    EventSpec.of("change.unauthorized_reported", SOURCE, UnauthorizedChangeReportedV1),
    EventSpec.of("change.unauthorized_resolved", SOURCE, UnauthorizedChangeResolvedV1),
    EventSpec.of("plan.compiled", SOURCE, PlanCompiledV1),
    EventSpec.of("plan.concurred", SOURCE, PlanConcurredV1),
    EventSpec.of("plan.approved", SOURCE, PlanApprovedV1),
    reminders.SPEC,  # Art 8: the declaration window opening or closing (the suite's shared reminder.due)
    EventSpec.of("risk.overridden", SOURCE, RiskOverriddenV1),
]
