"""Change control (Art 10, 18): the smart office decides every change to a planned project's scope;
a change carried out without approval is reported and blocks acceptance until resolved."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, RuleViolation
from nxshared.core.events import DomainEvent
from planning.domain import Decided, new_id
from planning.domain.declaration import Project, ProjectStatus
from planning.events import ChangeApproved, ChangeRejected, UnauthorizedChangeReported, UnauthorizedChangeResolved


class ChangeStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass
class ChangeRequest:
    change_id: str
    project_id: str
    description: str
    reason: str
    requested_by: str
    status: str = ChangeStatus.PENDING.value
    opinion: str | None = None
    decided_by: str | None = None
    estimated_investment: Decimal | None = None  # the new estimate the change asks for, if any


@dataclass
class UnauthorizedChange:
    report_id: str
    project_id: str
    description: str
    reported_by: str
    resolved: bool = False
    resolution: str | None = None
    resolved_by: str | None = None


def check_in_plan(project: Project) -> None:
    """Art 10: only a project in the annual or supplementary plan goes further."""
    if project.status != ProjectStatus.PLANNED.value:
        raise RuleViolation("NOT_IN_ANNUAL_PLAN", "项目未纳入年度建设计划或增补计划（第十条）", "Art 10")


def request_change(
    project: Project, caller: Caller, description: str, reason: str, estimated_investment: Decimal | None = None
) -> Decided[ChangeRequest]:
    """Art 18: a change to a planned project's approved scope is requested before it is made; it
    may ask for a new estimate."""
    check_in_plan(project)
    change = ChangeRequest(
        change_id=new_id("chg"),
        project_id=project.project_id,
        description=description,
        reason=reason,
        requested_by=caller.actor,
        estimated_investment=estimated_investment,
    )
    return change, []


def decide_change(
    change: ChangeRequest, project: Project, decision: str, opinion: str, caller: Caller
) -> Decided[ChangeRequest]:
    """Art 18: the smart office reviews every change to the approved scope, once. An approved change
    that asks for a new estimate sets the project's (``change.approved`` carries it: review, approval
    and finance measure against it)."""
    if change.status != ChangeStatus.PENDING.value:
        raise Conflict("CHANGE_ALREADY_DECIDED", f"变更申请已处理（{change.status}）")
    approved = decision == "approve"
    change.status = ChangeStatus.APPROVED.value if approved else ChangeStatus.REJECTED.value
    change.opinion = opinion
    change.decided_by = caller.actor
    if not approved:
        rejected = ChangeRejected(
            project_id=change.project_id, actor=caller.actor, change_id=change.change_id, opinion=opinion or ""
        )
        return change, [rejected]
    if change.estimated_investment is not None:
        project.estimated_investment = change.estimated_investment
    return change, [
        ChangeApproved(
            project_id=change.project_id,
            actor=caller.actor,
            change_id=change.change_id,
            opinion=opinion or "",
            estimated_investment=change.estimated_investment,
        )
    ]


def report_unauthorized_change(project: Project, description: str, caller: Caller) -> Decided[UnauthorizedChange]:
    """Art 18: a change carried out without approval; it blocks acceptance until resolved."""
    report = UnauthorizedChange(
        report_id=new_id("uac"), project_id=project.project_id, description=description, reported_by=caller.actor
    )
    reported = UnauthorizedChangeReported(
        project_id=project.project_id, actor=caller.actor, report_id=report.report_id, description=description
    )
    return report, [reported]


def resolve_unauthorized_changes(
    project: Project, open_reports: list[UnauthorizedChange], opinion: str, caller: Caller
) -> Decided[list[UnauthorizedChange]]:
    """Art 18: the smart office resolves every open report of ``project`` at once."""
    if not open_reports:
        raise Conflict("NO_OPEN_UNAUTHORIZED_CHANGE", "该项目没有未处理的擅自变更")
    for report in open_reports:
        report.resolved = True
        report.resolution = opinion
        report.resolved_by = caller.actor
    resolved: list[DomainEvent] = [
        UnauthorizedChangeResolved(
            project_id=project.project_id,
            actor=caller.actor,
            report_ids=[r.report_id for r in open_reports],
            opinion=opinion,
        )
    ]
    return open_reports, resolved
