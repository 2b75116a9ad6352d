"""Finance's use cases, one function each: load through ``uow.repo``, let the domain decide, keep the
result, and ``uow.emit`` the events the decision caused. The entrypoints in ``finance.service`` only
decode, authorize, open the unit of work and dump; the tests drive these with a fake unit of work.

Every change to a project's money first takes the project's lock (``locked_project``, or
``project_to_learn`` for an event), see ``finance.repository``. Input arrives validated; ``caller``
is the authenticated caller. Reads take only the repository, since they change nothing.
"""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from finance import domain
from finance.domain import Contract, Disbursement, FinanceRules, Procurement, Project, UnauthorizedChange, reminders
from nxshared.core.caller import Caller
from nxshared.core.events import Event
from nxshared.core.reminders import send_reminders
from nxshared.core.uow import UnitOfWork


class Repository(Protocol):
    def project(self, project_id: str) -> Project | None: ...
    def locked_project(self, project_id: str) -> Project | None: ...
    def project_to_learn(self, project_id: str) -> Project:
        """The project, created (knowing nothing) if unknown, locked until the unit of work ends."""

    def procurement(self, project_id: str) -> Procurement | None: ...
    def add_procurement(self, procurement: Procurement) -> None: ...
    def contract(self, project_id: str) -> Contract | None: ...
    def contract_numbered(self, contract_no: str) -> Contract | None: ...
    def add_contract(self, contract: Contract) -> None: ...
    def disbursements(self, project_id: str) -> list[Disbursement]: ...
    def add_disbursement(self, disbursement: Disbursement) -> None: ...
    def unauthorized_changes(self, project_id: str) -> list[UnauthorizedChange]: ...
    def add_unauthorized_change(self, report: UnauthorizedChange) -> None: ...


Uow = UnitOfWork[Repository]


# --- the budget (Art 10, 13, 14) ------------------------------------------------------------------


def review_budget(
    uow: Uow, project_id: str, approved_amount: Decimal, opinion: str, caller: Caller, now: dt.datetime
) -> Project:
    project, approved = domain.approve_budget(
        uow.repo.locked_project(project_id), approved_amount, opinion, caller, now
    )
    uow.emit(approved)
    return project


def reject_budget(uow: Uow, project_id: str, opinion: str, caller: Caller, now: dt.datetime) -> Project:
    project, rejected = domain.reject_budget(uow.repo.locked_project(project_id), opinion, caller, now)
    uow.emit(rejected)
    return project


# --- procurement and contract (Art 15–17) -----------------------------------------------------------


def register_procurement(
    uow: Uow, project_id: str, procurement: dict[str, Any], caller: Caller, rules: FinanceRules, now: dt.datetime
) -> Procurement:
    project = uow.repo.locked_project(project_id)
    registered, event = domain.register_procurement(project, procurement, caller, rules, now)
    uow.repo.add_procurement(registered)
    uow.emit(event)
    return registered


def register_contract(
    uow: Uow,
    project_id: str,
    contract: dict[str, Any],
    caller: Caller,
    rules: FinanceRules,
    today: dt.date,
    now: dt.datetime,
) -> Contract:
    project = uow.repo.locked_project(project_id)
    same_number = uow.repo.contract_numbered(contract["contract_no"])
    registered, events = domain.register_contract(project, contract, same_number, caller, rules, today, now)
    uow.repo.add_contract(registered)
    uow.emit(*events)
    return registered


# --- disbursements (Art 14, 18, 27) -------------------------------------------------------------------


def disburse(
    uow: Uow, project_id: str, amount: Decimal, purpose: str, caller: Caller, now: dt.datetime
) -> tuple[Disbursement, Project]:
    reports = uow.repo.unauthorized_changes(project_id)
    project, paid, event = domain.disburse(uow.repo.locked_project(project_id), reports, amount, purpose, caller, now)
    uow.repo.add_disbursement(paid)
    uow.emit(event)
    return paid, project


# --- reading ----------------------------------------------------------------------------------------


def get_ledger(repo: Repository, project_id: str, caller: Caller, rules: FinanceRules) -> domain.Ledger:
    return domain.ledger(
        repo.project(project_id),
        caller,
        rules,
        repo.procurement(project_id),
        repo.contract(project_id),
        repo.disbursements(project_id),
    )


# --- what finance learns from planning and approval ------------------------------------------------


def on_planning_event(uow: Uow, evt: Event) -> None:
    """Art 10, 18: a project planned, its estimate changed, an unauthorized change opened or closed.
    One handler, so that planning's events about a project are applied in the order it sent them."""
    if uow.first_time(evt):
        project_id = domain.project_of(evt)
        LEARN_FROM_PLANNING[evt.event_type](uow, uow.repo.project_to_learn(project_id), evt.data)


def on_approval_granted(uow: Uow, evt: Event) -> None:
    """Art 13: the DRC approved the project; its budget may be reviewed (Art 14)."""
    if uow.first_time(evt):
        domain.learn_approved(uow.repo.project_to_learn(domain.project_of(evt)), evt.data)


def _planned(uow: Uow, project: Project, data: dict[str, Any]) -> None:
    domain.learn_planned(project, data)


def _change_approved(uow: Uow, project: Project, data: dict[str, Any]) -> None:
    domain.learn_change(project, data)


def _unauthorized_reported(uow: Uow, project: Project, data: dict[str, Any]) -> None:
    known = {r.report_id for r in uow.repo.unauthorized_changes(project.project_id)}
    if data["report_id"] not in known:  # a resolution that overtook its report stays resolved
        uow.repo.add_unauthorized_change(UnauthorizedChange(data["report_id"], project.project_id))


def _unauthorized_resolved(uow: Uow, project: Project, data: dict[str, Any]) -> None:
    reports = uow.repo.unauthorized_changes(project.project_id)
    for report in domain.resolve_reports(reports, data["report_ids"], project.project_id):
        uow.repo.add_unauthorized_change(report)


LEARN_FROM_PLANNING: dict[str, Callable[[Uow, Project, dict[str, Any]], None]] = {
    "project.planned": _planned,
    "change.approved": _change_approved,
    "change.unauthorized_reported": _unauthorized_reported,
    "change.unauthorized_resolved": _unauthorized_resolved,
}


# --- reminders (reminder.due) ----------------------------------------------------------------------


class EndingContracts(Protocol):
    def contracts_ending_between(self, first: dt.date, last: dt.date) -> list[tuple[Contract, Project | None]]: ...


def send_om_reminders(uow: UnitOfWork[EndingContracts], today: dt.date, rules: reminders.ReminderRules) -> list[Event]:
    """Art 15, 16: a reminder for each contract whose O&M period ends soon, sent once; those sent now."""
    ending = uow.repo.contracts_ending_between(*rules.window(today))
    found = (reminders.om_ending(contract, project, today, rules) for contract, project in ending)
    return send_reminders(uow, [r for r in found if r is not None])
