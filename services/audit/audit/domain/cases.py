"""Audit cases (Art 26): an accepted project is handed to the auditor, who records findings and
closes the case with a conclusion. The case's life is a table of ``(state, action) → state``."""

import datetime as dt

from audit.domain.entities import Case, CaseAction, CaseStatus, Finding, Severity, new_id
from audit.events import AuditClosed, AuditOpened
from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, NotFound

# Art 26: findings are recorded while the case is open; closing it ends the audit
TRANSITIONS: dict[tuple[CaseStatus, CaseAction], CaseStatus] = {
    (CaseStatus.OPEN, CaseAction.RECORD_FINDING): CaseStatus.OPEN,
    (CaseStatus.OPEN, CaseAction.CLOSE): CaseStatus.CLOSED,
}

SEVERITY_ORDER = [s.value for s in Severity]


def check_case(case: Case | None) -> Case:
    if case is None:
        raise NotFound("CASE_NOT_FOUND", "审计案件不存在")
    return case


def next_status(case: Case, action: CaseAction) -> CaseStatus:
    """Art 26: what ``action`` makes of the case, or ``CASE_CLOSED`` when its state does not allow it."""
    found = TRANSITIONS.get((CaseStatus(case.status), action))
    if found is None:
        raise Conflict("CASE_CLOSED", "审计案件已结案，不能再记录发现或结案（第二十六条）", "Art 26")
    return found


def open_case(
    project_id: str, acceptance_event_id: str, accepted_on: str | None, existing: Case | None, now: dt.datetime
) -> tuple[Case | None, AuditOpened | None]:
    """Art 26: an accepted project gets one audit case; a project accepted again (after a case
    was opened) keeps the one it has."""
    if existing is not None:
        return None, None
    case = Case(new_id("aud"), project_id, CaseStatus.OPEN.value, now, acceptance_event_id, accepted_on)
    return case, AuditOpened(
        project_id=project_id,
        actor=None,  # opened by the service when the acceptance arrived (its event names who accepted)
        case_id=case.case_id,
        acceptance_event_id=acceptance_event_id,
        accepted_on=accepted_on,
    )


def record_finding(case: Case | None, severity: str, description: str, caller: Caller, now: dt.datetime) -> Finding:
    """Art 26–27: a finding of the audit, with who recorded it and when."""
    case = check_case(case)
    case.status = next_status(case, CaseAction.RECORD_FINDING).value
    finding = Finding(new_id("fnd"), case.case_id, Severity(severity).value, description, caller.actor, now)
    case.findings.append(finding)
    return finding


def close_case(case: Case | None, conclusion: str, caller: Caller, now: dt.datetime) -> tuple[Case, AuditClosed]:
    """Art 26: the case is closed with the auditor's conclusion; the project is audited."""
    case = check_case(case)
    case.status = next_status(case, CaseAction.CLOSE).value
    case.conclusion, case.closed_by, case.closed_at = conclusion, caller.actor, now
    severities = [f.severity for f in case.findings]
    worst = max(severities, key=SEVERITY_ORDER.index) if severities else None
    return case, AuditClosed(
        project_id=case.project_id,
        actor=caller.actor,
        case_id=case.case_id,
        conclusion=conclusion,
        findings=len(case.findings),
        worst_severity=worst,
    )
