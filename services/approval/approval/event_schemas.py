"""The data schemas of the events approval emits, per version, with the upcasters between versions;
registered in the catalog through the ``nx.events`` entry point (``approval.event_schemas:SPECS``).
A new version only adds fields; its typed event in ``approval.events`` carries the new version number."""

from typing import Any

from marshmallow import Schema, fields

from nxshared.events import EventSpec, money_field

SOURCE = "approval"


class ApprovalAppliedV1(Schema):
    approval_type = fields.String(required=True)
    status = fields.String(required=True)


class ApprovalGrantedV1(Schema):
    approval_no = fields.String(required=True)
    approval_type = fields.String(required=True)
    review_id = fields.String(required=True)
    opinion = fields.String(load_default="")


class ApprovalGrantedV2(ApprovalGrantedV1):
    """v2: the project's planned estimate (Art 12, 18) the grant was decided on; null when unknown."""

    estimated_investment = money_field(load_default=None, allow_none=True)


def _granted_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    data.setdefault("estimated_investment", None)
    return data


class ApprovalRejectedV1(Schema):
    opinion = fields.String(load_default="")


SPECS = [
    EventSpec.of("approval.applied", SOURCE, ApprovalAppliedV1),
    EventSpec.of("approval.granted", SOURCE, ApprovalGrantedV1, ApprovalGrantedV2, upcasters={1: _granted_v1_to_v2}),
    EventSpec.of("approval.rejected", SOURCE, ApprovalRejectedV1),
]
