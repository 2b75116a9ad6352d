"""Review's storage on SQLAlchemy's ORM: what the review's use cases load and add
(``usecases.ReviewRepository``) and the queries behind the business gauges (delivery and acceptance
keep theirs in ``review.delivery_repository``). A ``locked_…`` method takes the row for update
(PostgreSQL; SQLite's write transaction serialises writers anyway), so that two concurrent calls on
the same project or review are applied one after the other."""

import datetime as dt
import weakref

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from nxshared.tables import insert_if_absent
from review.domain import Expert, KnownProject, PlannedProject, Review, ReviewStatus, SimilarityIndex
from review.models import corpus_version

OPEN = ReviewStatus.UNDER_REVIEW.value
NEW_CORPUS_VERSION = insert_if_absent(corpus_version)
NEXT_CORPUS_VERSION = (
    update(corpus_version).where(corpus_version.c.id == 1).values(version=corpus_version.c.version + 1)
).returning(corpus_version.c.version)
# Art 12 duplicates: one index per database, a cache of known_projects caught up by corpus version
_INDEXES: "weakref.WeakKeyDictionary[Engine, SimilarityIndex]" = weakref.WeakKeyDictionary()


class SqlRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def planned_project(self, project_id: str) -> PlannedProject | None:
        return self.session.get(PlannedProject, project_id)

    def locked_planned_project(self, project_id: str) -> PlannedProject | None:
        return self.session.get(PlannedProject, project_id, with_for_update=True)

    def save_project(self, project: PlannedProject) -> None:
        self.session.merge(project)

    def review(self, review_id: str) -> Review | None:
        return self.session.get(Review, review_id)

    def locked_review(self, review_id: str) -> Review | None:
        return self.session.get(Review, review_id, with_for_update=True)

    def reviews_of(self, project_id: str) -> list[Review]:
        """A project's reviews, oldest first."""
        query = select(Review).where(Review.project_id == project_id).order_by(Review.submitted_at, Review.review_id)
        return list(self.session.scalars(query))

    def add_review(self, review: Review) -> None:
        self.session.add(review)

    def expert(self, expert_id: str) -> Expert | None:
        return self.session.get(Expert, expert_id)

    def add_expert(self, expert: Expert) -> None:
        self.session.add(expert)

    # --- the projects the county declared or planned (Art 12 duplicates) ----------------------------

    def known_project(self, project_id: str) -> KnownProject | None:
        return self.session.get(KnownProject, project_id)

    def locked_known_project(self, project_id: str) -> KnownProject | None:
        return self.session.get(KnownProject, project_id, with_for_update=True)

    def save_known_project(self, project: KnownProject) -> None:
        """Writes the project at the next corpus version. The version row's lock (PostgreSQL; SQLite
        serialises writers) makes the versions commit in their order: a reader that has seen version
        v has seen every change up to v."""
        connection = self.session.connection()
        connection.execute(NEW_CORPUS_VERSION, {"id": 1, "version": 0})
        project.version = connection.execute(NEXT_CORPUS_VERSION).scalar_one()
        self.session.merge(project)

    def similarity_index(self) -> SimilarityIndex:
        """The index of every known project, caught up with what has committed: the rows written
        since the version it holds (all of them when the corpus is younger than the index: a
        database emptied or replaced)."""
        engine = self.session.get_bind()
        index = _INDEXES.get(engine)
        current = self.session.scalar(select(corpus_version.c.version).where(corpus_version.c.id == 1)) or 0
        if index is None or current < index.version:
            index = _INDEXES[engine] = SimilarityIndex()
        if current > index.version:
            rows = self.session.scalars(select(KnownProject).where(KnownProject.version > index.version)).all()
            found = [
                KnownProject(p.project_id, p.name, p.summary, p.unit, p.classified, p.status, p.version) for p in rows
            ]
            with index.lock:
                for project in found:
                    index.put(project)
                    index.version = max(index.version, project.version)
        return index

    # --- business gauges ------------------------------------------------------------------------

    def open_by_route(self) -> dict[str, int]:
        rows = self.session.execute(
            select(Review.route, func.count()).where(Review.status == OPEN).group_by(Review.route)
        )
        return {route: count for route, count in rows}

    def open_reviews_submitted_before(self, day: dt.date) -> list[Review]:
        """Reviews under way submitted before ``day`` (UTC), for the reminders."""
        since = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        query = select(Review).where(Review.status == OPEN, Review.submitted_at < since).order_by(Review.submitted_at)
        return list(self.session.scalars(query))

    def oldest_open_submitted_at(self) -> dt.datetime | None:
        return self.session.scalar(select(func.min(Review.submitted_at)).where(Review.status == OPEN))
