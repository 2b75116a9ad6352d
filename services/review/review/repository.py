"""Review's storage on SQLAlchemy's ORM: what the review's use cases load and add
(``usecases.ReviewRepository``) and the queries behind the business gauges (delivery and acceptance
keep theirs in ``review.delivery_repository``). A ``locked_…`` method takes the row for update
(PostgreSQL; SQLite's write transaction serialises writers anyway), so that two concurrent calls on
the same project or review are applied one after the other."""

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from review.domain import Expert, PlannedProject, Review, ReviewStatus

OPEN = ReviewStatus.UNDER_REVIEW.value


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

    # --- business gauges ------------------------------------------------------------------------

    def open_by_route(self) -> dict[str, int]:
        rows = self.session.execute(
            select(Review.route, func.count()).where(Review.status == OPEN).group_by(Review.route)
        )
        return {route: count for route, count in rows}

    def oldest_open_submitted_at(self) -> dt.datetime | None:
        return self.session.scalar(select(func.min(Review.submitted_at)).where(Review.status == OPEN))
