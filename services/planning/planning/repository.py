"""Planning's queries."""

from sqlalchemy import func, select

from planning.domain import AnnualPlan, ChangeRequest, IpException, Project, TimelineEntry, UnauthorizedChange


def project(session, project_id):
    return session.get(Project, project_id) if isinstance(project_id, str) else None


def projects(session, year=None, status=None, unit=None, plan_type=None):
    query = select(Project).order_by(Project.plan_year, Project.declared_at, Project.project_id)
    if year is not None:
        query = query.where(Project.plan_year == year)
    if status is not None:
        query = query.where(Project.status == status)
    if unit is not None:
        query = query.where(Project.unit == unit)
    if plan_type is not None:
        query = query.where(Project.plan_type == plan_type)
    return list(session.scalars(query))


def plan(session, year):
    return session.get(AnnualPlan, year)


def change(session, change_id):
    return session.get(ChangeRequest, change_id) if isinstance(change_id, str) else None


def open_unauthorized_changes(session, project_id):
    query = select(UnauthorizedChange).where(
        UnauthorizedChange.project_id == project_id, UnauthorizedChange.resolved.is_(False)
    )
    return list(session.scalars(query))


def timeline(session, project_id):
    query = (
        select(TimelineEntry)
        .where(TimelineEntry.project_id == project_id)
        .order_by(TimelineEntry.occurred_at, TimelineEntry.seq)
    )
    return list(session.scalars(query))


def ip_exceptions(session):
    return list(session.scalars(select(IpException).order_by(IpException.reported_at)))


def count_by_status(session):
    return session.execute(select(Project.status, func.count()).group_by(Project.status)).all()
