"""Approval's repository on its own database, and the per-project lock that keeps events and calls
from racing.

Its statements are built once, at import: a statement built per call costs its construction and its
cache key every time, a good part of a short transaction's work. ``ReviewLedger`` is the part that
needs no ORM session: what ``on_review_concluded`` does on every review event, in a unit of work
without one (``transaction(ReviewLedger, orm=False)``).
"""

from sqlalchemy import bindparam, func, select, update

from approval.domain import Application, ApprovalCounter, ConcludedReview, Project
from approval.models import applications, approval_counters, projects, reviews
from nxshared.tables import insert_if_absent

NEW_PROJECT = insert_if_absent(projects, "project_id")  # not planned, not classified: the defaults
NEW_COUNTER = insert_if_absent(approval_counters)
NEW_REVIEW = insert_if_absent(reviews)
PROJECT_ROW_LOCK = (
    select(projects.c.project_id).where(projects.c.project_id == bindparam("project_id")).with_for_update()
)
REVIEWS = select(reviews).where(reviews.c.project_id == bindparam("project_id"))
LATEST_APPLICATION_ROW = (
    select(applications)
    .where(applications.c.project_id == bindparam("project_id"))
    .order_by(applications.c.applied_at.desc(), applications.c.application_id.desc())
    .limit(1)
)
LATEST_APPLICATION = select(Application).from_statement(LATEST_APPLICATION_ROW)  # the same row, loaded
SET_REVIEW_BASIS = (
    update(applications)
    .where(applications.c.application_id == bindparam("the_application"))
    .values(status=bindparam("new_status"), review_id=bindparam("basis"))
)


class ReviewLedger:
    """The reviews approval has been told of, and the project lock, on a connection: statements
    only, nothing loaded into a session. Every value it returns is a copy: changing one changes
    nothing until it is saved."""

    def __init__(self, connection):
        self._connection = connection

    @property
    def connection(self):
        return self._connection

    def _known(self, project_id):
        """The project's row, added (not planned) if unknown; the unit of work's connection."""
        connection = self.connection
        connection.execute(NEW_PROJECT, {"project_id": project_id})
        return connection

    def lock_project(self, project_id):
        """The same lock as ``SqlRepository.locked_project``, for a change that does not read the project.

        On SQLite the unit of work already holds the database's write lock (``BEGIN IMMEDIATE``), so
        the insert is all it takes; on PostgreSQL ``SELECT … FOR UPDATE`` takes the row's.
        """
        connection = self._known(project_id)
        if connection.dialect.name != "sqlite":
            connection.execute(PROJECT_ROW_LOCK, {"project_id": project_id})

    def record_review(self, review):
        """Record a concluded review once; a redelivered conclusion of the same review changes nothing."""
        self.connection.execute(NEW_REVIEW, {column.name: getattr(review, column.name) for column in reviews.c})

    def reviews(self, project_id):
        """The project's concluded reviews, as values: read, never changed here."""
        rows = self.connection.execute(REVIEWS, {"project_id": project_id})
        return [ConcludedReview(**row._mapping) for row in rows]

    def latest_application(self, project_id):
        """The project's latest application, as a value (see ``save_review_basis``)."""
        row = self.connection.execute(LATEST_APPLICATION_ROW, {"project_id": project_id}).first()
        return None if row is None else Application(**row._mapping)

    def save_review_basis(self, application):
        """What a concluded review changed in the application: its status and the review it relies on."""
        self.connection.execute(
            SET_REVIEW_BASIS,
            {
                "the_application": application.application_id,
                "new_status": application.status,
                "basis": application.review_id,
            },
        )


class SqlRepository(ReviewLedger):
    """What the use cases load and store, in one unit of work's session: the ledger's statements on
    the session's connection, and the aggregates the session loads (changes to them are flushed)."""

    def __init__(self, session):
        self.session = session

    @property
    def connection(self):
        return self.session.connection()

    def locked_project(self, project_id):
        """The project's row, created (not planned) if unknown, locked until the transaction ends.

        Every change to a project's approval takes this lock first, so that an application lodged
        while a review event is being applied sees the review, or the review sees the application.
        (On SQLite the insert takes the database's write lock; on PostgreSQL ``FOR UPDATE`` takes the
        row's.) A refused call rolls back, so an unknown project is not left behind.
        """
        self._known(project_id)
        return self.session.get(Project, project_id, with_for_update=True)

    def project(self, project_id):
        return self.session.get(Project, project_id)

    def locked_counter(self, year):
        self.connection.execute(NEW_COUNTER, {"year": year})
        return self.session.get(ApprovalCounter, year, with_for_update=True)

    def latest_application(self, project_id):
        """The project's latest application, loaded into the session: changes to it are saved."""
        return self.session.scalars(LATEST_APPLICATION, {"project_id": project_id}).first()

    def add(self, application):
        self.session.add(application)

    def count_by_status(self):
        return self.session.execute(select(Application.status, func.count()).group_by(Application.status)).all()


class SqlReading:
    """A read-only unit of work: the repository on a session that takes no lock and emits nothing."""

    def __init__(self, session):
        self.repo = SqlRepository(session)
