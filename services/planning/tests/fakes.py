"""An in-memory stand-in for ``planning.repository.SqlRepository``, for the use-case tests."""

from planning.domain.changes import ChangeRequest, UnauthorizedChange
from planning.domain.declaration import Project, Scope, in_scope
from planning.domain.plans import AnnualPlan
from planning.domain.risk import Basis, Override, Plan
from planning.domain.timeline import DISCLOSED, Disclosure, IpException, TimelineEntry
from planning.usecases import ProjectFilters


def _order(p: Project):
    return (p.plan_year, p.declared_at, p.project_id)


class FakeRepository:
    def __init__(self) -> None:
        self.projects_by_id: dict[str, Project] = {}
        self.plans: dict[int, AnnualPlan] = {}
        self.changes: dict[str, ChangeRequest] = {}
        self.unauthorized: dict[str, UnauthorizedChange] = {}
        self.entries: list[TimelineEntry] = []
        self.register: dict[str, IpException] = {}
        self.risks: dict[str, Basis] = {}
        self.overrides: list[Override] = []

    def project(self, project_id: str) -> Project | None:
        return self.projects_by_id.get(project_id)

    locked_project = project

    def projects_by_ids(self, project_ids: list[str]) -> list[Project]:
        return [self.projects_by_id[pid] for pid in project_ids if pid in self.projects_by_id]

    def page_of_projects(
        self, scope: Scope, filters: ProjectFilters, offset: int, limit: int
    ) -> tuple[list[Project], int]:
        wanted = {"plan_year": filters.year, "status": filters.status, "unit": filters.unit}
        found = sorted(
            (
                p
                for p in self.projects_by_id.values()
                if in_scope(scope, p) and all(v is None or getattr(p, k) == v for k, v in wanted.items())
            ),
            key=_order,
        )
        return found[offset : offset + limit], len(found)

    def locked_projects(self, year: int, plan_type: str) -> list[Project]:
        found = [p for p in self.projects_by_id.values() if (p.plan_year, p.plan_type) == (year, plan_type)]
        return sorted(found, key=_order)

    def add_project(self, project: Project) -> None:
        self.projects_by_id[project.project_id] = project

    def locked_plan(self, year: int) -> AnnualPlan | None:
        return self.plans.get(year)

    def locked_plan_status(self, year: int) -> str | None:
        plan = self.plans.get(year)
        return plan.status if plan is not None else None

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

    def on_timeline(self, event_id: str, project_id: str) -> bool:
        return any((e.event_id, e.project_id) == (event_id, project_id) for e in self.entries)

    def later_on_timeline(self, entry: TimelineEntry) -> bool:
        return any(e.project_id == entry.project_id and e.occurred_at > entry.occurred_at for e in self.entries)

    def add_timeline_entries(self, entries: list[TimelineEntry]) -> None:
        for entry in entries:
            entry.seq = len(self.entries) + 1
            self.entries.append(entry)

    def locked_disclosure(self, project_id: str) -> Disclosure | None:
        p = self.projects_by_id.get(project_id)
        if p is None:
            return None
        shown = {name: getattr(p, name) for name in DISCLOSED}
        return Disclosure(p.project_id, p.status, **shown)

    def save_disclosure(self, disclosure: Disclosure) -> None:
        project = self.projects_by_id[disclosure.project_id]
        for name in DISCLOSED:
            setattr(project, name, getattr(disclosure, name))

    def ip_exceptions(self) -> list[IpException]:
        return sorted(self.register.values(), key=lambda e: e.reported_at)

    def save_ip_exception(self, exception: IpException) -> None:
        self.register[exception.contract_no] = exception

    def locked_risk_plan(self, project_id: str) -> Plan | None:
        p = self.projects_by_id.get(project_id)
        return None if p is None else Plan(p.plan_year, p.annual_investments, p.status)

    def add_risk(self, project_id: str, basis: Basis) -> None:
        self.risks[project_id] = basis

    def save_risk(self, project_id: str, basis: Basis) -> None:
        self.risks[project_id] = basis

    def risk_basis(self, project_id: str) -> Basis | None:
        return self.risks.get(project_id)

    def latest_risk_override(self, project_id: str) -> Override | None:
        found = [o for o in self.overrides if o.project_id == project_id]
        return found[-1] if found else None

    def add_risk_override(self, kept: Override) -> None:
        self.overrides.append(kept)
