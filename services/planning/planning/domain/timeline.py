"""Each project's timeline (every event of every service of the contract) and the stage it names;
the register of contracts whose source code the building unit does not own (Art 17).

Planning's own events are put on the timeline by the use case that emits them, in the same
transaction; other services' events arrive through the broker. What the public sees of a project
(its stage, approval, budget, procurement, contract and the total disbursed, Art 25) is kept on
the project as its timeline grows."""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from nxshared.core.errors import ValidationError
from nxshared.core.events import Event
from planning.domain.declaration import Project

OWN_SOURCE = "planning"  # planning's own events: on the timeline from the transaction that decides them

STAGE_OF_EVENT = {
    "project.declared": "declared",
    "project.planned": "planned",
    "project.not_planned": "not_planned",
    "review.submitted": "under_review",
    "review.passed": "reviewed",
    "review.filed": "reviewed",
    "review.failed": "review_failed",
    "approval.granted": "approved",
    "approval.rejected": "approval_rejected",
    "budget.approved": "budgeted",
    "budget.rejected": "budget_rejected",
    "contract.registered": "contracted",
    "acceptance.failed": "acceptance_failed",  # review's acceptance recorded as failed; it may be recorded again
    "acceptance.passed": "accepted",  # Art 21: accepted, may go into operation
    "audit.closed": "audited",
}

# every stage a project shows, in the order of its life (``stage_of`` or, before any, its status)
STAGES = (
    "declared",
    "planned",
    "not_planned",
    "under_review",
    "reviewed",
    "review_failed",
    "approved",
    "approval_rejected",
    "budgeted",
    "budget_rejected",
    "contracted",
    "prechecked",
    "acceptance_failed",
    "accepted",
    "audited",
)


@dataclass
class TimelineEntry:
    event_id: str
    project_id: str
    event_type: str
    source: str
    occurred_at: str
    actor: str | None
    data: dict[str, Any]
    seq: int | None = None


class PublicEntry(NamedTuple):
    """A timeline entry as the public pages read it: a plain tuple of what they show (no actor),
    built at a fraction of a mapped ``TimelineEntry``'s cost (50 projects' timelines a page)."""

    event_id: str
    project_id: str
    event_type: str
    occurred_at: str
    data: dict[str, Any]


@dataclass
class Disclosure:
    """What the public sees of a project (Art 25), kept on it as its timeline grows, and the status
    its stage falls back on: what recording another service's event reads and changes of it."""

    project_id: str
    status: str
    stage: str
    approval: dict[str, Any] | None
    contract: dict[str, Any] | None
    budget: dict[str, Any] | None = None
    procurement: dict[str, Any] | None = None
    disbursed: Decimal | None = None


# what a ``Disclosure`` keeps besides the project's id and status (the columns of the same names)
DISCLOSED = ("stage", "approval", "contract", "budget", "procurement", "disbursed")


@dataclass
class IpException:
    """Art 17: a contract whose source code is not owned by the building unit."""

    contract_no: str
    project_id: str
    vendor: str
    source_code_owner: str
    unit: str | None
    reported_at: str


def stage_of(entries: Iterable[TimelineEntry]) -> str | None:
    """The project's stage: the stage named by its latest stage-changing event. ``entries`` are in
    the order they occurred; a passed pre-check (``acceptance.prechecked`` with ``passed``) counts,
    review's pre-check that did not pass (nor its request, ``acceptance.precheck_requested``) does not."""
    stage = None
    for entry in entries:
        if entry.event_type == "acceptance.prechecked":
            if (entry.data or {}).get("passed") or (entry.data or {}).get("verdict") == "passed":
                stage = "prechecked"
        elif entry.event_type in STAGE_OF_EVENT:
            stage = STAGE_OF_EVENT[entry.event_type]
    return stage


APPROVAL_EVENT, CONTRACT_EVENT = "approval.granted", "contract.registered"
BUDGET_EVENT, PROCUREMENT_EVENT, DISBURSED_EVENT = "budget.approved", "procurement.registered", "funds.disbursed"
CONTRACT_FIELDS = ("contract_no", "vendor", "amount", "om_years", "signed_on", "om_ends_on")
PROCUREMENT_FIELDS = ("method", "supplier", "amount", "date")


def discloses(entry: TimelineEntry) -> bool:
    """Whether ``entry`` may change what the public sees of its project."""
    return entry.event_type in STAGE_OF_EVENT or entry.event_type in (
        "acceptance.prechecked",
        APPROVAL_EVENT,
        CONTRACT_EVENT,
        PROCUREMENT_EVENT,
        DISBURSED_EVENT,
    )


def disclose(project: Project | Disclosure, entries: Sequence[TimelineEntry]) -> None:
    """Keeps on ``project`` its stage, approval number, approved budget, procurement, contract and
    what has been disbursed as its whole timeline (``entries``, in order) says them (Art 25)."""
    project.stage = stage_of(entries) or project.status
    latest = {e.event_type: e for e in entries if e.event_type in _FACTS}
    for event_type, keep in _FACTS.items():
        keep(project, latest.get(event_type))


def advance(project: Project | Disclosure, entry: TimelineEntry) -> bool:
    """``disclose`` for an entry that occurred after every other of its project's timeline, from
    what the project shows already (what ``disclose`` last kept): the entry's stage, and the fact it
    discloses (approval, budget, procurement, contract, the total disbursed) replace the ones shown;
    the rest stays. A disbursement or a procurement names no stage: the stage shown stays. False,
    changing nothing, when the entry names no stage and discloses nothing (a pre-check that did not
    pass): the stage is then the latest before it or, if none is, the project's status, and only the
    whole timeline tells which."""
    stage = stage_of([entry])
    keep = _FACTS.get(entry.event_type)
    if stage is None and keep is None:
        return False
    if stage is not None:
        project.stage = stage
    if keep is not None:
        keep(project, entry)
    return True


def _keep_approval(project: Project | Disclosure, entry: TimelineEntry | None) -> None:
    project.approval = None if entry is None else {"approval_no": entry.data.get("approval_no")}


def _keep_budget(project: Project | Disclosure, entry: TimelineEntry | None) -> None:
    """Art 14: the budget finance approved, and the day it did."""
    if entry is None:
        project.budget = None
    else:
        project.budget = {"approved_amount": entry.data.get("approved_amount"), "approved_on": entry.occurred_at[:10]}


def _keep_procurement(project: Project | Disclosure, entry: TimelineEntry | None) -> None:
    project.procurement = None if entry is None else _fields(entry.data, PROCUREMENT_FIELDS)


def _keep_contract(project: Project | Disclosure, entry: TimelineEntry | None) -> None:
    project.contract = None if entry is None else _fields(entry.data, CONTRACT_FIELDS)


def _keep_disbursed(project: Project | Disclosure, entry: TimelineEntry | None) -> None:
    """The running total finance names on each disbursement (``disbursed_total``)."""
    total = None if entry is None else entry.data.get("disbursed_total")
    project.disbursed = None if total is None else Decimal(str(total))


def _fields(data: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    return {k: data[k] for k in names if k in data}


# each fact the public sees, by the event that discloses it: the latest such event's
_FACTS: dict[str, Callable[[Project | Disclosure, TimelineEntry | None], None]] = {
    APPROVAL_EVENT: _keep_approval,
    BUDGET_EVENT: _keep_budget,
    PROCUREMENT_EVENT: _keep_procurement,
    CONTRACT_EVENT: _keep_contract,
    DISBURSED_EVENT: _keep_disbursed,
}


def own_entries(evt: Event, named: Iterable[str] = ()) -> list[TimelineEntry]:
    """The timeline entries of an event planning emitted: on its project's timeline, or, for an
    event about a plan (no project), on the timeline of each project ``named`` in the plan. The
    plan's list of projects is left out of those entries: each project's timeline shows that it
    was in the plan, not which others were (some may be classified, Art 25)."""
    if evt.project_id is not None:
        return [_entry(evt, evt.project_id, evt.data)]
    data = {k: v for k, v in evt.data.items() if k != "project_ids"}
    return [_entry(evt, project_id, data) for project_id in dict.fromkeys(named)]


def _entry(evt: Event, project_id: str, data: dict[str, Any]) -> TimelineEntry:
    return TimelineEntry(
        event_id=evt.event_id,
        project_id=project_id,
        event_type=evt.event_type,
        source=evt.source,
        occurred_at=evt.occurred_at,
        actor=evt.actor,
        data=data,
    )


def entry_of(evt: Event) -> TimelineEntry | None:
    """The timeline entry of any event of the contract, known type or not; None for an event about
    no project."""
    if evt.project_id is None:
        return None
    return TimelineEntry(
        event_id=evt.event_id,
        project_id=evt.project_id,
        event_type=evt.event_type,
        source=evt.source,
        occurred_at=evt.occurred_at,
        actor=evt.actor,
        data=evt.data,
    )


def ip_exception_of(evt: Event, data: Mapping[str, Any]) -> IpException:
    """Art 17: the register's line for finance's ``contract.ip_exception_reported``, which names
    its project."""
    if evt.project_id is None:
        raise ValidationError("INVALID_INPUT", "输入不合法：project_id: 缺少项目")
    return IpException(
        contract_no=data["contract_no"],
        project_id=evt.project_id,
        vendor=data["vendor"],
        source_code_owner=data["source_code_owner"],
        unit=data["unit"],
        reported_at=evt.occurred_at,
    )
