"""Security's storage on SQLAlchemy Core: what the use cases load and keep (``usecases.Repository``)
and the queries behind the business gauges.

**Statements only.** The repository runs on whatever executes statements: the plain connection of
a unit of work without an ORM session (``transaction(SqlRepository, orm=False)``, every write and
every event), or a read session. Rows become the domain's dataclasses and a changed one is written
back (``save_project``, ``save_incident``); the statements are built once. A session's bookkeeping
(its flush, identity map and instrumented objects) cost more than a write's statements: security's
write RPCs went from ~2.5× the bare echo to under 2× with this and the events sent after the reply.

**The lock.** Every decision about a project first takes the project's row with ``locked_project``
(``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the unit of work is a write transaction from its
first statement, which serialises writers); an incident's resolution takes the incident's row. The
overdue check replaces its report under the lock of its ``overdue_checks`` row, so two checks (two
replicas) write one after the other.
"""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, update

from nxshared.tables import insert_if_absent
from security.domain import Incident, IncidentStatus, Inspection, Overdue, OverdueKind, OverdueReport, Project
from security.models import incidents, inspections, overdue, overdue_checks, projects

NEW_PROJECT = insert_if_absent(projects, "project_id")  # knowing nothing yet: the columns' defaults
NEW_CHECK = insert_if_absent(overdue_checks, "name")
CHECK = "overdue"

PROJECT = select(projects).where(projects.c.project_id == bindparam("project_id"))
LOCKED_PROJECT = PROJECT.with_for_update()
PROJECTS = select(projects).where(projects.c.project_id.in_(bindparam("ids", expanding=True)))
FILED_AS = select(projects).where(projects.c.filing_no == bindparam("filing_no")).limit(1)
UNDER_WAY = (
    select(projects)
    .where(
        projects.c.planned.is_(True), or_(projects.c.contracted_on.is_not(None), projects.c.accepted_on.is_not(None))
    )
    .order_by(projects.c.project_id)
)
# the changed columns by name, the row by ``_id`` (an UPDATE sets the columns its parameters name)
SAVE_PROJECT = update(projects).where(projects.c.project_id == bindparam("_id"))
SAVE_INCIDENT = update(incidents).where(incidents.c.incident_id == bindparam("_id"))
ADD_INSPECTION = insert(inspections)
ADD_INCIDENT = insert(incidents)
LAST_INSPECTION = (
    select(inspections)
    .where(inspections.c.project_id == bindparam("project_id"))
    .order_by(inspections.c.inspected_at.desc(), inspections.c.inspection_id.desc())
    .limit(1)
)
LAST_INSPECTION_TIMES = (
    select(inspections.c.project_id, func.max(inspections.c.inspected_at))
    .where(inspections.c.project_id.in_(bindparam("ids", expanding=True)))
    .group_by(inspections.c.project_id)
)
LOCKED_INCIDENT = select(incidents).where(incidents.c.incident_id == bindparam("incident_id")).with_for_update()
OPEN_INCIDENTS = select(incidents).where(incidents.c.status == IncidentStatus.OPEN.value)
BY_DEADLINE = (incidents.c.deadline, incidents.c.incident_id)
PROJECT_COLUMNS = tuple(column.name for column in projects.c if column.name != "project_id")
INCIDENT_COLUMNS = tuple(column.name for column in incidents.c if column.name != "incident_id")


class SqlRepository:
    def __init__(self, db: Any) -> None:
        """``db``: a unit of work's connection, or a read session (both execute statements)."""
        self.db = db

    # --- projects ----------------------------------------------------------------------------------

    def project(self, project_id: str) -> Project | None:
        return _one(Project, self.db.execute(PROJECT, {"project_id": project_id}))

    def locked_project(self, project_id: str) -> Project | None:
        return _one(Project, self.db.execute(LOCKED_PROJECT, {"project_id": project_id}))

    def project_to_learn(self, project_id: str) -> Project:
        """The project's row, created (knowing nothing yet) if absent, locked: an event about a
        project security has not heard of yet starts its record."""
        self.db.execute(NEW_PROJECT, {"project_id": project_id})
        project = self.locked_project(project_id)
        assert project is not None
        return project

    def save_project(self, project: Project) -> None:
        values = {name: getattr(project, name) for name in PROJECT_COLUMNS}
        self.db.execute(SAVE_PROJECT, {"_id": project.project_id, **values})

    def projects(self, project_ids: Iterable[str]) -> dict[str, Project]:
        wanted = list(project_ids)
        if not wanted:
            return {}
        return {p.project_id: p for p in _all(Project, self.db.execute(PROJECTS, {"ids": wanted}))}

    def projects_under_way(self) -> list[Project]:
        return _all(Project, self.db.execute(UNDER_WAY))

    def project_filed_as(self, filing_no: str) -> Project | None:
        return _one(Project, self.db.execute(FILED_AS, {"filing_no": filing_no}))

    # --- inspections -------------------------------------------------------------------------------

    def add_inspection(self, inspection: Inspection) -> None:
        self.db.execute(ADD_INSPECTION, vars(inspection))

    def last_inspection(self, project_id: str) -> Inspection | None:
        return _one(Inspection, self.db.execute(LAST_INSPECTION, {"project_id": project_id}))

    def last_inspection_times(self, project_ids: Iterable[str]) -> dict[str, dt.datetime]:
        wanted = list(project_ids)
        if not wanted:
            return {}
        return {project_id: _utc(at) for project_id, at in self.db.execute(LAST_INSPECTION_TIMES, {"ids": wanted})}

    # --- incidents ---------------------------------------------------------------------------------

    def add_incident(self, incident: Incident) -> None:
        self.db.execute(ADD_INCIDENT, vars(incident))

    def save_incident(self, incident: Incident) -> None:
        values = {name: getattr(incident, name) for name in INCIDENT_COLUMNS}
        self.db.execute(SAVE_INCIDENT, {"_id": incident.incident_id, **values})

    def locked_incident(self, incident_id: str) -> Incident | None:
        return _one(Incident, self.db.execute(LOCKED_INCIDENT, {"incident_id": incident_id}))

    def open_incidents(self, project_id: str | None = None) -> list[Incident]:
        query = OPEN_INCIDENTS
        if project_id is not None:
            query = query.where(incidents.c.project_id == project_id)
        return _all(Incident, self.db.execute(query.order_by(*BY_DEADLINE)))

    # --- the overdue check's report ------------------------------------------------------------------

    def overdue_report(self) -> OverdueReport:
        as_of = self.db.execute(select(overdue_checks.c.as_of).where(overdue_checks.c.name == CHECK)).scalar()
        rows = self.db.execute(
            select(overdue).order_by(overdue.c.since, overdue.c.kind, overdue.c.project_id, overdue.c.subject)
        )
        items = [Overdue(row.kind, row.project_id, _utc(row.since), row.incident_id, row.severity) for row in rows]
        return OverdueReport(_utc(as_of) if as_of else None, items)

    def replace_overdue(self, report: OverdueReport, ran_at: dt.datetime) -> None:
        self.db.execute(NEW_CHECK, {"name": CHECK})
        self.db.execute(select(overdue_checks.c.name).where(overdue_checks.c.name == CHECK).with_for_update())
        self.db.execute(delete(overdue))
        if report.overdue:
            self.db.execute(insert(overdue), [_row(item) for item in report.overdue])
        self.db.execute(
            update(overdue_checks)
            .where(overdue_checks.c.name == CHECK)
            .values(as_of=report.checked_at, checked_at=ran_at)
        )

    # --- business gauges -----------------------------------------------------------------------------

    def overdue_counts(self) -> dict[str, int]:
        query = select(overdue.c.kind, func.count()).group_by(overdue.c.kind)
        return {kind: int(count) for kind, count in self.db.execute(query)}

    def open_incident_counts(self) -> dict[str, int]:
        query = (
            select(incidents.c.severity, func.count())
            .where(incidents.c.status == IncidentStatus.OPEN.value)
            .group_by(incidents.c.severity)
        )
        return {severity: int(count) for severity, count in self.db.execute(query)}

    def hosted_by_mlps_status(self) -> dict[str, int]:
        query = (
            select(projects.c.mlps_status, func.count())
            .where(projects.c.planned.is_(True), projects.c.hosted_on_big_data_center.is_(True))
            .group_by(projects.c.mlps_status)
        )
        return {status: int(count) for status, count in self.db.execute(query)}

    def last_check(self) -> dt.datetime | None:
        query = select(overdue_checks.c.checked_at).where(overdue_checks.c.name == CHECK)
        at = self.db.execute(query).scalar()
        return _utc(at) if at else None


def _one(kind, result):
    row = result.first()
    return None if row is None else kind(**row._mapping)


def _all(kind, result):
    return [kind(**row._mapping) for row in result]


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
