"""Each project's timeline (every event of every service of the contract) and the stage it names;
the register of contracts whose source code the building unit does not own (Art 17)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nxshared.core.errors import ValidationError
from nxshared.core.events import Event

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
    "acceptance.passed": "accepted",
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
    the order they occurred; a passed pre-check (``acceptance.prechecked`` with ``passed``) counts."""
    stage = None
    for entry in entries:
        if entry.event_type == "acceptance.prechecked":
            if (entry.data or {}).get("passed") or (entry.data or {}).get("verdict") == "passed":
                stage = "prechecked"
        elif entry.event_type in STAGE_OF_EVENT:
            stage = STAGE_OF_EVENT[entry.event_type]
    return stage


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
