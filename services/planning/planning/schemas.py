"""Input and output shapes of planning's RPC methods and public pages (CONTRACT §planning)."""

from marshmallow import EXCLUDE, Schema, fields, validate, validates_schema
from marshmallow import ValidationError as MarshmallowError

from nxshared.core.caller import UNIT_ORG
from nxshared.validation import MoneyField
from planning.domain.declaration import EXEMPTIONS, INFRASTRUCTURE

CATEGORIES = (
    "infrastructure",
    "smart_city",
    "e_government",
    "cybersecurity",
    "software_development",
    "operations",
    "consulting",
    "other",
)
INVESTMENT_MODES = ("government", "joint", "purchased_service", "maintenance_obligation", "enterprise")
REQUIRED_TEXT = {"validate": validate.Length(min=1), "required": True}


class AnnualInvestment(Schema):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(2000, 2100))
    amount = MoneyField(required=True)


class ProjectDeclaration(Schema):
    name = fields.String(**REQUIRED_TEXT)
    unit = fields.String(required=True, validate=validate.Regexp(UNIT_ORG, error="须为 unit:<代码>"))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    construction_mode = fields.String(required=True, validate=validate.OneOf(("unified", "self_built")))
    investment_mode = fields.String(required=True, validate=validate.OneOf(INVESTMENT_MODES))
    plan_year = fields.Integer(required=True, strict=True, validate=validate.Range(2000, 2100))
    plan_type = fields.String(required=True, validate=validate.OneOf(("annual", "supplementary")))
    higher_level_requirement = fields.String(load_default=None, allow_none=True)
    basis = fields.String(**REQUIRED_TEXT)
    summary = fields.String(**REQUIRED_TEXT)
    estimated_investment = MoneyField(required=True)
    funding_source = fields.String(**REQUIRED_TEXT)
    annual_investments = fields.List(fields.Nested(AnnualInvestment), required=True, validate=validate.Length(min=1))
    classified = fields.Boolean(load_default=False)
    hosted_on_big_data_center = fields.Boolean(load_default=True)
    standalone_infrastructure = fields.List(fields.String(validate=validate.OneOf(INFRASTRUCTURE)), load_default=list)
    infrastructure_exemption = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(EXEMPTIONS))
    exemption_basis = fields.String(load_default=None, allow_none=True)
    requires_construction_plan = fields.Boolean(load_default=True)
    custom_software = fields.Boolean(load_default=False)

    @validates_schema
    def _positive_estimate(self, data, **kwargs):
        if data.get("estimated_investment") is not None and data["estimated_investment"] <= 0:
            raise MarshmallowError({"estimated_investment": ["投资概算须大于零"]})


def annual_investments_as_json(items):
    return [{"year": item["year"], "amount": str(item["amount"])} for item in items]


class ProjectOut(Schema):
    project_id = fields.String()
    name = fields.String()
    unit = fields.String()
    category = fields.String()
    construction_mode = fields.String()
    investment_mode = fields.String()
    plan_year = fields.Integer()
    plan_type = fields.String()
    higher_level_requirement = fields.String(allow_none=True)
    basis = fields.String()
    summary = fields.String()
    estimated_investment = MoneyField()
    funding_source = fields.String()
    annual_investments = fields.List(fields.Dict())
    classified = fields.Boolean()
    hosted_on_big_data_center = fields.Boolean()
    standalone_infrastructure = fields.List(fields.String())
    infrastructure_exemption = fields.String(allow_none=True)
    exemption_basis = fields.String(allow_none=True)
    requires_construction_plan = fields.Boolean()
    custom_software = fields.Boolean()
    status = fields.String()
    supplementary_status = fields.String(allow_none=True)
    declared_by = fields.String()
    declared_at = fields.DateTime()


class PlanOut(Schema):
    year = fields.Integer()
    project_ids = fields.List(fields.String())
    total_investment = MoneyField()
    status = fields.String()
    concurred_by = fields.List(fields.String())


class ListQuery(Schema):
    year = fields.Integer(load_default=None, allow_none=True, strict=True)
    status = fields.String(load_default=None, allow_none=True)
    unit = fields.String(load_default=None, allow_none=True)
    page = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=50, strict=True, validate=validate.Range(1, 500))


class PlanIn(Schema):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(2000, 2100))
    project_ids = fields.List(fields.String(), required=True, validate=validate.Length(min=1))


class Decision(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(("approve", "reject")))
    opinion = fields.String(load_default="")


class ChangeIn(Schema):
    description = fields.String(**REQUIRED_TEXT)
    reason = fields.String(load_default="")


class ChangeOut(Schema):
    change_id = fields.String()
    project_id = fields.String()
    description = fields.String()
    reason = fields.String()
    requested_by = fields.String()
    status = fields.String()
    opinion = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True)


class TextIn(Schema):
    text = fields.String(**REQUIRED_TEXT)


class TimelineEntryOut(Schema):
    event_id = fields.String()
    event_type = fields.String()
    source = fields.String()
    occurred_at = fields.String()
    actor = fields.String(allow_none=True)
    data = fields.Dict()


class IpExceptionOut(Schema):
    contract_no = fields.String()
    project_id = fields.String()
    vendor = fields.String()
    source_code_owner = fields.String()
    unit = fields.String(allow_none=True)
    reported_at = fields.String()


class IpExceptionReported(Schema):
    """What planning reads of finance's ``contract.ip_exception_reported`` (Art 17); other fields
    are ignored, a missing one makes the event fail and be retried, then parked."""

    class Meta:
        unknown = EXCLUDE

    contract_no = fields.String(required=True, validate=validate.Length(min=1, max=64))
    vendor = fields.String(required=True, validate=validate.Length(min=1, max=200))
    source_code_owner = fields.String(required=True, validate=validate.Length(min=1, max=64))
    unit = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
