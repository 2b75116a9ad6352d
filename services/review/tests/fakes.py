"""An in-memory stand-in for ``review.repository.SqlRepository`` and
``review.delivery_repository.DeliveryRepository``, for the use-case tests. As those do, it hands out
deliveries and pre-checks that are the caller's own: a change is kept only by its ``save_…``."""

from copy import deepcopy

from review.domain import (
    Acceptance,
    Delivery,
    Expert,
    KnownProject,
    PlannedProject,
    Precheck,
    Review,
    SimilarityIndex,
    Supervisor,
    TestReport,
)


class FakeRepository:
    def __init__(self) -> None:
        self.projects: dict[str, PlannedProject] = {}
        self.reviews: dict[str, Review] = {}
        self.experts: dict[str, Expert] = {}
        self.deliveries: dict[str, Delivery] = {}
        self.test_reports: dict[str, TestReport] = {}
        self.prechecks: dict[str, Precheck] = {}
        self.acceptances: dict[str, Acceptance] = {}
        self.known: dict[str, KnownProject] = {}
        self.corpus_version = 0

    def planned_project(self, project_id: str) -> PlannedProject | None:
        return self.projects.get(project_id)

    locked_planned_project = planned_project

    def save_project(self, project: PlannedProject) -> None:
        self.projects[project.project_id] = project

    def review(self, review_id: str) -> Review | None:
        return self.reviews.get(review_id)

    locked_review = review

    def reviews_of(self, project_id: str) -> list[Review]:
        mine = [r for r in self.reviews.values() if r.project_id == project_id]
        return sorted(mine, key=lambda r: (r.submitted_at, r.review_id))

    def add_review(self, review: Review) -> None:
        self.reviews[review.review_id] = review

    def expert(self, expert_id: str) -> Expert | None:
        return self.experts.get(expert_id)

    def add_expert(self, expert: Expert) -> None:
        self.experts[expert.expert_id] = expert

    def delivery(self, project_id: str) -> Delivery | None:
        return deepcopy(self.deliveries.get(project_id))

    locked_delivery = delivery

    def delivery_to_learn(self, project_id: str) -> Delivery:
        return deepcopy(self.deliveries.setdefault(project_id, Delivery(project_id=project_id)))

    def save_delivery(self, delivery: Delivery) -> None:
        kept = self.deliveries[delivery.project_id]
        self.deliveries[delivery.project_id] = deepcopy(delivery)
        self.deliveries[delivery.project_id].supervisor = kept.supervisor  # kept by ``save_supervisor``

    def save_supervisor(self, supervisor: Supervisor) -> None:
        self.deliveries[supervisor.project_id].supervisor = deepcopy(supervisor)

    def review_outcomes(self, project_id: str) -> list[tuple[str, str]]:
        return [(r.route, r.status) for r in self.reviews_of(project_id)]

    def add_test_report(self, report: TestReport) -> None:
        self.test_reports[report.report_id] = report

    def precheck(self, precheck_id: str | None) -> Precheck | None:
        return None if precheck_id is None else deepcopy(self.prechecks.get(precheck_id))

    def add_precheck(self, precheck: Precheck) -> None:
        self.prechecks[precheck.precheck_id] = deepcopy(precheck)

    save_precheck = add_precheck

    def add_acceptance(self, acceptance: Acceptance) -> None:
        self.acceptances[acceptance.acceptance_id] = acceptance

    def known_project(self, project_id: str) -> KnownProject | None:
        return self.known.get(project_id)

    locked_known_project = known_project

    def save_known_project(self, project: KnownProject) -> None:
        self.corpus_version += 1
        project.version = self.corpus_version
        self.known[project.project_id] = project

    def similarity_index(self) -> SimilarityIndex:
        index = SimilarityIndex()
        for project in self.known.values():
            index.put(project)
        return index
