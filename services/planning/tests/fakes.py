"""An in-memory stand-in for ``planning.repository.SqlRepository``, for the use-case tests."""

from planning.domain.changes import ChangeRequest, UnauthorizedChange
from planning.domain.declaration import Project
from planning.domain.plans import AnnualPlan
from planning.domain.timeline import IpException, TimelineEntry


class FakeRepository:
    def __init__(self) -> None:
        self.projects_by_id: dict[str, Project] = {}
        self.plans: dict[int, AnnualPlan] = {}
        self.changes: dict[str, ChangeRequest] = {}
        self.unauthorized: dict[str, UnauthorizedChange] = {}
        self.entries: list[TimelineEntry] = []
        self.register: dict[str, IpException] = {}

    def project(self, project_id: str) -> Project | None:
        return self.projects_by_id.get(project_id)

    locked_project = project

    def projects(
        self, year: int | None = None, status: str | None = None, unit: str | None = None, plan_type: str | None = None
    ) -> list[Project]:
        wanted = {"plan_year": year, "status": status, "unit": unit, "plan_type": plan_type}
        found = [
            p
            for p in self.projects_by_id.values()
            if all(value is None or getattr(p, key) == value for key, value in wanted.items())
        ]
        return sorted(found, key=lambda p: (p.plan_year, p.declared_at, p.project_id))

    def locked_projects(self, year: int, plan_type: str) -> list[Project]:
        return self.projects(year=year, plan_type=plan_type)

    def add_project(self, project: Project) -> None:
        self.projects_by_id[project.project_id] = project

    def locked_plan(self, year: int) -> AnnualPlan | None:
        return self.plans.get(year)

    def add_plan(self, plan: AnnualPlan) -> None:
        self.plans[plan.year] = plan

    def locked_change(self, change_id: str) -> ChangeRequest | None:
        return self.changes.get(change_id)

    def add_change(self, change: ChangeRequest) -> None:
        self.changes[change.change_id] = change

    def locked_open_unauthorized_changes(self, project_id: str) -> list[UnauthorizedChange]:
        return [r for r in self.unauthorized.values() if r.project_id == project_id and not r.resolved]

    def add_unauthorized_change(self, report: UnauthorizedChange) -> None:
        self.unauthorized[report.report_id] = report

    def timeline(self, project_id: str) -> list[TimelineEntry]:
        mine = [e for e in self.entries if e.project_id == project_id]
        return sorted(mine, key=lambda e: (e.occurred_at, e.seq or 0))

    def add_timeline_entry(self, entry: TimelineEntry) -> None:
        entry.seq = len(self.entries) + 1
        self.entries.append(entry)

    def ip_exceptions(self) -> list[IpException]:
        return sorted(self.register.values(), key=lambda e: e.reported_at)

    def save_ip_exception(self, exception: IpException) -> None:
        self.register[exception.contract_no] = exception
