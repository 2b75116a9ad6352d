"""Review's queries. ``lock=True`` takes the row for update, so that two concurrent calls on the
same project or review are applied one after the other."""

from sqlalchemy import func, select

from review.domain import Expert, PlannedProject, Review, ReviewStatus

OPEN = ReviewStatus.UNDER_REVIEW.value


def planned_project(session, project_id, lock=False):
    return session.get(PlannedProject, project_id, with_for_update=lock) if isinstance(project_id, str) else None


def review(session, review_id, lock=False):
    return session.get(Review, review_id, with_for_update=lock) if isinstance(review_id, str) else None


def expert(session, expert_id):
    return session.get(Expert, expert_id) if isinstance(expert_id, str) else None


def reviews_of(session, project_id):
    """A project's reviews, oldest first."""
    query = select(Review).where(Review.project_id == project_id).order_by(Review.submitted_at, Review.review_id)
    return list(session.scalars(query))


def open_by_route(session):
    return session.execute(select(Review.route, func.count()).where(Review.status == OPEN).group_by(Review.route)).all()


def oldest_open_submitted_at(session):
    return session.scalar(select(func.min(Review.submitted_at)).where(Review.status == OPEN))
