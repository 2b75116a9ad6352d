"""The data schemas of the events finance emits, per version, with the upcasters between versions;
registered in the catalog through the ``nx.events`` entry point (``finance.event_schemas:SPECS``).
A new version only adds fields; its typed event in ``finance.events`` carries the new version number."""

from marshmallow import Schema, fields

from nxshared import reminders
from nxshared.events import EventSpec, money_field

SOURCE = "finance"


class BudgetApprovedV1(Schema):
    approved_amount = money_field(required=True)
    estimated_investment = money_field(required=True)
    opinion = fields.String(load_default="")


class BudgetRejectedV1(Schema):
    opinion = fields.String(load_default="")


class ProcurementRegisteredV1(Schema):
    method = fields.String(required=True)
    supplier = fields.String(required=True)
    amount = money_field(required=True)
    date = fields.String(required=True)


class ContractRegisteredV1(Schema):
    contract_no = fields.String(required=True)
    vendor = fields.String(required=True)
    amount = money_field(required=True)
    om_years = fields.Integer(required=True)
    om_exemption_basis = fields.String(load_default=None, allow_none=True)
    source_code_owner = fields.String(required=True)
    signed_on = fields.String(required=True)
    om_ends_on = fields.String(required=True)


class IpExceptionReportedV1(Schema):
    contract_no = fields.String(required=True)
    vendor = fields.String(required=True)
    source_code_owner = fields.String(required=True)
    unit = fields.String(required=True)


class FundsDisbursedV1(Schema):
    disbursement_id = fields.String(required=True)
    amount = money_field(required=True)
    purpose = fields.String(required=True)
    disbursed_total = money_field(required=True)
    approved_budget = money_field(required=True)


SPECS = [
    EventSpec.of("budget.approved", SOURCE, BudgetApprovedV1),
    EventSpec.of("budget.rejected", SOURCE, BudgetRejectedV1),
    EventSpec.of("procurement.registered", SOURCE, ProcurementRegisteredV1),
    EventSpec.of("contract.registered", SOURCE, ContractRegisteredV1),
    EventSpec.of("contract.ip_exception_reported", SOURCE, IpExceptionReportedV1),
    EventSpec.of("funds.disbursed", SOURCE, FundsDisbursedV1),
    reminders.SPEC,  # Art 15, 16: O&M periods ending soon (the suite's shared reminder.due)
]
