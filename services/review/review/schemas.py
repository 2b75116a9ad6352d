"""Input and output shapes of review's RPC methods (CONTRACT §review)."""

import datetime as dt

from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as MarshmallowError

from nxshared.validation import YEAR_MAX, YEAR_MIN, BoundedList, Code, MoneyField, Name, OrgCode, Text
from review.domain import CONCLUSIONS, EXPERT_VERDICTS, PRECHECK_VERDICTS, ExpertLevel, ReportKind

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


class AcknowledgementIn(ProjectRef):
    comment = Text(required=True)


# --- delivery and acceptance (Art 18–21, 24) -------------------------------------------------------

EARLIEST_DAY, LATEST_DAY = dt.date(YEAR_MIN, 1, 1), dt.date(YEAR_MAX, 12, 31)


class StrictBoolean(fields.Boolean):
    """A JSON ``true`` or ``false``, nothing that merely looks like one (``1``, ``"yes"``)."""

    default_error_messages = {"invalid": "须为 true 或 false"}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class SupervisorFields(Schema):
    """Art 19: the company and its IS-engineering supervision qualification, the lead supervisor and
    the lead's certificate: all four required."""

    company = Name(required=True)
    qualification_no = Code(required=True)
    lead_name = Name(required=True)
    lead_certificate_no = Code(required=True)


class SupervisorIn(ProjectRef):
    supervisor = fields.Nested(SupervisorFields, required=True)


class TestReportFields(Schema):
    __test__ = False  # an input shape, not a pytest class
    kind = fields.String(required=True, validate=validate.OneOf([kind.value for kind in ReportKind]))
    agency = Name(required=True)
    report_no = Code(required=True)
    passed = StrictBoolean(required=True)


class TestReportIn(ProjectRef):
    __test__ = False
    report = fields.Nested(TestReportFields, required=True)


class PrecheckConclusionIn(ProjectRef):
    verdict = fields.String(required=True, validate=validate.OneOf(PRECHECK_VERDICTS))
    opinion = Text(required=True)


class AcceptanceFields(Schema):
    date = fields.Date(
        required=True,
        validate=validate.Range(EARLIEST_DAY, LATEST_DAY, error=f"须在 {YEAR_MIN} 至 {YEAR_MAX} 年之间"),
        error_messages={"invalid": "须为 ISO 日期，如 2027-06-30"},
    )
    passed = StrictBoolean(required=True)
    minutes = Text(required=True)


class AcceptanceIn(ProjectRef):
    acceptance = fields.Nested(AcceptanceFields, required=True)


class SupervisorOut(Schema):
    project_id = fields.String()
    company = fields.String()
    qualification_no = fields.String()
    lead_name = fields.String()
    lead_certificate_no = fields.String()
    registered_by = fields.String()
    registered_at = fields.DateTime()


class TestReportOut(Schema):
    __test__ = False
    report_id = fields.String()
    project_id = fields.String()
    kind = fields.String()
    agency = fields.String()
    report_no = fields.String()
    passed = fields.Boolean()
    submitted_by = fields.String()
    submitted_at = fields.DateTime()


class PrecheckOut(Schema):
    precheck_id = fields.String()
    project_id = fields.String()
    requested_by = fields.String()
    requested_at = fields.DateTime()
    verdict = fields.String(allow_none=True)
    opinion = fields.String(allow_none=True)
    concluded_by = fields.String(allow_none=True)
    concluded_at = fields.DateTime(allow_none=True)


class AcceptanceOut(Schema):
    acceptance_id = fields.String()
    project_id = fields.String()
    precheck_id = fields.String()
    date = fields.Date()
    passed = fields.Boolean()
    minutes = fields.String()
    recorded_by = fields.String()
    recorded_at = fields.DateTime()


class UnmetOut(Schema):
    code = fields.String()
    message = fields.String()


class ReadinessOut(Schema):
    project_id = fields.String()
    ready = fields.Boolean()
    unmet = fields.List(fields.Nested(UnmetOut))


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


class DuplicateOut(Schema):
    project_id = fields.String()
    name = fields.String()
    unit = fields.String()
    status = fields.String()
    score = fields.String()  # "0.873": TF-IDF cosine of the names and summaries (Art 12)


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
    duplicates = fields.List(fields.Nested(DuplicateOut))
    duplicates_acknowledged_by = fields.String(allow_none=True)
    duplicates_acknowledged_at = fields.DateTime(allow_none=True)
    duplicates_comment = fields.String(allow_none=True)
