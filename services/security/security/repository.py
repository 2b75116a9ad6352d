"""Security's storage on SQLAlchemy: what the use cases load and add (``usecases.Repository``) and the
queries behind the business gauges.

**The lock.** Every decision about a project first takes the project's row with ``locked_project``
(``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the unit of work is a write transaction from its
first statement, which serialises writers); an incident's resolution takes the incident's row. The
overdue check replaces its report under the lock of its ``overdue_checks`` row, so two checks (two
replicas) write one after the other.
"""

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from nxshared.tables import insert_if_absent
from security.domain import Incident, IncidentStatus, Inspection, Overdue, OverdueKind, OverdueReport, Project
from security.models import overdue, overdue_checks, projects

NEW_PROJECT = insert_if_absent(projects, "project_id")  # knowing nothing yet: the columns' defaults
NEW_CHECK = insert_if_absent(overdue_checks, "name")
CHECK = "overdue"


class SqlRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- projects ----------------------------------------------------------------------------------

    def project(self, project_id: str) -> Project | None:
        return self.session.get(Project, project_id)

    def locked_project(self, project_id: str) -> Project | None:
        return self.session.get(Project, project_id, with_for_update=True)

    def project_to_learn(self, project_id: str) -> Project:
        """The project's row, created (knowing nothing yet) if absent, locked: an event about a
        project security has not heard of yet starts its record."""
        self.session.connection().execute(NEW_PROJECT, {"project_id": project_id})
        project = self.session.get(Project, project_id, with_for_update=True)
        assert project is not None
        return project

    def projects(self, project_ids: Iterable[str]) -> dict[str, Project]:
        wanted = list(project_ids)
        if not wanted:
            return {}
        found = self.session.scalars(select(Project).where(Project.project_id.in_(wanted)))
        return {p.project_id: p for p in found}

    def projects_under_way(self) -> list[Project]:
        query = select(Project).where(
            Project.planned.is_(True),
            or_(Project.contracted_on.is_not(None), Project.accepted_on.is_not(None)),
        )
        return list(self.session.scalars(query.order_by(Project.project_id)))

    def project_filed_as(self, filing_no: str) -> Project | None:
        return self.session.scalars(select(Project).where(Project.filing_no == filing_no)).first()

    # --- inspections -------------------------------------------------------------------------------

    def add_inspection(self, inspection: Inspection) -> None:
        self.session.add(inspection)

    def last_inspection(self, project_id: str) -> Inspection | None:
        query = (
            select(Inspection)
            .where(Inspection.project_id == project_id)
            .order_by(Inspection.inspected_at.desc(), Inspection.inspection_id.desc())
            .limit(1)
        )
        return self.session.scalars(query).first()

    def last_inspection_times(self, project_ids: Iterable[str]) -> dict[str, dt.datetime]:
        wanted = list(project_ids)
        if not wanted:
            return {}
        query = (
            select(Inspection.project_id, func.max(Inspection.inspected_at))
            .where(Inspection.project_id.in_(wanted))
            .group_by(Inspection.project_id)
        )
        return {project_id: _utc(at) for project_id, at in self.session.execute(query)}

    # --- incidents ---------------------------------------------------------------------------------

    def add_incident(self, incident: Incident) -> None:
        self.session.add(incident)

    def locked_incident(self, incident_id: str) -> Incident | None:
        return self.session.get(Incident, incident_id, with_for_update=True)

    def open_incidents(self, project_id: str | None = None) -> list[Incident]:
        query = select(Incident).where(Incident.status == IncidentStatus.OPEN.value)
        if project_id is not None:
            query = query.where(Incident.project_id == project_id)
        return list(self.session.scalars(query.order_by(Incident.deadline, Incident.incident_id)))

    # --- the overdue check's report ------------------------------------------------------------------

    def overdue_report(self) -> OverdueReport:
        as_of = self.session.execute(select(overdue_checks.c.as_of).where(overdue_checks.c.name == CHECK)).scalar()
        rows = self.session.execute(
            select(overdue).order_by(overdue.c.since, overdue.c.kind, overdue.c.project_id, overdue.c.subject)
        )
        items = [Overdue(row.kind, row.project_id, _utc(row.since), row.incident_id, row.severity) for row in rows]
        return OverdueReport(_utc(as_of) if as_of else None, items)

    def replace_overdue(self, report: OverdueReport, ran_at: dt.datetime) -> None:
        connection = self.session.connection()
        connection.execute(NEW_CHECK, {"name": CHECK})
        connection.execute(select(overdue_checks.c.name).where(overdue_checks.c.name == CHECK).with_for_update())
        connection.execute(delete(overdue))
        if report.overdue:
            connection.execute(insert(overdue), [_row(item) for item in report.overdue])
        connection.execute(
            update(overdue_checks)
            .where(overdue_checks.c.name == CHECK)
            .values(as_of=report.checked_at, checked_at=ran_at)
        )

    # --- business gauges -----------------------------------------------------------------------------

    def overdue_counts(self) -> dict[str, int]:
        query = select(overdue.c.kind, func.count()).group_by(overdue.c.kind)
        return {kind: int(count) for kind, count in self.session.execute(query)}

    def open_incident_counts(self) -> dict[str, int]:
        query = (
            select(Incident.severity, func.count())
            .where(Incident.status == IncidentStatus.OPEN.value)
            .group_by(Incident.severity)
        )
        return {severity: int(count) for severity, count in self.session.execute(query)}

    def hosted_by_mlps_status(self) -> dict[str, int]:
        query = (
            select(Project.mlps_status, func.count())
            .where(Project.planned.is_(True), Project.hosted_on_big_data_center.is_(True))
            .group_by(Project.mlps_status)
        )
        return {status: int(count) for status, count in self.session.execute(query)}

    def last_check(self) -> dt.datetime | None:
        query = select(overdue_checks.c.checked_at).where(overdue_checks.c.name == CHECK)
        at = self.session.execute(query).scalar()
        return _utc(at) if at else None


def _row(item: Overdue) -> dict:
    subject = item.incident_id if item.kind == OverdueKind.INCIDENT and item.incident_id else item.project_id
    return {
        "kind": item.kind,
        "subject": subject,
        "project_id": item.project_id,
        "since": item.since,
        "incident_id": item.incident_id,
        "severity": item.severity,
    }


def _utc(value: dt.datetime) -> dt.datetime:
    """Aggregates (``max``) and Core reads of SQLite hand back naive UTC timestamps."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
