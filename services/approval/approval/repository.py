"""Approval's repository on its own database, and the per-project lock that keeps events and calls
from racing."""

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from approval.domain import Application, ApprovalCounter, ConcludedReview, Project
from approval.models import approval_counters, projects

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class SqlRepository:
    """What the use cases load and store, in one unit of work's session."""

    def __init__(self, session):
        self.session = session

    def _insert_if_absent(self, table, **values):
        insert = _INSERTS[self.session.get_bind().dialect.name]
        self.session.execute(insert(table).values(**values).on_conflict_do_nothing())

    def locked_project(self, project_id):
        """The project's row, created (not planned) if unknown, locked until the transaction ends.

        Every change to a project's approval takes this lock first, so that an application lodged
        while a review event is being applied sees the review, or the review sees the application.
        (On SQLite the insert takes the database's write lock; on PostgreSQL ``FOR UPDATE`` takes the
        row's.) A refused call rolls back, so an unknown project is not left behind.
        """
        self._insert_if_absent(projects, project_id=project_id)
        return self.session.get(Project, project_id, with_for_update=True)

    def project(self, project_id):
        return self.session.get(Project, project_id)

    def locked_counter(self, year):
        self._insert_if_absent(approval_counters, year=year)
        return self.session.get(ApprovalCounter, year, with_for_update=True)

    def record_review(self, review):
        """Record a concluded review once; a redelivered conclusion of the same review changes nothing."""
        if self.session.get(ConcludedReview, review.review_id) is None:
            self.session.add(review)

    def reviews(self, project_id):
        return list(self.session.scalars(select(ConcludedReview).where(ConcludedReview.project_id == project_id)))

    def latest_application(self, project_id):
        query = (
            select(Application)
            .where(Application.project_id == project_id)
            .order_by(Application.applied_at.desc(), Application.application_id.desc())
            .limit(1)
        )
        return self.session.scalars(query).first()

    def add(self, application):
        self.session.add(application)

    def count_by_status(self):
        return self.session.execute(select(Application.status, func.count()).group_by(Application.status)).all()


class SqlReading:
    """A read-only unit of work: the repository on a session that takes no lock and emits nothing."""

    def __init__(self, session):
        self.repo = SqlRepository(session)
