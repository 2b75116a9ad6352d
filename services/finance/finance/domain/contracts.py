"""Procurement and contract (Art 15–17): after the budget and within it, an O&M period of at least
three years unless a basis says less, source code not owned by the unit reported."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from finance.domain.access import owned
from finance.domain.entities import (
    MIN_OM_YEARS,
    OM_EXPIRY_DAYS,
    Action,
    Contract,
    FinanceRules,
    Procurement,
    ProcurementMethod,
    Project,
    SourceCodeOwner,
    check_within_budget,
    transition,
)
from finance.events import ContractRegistered, IpExceptionReported, ProcurementRegistered
from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, RuleViolation
from nxshared.core.events import DomainEvent


def check_om_period(om_years: int, basis: str | None) -> None:
    """Art 16: an O&M period of at least 3 years, unless a legal or higher-level basis says less."""
    if om_years < MIN_OM_YEARS and not (basis and basis.strip()):
        raise RuleViolation(
            "OM_PERIOD_TOO_SHORT",
            f"合同约定的运维期为 {om_years} 年，应不少于 {MIN_OM_YEARS} 年；如法律法规或上级政策另有规定，请填写依据（第十六条）",
            "Art 16",
        )


def check_contract_no_free(contract_no: str, taken: Contract | None) -> None:
    if taken is not None:
        raise Conflict("CONTRACT_NO_TAKEN", f"合同编号 {contract_no} 已登记")


def register_procurement(
    project: Project | None,
    procurement: Mapping[str, Any],
    caller: Caller,
    rules: FinanceRules,
    now: dt.datetime,
) -> tuple[Procurement, ProcurementRegistered]:
    """Art 15: the owner registers how it bought, after the budget and within it."""
    project = owned(project, caller, rules, "登记采购")
    target = transition(project, Action.REGISTER_PROCUREMENT)
    check_within_budget(project, procurement["amount"], "采购金额")
    project.stage = target.value
    registered = Procurement(
        project_id=project.project_id,
        method=ProcurementMethod(procurement["method"]).value,
        supplier=procurement["supplier"],
        amount=procurement["amount"],
        date=procurement["date"],
        registered_by=caller.actor,
        registered_at=now,
    )
    event = ProcurementRegistered(
        project_id=project.project_id,
        actor=caller.actor,
        method=registered.method,
        supplier=registered.supplier,
        amount=registered.amount,
        date=registered.date,
    )
    return registered, event


def add_years(day: dt.date, years: int) -> dt.date:
    """``years`` calendar years after ``day``; 29 February gives 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def register_contract(
    project: Project | None,
    contract: Mapping[str, Any],
    same_number: Contract | None,
    caller: Caller,
    rules: FinanceRules,
    today: dt.date,
    now: dt.datetime,
) -> tuple[Contract, list[DomainEvent]]:
    """Art 15–17: the owner registers the contract after the procurement. ``same_number`` is the
    contract already registered under this number, if any."""
    project = owned(project, caller, rules, "登记合同")
    target = transition(project, Action.REGISTER_CONTRACT)
    basis = (contract.get("om_exemption_basis") or "").strip() or None
    check_om_period(contract["om_years"], basis)
    check_within_budget(project, contract["amount"], "合同金额")
    check_contract_no_free(contract["contract_no"], same_number)
    project.stage = target.value
    signed_on = contract.get("signed_on") or today
    registered = Contract(
        project_id=project.project_id,
        contract_no=contract["contract_no"],
        vendor=contract["vendor"],
        amount=contract["amount"],
        om_years=contract["om_years"],
        om_exemption_basis=basis,
        source_code_owner=SourceCodeOwner(contract["source_code_owner"]).value,
        signed_on=signed_on,
        om_ends_on=add_years(signed_on, contract["om_years"]),
        registered_by=caller.actor,
        registered_at=now,
    )
    return registered, contract_events(project, registered, caller)


def contract_events(project: Project, contract: Contract, caller: Caller) -> list[DomainEvent]:
    """``contract.registered``, and Art 17's report when the unit does not own the source code."""
    events: list[DomainEvent] = [
        ContractRegistered(
            project_id=project.project_id,
            actor=caller.actor,
            contract_no=contract.contract_no,
            vendor=contract.vendor,
            amount=contract.amount,
            om_years=contract.om_years,
            om_exemption_basis=contract.om_exemption_basis,
            source_code_owner=contract.source_code_owner,
            signed_on=contract.signed_on,
            om_ends_on=contract.om_ends_on,
        )
    ]
    if contract.source_code_owner != SourceCodeOwner.UNIT:
        events.append(
            IpExceptionReported(
                project_id=project.project_id,
                actor=caller.actor,
                contract_no=contract.contract_no,
                vendor=contract.vendor,
                source_code_owner=contract.source_code_owner,
                unit=project.unit or "",
            )
        )
    return events


def om_expiry_window(today: dt.date, within_days: int = OM_EXPIRY_DAYS) -> tuple[dt.date, dt.date]:
    """The days on which an O&M period that ends soon ends: from today to ``within_days`` ahead."""
    return today, today + dt.timedelta(days=within_days)
