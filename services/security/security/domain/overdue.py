"""What is late (Art 22–24), found by the periodic check and shown in each project's posture:

- an MLPS filing: a project hosted on the Big Data Center that is under construction (contracted) or
  accepted and has no filed grade (Art 24; security is built with the project, Art 22) — due from
  the day it came under way;
- an inspection: a project under construction or accepted whose last inspection (or, never
  inspected, the day it came under way) lies further back than the inspection interval (Art 23);
- an incident: open past the deadline its severity set (Art 23).

One function per rule; the check and ``get_posture`` both use ``overdue_of``. The check's MLPS
filings and inspections due are also sent as reminders (``reminders_of``): the same facts, no rule
of their own.
"""

import datetime as dt
from collections.abc import Iterable, Mapping

from nxshared.core.caller import Caller
from nxshared.core.reminders import Reminder
from security.domain.access import can_see, check_visible
from security.domain.entities import (
    Incident,
    IncidentStatus,
    Inspection,
    MlpsStatus,
    Overdue,
    OverdueKind,
    OverdueReport,
    Posture,
    Project,
    SecurityRules,
    start_of,
)


def filing_overdue(project: Project) -> Overdue | None:
    """Art 22, 24: a hosted project under way without its MLPS filing."""
    since = project.under_way_since
    if not project.planned or not project.hosted_on_big_data_center or since is None:
        return None
    if project.mlps_status == MlpsStatus.FILED:
        return None
    return Overdue(OverdueKind.MLPS_FILING.value, project.project_id, start_of(since))


def inspection_overdue(
    project: Project, last_inspected_at: dt.datetime | None, now: dt.datetime, rules: SecurityRules
) -> Overdue | None:
    """Art 23: a project under way is inspected at least every ``inspection_interval``."""
    since = project.under_way_since
    if not project.planned or since is None:
        return None
    due = (last_inspected_at or start_of(since)) + rules.inspection_interval
    if due > now:
        return None
    return Overdue(OverdueKind.INSPECTION.value, project.project_id, due)


def incident_overdue(incident: Incident, now: dt.datetime) -> Overdue | None:
    """Art 23: an incident still open after its deadline."""
    if incident.status != IncidentStatus.OPEN or incident.deadline > now:
        return None
    return Overdue(
        OverdueKind.INCIDENT.value, incident.project_id, incident.deadline, incident.incident_id, incident.severity
    )


def overdue_of(
    project: Project,
    last_inspected_at: dt.datetime | None,
    open_incidents: Iterable[Incident],
    now: dt.datetime,
    rules: SecurityRules,
) -> list[Overdue]:
    """Everything late about one project at ``now``."""
    found = [filing_overdue(project), inspection_overdue(project, last_inspected_at, now, rules)]
    found += [incident_overdue(incident, now) for incident in open_incidents]
    return [item for item in found if item is not None]


def check_overdue(
    projects: Iterable[Project],
    last_inspections: Mapping[str, dt.datetime],
    open_incidents: Iterable[Incident],
    now: dt.datetime,
    rules: SecurityRules,
) -> list[Overdue]:
    """The periodic check over every project under way and every open incident, oldest first."""
    incidents: dict[str, list[Incident]] = {}
    for incident in open_incidents:
        incidents.setdefault(incident.project_id, []).append(incident)
    found: list[Overdue] = []
    seen = set()
    for project in projects:
        seen.add(project.project_id)
        found += overdue_of(
            project, last_inspections.get(project.project_id), incidents.get(project.project_id, []), now, rules
        )
    for project_id, rest in incidents.items():  # incidents of projects not under way
        if project_id not in seen:
            late = (incident_overdue(incident, now) for incident in rest)
            found += [item for item in late if item is not None]
    return sorted(found, key=lambda o: (o.since, o.kind, o.project_id, o.incident_id or ""))


# the overdue kinds sent as reminders, and what the reminder says (the data center files and inspects)
REMINDED = {
    OverdueKind.MLPS_FILING.value: ("mlps_filing_due", "等保定级备案到期（第二十四条）"),
    OverdueKind.INSPECTION.value: ("inspection_due", "安全检查到期（第二十三条）"),
}
REMINDED_ORG = "data_center"


def reminders_of(found: Iterable[Overdue], projects: Mapping[str, Project]) -> list[Reminder]:
    """Art 23, 24: a reminder for each MLPS filing and inspection the check found due, due the day
    it fell due (one per filing, one per inspection cycle); incidents have their own deadline."""
    reminders = []
    for item in found:
        if item.kind not in REMINDED:
            continue
        kind, what = REMINDED[item.kind]
        project = projects[item.project_id]
        reminders.append(
            Reminder(
                kind,
                f"{project.name or project.project_id}：{what}",
                item.since.date(),
                REMINDED_ORG,
                project.project_id,
            )
        )
    return reminders


def visible_overdue(
    report: OverdueReport, projects: Mapping[str, Project], caller: Caller, rules: SecurityRules
) -> OverdueReport:
    """The items of projects ``caller`` may see (Art 25: a classified project's only to those the
    setting names)."""
    seen = [o for o in report.overdue if o.project_id in projects and can_see(caller, projects[o.project_id], rules)]
    return OverdueReport(report.checked_at, seen)


def posture(
    project: Project | None,
    caller: Caller,
    rules: SecurityRules,
    last_inspection: Inspection | None,
    open_incidents: list[Incident],
    now: dt.datetime,
) -> Posture:
    """A project's MLPS grading, last inspection, open incidents and what is late, at ``now``."""
    project = check_visible(caller, project, rules)
    last_at = last_inspection.inspected_at if last_inspection else None
    return Posture(
        project_id=project.project_id,
        name=project.name,
        hosted_on_big_data_center=project.hosted_on_big_data_center,
        mlps=project,
        last_inspection=last_inspection,
        open_incidents=open_incidents,
        overdue=overdue_of(project, last_at, open_incidents, now, rules),
    )
