"""Approval's queries, and the per-project lock that keeps events and calls from racing."""

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from approval.domain import Application, ApprovalCounter, ConcludedReview, Project
from approval.models import approval_counters, projects

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _insert_if_absent(session, table, **values):
    insert = _INSERTS[session.get_bind().dialect.name]
    session.execute(insert(table).values(**values).on_conflict_do_nothing())


def locked_project(session, project_id):
    """The project's row, created (not planned) if unknown, locked until the transaction ends.

    Every change to a project's approval takes this lock first, so that an application lodged while
    a review event is being applied sees the review, or the review sees the application. (On SQLite
    the insert takes the database's write lock; on PostgreSQL ``FOR UPDATE`` takes the row's.) A
    refused call rolls back, so an unknown project is not left behind.
    """
    _insert_if_absent(session, projects, project_id=project_id)
    return session.get(Project, project_id, with_for_update=True)


def project(session, project_id):
    return session.get(Project, project_id)


def locked_counter(session, year):
    _insert_if_absent(session, approval_counters, year=year)
    return session.get(ApprovalCounter, year, with_for_update=True)


def record_review(session, review):
    """Record a concluded review once; a redelivered conclusion of the same review changes nothing."""
    if session.get(ConcludedReview, review.review_id) is None:
        session.add(review)


def reviews(session, project_id):
    return list(session.scalars(select(ConcludedReview).where(ConcludedReview.project_id == project_id)))


def latest_application(session, project_id):
    query = (
        select(Application)
        .where(Application.project_id == project_id)
        .order_by(Application.applied_at.desc(), Application.application_id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def count_by_status(session):
    return session.execute(select(Application.status, func.count()).group_by(Application.status)).all()
