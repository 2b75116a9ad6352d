"""Input and output shapes of planning's RPC methods and public pages (CONTRACT §planning)."""

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate, validates_schema
from marshmallow import ValidationError as MarshmallowError

from nxshared.validation import YEAR_MAX, YEAR_MIN, BoundedList, Code, MoneyField, Name, OrgCode, Text, Year
from planning.domain.declaration import EXEMPTIONS, INFRASTRUCTURE, ProjectStatus
from planning.domain.risk import HIGHEST, LOWEST
from planning.domain.timeline import STAGES

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
ANNUAL_INVESTMENTS_MAX = 20
INVESTMENT_SPAN_YEARS = 10
PLAN_IDS_MAX = 500
PAGE_SIZE_MAX = 200
PAGE_MAX = 1_000_000
RISK_COMMENT_MAX = 2000


def _positive(data, name, message):
    if data.get(name) is not None and data[name] <= 0:
        raise MarshmallowError({name: [message]})


class AnnualInvestment(Schema):
    year = Year(required=True)
    amount = MoneyField(required=True)


class ProjectDeclaration(Schema):
    """A declaration (Art 6, 8, 9). Every text is bounded as its column is and required text may
    not be blank. **Decision (Art 8):** the annual investment plan names at most
    ``ANNUAL_INVESTMENTS_MAX`` years, each within the plan year and the ten years after it
    (``[plan_year, plan_year + 10]``): money planned before the project is in a plan, or beyond a
    decade, is no plan."""

    name = Name(required=True)
    unit = OrgCode(units_only=True, required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    construction_mode = fields.String(required=True, validate=validate.OneOf(("unified", "self_built")))
    investment_mode = fields.String(required=True, validate=validate.OneOf(INVESTMENT_MODES))
    plan_year = Year(required=True)
    plan_type = fields.String(required=True, validate=validate.OneOf(("annual", "supplementary")))
    higher_level_requirement = Text(load_default=None, allow_none=True)
    basis = Text(required=True)
    summary = Text(required=True)
    estimated_investment = MoneyField(required=True)
    funding_source = Name(required=True)
    annual_investments = BoundedList(fields.Nested(AnnualInvestment), ANNUAL_INVESTMENTS_MAX, 1, required=True)
    classified = fields.Boolean(load_default=False)
    hosted_on_big_data_center = fields.Boolean(load_default=True)
    standalone_infrastructure = BoundedList(
        fields.String(validate=validate.OneOf(INFRASTRUCTURE)), len(INFRASTRUCTURE), load_default=list
    )
    infrastructure_exemption = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(EXEMPTIONS))
    exemption_basis = Text(load_default=None, allow_none=True)
    requires_construction_plan = fields.Boolean(load_default=True)
    custom_software = fields.Boolean(load_default=False)

    @validates_schema
    def _positive_estimate(self, data, **kwargs):
        _positive(data, "estimated_investment", "投资概算须大于零")

    @validates_schema
    def _investment_years_within_the_plan(self, data, **kwargs):
        first = data.get("plan_year")
        if first is None:
            return
        last = first + INVESTMENT_SPAN_YEARS
        if any(not first <= item["year"] <= last for item in data.get("annual_investments") or []):
            raise MarshmallowError({"annual_investments": [f"年度须在 {first} 至 {last} 年之间"]})


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
    """The annual plan as the caller may see it (``planning.usecases.PlanView``)."""

    year = fields.Integer()
    project_ids = fields.List(fields.String())
    total_investment = MoneyField()
    status = fields.String()
    concurred_by = fields.List(fields.String())


class ListQuery(Schema):
    year = Year(load_default=None, allow_none=True)
    status = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf([s.value for s in ProjectStatus])
    )
    unit = OrgCode(units_only=True, load_default=None, allow_none=True)
    page = fields.Integer(load_default=1, strict=True, validate=validate.Range(1, PAGE_MAX))
    page_size = fields.Integer(load_default=50, strict=True, validate=validate.Range(1, PAGE_SIZE_MAX))


class PublicQuery(Schema):
    """``/public/projects?page=&page_size=`` (query strings, hence not strict)."""

    page = fields.Integer(load_default=1, validate=validate.Range(1, PAGE_MAX))
    page_size = fields.Integer(load_default=50, validate=validate.Range(1, PAGE_SIZE_MAX))


PUBLIC_PAGE_MAX = 100_000  # pages of the portal and the open data: past every project there may be


class PortalQuery(Schema):
    """``/portal/?year=&unit=&category=&stage=&page=`` (a form's empty choice is no filter)."""

    year = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(YEAR_MIN, YEAR_MAX))
    unit = OrgCode(load_default=None, allow_none=True)
    category = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CATEGORIES))
    stage = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(STAGES))
    page = fields.Integer(load_default=1, validate=validate.Range(1, PUBLIC_PAGE_MAX))


class OpenDataQuery(Schema):
    """``/public/oc4ids/projects?page=``, ``/public/ocds/releases?page=``."""

    page = fields.Integer(load_default=1, validate=validate.Range(1, PUBLIC_PAGE_MAX))


class PlanIn(Schema):
    """Art 9: a project named twice is refused (the total would count it twice), not collapsed."""

    year = Year(required=True)
    project_ids = BoundedList(Code(), PLAN_IDS_MAX, 1, required=True)

    @validates_schema
    def _each_project_once(self, data, **kwargs):
        ids = data.get("project_ids") or []
        if len(set(ids)) != len(ids):
            raise MarshmallowError({"project_ids": ["项目重复"]})


class YearIn(Schema):
    year = Year(required=True)


class ProjectIdIn(Schema):
    project_id = Code(required=True)


class ChangeIdIn(Schema):
    change_id = Code(required=True)


class Decision(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(("approve", "reject")))
    opinion = Text(load_default="")


class ChangeIn(Schema):
    """Art 18: what changes and why; ``estimated_investment``: the new estimate, when the change
    alters it."""

    description = Text(required=True)
    reason = Text(load_default="")
    estimated_investment = MoneyField(load_default=None, allow_none=True)

    @validates_schema
    def _positive_estimate(self, data, **kwargs):
        _positive(data, "estimated_investment", "新的投资概算须大于零")


class ChangeOut(Schema):
    change_id = fields.String()
    project_id = fields.String()
    description = fields.String()
    reason = fields.String()
    requested_by = fields.String()
    status = fields.String()
    opinion = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True)
    estimated_investment = MoneyField(allow_none=True)


class TextIn(Schema):
    text = Text(required=True)


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


class ReminderQuery(Schema):
    """``list_reminders``: each filter optional; due days inclusive."""

    due_from = fields.Date(load_default=None, allow_none=True)
    due_to = fields.Date(load_default=None, allow_none=True)
    kind = Code(
        load_default=None, allow_none=True, validate=validate.Regexp(r"[a-z_]{1,64}\Z", error="须为小写字母与下划线")
    )
    project_id = Code(load_default=None, allow_none=True)
    page = fields.Integer(load_default=1, strict=True, validate=validate.Range(1, PAGE_MAX))
    page_size = fields.Integer(load_default=50, strict=True, validate=validate.Range(1, PAGE_SIZE_MAX))


class ReminderOut(Schema):
    reminder_id = fields.String()
    kind = fields.String()
    project_id = fields.String(allow_none=True)
    subject = fields.String()
    due_on = fields.Date()
    owner_org = fields.String()
    source = fields.String()
    occurred_at = fields.String()


class RiskOverrideIn(Schema):
    """``rating``: an int 1–5 (a bool, a string or a float is refused); ``comment``: why, required."""

    rating = fields.Integer(required=True, strict=True, validate=validate.Range(LOWEST, HIGHEST))
    comment = Text(required=True, max_length=RISK_COMMENT_MAX)


class RiskReasonOut(Schema):
    code = fields.String()
    text = fields.String()
    evidence = fields.Dict()


class RiskOverrideOut(Schema):
    rating = fields.Integer()
    comment = fields.String()
    by = fields.String()
    at = fields.DateTime()


class RiskOut(Schema):
    project_id = fields.String()
    rating = fields.Integer()
    computed_rating = fields.Integer()
    reasons = fields.List(fields.Nested(RiskReasonOut))
    override = fields.Nested(RiskOverrideOut, allow_none=True)


def risk_fields(view: Any) -> dict[str, Any]:
    """A project's rating (``planning.usecases.RiskView``) as ``RiskOut`` dumps it."""
    return {
        "project_id": view.project_id,
        "rating": view.rating,
        "computed_rating": view.computed.rating,
        "reasons": [r.as_dict() for r in view.computed.reasons],
        "override": view.override,
    }
