"""Input and output shapes of security's RPC methods (CONTRACT §security). Every input field is
bounded; a refusal is a ValidationError naming the field (``level``, ``incident.severity``…)."""

import datetime as dt

from marshmallow import Schema, fields, validate

from nxshared.validation import Code, Name, Text
from security.domain import MLPS_LEVELS, Severity

EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class StrictBoolean(fields.Boolean):
    """A JSON ``true`` or ``false``, nothing that merely looks like one (``1``, ``"yes"``)."""

    default_error_messages = {"invalid": "须为 true 或 false"}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class ProjectIdIn(Schema):
    project_id = Code(required=True)


class GradeIn(ProjectIdIn):
    level = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min(MLPS_LEVELS), max(MLPS_LEVELS), error="须为 1 到 5 之间的整数"),
        error_messages={"invalid": "须为 1 到 5 之间的整数"},
    )
    basis = Text(required=True)


class FilingIn(ProjectIdIn):
    filing_no = Code(required=True)
    evaluation_agency = Name(required=True)


class InspectionIn(ProjectIdIn):
    findings = Text(load_default="")
    passed = StrictBoolean(required=True)


class IncidentFields(Schema):
    project_id = Code(required=True)
    severity = fields.String(required=True, validate=validate.OneOf([s.value for s in Severity]))
    description = Text(required=True)
    occurred_at = fields.AwareDateTime(
        required=True,
        format="iso",
        validate=validate.Range(min=EARLIEST, error="不能早于 2000 年"),
        error_messages={
            "invalid": "须为 ISO 8601 日期时间，如 2026-12-15T10:00:00+08:00",
            "invalid_awareness": "须带时区，如 2026-12-15T10:00:00+08:00",
        },
    )


class IncidentIn(Schema):
    incident = fields.Nested(IncidentFields, required=True)


class ResolveIn(Schema):
    incident_id = Code(required=True)
    response = Text(required=True)


class MlpsOut(Schema):
    status = fields.String(attribute="mlps_status")
    level = fields.Integer(attribute="mlps_level", allow_none=True)
    basis = fields.String(attribute="mlps_basis", allow_none=True)
    graded_by = fields.String(allow_none=True)
    graded_at = fields.DateTime(allow_none=True)
    filing_no = fields.String(allow_none=True)
    evaluation_agency = fields.String(allow_none=True)
    filed_by = fields.String(allow_none=True)
    filed_at = fields.DateTime(allow_none=True)


class GradingOut(MlpsOut):
    project_id = fields.String()


class InspectionOut(Schema):
    inspection_id = fields.String()
    project_id = fields.String()
    passed = fields.Boolean()
    findings = fields.String()
    by = fields.String(attribute="inspected_by")
    at = fields.DateTime(attribute="inspected_at")


class IncidentOut(Schema):
    incident_id = fields.String()
    project_id = fields.String()
    severity = fields.String()
    description = fields.String()
    occurred_at = fields.DateTime()
    deadline = fields.DateTime()
    status = fields.String()
    reported_by = fields.String()
    reported_at = fields.DateTime()
    response = fields.String(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)


class OverdueOut(Schema):
    kind = fields.String()
    project_id = fields.String()
    since = fields.DateTime()
    incident_id = fields.String(allow_none=True)
    severity = fields.String(allow_none=True)


class PostureOut(Schema):
    project_id = fields.String()
    name = fields.String(allow_none=True)
    hosted_on_big_data_center = fields.Boolean()
    mlps = fields.Nested(MlpsOut)
    last_inspection = fields.Nested(InspectionOut, allow_none=True)
    open_incidents = fields.List(fields.Nested(IncidentOut))
    overdue = fields.List(fields.Nested(OverdueOut))


class OverdueListOut(Schema):
    checked_at = fields.DateTime(allow_none=True)
    overdue = fields.List(fields.Nested(OverdueOut))
