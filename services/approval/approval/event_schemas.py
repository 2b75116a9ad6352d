"""The data schemas of the events approval emits, per version, with the upcasters between versions;
registered in the catalog through the ``nx.events`` entry point (``approval.event_schemas:SPECS``).
A new version only adds fields; its typed event in ``approval.events`` carries the new version number."""

from marshmallow import Schema, fields

from nxshared.events import EventSpec

SOURCE = "approval"


class ApprovalAppliedV1(Schema):
    approval_type = fields.String(required=True)
    status = fields.String(required=True)


class ApprovalGrantedV1(Schema):
    approval_no = fields.String(required=True)
    approval_type = fields.String(required=True)
    review_id = fields.String(required=True)
    opinion = fields.String(load_default="")


class ApprovalRejectedV1(Schema):
    opinion = fields.String(load_default="")


SPECS = [
    EventSpec.of("approval.applied", SOURCE, ApprovalAppliedV1),
    EventSpec.of("approval.granted", SOURCE, ApprovalGrantedV1),
    EventSpec.of("approval.rejected", SOURCE, ApprovalRejectedV1),
]
