"""Input and output shapes of audit's RPC methods (CONTRACT §audit). Every input field is bounded; a
refusal is a ValidationError naming the field. Trail entries are returned as stored, never through a
schema: they are the values their hashes were taken of."""

from marshmallow import Schema, fields, validate

from audit.domain import CaseStatus, Severity
from nxshared.validation import Code, Text

LIMIT_MAX = 1000
SEQ_MAX = 2**31 - 1


class TrailIn(Schema):
    project_id = Code(required=True, allow_none=True)  # null: the suite's trail (events naming no project)


class TrailPageIn(TrailIn):
    after_seq = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(0, SEQ_MAX, error="须为 0 到 2147483647 之间的整数"),
        error_messages={"invalid": "须为整数"},
    )
    limit = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(1, LIMIT_MAX, error=f"须为 1 到 {LIMIT_MAX} 之间的整数"),
        error_messages={"invalid": "须为整数"},
    )


class AnomaliesIn(Schema):
    project_id = Code(load_default=None, allow_none=True)


class FindingIn(Schema):
    case_id = Code(required=True)
    severity = fields.String(
        required=True, validate=validate.OneOf([s.value for s in Severity], error="须为 low、medium、high 或 critical")
    )
    description = Text(required=True)


class CloseIn(Schema):
    case_id = Code(required=True)
    conclusion = Text(required=True)


class CasesIn(Schema):
    status = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf([s.value for s in CaseStatus], error="须为 open 或 closed"),
    )


class VerificationOut(Schema):
    ok = fields.Boolean()
    entries = fields.Integer()
    first_bad = fields.Integer(allow_none=True)
    head = fields.String()
    checked_against = fields.Integer()


class CheckpointOut(Schema):
    seq = fields.Integer()
    taken_at = fields.String()
    root = fields.String()
    projects = fields.Integer()
    entries = fields.Integer()


class AnomalyOut(Schema):
    project_id = fields.String()
    rule = fields.String()
    article = fields.String()
    description = fields.String()
    event_ids = fields.List(fields.String())


class FindingOut(Schema):
    finding_id = fields.String()
    severity = fields.String()
    description = fields.String()
    recorded_by = fields.String()
    recorded_at = fields.DateTime()


class CaseOut(Schema):
    case_id = fields.String()
    project_id = fields.String()
    status = fields.String()
    opened_at = fields.DateTime()
    acceptance_event_id = fields.String()
    accepted_on = fields.String(allow_none=True)
    conclusion = fields.String(allow_none=True)
    closed_by = fields.String(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    findings = fields.List(fields.Nested(FindingOut))
