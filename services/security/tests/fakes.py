"""An in-memory repository for the use-case tests, with the semantics of ``SqlRepository``."""

import datetime as dt
from collections.abc import Iterable

from security.domain import Incident, IncidentStatus, Inspection, OverdueReport, Project


class FakeRepository:
    def __init__(self) -> None:
        self.known: dict[str, Project] = {}
        self.inspections: list[Inspection] = []  # in the order they were recorded
        self.incidents: dict[str, Incident] = {}
        self.report = OverdueReport(None)
        self.ran_at: dt.datetime | None = None

    def project(self, project_id: str) -> Project | None:
        return self.known.get(project_id)

    def locked_project(self, project_id: str) -> Project | None:
        return self.known.get(project_id)

    def project_to_learn(self, project_id: str) -> Project:
        return self.known.setdefault(project_id, Project(project_id))

    def save_project(self, project: Project) -> None:
        self.known[project.project_id] = project

    def projects(self, project_ids: Iterable[str]) -> dict[str, Project]:
        return {pid: self.known[pid] for pid in project_ids if pid in self.known}

    def projects_under_way(self) -> list[Project]:
        return sorted((p for p in self.known.values() if p.planned and p.under_way), key=lambda p: p.project_id)

    def project_filed_as(self, filing_no: str) -> Project | None:
        return next((p for p in self.known.values() if p.filing_no == filing_no), None)

    def add_inspection(self, inspection: Inspection) -> None:
        self.inspections.append(inspection)

    def last_inspection(self, project_id: str) -> Inspection | None:
        mine = [i for i in self.inspections if i.project_id == project_id]
        return max(mine, key=lambda i: (i.inspected_at, i.inspection_id), default=None)

    def last_inspection_times(self, project_ids: Iterable[str]) -> dict[str, dt.datetime]:
        found = {}
        for project_id in project_ids:
            last = self.last_inspection(project_id)
            if last is not None:
                found[project_id] = last.inspected_at
        return found

    def add_incident(self, incident: Incident) -> None:
        self.incidents[incident.incident_id] = incident

    def save_incident(self, incident: Incident) -> None:
        self.incidents[incident.incident_id] = incident

    def locked_incident(self, incident_id: str) -> Incident | None:
        return self.incidents.get(incident_id)

    def open_incidents(self, project_id: str | None = None) -> list[Incident]:
        found = [
            i for i in self.incidents.values() if i.status == IncidentStatus.OPEN and project_id in (None, i.project_id)
        ]
        return sorted(found, key=lambda i: (i.deadline, i.incident_id))

    def overdue_report(self) -> OverdueReport:
        return self.report

    def replace_overdue(self, report: OverdueReport, ran_at: dt.datetime) -> None:
        self.report, self.ran_at = report, ran_at
