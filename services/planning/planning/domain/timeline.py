"""Each project's timeline (every event of every service of the contract) and the stage it names;
the register of contracts whose source code the building unit does not own (Art 17).

Planning's own events are put on the timeline by the use case that emits them, in the same
transaction; other services' events arrive through the broker. What the public sees of a project
(its stage, approval and contract, Art 25) is kept on the project as its timeline grows."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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


@dataclass
class Disclosure:
    """What the public sees of a project (Art 25), kept on it as its timeline grows, and the status
    its stage falls back on: what recording another service's event reads and changes of it."""

    project_id: str
    status: str
    stage: str
    approval: dict[str, Any] | None
    contract: dict[str, Any] | None


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
CONTRACT_FIELDS = ("contract_no", "vendor", "amount")


def discloses(entry: TimelineEntry) -> bool:
    """Whether ``entry`` may change what the public sees of its project."""
    return entry.event_type in STAGE_OF_EVENT or entry.event_type in (
        "acceptance.prechecked",
        APPROVAL_EVENT,
        CONTRACT_EVENT,
    )


def disclose(project: Project | Disclosure, entries: Sequence[TimelineEntry]) -> None:
    """Keeps on ``project`` its stage, approval number and contract as its whole timeline
    (``entries``, in order) says them (Art 25)."""
    project.stage = stage_of(entries) or project.status
    approval = next((e.data for e in reversed(entries) if e.event_type == APPROVAL_EVENT), None)
    contract = next((e.data for e in reversed(entries) if e.event_type == CONTRACT_EVENT), None)
    project.approval = _approval(approval) if approval is not None else None
    project.contract = _contract(contract) if contract is not None else None


def advance(project: Project | Disclosure, entry: TimelineEntry) -> bool:
    """``disclose`` for an entry that occurred after every other of its project's timeline, from
    what the project shows already (what ``disclose`` last kept): the entry's stage, and its approval
    or contract if it is one, replace the ones shown; the rest stays. False, changing nothing, when
    the entry names no stage (a pre-check that did not pass): the stage is then the latest before
    it or, if none is, the project's status, and only the whole timeline tells which."""
    stage = stage_of([entry])
    if stage is None:
        return False
    project.stage = stage
    if entry.event_type == APPROVAL_EVENT:
        project.approval = _approval(entry.data)
    elif entry.event_type == CONTRACT_EVENT:
        project.contract = _contract(entry.data)
    return True


def _approval(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"approval_no": data.get("approval_no")}


def _contract(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in CONTRACT_FIELDS if k in data}


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
