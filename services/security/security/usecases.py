"""Security's use cases, one function each: load through ``uow.repo``, let the domain decide, keep the
result, and ``uow.emit`` the events the decision caused. The entrypoints in ``security.service`` only
decode, authorize, open the unit of work and dump; the tests drive these with a fake unit of work.

Every decision about a project first takes the project's lock (``locked_project``, or
``project_to_learn`` for an event), an incident's resolution the incident's (``locked_incident``);
see ``security.repository``. Input arrives validated; ``caller`` is the authenticated caller; ``now``
is the instant on the suite's clock (``domain.moment``). Reads take only the repository.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from nxshared.core.caller import Caller
from nxshared.core.events import Event
from nxshared.core.reminders import send_reminders
from nxshared.core.uow import UnitOfWork
from security import domain
from security.domain import Incident, Inspection, OverdueReport, Posture, Project, SecurityRules


class Repository(Protocol):
    def project(self, project_id: str) -> Project | None: ...
    def locked_project(self, project_id: str) -> Project | None: ...
    def project_to_learn(self, project_id: str) -> Project:
        """The project, created (knowing nothing) if unknown, locked until the unit of work ends."""

    def projects(self, project_ids: Iterable[str]) -> dict[str, Project]: ...
    def projects_under_way(self) -> list[Project]:
        """Planned projects under construction or accepted."""

    def save_project(self, project: Project) -> None:
        """Keep the project as a decision left it."""

    def project_filed_as(self, filing_no: str) -> Project | None: ...
    def add_inspection(self, inspection: Inspection) -> None: ...
    def last_inspection(self, project_id: str) -> Inspection | None: ...
    def last_inspection_times(self, project_ids: Iterable[str]) -> dict[str, dt.datetime]: ...
    def add_incident(self, incident: Incident) -> None: ...
    def save_incident(self, incident: Incident) -> None: ...
    def locked_incident(self, incident_id: str) -> Incident | None: ...
    def open_incidents(self, project_id: str | None = None) -> list[Incident]:
        """Open incidents (of one project, or all), by deadline."""

    def overdue_report(self) -> OverdueReport: ...
    def replace_overdue(self, report: OverdueReport, ran_at: dt.datetime) -> None:
        """Keep ``report`` as the last check's, in place of the one before (under the report's lock)."""


Uow = UnitOfWork[Repository]


# --- MLPS grading and filing (Art 24) --------------------------------------------------------------


def grade_system(
    uow: Uow, project_id: str, level: int, basis: str, caller: Caller, rules: SecurityRules, now: dt.datetime
) -> Project:
    project, graded = domain.grade_system(uow.repo.locked_project(project_id), level, basis, caller, rules, now)
    uow.repo.save_project(project)
    uow.emit(graded)
    return project


def file_grading(
    uow: Uow,
    project_id: str,
    filing_no: str,
    evaluation_agency: str,
    caller: Caller,
    rules: SecurityRules,
    now: dt.datetime,
) -> Project:
    project = uow.repo.locked_project(project_id)
    same_number = uow.repo.project_filed_as(filing_no)
    project, filed = domain.file_grading(project, filing_no, evaluation_agency, same_number, caller, rules, now)
    uow.repo.save_project(project)
    uow.emit(filed)
    return project


# --- inspections and incidents (Art 23) -------------------------------------------------------------


def record_inspection(
    uow: Uow, project_id: str, passed: bool, findings: str, caller: Caller, rules: SecurityRules, now: dt.datetime
) -> Inspection:
    project = uow.repo.locked_project(project_id)
    inspection, recorded = domain.record_inspection(project, passed, findings, caller, rules, now)
    uow.repo.add_inspection(inspection)
    uow.emit(recorded)
    return inspection


def report_incident(
    uow: Uow, incident: dict[str, Any], caller: Caller, rules: SecurityRules, now: dt.datetime
) -> Incident:
    project = uow.repo.locked_project(incident["project_id"])
    reported, event = domain.report_incident(project, incident, caller, rules, now)
    uow.repo.add_incident(reported)
    uow.emit(event)
    return reported


def resolve_incident(
    uow: Uow, incident_id: str, response: str, caller: Caller, rules: SecurityRules, now: dt.datetime
) -> Incident:
    incident = uow.repo.locked_incident(incident_id)
    project = uow.repo.project(incident.project_id) if incident else None
    resolved, event = domain.resolve_incident(incident, project, response, caller, rules, now)
    uow.repo.save_incident(resolved)
    uow.emit(event)
    return resolved


# --- reading ----------------------------------------------------------------------------------------


def get_posture(repo: Repository, project_id: str, caller: Caller, rules: SecurityRules, now: dt.datetime) -> Posture:
    project = repo.project(project_id)
    return domain.posture(
        project, caller, rules, repo.last_inspection(project_id), repo.open_incidents(project_id), now
    )


def list_overdue(repo: Repository, caller: Caller, rules: SecurityRules) -> OverdueReport:
    """What the last periodic check found, of the projects ``caller`` may see."""
    report = repo.overdue_report()
    projects = repo.projects({item.project_id for item in report.overdue})
    return domain.visible_overdue(report, projects, caller, rules)


# --- the periodic check (Art 22–24) -------------------------------------------------------------------


def check_overdue(
    uow: Uow, rules: SecurityRules, now: dt.datetime, ran_at: dt.datetime
) -> tuple[OverdueReport, list[Event]]:
    """Find everything late at ``now`` (the suite's clock) and keep it as the last check's report;
    the filings and inspections due go out as reminders, each once. The report and those sent now."""
    projects = uow.repo.projects_under_way()
    last = uow.repo.last_inspection_times(p.project_id for p in projects)
    report = OverdueReport(now, domain.check_overdue(projects, last, uow.repo.open_incidents(), now, rules))
    uow.repo.replace_overdue(report, ran_at)
    by_id = {p.project_id: p for p in projects}
    sent = send_reminders(uow, domain.reminders_of(report.overdue, by_id))
    return report, sent


# --- what security learns from planning, finance and review --------------------------------------------


def on_project_event(uow: Uow, evt: Event) -> None:
    """Art 10, 15, 21: a project planned, contracted or accepted, once per event."""
    if uow.first_time(evt):
        learned = LEARN[evt.event_type](uow.repo.project_to_learn(domain.project_of(evt)), evt)
        uow.repo.save_project(learned)


LEARN: dict[str, Callable[[Project, Event], Project]] = {
    "project.planned": lambda project, evt: domain.learn_planned(project, evt.data),
    "contract.registered": domain.learn_contracted,
    "acceptance.passed": domain.learn_accepted,
}
