"""Input and output shapes of finance's RPC methods (CONTRACT §finance). Every input field is
bounded; a refusal is a ValidationError naming the field (``procurement.method``, ``amount``…)."""

from decimal import Decimal

from marshmallow import Schema, fields, validate

from finance.domain import ProcurementMethod, SourceCodeOwner
from nxshared.validation import Code, MoneyField, Name, Text

POSITIVE = validate.Range(min=Decimal("0.01"), error="须大于 0")
OM_YEARS = validate.Range(min=0, max=50, error="须为 0 到 50 之间的整数")


def Amount(**kwargs):  # noqa: N802  (a field factory reads like a field type)
    return MoneyField(required=True, validate=POSITIVE, **kwargs)


class ProjectIdIn(Schema):
    project_id = Code(required=True)


class BudgetReviewIn(ProjectIdIn):
    approved_amount = Amount()
    opinion = Text(required=True)


class BudgetRejectIn(ProjectIdIn):
    opinion = Text(required=True)


class ProcurementFields(Schema):
    method = fields.String(required=True, validate=validate.OneOf([m.value for m in ProcurementMethod]))
    supplier = Name(required=True)
    amount = Amount()
    date = fields.Date(required=True)


class ProcurementIn(ProjectIdIn):
    procurement = fields.Nested(ProcurementFields, required=True)


class ContractFields(Schema):
    contract_no = Code(required=True)
    vendor = Name(required=True)
    amount = Amount()
    om_years = fields.Integer(required=True, strict=True, validate=OM_YEARS)
    om_exemption_basis = Text(load_default=None, allow_none=True)
    source_code_owner = fields.String(required=True, validate=validate.OneOf([o.value for o in SourceCodeOwner]))
    signed_on = fields.Date(load_default=None, allow_none=True)


class ContractIn(ProjectIdIn):
    contract = fields.Nested(ContractFields, required=True)


class DisburseIn(ProjectIdIn):
    amount = Amount()
    purpose = Text(required=True)


class BudgetOut(Schema):
    project_id = fields.String()
    stage = fields.String()
    estimated_investment = MoneyField()
    approved_budget = MoneyField(allow_none=True)
    opinion = fields.String(attribute="budget_opinion", allow_none=True)
    decided_by = fields.String(attribute="budget_decided_by", allow_none=True)
    decided_at = fields.DateTime(attribute="budget_decided_at", allow_none=True)


class ProcurementOut(Schema):
    project_id = fields.String()
    method = fields.String()
    supplier = fields.String()
    amount = MoneyField()
    date = fields.Date()
    registered_by = fields.String()
    registered_at = fields.DateTime()


class ContractOut(Schema):
    project_id = fields.String()
    contract_no = fields.String()
    vendor = fields.String()
    amount = MoneyField()
    om_years = fields.Integer()
    om_exemption_basis = fields.String(allow_none=True)
    source_code_owner = fields.String()
    signed_on = fields.Date()
    om_ends_on = fields.Date()
    registered_by = fields.String()
    registered_at = fields.DateTime()


class DisbursementOut(Schema):
    disbursement_id = fields.String()
    project_id = fields.String()
    amount = MoneyField()
    purpose = fields.String()
    disbursed_by = fields.String()
    disbursed_at = fields.DateTime()


class LedgerOut(Schema):
    project_id = fields.String()
    stage = fields.String()
    approved_budget = MoneyField(allow_none=True)
    disbursed_total = MoneyField()
    disbursements = fields.List(fields.Nested(DisbursementOut))
    procurement = fields.Nested(ProcurementOut, allow_none=True)
    contract = fields.Nested(ContractOut, allow_none=True)
