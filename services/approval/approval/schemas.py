"""Input and output shapes of approval's RPC methods (CONTRACT §approval). Every field is bounded as
its column is (``nxshared.validation``)."""

from marshmallow import Schema, fields, validate

from approval.domain import ApprovalType
from nxshared.validation import Code, MoneyField, Text


class ApplicationIn(Schema):
    project_id = Code(required=True)
    approval_type = fields.String(required=True, validate=validate.OneOf([t.value for t in ApprovalType]))


class DecisionIn(Schema):
    project_id = Code(required=True)
    opinion = Text(required=True)


class ProjectIdIn(Schema):
    project_id = Code(required=True)


class ApprovalOut(Schema):
    application_id = fields.String()
    project_id = fields.String()
    approval_type = fields.String()
    status = fields.String()
    review_id = fields.String(allow_none=True)
    approval_no = fields.String(allow_none=True)
    applied_by = fields.String()
    applied_at = fields.DateTime()
    opinion = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    estimated_investment = MoneyField(allow_none=True)
