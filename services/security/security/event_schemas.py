"""The data schemas of the events security emits, per version, with the upcasters between versions;
registered in the catalog through the ``nx.events`` entry point (``security.event_schemas:SPECS``).
A new version only adds fields; its typed event in ``security.events`` carries the new version number."""

from marshmallow import Schema, fields

from nxshared import reminders
from nxshared.events import EventSpec

SOURCE = "security"


class MlpsGradedV1(Schema):
    level = fields.Integer(required=True, strict=True)
    basis = fields.String(required=True)
    previous_level = fields.Integer(load_default=None, allow_none=True, strict=True)


class MlpsFiledV1(Schema):
    level = fields.Integer(required=True, strict=True)
    filing_no = fields.String(required=True)
    evaluation_agency = fields.String(required=True)


class InspectionRecordedV1(Schema):
    inspection_id = fields.String(required=True)
    passed = fields.Boolean(required=True)
    findings = fields.String(load_default="")


class IncidentReportedV1(Schema):
    incident_id = fields.String(required=True)
    severity = fields.String(required=True)
    description = fields.String(required=True)
    occurred_at = fields.String(required=True)
    deadline = fields.String(required=True)


class IncidentResolvedV1(Schema):
    incident_id = fields.String(required=True)
    severity = fields.String(required=True)
    response = fields.String(required=True)
    deadline = fields.String(required=True)
    late = fields.Boolean(required=True)


SPECS = [
    EventSpec.of("mlps.graded", SOURCE, MlpsGradedV1),
    EventSpec.of("mlps.filed", SOURCE, MlpsFiledV1),
    EventSpec.of("inspection.recorded", SOURCE, InspectionRecordedV1),
    EventSpec.of("incident.reported", SOURCE, IncidentReportedV1),
    EventSpec.of("incident.resolved", SOURCE, IncidentResolvedV1),
    reminders.SPEC,  # Art 23, 24: filings and inspections due (the suite's shared reminder.due)
]
