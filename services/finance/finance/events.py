"""The events finance emits, as its domain returns them: one frozen dataclass per event type, at the
newest version (CONTRACT §Events, source ``finance``). Their data schemas per version are in
``finance.event_schemas``."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from nxshared.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class BudgetApproved(DomainEvent):
    event_type: ClassVar[str] = "budget.approved"
    version: ClassVar[int] = 1
    approved_amount: Decimal
    estimated_investment: Decimal
    opinion: str


@dataclass(frozen=True, kw_only=True)
class BudgetRejected(DomainEvent):
    event_type: ClassVar[str] = "budget.rejected"
    version: ClassVar[int] = 1
    opinion: str


@dataclass(frozen=True, kw_only=True)
class ProcurementRegistered(DomainEvent):
    event_type: ClassVar[str] = "procurement.registered"
    version: ClassVar[int] = 1
    method: str
    supplier: str
    amount: Decimal
    date: dt.date


@dataclass(frozen=True, kw_only=True)
class ContractRegistered(DomainEvent):
    event_type: ClassVar[str] = "contract.registered"
    version: ClassVar[int] = 1
    contract_no: str
    vendor: str
    amount: Decimal
    om_years: int
    om_exemption_basis: str | None
    source_code_owner: str
    signed_on: dt.date
    om_ends_on: dt.date


@dataclass(frozen=True, kw_only=True)
class IpExceptionReported(DomainEvent):
    """Art 17: the contract leaves the source code to the vendor (or shares it); planning keeps the
    register. ``unit`` is the building unit the code should have belonged to."""

    event_type: ClassVar[str] = "contract.ip_exception_reported"
    version: ClassVar[int] = 1
    contract_no: str
    vendor: str
    source_code_owner: str
    unit: str


@dataclass(frozen=True, kw_only=True)
class FundsDisbursed(DomainEvent):
    event_type: ClassVar[str] = "funds.disbursed"
    version: ClassVar[int] = 1
    disbursement_id: str
    amount: Decimal
    purpose: str
    disbursed_total: Decimal
    approved_budget: Decimal
