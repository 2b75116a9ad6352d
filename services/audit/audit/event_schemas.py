"""The data schemas of the events audit emits, per version; registered in the catalog through the
``nx.events`` entry point (``audit.event_schemas:SPECS``). A new version only adds fields."""

from marshmallow import Schema, fields

from nxshared import reminders
from nxshared.events import EventSpec

SOURCE = "audit"


class AuditOpenedV1(Schema):
    case_id = fields.String(required=True)
    acceptance_event_id = fields.String(required=True)
    accepted_on = fields.String(load_default=None, allow_none=True)


class AuditClosedV1(Schema):
    case_id = fields.String(required=True)
    conclusion = fields.String(required=True)
    findings = fields.Integer(required=True, strict=True)
    worst_severity = fields.String(load_default=None, allow_none=True)


SPECS = [
    EventSpec.of("audit.opened", SOURCE, AuditOpenedV1),
    EventSpec.of("audit.closed", SOURCE, AuditClosedV1),
    reminders.SPEC,  # Art 26: cases open too long (the suite's shared reminder.due)
]
