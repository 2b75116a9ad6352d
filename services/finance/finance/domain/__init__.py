"""Finance's rules and the state machine of a project's ledger (RULES §Budget and funds, §Contracts;
Art 10, 13–18, 25, 27), in plain Python.

Finance learns of projects only from events, in whatever order they arrive: ``project.planned``
(Art 10), ``approval.granted`` (Art 13), ``change.approved`` carrying a new estimate (Art 18) and the
open or resolved unauthorized changes (Art 18). The decisions taken here:

- **Budget review (Art 14).** Only for a planned *and* approved project; the approved amount never
  exceeds the project's current estimate. A rejected budget may be reviewed again and approved; an
  approved budget is final here (it is what procurement, contract and every disbursement are
  measured against). An estimate changed after the budget was approved does not move the budget.
- **One procurement, then one contract (Art 15–17)** per project, each within the approved budget:
  they are the ledger's ``procurement`` and ``contract``. A contract number is used once.
- **O&M period (Art 16).** At least 3 years unless a legal or higher-level basis is written down. It
  runs from the day the contract is signed (``signed_on``, today when not given) for ``om_years``
  calendar years; a gauge counts the contracts whose period ends within 90 days.
- **Source code (Art 17).** A contract whose code is not owned by the unit is accepted, and reported
  to the smart office's register (``contract.ip_exception_reported``).
- **Disbursements (Art 14, 18, 27).** Only under a registered contract, never while an unauthorized
  change of the project is open, and their running total never exceeds the approved budget. The
  total lives on the project's row, which every change takes under lock, so concurrent
  disbursements are counted one after the other.
- **Who sees a ledger.** The owner (the unit; ``data_center`` too for a unified project) and finance;
  the smart office and audit, except that of a classified project only those of them that the
  ``CLASSIFIED_VISIBLE_TO`` setting names (Art 25). To anyone else the project does not exist.

By article group: ``entities`` (the entities, the state machine as data, the budget ceiling),
``learning`` (other bureaus' events), ``access`` (Art 4, 10, 11, 25), ``budget`` (Art 13, 14),
``contracts`` (Art 15–17), ``funds`` (Art 14, 18, 27). Every guard raises a domain error carrying
its code and article; every decision returns the typed events (``finance.events``) it caused.
"""

from finance.domain.access import can_see, check_in_plan, check_owner, check_visible, owned
from finance.domain.budget import approve_budget, check_approved, check_within_estimate, reject_budget
from finance.domain.contracts import (
    add_years,
    check_contract_no_free,
    check_om_period,
    contract_events,
    om_expiry_window,
    register_contract,
    register_procurement,
)
from finance.domain.entities import (
    KEEPER,
    LEDGER_READERS,
    MIN_OM_YEARS,
    OM_EXPIRY_DAYS,
    PREREQUISITE,
    RANK,
    TRANSITIONS,
    Action,
    Contract,
    Disbursement,
    FinanceRules,
    Ledger,
    Procurement,
    ProcurementMethod,
    Project,
    SourceCodeOwner,
    Stage,
    UnauthorizedChange,
    action_text,
    check_within_budget,
    new_id,
    stage_text,
    transition,
)
from finance.domain.funds import check_no_unauthorized_change, disburse, ledger
from finance.domain.learning import learn_approved, learn_change, learn_planned, project_of, resolve_reports

__all__ = [
    "Action",
    "Contract",
    "Disbursement",
    "FinanceRules",
    "KEEPER",
    "LEDGER_READERS",
    "Ledger",
    "MIN_OM_YEARS",
    "OM_EXPIRY_DAYS",
    "PREREQUISITE",
    "Procurement",
    "ProcurementMethod",
    "Project",
    "RANK",
    "SourceCodeOwner",
    "Stage",
    "TRANSITIONS",
    "UnauthorizedChange",
    "action_text",
    "add_years",
    "approve_budget",
    "can_see",
    "check_approved",
    "check_contract_no_free",
    "check_in_plan",
    "check_no_unauthorized_change",
    "check_om_period",
    "check_owner",
    "check_visible",
    "check_within_budget",
    "check_within_estimate",
    "contract_events",
    "disburse",
    "learn_approved",
    "learn_change",
    "learn_planned",
    "ledger",
    "new_id",
    "om_expiry_window",
    "owned",
    "project_of",
    "register_contract",
    "register_procurement",
    "reject_budget",
    "resolve_reports",
    "stage_text",
    "transition",
]
