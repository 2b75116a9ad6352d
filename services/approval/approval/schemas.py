"""Input and output shapes of approval's RPC methods (CONTRACT §approval)."""

from marshmallow import Schema, fields, validate

from approval.domain import ApprovalType

REQUIRED_TEXT = {"validate": validate.Length(min=1), "required": True}


class ApplicationIn(Schema):
    project_id = fields.String(**REQUIRED_TEXT)
    approval_type = fields.String(required=True, validate=validate.OneOf([t.value for t in ApprovalType]))


class DecisionIn(Schema):
    project_id = fields.String(**REQUIRED_TEXT)
    opinion = fields.String(**REQUIRED_TEXT)


class ProjectIdIn(Schema):
    project_id = fields.String(**REQUIRED_TEXT)


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
