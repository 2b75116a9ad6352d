"""Security incidents and the emergency response (应急响应, Art 23): each incident is reported with
its severity, which sets the deadline of its response; it is resolved once."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, NotFound, ValidationError
from security.domain.access import acted_on, can_see
from security.domain.entities import Incident, IncidentStatus, Project, SecurityRules, Severity, new_id
from security.events import IncidentReported, IncidentResolved


def check_occurred(occurred_at: dt.datetime, now: dt.datetime) -> None:
    """An incident is reported after it occurred, on the suite's clock."""
    if occurred_at > now:
        raise ValidationError("INVALID_INPUT", "输入不合法：incident.occurred_at: 不能晚于当前时间")


def check_open(incident: Incident) -> None:
    if incident.status != IncidentStatus.OPEN:
        raise Conflict("ALREADY_RESOLVED", f"安全事件 {incident.incident_id} 已处置完毕，不能再次处置（第二十三条）")


def report_incident(
    project: Project | None, incident: Mapping[str, Any], caller: Caller, rules: SecurityRules, now: dt.datetime
) -> tuple[Incident, IncidentReported]:
    """Art 23: the data center records an incident; its response is due by the deadline its
    severity sets, counted from when it occurred."""
    project = acted_on(project, caller, rules)
    occurred_at = incident["occurred_at"].astimezone(dt.UTC)
    check_occurred(occurred_at, now)
    severity = Severity(incident["severity"]).value
    reported = Incident(
        incident_id=new_id("inc"),
        project_id=project.project_id,
        severity=severity,
        description=incident["description"],
        occurred_at=occurred_at,
        deadline=rules.deadline(severity, occurred_at),
        reported_by=caller.actor,
        reported_at=now,
    )
    event = IncidentReported(
        project_id=project.project_id,
        actor=caller.actor,
        incident_id=reported.incident_id,
        severity=severity,
        description=reported.description,
        occurred_at=occurred_at,
        deadline=reported.deadline,
    )
    return reported, event


def resolve_incident(
    incident: Incident | None,
    project: Project | None,
    response: str,
    caller: Caller,
    rules: SecurityRules,
    now: dt.datetime,
) -> tuple[Incident, IncidentResolved]:
    """Art 23: the response closes the incident; one that came after the deadline is marked late."""
    if incident is None or project is None or not can_see(caller, project, rules):
        raise NotFound("INCIDENT_NOT_FOUND", "安全事件不存在或无权查看")
    check_open(incident)
    incident.status = IncidentStatus.RESOLVED.value
    incident.response = response
    incident.resolved_by = caller.actor
    incident.resolved_at = now
    resolved = IncidentResolved(
        project_id=incident.project_id,
        actor=caller.actor,
        incident_id=incident.incident_id,
        severity=incident.severity,
        response=response,
        deadline=incident.deadline,
        late=now > incident.deadline,
    )
    return incident, resolved
