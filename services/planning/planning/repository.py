"""Planning's repository on its own database: what the use cases load and add, and the queries of
the read side. ``locked_…`` loads an aggregate a use case is about to change, locked until its unit
of work ends (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's write transaction already serialises)."""

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from planning.domain.changes import ChangeRequest, UnauthorizedChange
from planning.domain.declaration import Project
from planning.domain.plans import AnnualPlan
from planning.domain.timeline import IpException, TimelineEntry


class SqlRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- projects -----------------------------------------------------------------------------

    def project(self, project_id: str) -> Project | None:
        return self.session.get(Project, project_id) if isinstance(project_id, str) else None

    def locked_project(self, project_id: str) -> Project | None:
        if not isinstance(project_id, str):
            return None
        return self.session.get(Project, project_id, with_for_update=True)

    def projects(
        self, year: int | None = None, status: str | None = None, unit: str | None = None, plan_type: str | None = None
    ) -> list[Project]:
        return list(self.session.scalars(_projects_query(year, status, unit, plan_type)))

    def locked_projects(self, year: int, plan_type: str) -> list[Project]:
        return list(self.session.scalars(_projects_query(year, None, None, plan_type).with_for_update()))

    def add_project(self, project: Project) -> None:
        self.session.add(project)

    def count_by_status(self) -> list[tuple[str, int]]:
        rows = self.session.execute(select(Project.status, func.count()).group_by(Project.status))
        return [(status, count) for status, count in rows]

    # --- annual plans -------------------------------------------------------------------------

    def locked_plan(self, year: int) -> AnnualPlan | None:
        return self.session.get(AnnualPlan, year, with_for_update=True)

    def add_plan(self, plan: AnnualPlan) -> None:
        self.session.add(plan)

    # --- changes ------------------------------------------------------------------------------

    def locked_change(self, change_id: str) -> ChangeRequest | None:
        if not isinstance(change_id, str):
            return None
        return self.session.get(ChangeRequest, change_id, with_for_update=True)

    def add_change(self, change: ChangeRequest) -> None:
        self.session.add(change)

    def locked_open_unauthorized_changes(self, project_id: str) -> list[UnauthorizedChange]:
        query = select(UnauthorizedChange).where(
            UnauthorizedChange.project_id == project_id, UnauthorizedChange.resolved.is_(False)
        )
        return list(self.session.scalars(query.with_for_update()))

    def add_unauthorized_change(self, report: UnauthorizedChange) -> None:
        self.session.add(report)

    # --- timeline and the IP exception register ------------------------------------------------

    def timeline(self, project_id: str) -> list[TimelineEntry]:
        query = (
            select(TimelineEntry)
            .where(TimelineEntry.project_id == project_id)
            .order_by(TimelineEntry.occurred_at, TimelineEntry.seq)
        )
        return list(self.session.scalars(query))

    def add_timeline_entry(self, entry: TimelineEntry) -> None:
        self.session.add(entry)

    def ip_exceptions(self) -> list[IpException]:
        return list(self.session.scalars(select(IpException).order_by(IpException.reported_at)))

    def save_ip_exception(self, exception: IpException) -> None:
        """Adds the register's line, or replaces the one of the same contract."""
        self.session.merge(exception)


def _projects_query(year: int | None, status: str | None, unit: str | None, plan_type: str | None) -> Select:
    query = select(Project).order_by(Project.plan_year, Project.declared_at, Project.project_id)
    if year is not None:
        query = query.where(Project.plan_year == year)
    if status is not None:
        query = query.where(Project.status == status)
    if unit is not None:
        query = query.where(Project.unit == unit)
    if plan_type is not None:
        query = query.where(Project.plan_type == plan_type)
    return query
