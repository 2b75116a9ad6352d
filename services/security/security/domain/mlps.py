"""MLPS grading and filing (等级保护定级备案, Art 24): the data center grades a project's system
(levels 1–5) and files the grade with a filing number and the evaluation agency it selected. A
re-graded system must be filed again."""

import datetime as dt

from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, RuleViolation, ValidationError
from security.domain.access import acted_on
from security.domain.entities import MLPS_LEVELS, MlpsStatus, Project, SecurityRules
from security.events import MlpsFiled, MlpsGraded


def check_level(level: int) -> None:
    """Art 24: MLPS has five levels."""
    if isinstance(level, bool) or not isinstance(level, int) or level not in MLPS_LEVELS:
        raise ValidationError("INVALID_INPUT", "输入不合法：level: 须为 1 到 5 之间的整数（第二十四条）")


def check_graded(project: Project) -> None:
    """Art 24: a system is filed under its grade; there is nothing to file before it is graded."""
    if project.mlps_status == MlpsStatus.UNGRADED:
        raise RuleViolation("NOT_GRADED", "系统尚未定级，不能备案（第二十四条）", "Art 24")


def check_not_filed(project: Project) -> None:
    """A grade is filed once; a new filing needs a new grading."""
    if project.mlps_status == MlpsStatus.FILED:
        raise Conflict(
            "ALREADY_FILED",
            f"该系统已按第{project.mlps_level}级备案（备案编号 {project.filing_no}），重新定级后方可再次备案（第二十四条）",
        )


def check_filing_no_free(filing_no: str, taken: Project | None, project: Project) -> None:
    """A filing number names one system."""
    if taken is not None and taken.project_id != project.project_id:
        raise Conflict("FILING_NO_TAKEN", f"备案编号 {filing_no} 已用于其他系统")


def grade_system(
    project: Project | None, level: int, basis: str, caller: Caller, rules: SecurityRules, now: dt.datetime
) -> tuple[Project, MlpsGraded]:
    """Art 24: the data center grades (or re-grades) the project's system; any filing of an earlier
    grade no longer stands."""
    project = acted_on(project, caller, rules)
    check_level(level)
    previous = project.mlps_level
    project.mlps_status = MlpsStatus.GRADED.value
    project.mlps_level = level
    project.mlps_basis = basis
    project.graded_by = caller.actor
    project.graded_at = now
    project.filing_no = project.evaluation_agency = project.filed_by = None
    project.filed_at = None
    graded = MlpsGraded(
        project_id=project.project_id, actor=caller.actor, level=level, basis=basis, previous_level=previous
    )
    return project, graded


def file_grading(
    project: Project | None,
    filing_no: str,
    evaluation_agency: str,
    same_number: Project | None,
    caller: Caller,
    rules: SecurityRules,
    now: dt.datetime,
) -> tuple[Project, MlpsFiled]:
    """Art 24: the grade is filed with its filing number and the evaluation agency the data center
    selected. ``same_number`` is the project already filed under this number, if any."""
    project = acted_on(project, caller, rules)
    check_graded(project)
    check_not_filed(project)
    check_filing_no_free(filing_no, same_number, project)
    project.mlps_status = MlpsStatus.FILED.value
    project.filing_no = filing_no
    project.evaluation_agency = evaluation_agency
    project.filed_by = caller.actor
    project.filed_at = now
    filed = MlpsFiled(
        project_id=project.project_id,
        actor=caller.actor,
        level=project.mlps_level or 0,
        filing_no=filing_no,
        evaluation_agency=evaluation_agency,
    )
    return project, filed
