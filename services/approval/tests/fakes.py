"""An in-memory repository for the use-case tests, with the semantics of ``SqlRepository``."""

from approval.domain import Application, ApprovalCounter, ConcludedReview, Project


class FakeRepository:
    def __init__(self) -> None:
        self.projects: dict[str, Project] = {}
        self.concluded: dict[str, ConcludedReview] = {}
        self.applications: list[Application] = []  # in the order they were lodged
        self.counters: dict[int, ApprovalCounter] = {}

    def locked_project(self, project_id: str) -> Project:
        return self.projects.setdefault(project_id, Project(project_id))

    def lock_project(self, project_id: str) -> None:
        self.locked_project(project_id)

    def project(self, project_id: str) -> Project | None:
        return self.projects.get(project_id)

    def locked_counter(self, year: int) -> ApprovalCounter:
        return self.counters.setdefault(year, ApprovalCounter(year))

    def latest_application(self, project_id: str) -> Application | None:
        return next((a for a in reversed(self.applications) if a.project_id == project_id), None)

    def reviews(self, project_id: str) -> list[ConcludedReview]:
        return [r for r in self.concluded.values() if r.project_id == project_id]

    def record_review(self, review: ConcludedReview) -> None:
        self.concluded.setdefault(review.review_id, review)

    def add(self, application: Application) -> None:
        self.applications.append(application)

    def save_review_basis(self, application: Application) -> None:
        """In memory the application handed out is the one kept: nothing to copy back."""
