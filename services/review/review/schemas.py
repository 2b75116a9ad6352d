"""Input and output shapes of review's RPC methods (CONTRACT §review)."""

from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as MarshmallowError

from nxshared.validation import Code, MoneyField
from review.domain import CONCLUSIONS, EXPERT_VERDICTS, ExpertLevel

REQUIRED_TEXT = {"validate": validate.Length(min=1), "required": True}


class ProjectRef(Schema):
    project_id = Code(required=True)


class ReviewRef(Schema):
    review_id = Code(required=True)


class PlanIn(Schema):
    title = fields.String(**REQUIRED_TEXT)
    document_ref = fields.String(**REQUIRED_TEXT)
    budget = MoneyField(required=True)

    @validates_schema
    def _positive_budget(self, data, **kwargs):
        if data.get("budget") is not None and data["budget"] <= 0:
            raise MarshmallowError({"budget": ["预算须大于零"]})


class SubmissionIn(ProjectRef):
    plan = fields.Nested(PlanIn, required=True)


class ExpertIn(Schema):
    name = fields.String(**REQUIRED_TEXT)
    level = fields.String(required=True, validate=validate.OneOf([level.value for level in ExpertLevel]))
    field = fields.String(**REQUIRED_TEXT)
    employer = fields.String(**REQUIRED_TEXT)


class PanelIn(ReviewRef):
    expert_ids = fields.List(fields.String(**REQUIRED_TEXT), required=True, validate=validate.Length(min=1))


class OpinionIn(ReviewRef):
    expert_id = fields.String(**REQUIRED_TEXT)
    verdict = fields.String(required=True, validate=validate.OneOf(EXPERT_VERDICTS))
    opinion = fields.String(**REQUIRED_TEXT)


class ConclusionIn(ReviewRef):
    verdict = fields.String(required=True, validate=validate.OneOf(CONCLUSIONS))
    opinion = fields.String(**REQUIRED_TEXT)


class ExpertOut(Schema):
    expert_id = fields.String()
    name = fields.String()
    level = fields.String()
    field = fields.String()
    employer = fields.String()


class SeatOut(Schema):
    expert_id = fields.String()
    verdict = fields.String(allow_none=True)
    opinion = fields.String(allow_none=True)


class ReviewOut(Schema):
    review_id = fields.String()
    project_id = fields.String()
    route = fields.String()
    status = fields.String()
    budget = MoneyField()
    title = fields.String()
    document_ref = fields.String(allow_none=True)
    experts = fields.List(fields.Nested(SeatOut))
    opinion = fields.String(allow_none=True)
    submitted_by = fields.String()
    submitted_at = fields.DateTime()
    concluded_by = fields.String(allow_none=True)
    concluded_at = fields.DateTime(allow_none=True)
