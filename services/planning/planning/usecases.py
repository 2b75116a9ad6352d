"""Planning's use cases, one function each: load through ``uow.repo`` (an aggregate about to change
is loaded locked), let the domain decide, add what is new, and ``uow.emit`` the events the decision
returned. A decision takes the open unit of work and returns what it decided; a refusal raises a
domain error and, the unit of work being rolled back, changes nothing. The queries take the
repository alone: they read outside any write transaction.

Shape: ``use_case(uow, <the request's values>, caller, [today, now,] rules) -> result``.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

from nxshared.core.caller import Caller
from nxshared.core.errors import NotFound
from nxshared.core.events import Event
from nxshared.core.uow import UnitOfWork
from planning.domain import changes, declaration, plans, timeline
from planning.domain.changes import ChangeRequest, UnauthorizedChange
from planning.domain.declaration import PlanningRules, PlanType, Project
from planning.domain.plans import AnnualPlan
from planning.domain.timeline import IpException, TimelineEntry


class PlanningRepository(Protocol):
    """What the use cases need of a repository (``SqlRepository``; ``FakeRepository`` in tests)."""

    def project(self, project_id: str) -> Project | None: ...
    def locked_project(self, project_id: str) -> Project | None: ...
    def projects(
        self, year: int | None = None, status: str | None = None, unit: str | None = None, plan_type: str | None = None
    ) -> list[Project]: ...
    def locked_projects(self, year: int, plan_type: str) -> list[Project]: ...
    def add_project(self, project: Project) -> None: ...
    def locked_plan(self, year: int) -> AnnualPlan | None: ...
    def add_plan(self, plan: AnnualPlan) -> None: ...
    def locked_change(self, change_id: str) -> ChangeRequest | None: ...
    def add_change(self, change: ChangeRequest) -> None: ...
    def locked_open_unauthorized_changes(self, project_id: str) -> list[UnauthorizedChange]: ...
    def add_unauthorized_change(self, report: UnauthorizedChange) -> None: ...
    def timeline(self, project_id: str) -> list[TimelineEntry]: ...
    def add_timeline_entry(self, entry: TimelineEntry) -> None: ...
    def ip_exceptions(self) -> list[IpException]: ...
    def save_ip_exception(self, exception: IpException) -> None: ...


Uow: TypeAlias = UnitOfWork[PlanningRepository]


# --- declarations (Art 6, 8, 9, 25) --------------------------------------------------------------


def declare_project(
    uow: Uow, fields_: Mapping[str, Any], caller: Caller, today: dt.date, now: dt.datetime, rules: PlanningRules
) -> Project:
    project, events = declaration.declare(fields_, caller, today, rules, now)
    uow.repo.add_project(project)
    uow.emit(*events)
    return project


def get_project(repo: PlanningRepository, project_id: str, caller: Caller, rules: PlanningRules) -> Project:
    return declaration.check_visible(caller, repo.project(project_id), rules)


@dataclass(frozen=True)
class Page:
    items: list[Project]
    total: int


def list_projects(
    repo: PlanningRepository,
    caller: Caller,
    rules: PlanningRules,
    year: int | None = None,
    status: str | None = None,
    unit: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Page:
    """The projects ``caller`` may see (Art 25), filtered, one page of them and how many there are."""
    visible = [p for p in repo.projects(year, status, unit) if declaration.can_see(caller, p, rules)]
    start = (page - 1) * page_size
    return Page(visible[start : start + page_size], len(visible))


# --- annual plan (Art 9) -------------------------------------------------------------------------


def compile_annual_plan(
    uow: Uow, year: int, project_ids: list[str], caller: Caller, rules: PlanningRules
) -> AnnualPlan:
    chosen = [declaration.check_visible(caller, uow.repo.project(pid), rules) for pid in project_ids]
    existing = uow.repo.locked_plan(year)
    plan, events = plans.compile_plan(year, chosen, existing, caller)
    if existing is None:
        uow.repo.add_plan(plan)
    uow.emit(*events)
    return plan


def concur_annual_plan(uow: Uow, year: int, caller: Caller) -> AnnualPlan:
    """Locked: finance and DRC concurring at the same moment are both counted."""
    plan, events = plans.concur_plan(_existing_plan(uow, year), caller)
    uow.emit(*events)
    return plan


def approve_annual_plan(uow: Uow, year: int, caller: Caller) -> AnnualPlan:
    existing = uow.repo.locked_plan(year)
    declared = uow.repo.locked_projects(year, PlanType.ANNUAL.value)
    plan, events = plans.approve_plan(existing, declared, caller)
    uow.emit(*events)
    return plan


def _existing_plan(uow: Uow, year: int) -> AnnualPlan:
    plan = uow.repo.locked_plan(year)
    if plan is None:
        raise NotFound("PLAN_NOT_FOUND", f"{year} 年度计划尚未编制")
    return plan


# --- supplementary plan (Art 9) ------------------------------------------------------------------


def review_supplementary(
    uow: Uow, project_id: str, decision: str, opinion: str, caller: Caller, rules: PlanningRules
) -> Project:
    project = declaration.check_visible(caller, uow.repo.locked_project(project_id), rules)
    project, events = plans.review_supplementary(project, decision, opinion, caller)
    uow.emit(*events)
    return project


def approve_supplementary(uow: Uow, project_id: str, caller: Caller, rules: PlanningRules) -> Project:
    project = declaration.check_visible(caller, uow.repo.locked_project(project_id), rules)
    project, events = plans.approve_supplementary(project, caller)
    uow.emit(*events)
    return project


# --- change control (Art 18) ---------------------------------------------------------------------


def request_change(
    uow: Uow, project_id: str, description: str, reason: str, caller: Caller, rules: PlanningRules
) -> ChangeRequest:
    project = declaration.check_visible(caller, uow.repo.project(project_id), rules)
    declaration.check_owner(caller, project)
    change, events = changes.request_change(project, caller, description, reason)
    uow.repo.add_change(change)
    uow.emit(*events)
    return change


def review_change(uow: Uow, change_id: str, decision: str, opinion: str, caller: Caller) -> ChangeRequest:
    found = uow.repo.locked_change(change_id)
    if found is None:
        raise NotFound("CHANGE_NOT_FOUND", "变更申请不存在")
    change, events = changes.decide_change(found, decision, opinion, caller)
    uow.emit(*events)
    return change


def report_unauthorized_change(
    uow: Uow, project_id: str, description: str, caller: Caller, rules: PlanningRules
) -> UnauthorizedChange:
    project = declaration.check_visible(caller, uow.repo.project(project_id), rules)
    report, events = changes.report_unauthorized_change(project, description, caller)
    uow.repo.add_unauthorized_change(report)
    uow.emit(*events)
    return report


def resolve_unauthorized_change(
    uow: Uow, project_id: str, opinion: str, caller: Caller, rules: PlanningRules
) -> list[UnauthorizedChange]:
    project = declaration.check_visible(caller, uow.repo.project(project_id), rules)
    open_reports = uow.repo.locked_open_unauthorized_changes(project_id)
    reports, events = changes.resolve_unauthorized_changes(project, open_reports, opinion, caller)
    uow.emit(*events)
    return reports


def list_ip_exceptions(repo: PlanningRepository) -> list[IpException]:
    return repo.ip_exceptions()


# --- timeline ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectTimeline:
    project_id: str
    stage: str
    entries: list[TimelineEntry]


def get_timeline(repo: PlanningRepository, project_id: str, caller: Caller, rules: PlanningRules) -> ProjectTimeline:
    """The project's events in order and its stage: the latest stage-changing event's, or else its
    planning status."""
    project = declaration.check_visible(caller, repo.project(project_id), rules)
    entries = repo.timeline(project_id)
    return ProjectTimeline(project_id, timeline.stage_of(entries) or project.status, entries)


def record_timeline(uow: Uow, evt: Event) -> TimelineEntry | None:
    """Any event of the contract about a project, once (a redelivered one changes nothing)."""
    entry = timeline.entry_of(evt)
    if entry is None or not uow.first_time(evt):
        return None
    uow.repo.add_timeline_entry(entry)
    return entry


def register_ip_exception(uow: Uow, evt: Event, data: Mapping[str, Any]) -> IpException | None:
    """Art 17: finance's report of a contract whose source code the unit does not own, once."""
    exception = timeline.ip_exception_of(evt, data)
    if not uow.first_time(evt):
        return None
    uow.repo.save_ip_exception(exception)
    return exception
