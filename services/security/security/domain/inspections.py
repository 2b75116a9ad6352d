"""Periodic security inspections (定期组织安全检查, Art 23)."""

import datetime as dt

from nxshared.core.caller import Caller
from nxshared.core.errors import ValidationError
from security.domain.access import acted_on
from security.domain.entities import Inspection, Project, SecurityRules, new_id
from security.events import InspectionRecorded


def check_findings(passed: bool, findings: str) -> None:
    """Art 23: a failed inspection says what failed, so that it can be put right."""
    if not passed and not findings.strip():
        raise ValidationError("INVALID_INPUT", "输入不合法：findings: 检查未通过时须写明发现的问题（第二十三条）")


def record_inspection(
    project: Project | None, passed: bool, findings: str, caller: Caller, rules: SecurityRules, now: dt.datetime
) -> tuple[Inspection, InspectionRecorded]:
    project = acted_on(project, caller, rules)
    check_findings(passed, findings)
    inspection = Inspection(
        inspection_id=new_id("insp"),
        project_id=project.project_id,
        passed=passed,
        findings=findings,
        inspected_by=caller.actor,
        inspected_at=now,
    )
    recorded = InspectionRecorded(
        project_id=project.project_id,
        actor=caller.actor,
        inspection_id=inspection.inspection_id,
        passed=passed,
        findings=findings,
    )
    return inspection, recorded
