"""The data schemas of the events review emits, per version, with the upcasters between versions;
registered in the catalog through the ``nx.events`` entry point (``review.event_schemas:SPECS``).
A new version only adds fields; its typed event in ``review.events`` carries the new version number."""

from marshmallow import Schema, fields

from nxshared import reminders
from nxshared.events import EventSpec, money_field

SOURCE = "review"


class ReviewSubmittedV1(Schema):
    review_id = fields.String(required=True)
    route = fields.String(required=True)
    budget = money_field(required=True)


class ReviewConcludedV1(Schema):
    review_id = fields.String(required=True)
    route = fields.String(required=True)
    opinion = fields.String(load_default="")


class PanelAssignedV1(Schema):
    review_id = fields.String(required=True)
    route = fields.String(required=True)
    expert_ids = fields.List(fields.String(), required=True)


class OpinionRecordedV1(Schema):
    review_id = fields.String(required=True)
    expert_id = fields.String(required=True)
    verdict = fields.String(required=True)


class DuplicatesAcknowledgedV1(Schema):
    review_id = fields.String(required=True)
    project_ids = fields.List(fields.String(), required=True)
    comment = fields.String(load_default="")


class SupervisorRegisteredV1(Schema):
    company = fields.String(required=True)
    qualification_no = fields.String(required=True)
    lead_name = fields.String(required=True)
    lead_certificate_no = fields.String(required=True)


class TestReportSubmittedV1(Schema):
    __test__ = False  # an event schema, not a pytest class
    report_id = fields.String(required=True)
    kind = fields.String(required=True)
    agency = fields.String(required=True)
    report_no = fields.String(required=True)
    passed = fields.Boolean(required=True)


class PrecheckRequestedV1(Schema):
    precheck_id = fields.String(required=True)


class PrecheckedV1(Schema):
    precheck_id = fields.String(required=True)
    verdict = fields.String(required=True)
    passed = fields.Boolean(required=True)
    opinion = fields.String(load_default="")


class AcceptanceRecordedV1(Schema):
    """``acceptance.passed`` / ``acceptance.failed``. Review always sends every field; a consumer
    needs only the acceptance ``date`` (security reads the envelope and the date, as CONTRACT
    §Events describes the event), so the ids and the minutes are optional to read."""

    date = fields.String(required=True)
    acceptance_id = fields.String(load_default=None, allow_none=True)
    precheck_id = fields.String(load_default=None, allow_none=True)
    minutes = fields.String(load_default="")


SPECS = [
    EventSpec.of("review.submitted", SOURCE, ReviewSubmittedV1),
    EventSpec.of("review.passed", SOURCE, ReviewConcludedV1),
    EventSpec.of("review.failed", SOURCE, ReviewConcludedV1),
    EventSpec.of("review.filed", SOURCE, ReviewConcludedV1),
    EventSpec.of("review.panel_assigned", SOURCE, PanelAssignedV1),
    EventSpec.of("review.opinion_recorded", SOURCE, OpinionRecordedV1),
    EventSpec.of("review.duplicates_acknowledged", SOURCE, DuplicatesAcknowledgedV1),
    EventSpec.of("supervisor.registered", SOURCE, SupervisorRegisteredV1),
    EventSpec.of("test_report.submitted", SOURCE, TestReportSubmittedV1),
    EventSpec.of("acceptance.precheck_requested", SOURCE, PrecheckRequestedV1),
    EventSpec.of("acceptance.prechecked", SOURCE, PrecheckedV1),
    EventSpec.of("acceptance.passed", SOURCE, AcceptanceRecordedV1),
    EventSpec.of("acceptance.failed", SOURCE, AcceptanceRecordedV1),
    reminders.SPEC,  # Art 12: reviews waiting past their expected time (the suite's shared reminder.due)
]
