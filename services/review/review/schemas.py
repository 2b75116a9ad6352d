"""Input and output shapes of review's RPC methods (CONTRACT §review)."""

from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as MarshmallowError

from nxshared.validation import BoundedList, Code, MoneyField, Name, OrgCode, Text
from review.domain import CONCLUSIONS, EXPERT_VERDICTS, ExpertLevel

PANEL_MAX = 50  # experts seated on one review


class ProjectRef(Schema):
    project_id = Code(required=True)


class ReviewRef(Schema):
    review_id = Code(required=True)


class PlanIn(Schema):
    title = Name(required=True)
    document_ref = Code(required=True)
    budget = MoneyField(required=True)

    @validates_schema
    def _positive_budget(self, data, **kwargs):
        if data.get("budget") is not None and data["budget"] <= 0:
            raise MarshmallowError({"budget": ["预算须大于零"]})


class SubmissionIn(ProjectRef):
    plan = fields.Nested(PlanIn, required=True)


class ExpertIn(Schema):
    name = Name(required=True)
    level = fields.String(required=True, validate=validate.OneOf([level.value for level in ExpertLevel]))
    field = Name(required=True)
    employer = OrgCode(required=True)  # Art 12: compared exactly with the applicant, so one spelling only


class PanelIn(ReviewRef):
    expert_ids = BoundedList(Code(required=True), PANEL_MAX, 1, required=True)


class OpinionIn(ReviewRef):
    expert_id = Code(required=True)
    verdict = fields.String(required=True, validate=validate.OneOf(EXPERT_VERDICTS))
    opinion = Text(required=True)


class ConclusionIn(ReviewRef):
    verdict = fields.String(required=True, validate=validate.OneOf(CONCLUSIONS))
    opinion = Text(required=True)


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
