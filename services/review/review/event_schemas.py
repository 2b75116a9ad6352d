"""The data schemas of the events review emits, per version, with the upcasters between versions;
registered in the catalog through the ``nx.events`` entry point (``review.event_schemas:SPECS``).
A new version only adds fields; its typed event in ``review.events`` carries the new version number."""

from marshmallow import Schema, fields

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


SPECS = [
    EventSpec.of("review.submitted", SOURCE, ReviewSubmittedV1),
    EventSpec.of("review.passed", SOURCE, ReviewConcludedV1),
    EventSpec.of("review.failed", SOURCE, ReviewConcludedV1),
    EventSpec.of("review.filed", SOURCE, ReviewConcludedV1),
    EventSpec.of("review.panel_assigned", SOURCE, PanelAssignedV1),
    EventSpec.of("review.opinion_recorded", SOURCE, OpinionRecordedV1),
]
