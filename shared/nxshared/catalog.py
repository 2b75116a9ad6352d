"""Every event type of CONTRACT §Events, its owning source, and its data schema per version.

Fields here are what consumers may rely on. A schema marked open keeps whatever the source sends
until the service that owns it pins its fields down (as a new version).
"""

from marshmallow import INCLUDE, Schema, fields, validate

from nxshared.events import EventSpec, Registry

MONEY = validate.Regexp(r"^\d+(\.\d{1,2})?$")


class Open(Schema):
    class Meta:
        unknown = INCLUDE


def _money(**kw):
    return fields.String(validate=MONEY, **kw)


class ProjectDeclared(Schema):
    name = fields.String(required=True)
    unit = fields.String(required=True)
    category = fields.String(required=True)
    construction_mode = fields.String(required=True)
    plan_year = fields.Integer(required=True)
    plan_type = fields.String(required=True)
    estimated_investment = _money(required=True)
    classified = fields.Boolean(required=True)


class ProjectPlannedV1(Schema):
    unit = fields.String(required=True)
    construction_mode = fields.String(required=True)
    plan_year = fields.Integer(required=True)
    estimated_investment = _money(required=True)
    requires_construction_plan = fields.Boolean(required=True)
    classified = fields.Boolean(required=True)


class ProjectPlannedV2(ProjectPlannedV1):
    """v2 adds which plan the project entered and what review and acceptance need to know."""

    plan_type = fields.String(required=True)
    name = fields.String(load_default="")
    custom_software = fields.Boolean(load_default=False)
    hosted_on_big_data_center = fields.Boolean(load_default=False)


def _planned_v1_to_v2(data):
    data.setdefault("plan_type", "annual")
    return data


class ProjectNotPlanned(Schema):
    plan_year = fields.Integer(required=True)
    reason = fields.String(load_default="")


class ChangeDecided(Schema):
    change_id = fields.String(required=True)
    opinion = fields.String(load_default="")


class UnauthorizedChangeReported(Schema):
    report_id = fields.String(required=True)
    description = fields.String(required=True)


class UnauthorizedChangeResolved(Schema):
    report_ids = fields.List(fields.String(), required=True)
    opinion = fields.String(load_default="")


class ReviewSubmitted(Schema):
    review_id = fields.String(required=True)
    route = fields.String(required=True)
    budget = _money(required=True)


class ReviewConcluded(Schema):
    review_id = fields.String(required=True)
    route = fields.String(required=True)
    opinion = fields.String(load_default="")


class ApprovalApplied(Schema):
    approval_type = fields.String(required=True)
    status = fields.String(required=True)


class ApprovalGranted(Schema):
    approval_no = fields.String(required=True)
    approval_type = fields.String(required=True)
    review_id = fields.String(required=True)
    opinion = fields.String(load_default="")


class ApprovalRejected(Schema):
    opinion = fields.String(load_default="")


class IpExceptionReported(Schema):
    contract_no = fields.String(required=True)
    vendor = fields.String(required=True)
    source_code_owner = fields.String(required=True)
    unit = fields.String(load_default=None, allow_none=True)


def _spec(event_type, source, *schemas, upcasters=None):
    return EventSpec(event_type, source, dict(enumerate(schemas, start=1)), upcasters)


def _open(source, *event_types):
    return [_spec(t, source, Open) for t in event_types]


REGISTRY = Registry(
    [
        _spec("project.declared", "planning", ProjectDeclared),
        _spec("project.planned", "planning", ProjectPlannedV1, ProjectPlannedV2, upcasters={1: _planned_v1_to_v2}),
        _spec("project.not_planned", "planning", ProjectNotPlanned),
        _spec("change.approved", "planning", ChangeDecided),
        _spec("change.rejected", "planning", ChangeDecided),
        _spec("change.unauthorized_reported", "planning", UnauthorizedChangeReported),
        _spec("change.unauthorized_resolved", "planning", UnauthorizedChangeResolved),
        _spec("review.submitted", "review", ReviewSubmitted),
        _spec("review.passed", "review", ReviewConcluded),
        _spec("review.failed", "review", ReviewConcluded),
        _spec("review.filed", "review", ReviewConcluded),
        *_open(
            "review", "supervisor.registered", "test_report.submitted", "acceptance.prechecked", "acceptance.passed"
        ),
        _spec("approval.applied", "approval", ApprovalApplied),
        _spec("approval.granted", "approval", ApprovalGranted),
        _spec("approval.rejected", "approval", ApprovalRejected),
        *_open("finance", "budget.approved", "budget.rejected", "procurement.registered", "contract.registered"),
        _spec("contract.ip_exception_reported", "finance", IpExceptionReported),
        *_open("finance", "funds.disbursed"),
        *_open(
            "security", "mlps.graded", "mlps.filed", "incident.reported", "incident.resolved", "inspection.recorded"
        ),
        *_open("audit", "audit.opened", "audit.closed"),
    ]
)
