"""Planning's use cases, one function each: load through ``uow.repo`` (an aggregate about to change
is loaded locked), let the domain decide, add what is new, and ``uow.emit`` the events the decision
returned. A decision takes the open unit of work and returns what it decided; a refusal raises a
domain error and, the unit of work being rolled back, changes nothing. The queries take the
repository alone: they read outside any write transaction.

Shape: ``use_case(uow, <the request's values>, caller, [today, now,] rules) -> result``.
"""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, TypeAlias

from nxshared.core.caller import Caller
from nxshared.core.errors import NotFound
from nxshared.core.events import DomainEvent, Event
from nxshared.core.reminders import send_reminders
from nxshared.core.uow import UnitOfWork
from planning.domain import changes, declaration, plan_sheet, plans, risk, timeline
from planning.domain.changes import ChangeRequest, UnauthorizedChange
from planning.domain.declaration import PlanningRules, PlanType, Project, Scope
from planning.domain.plans import AnnualPlan
from planning.domain.reminders import ReminderRules, StoredReminder, check_due_range, stored_of, window_reminders
from planning.domain.risk import Assessment, Basis, Override, RiskRules
from planning.domain.timeline import Disclosure, IpException, TimelineEntry

# A project as a list shows it: the repository reads a page as rows (mappings of the project's
# fields), never to be changed; a fake repository may hand back the domain objects themselves.
ListedProject: TypeAlias = Mapping[str, Any] | Project


@dataclass(frozen=True)
class ProjectFilters:
    year: int | None = None
    status: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class PublicFilters:
    """What the public may filter the disclosed projects by (Art 25)."""

    year: int | None = None
    unit: str | None = None
    category: str | None = None
    stage: str | None = None


class TimelineLedger(Protocol):
    """What ``record_timeline`` needs: statements only, its values copies (``save_disclosure``)."""

    def timeline(self, project_id: str) -> list[TimelineEntry]: ...
    def on_timeline(self, event_id: str, project_id: str) -> bool: ...
    def later_on_timeline(self, entry: TimelineEntry) -> bool: ...
    def add_timeline_entries(self, entries: Sequence[TimelineEntry]) -> None: ...
    def locked_disclosure(self, project_id: str) -> Disclosure | None: ...
    def save_disclosure(self, disclosure: Disclosure) -> None: ...
    def locked_risk_plan(self, project_id: str) -> risk.Plan | None: ...
    def add_risk(self, project_id: str, basis: Basis) -> None: ...
    def save_risk(self, project_id: str, basis: Basis) -> None: ...


class Declarations(TimelineLedger, Protocol):
    """What ``declare_project`` needs: statements only, the new project inserted as it is handed over."""

    def locked_plan_status(self, year: int) -> str | None: ...
    def add_project(self, project: Project) -> None: ...


class PlanningRepository(Declarations, Protocol):
    """What the use cases need of a repository (``SqlRepository``; ``FakeRepository`` in tests)."""

    def project(self, project_id: str) -> Project | None: ...
    def locked_project(self, project_id: str) -> Project | None: ...
    def projects_by_ids(self, project_ids: list[str]) -> list[Project]: ...
    def page_of_projects(
        self, scope: Scope, filters: ProjectFilters, offset: int, limit: int
    ) -> tuple[list[ListedProject], int]: ...
    def locked_projects(self, year: int, plan_type: str) -> list[Project]: ...
    def plan_rows(self, year: int, scope: Scope | None, in_plan: Sequence[str] = ()) -> list[Mapping[str, Any]]: ...
    def plan(self, year: int) -> AnnualPlan | None: ...
    def locked_plan(self, year: int) -> AnnualPlan | None: ...
    def add_plan(self, plan: AnnualPlan) -> None: ...
    def locked_change(self, change_id: str) -> ChangeRequest | None: ...
    def add_change(self, change: ChangeRequest) -> None: ...
    def locked_open_unauthorized_changes(self, project_id: str) -> list[UnauthorizedChange]: ...
    def add_unauthorized_change(self, report: UnauthorizedChange) -> None: ...
    def risk_basis(self, project_id: str) -> Basis | None: ...
    def latest_risk_override(self, project_id: str) -> Override | None: ...
    def add_risk_override(self, kept: Override) -> None: ...
    def ip_exceptions(self) -> list[IpException]: ...
    def save_ip_exception(self, exception: IpException) -> None: ...


Uow: TypeAlias = UnitOfWork[PlanningRepository]


def _decided(
    uow: UnitOfWork[TimelineLedger],
    events: list[DomainEvent],
    projects: Iterable[Project] = (),
    plan_ids: Iterable[str] = (),
    rules: PlanningRules | None = None,
):
    """Emits what a decision caused and puts each event on the timeline of the projects it is
    about, in the same transaction; ``projects`` (the ones decided about) keep their stage, each
    entry being its project's latest (one naming no stage leaves it: every timeline begins with the
    project's ``project.declared``). With ``rules``, a project whose rating an entry changes is
    rated again (the decisions that emit such events pass them)."""
    by_id = {p.project_id: p for p in projects}
    named = list(plan_ids)
    entries = [entry for evt in uow.emit(*events) for entry in timeline.own_entries(evt, named)]
    uow.repo.add_timeline_entries(entries)
    for entry in entries:
        if entry.project_id in by_id:
            timeline.advance(by_id[entry.project_id], entry)
    if rules is not None:
        for project_id in dict.fromkeys(e.project_id for e in entries if e.event_type in risk.RISK_EVENTS):
            rate(uow.repo, project_id, rules.risk)


# --- declarations (Art 6, 8, 9, 25) --------------------------------------------------------------


def declare_project(
    uow: UnitOfWork[Declarations],
    fields_: Mapping[str, Any],
    caller: Caller,
    today: dt.date,
    now: dt.datetime,
    rules: PlanningRules,
) -> Project:
    """The year's plan is read locked: a declaration and the plan's approval do not cross. The
    project is added once its events have put it on its timeline, with the stage they gave it."""
    annual = fields_.get("plan_type") == PlanType.ANNUAL.value
    approved = annual and uow.repo.locked_plan_status(fields_["plan_year"]) == plans.PlanStatus.APPROVED.value
    project, events = declaration.declare(fields_, caller, today, rules, now, plan_approved=approved)
    _decided(uow, events, [project])
    uow.repo.add_project(project)
    plan = risk.Plan(project.plan_year, project.annual_investments, project.status)
    uow.repo.add_risk(project.project_id, risk.basis(plan, [], rules.risk))
    return project


def get_project(repo: PlanningRepository, project_id: str, caller: Caller, rules: PlanningRules) -> Project:
    return declaration.check_visible(caller, repo.project(project_id), rules)


@dataclass(frozen=True)
class Page:
    items: list[ListedProject]
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
    """The projects ``caller`` may see (Art 25), filtered, one page of them and how many there are:
    the repository selects, orders, counts and pages in its query."""
    scope = declaration.scope_of(caller, rules)
    items, total = repo.page_of_projects(scope, ProjectFilters(year, status, unit), (page - 1) * page_size, page_size)
    return Page(items, total)


# --- annual plan (Art 9) -------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanView:
    """An annual plan as one caller may see it: classified projects only to those who may see
    them (Art 25); the total stays the plan's true total."""

    year: int
    project_ids: list[str]
    total_investment: Decimal
    status: str
    concurred_by: list[str]


def _view(repo: PlanningRepository, plan: AnnualPlan, caller: Caller, rules: PlanningRules) -> PlanView:
    seen = {p.project_id for p in repo.projects_by_ids(plan.project_ids) if declaration.can_see(caller, p, rules)}
    visible = [pid for pid in plan.project_ids if pid in seen]
    return PlanView(plan.year, visible, plan.total_investment, plan.status, list(plan.concurred_by))


def compile_annual_plan(uow: Uow, year: int, project_ids: list[str], caller: Caller, rules: PlanningRules) -> PlanView:
    chosen = [declaration.check_visible(caller, uow.repo.project(pid), rules) for pid in project_ids]
    existing = uow.repo.locked_plan(year)
    plan, events = plans.compile_plan(year, chosen, existing, caller)
    if existing is None:
        uow.repo.add_plan(plan)
    _decided(uow, events, plan_ids=plan.project_ids)
    return _view(uow.repo, plan, caller, rules)


def concur_annual_plan(uow: Uow, year: int, caller: Caller, rules: PlanningRules) -> PlanView:
    """Locked: finance and DRC concurring at the same moment are both counted."""
    plan, events = plans.concur_plan(_existing_plan(uow, year), caller)
    _decided(uow, events, plan_ids=plan.project_ids)
    return _view(uow.repo, plan, caller, rules)


def approve_annual_plan(uow: Uow, year: int, caller: Caller, rules: PlanningRules) -> PlanView:
    existing = uow.repo.locked_plan(year)
    declared = uow.repo.locked_projects(year, PlanType.ANNUAL.value)
    plan, events = plans.approve_plan(existing, declared, caller)
    _decided(uow, events, declared, plan_ids=plan.project_ids, rules=rules)
    return _view(uow.repo, plan, caller, rules)


def annual_plan_sheet(
    repo: PlanningRepository, year: int, caller: Caller, rules: PlanningRules
) -> plan_sheet.PlanSheet:
    """The year's plan as the county government and the bureaus read it: the planned projects and,
    while the annual plan is being concurred, the projects compiled into it; classified ones only
    for those who may see them (Art 25)."""
    plan = repo.plan(year)
    rows = repo.plan_rows(year, declaration.scope_of(caller, rules), plan.project_ids if plan else ())
    return plan_sheet.plan_sheet(year, plan.status if plan else None, map(plan_sheet.line_of, rows))


def public_plan_sheet(repo: PlanningRepository, year: int) -> plan_sheet.PlanSheet | None:
    """The year's plan as the public sees it (Art 25): its planned projects, never a classified one;
    None when there is neither a plan nor a planned project for that year."""
    plan = repo.plan(year)
    rows = repo.plan_rows(year, None)
    if plan is None and not rows:
        return None
    return plan_sheet.plan_sheet(year, plan.status if plan else None, map(plan_sheet.line_of, rows))


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
    _decided(uow, events, [project], rules=rules)
    return project


def approve_supplementary(uow: Uow, project_id: str, caller: Caller, rules: PlanningRules) -> Project:
    project = declaration.check_visible(caller, uow.repo.locked_project(project_id), rules)
    project, events = plans.approve_supplementary(project, caller)
    _decided(uow, events, [project])
    return project


# --- change control (Art 18) ---------------------------------------------------------------------


def request_change(
    uow: Uow, project_id: str, change: Mapping[str, Any], caller: Caller, rules: PlanningRules
) -> ChangeRequest:
    """``change``: ``description``, ``reason`` and optionally a new ``estimated_investment``. A
    project the caller may not see is not found before anyone asks who owns it."""
    project = declaration.check_visible(caller, uow.repo.project(project_id), rules)
    declaration.check_owner(caller, project)
    requested, events = changes.request_change(
        project, caller, change["description"], change.get("reason", ""), change.get("estimated_investment")
    )
    uow.repo.add_change(requested)
    _decided(uow, events, [project])
    return requested


def review_change(uow: Uow, change_id: str, decision: str, opinion: str, caller: Caller) -> ChangeRequest:
    found = uow.repo.locked_change(change_id)
    if found is None:
        raise NotFound("CHANGE_NOT_FOUND", "变更申请不存在")
    project = uow.repo.locked_project(found.project_id)
    if project is None:
        raise NotFound("PROJECT_NOT_FOUND", "项目不存在或无权查看")
    change, events = changes.decide_change(found, project, decision, opinion, caller)
    _decided(uow, events, [project])
    return change


def report_unauthorized_change(
    uow: Uow, project_id: str, description: str, caller: Caller, rules: PlanningRules
) -> UnauthorizedChange:
    project = declaration.check_visible(caller, uow.repo.project(project_id), rules)
    report, events = changes.report_unauthorized_change(project, description, caller)
    uow.repo.add_unauthorized_change(report)
    _decided(uow, events, [project], rules=rules)
    return report


def resolve_unauthorized_change(
    uow: Uow, project_id: str, opinion: str, caller: Caller, rules: PlanningRules
) -> list[UnauthorizedChange]:
    project = declaration.check_visible(caller, uow.repo.project(project_id), rules)
    open_reports = uow.repo.locked_open_unauthorized_changes(project_id)
    reports, events = changes.resolve_unauthorized_changes(project, open_reports, opinion, caller)
    _decided(uow, events, [project], rules=rules)
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


def record_timeline(uow: UnitOfWork[TimelineLedger], evt: Event, rules: RiskRules) -> TimelineEntry | None:
    """Another service's event about a project, once (a redelivered one changes nothing); the
    project keeps the stage, approval and contract its timeline now says: from what it showed and
    the new entry when that is the latest, from the whole timeline when it arrived after a later
    one; an entry a rating reads (``risk.RISK_EVENTS``) has its project rated again. The inbox
    alone knows another service's event is not on the timeline yet: only planning's own events are
    put there without an inbox row (``_decided``); should one still arrive, it changes nothing."""
    entry = timeline.entry_of(evt)
    if entry is None or not uow.first_time(evt):
        return None
    if entry.source == timeline.OWN_SOURCE and uow.repo.on_timeline(entry.event_id, entry.project_id):
        return None
    shown = uow.repo.locked_disclosure(entry.project_id) if timeline.discloses(entry) else None
    latest = shown is not None and not uow.repo.later_on_timeline(entry)
    uow.repo.add_timeline_entries([entry])
    if shown is not None:
        if not (latest and timeline.advance(shown, entry)):
            timeline.disclose(shown, uow.repo.timeline(shown.project_id))
        uow.repo.save_disclosure(shown)
    if entry.event_type in risk.RISK_EVENTS:
        rate(uow.repo, entry.project_id, rules)
    return entry


def on_timeline_already(repo: PlanningRepository, evt: Event) -> bool:
    """Whether ``evt`` (one of planning's own, back from the broker) has nothing left to record: it
    is about no project (a plan's) or its project's timeline has it."""
    entry = timeline.entry_of(evt)
    return entry is None or repo.on_timeline(entry.event_id, entry.project_id)


# --- risk rating (issue 24) ----------------------------------------------------------------------


def rate(ledger: TimelineLedger, project_id: str, rules: RiskRules) -> None:
    """Rates the project again from its plan and whole timeline (its row locked first: a rating
    computed alongside another event's of the same project would miss that event). An event about
    a project planning does not know rates nothing."""
    plan = ledger.locked_risk_plan(project_id)
    if plan is not None:
        ledger.save_risk(project_id, risk.basis(plan, ledger.timeline(project_id), rules))


@dataclass(frozen=True)
class RiskView:
    project_id: str
    computed: Assessment
    override: Override | None

    @property
    def rating(self) -> int:
        return self.computed.rating if self.override is None else self.override.rating


def risk_of(repo: PlanningRepository, project_id: str, today: dt.date) -> RiskView:
    """The rating on ``today`` of a project known to exist (its basis kept since its declaration)."""
    basis = repo.risk_basis(project_id) or Basis([])
    return RiskView(project_id, basis.assess(today), repo.latest_risk_override(project_id))


def get_risk(
    repo: PlanningRepository, project_id: str, caller: Caller, today: dt.date, rules: PlanningRules
) -> RiskView:
    """The project's rating on ``today`` with its reasons, and the smart office's override if any
    (seen by whoever may see the project, Art 25)."""
    declaration.check_visible(caller, repo.project(project_id), rules)
    return risk_of(repo, project_id, today)


def override_risk(
    uow: Uow,
    project_id: str,
    rating: int,
    comment: str,
    caller: Caller,
    today: dt.date,
    now: dt.datetime,
    rules: PlanningRules,
) -> RiskView:
    """The smart office rates the project in place of the computed rating; every override is kept,
    the latest wins, and ``risk.overridden`` is on the project's timeline."""
    project = declaration.check_visible(caller, uow.repo.locked_project(project_id), rules)
    computed = risk_of(uow.repo, project_id, today).computed
    kept, events = risk.override(project_id, rating, comment, computed.rating, caller, now)
    uow.repo.add_risk_override(kept)
    _decided(uow, events, [project])
    return RiskView(project_id, computed, kept)


def register_ip_exception(uow: Uow, evt: Event, data: Mapping[str, Any]) -> IpException | None:
    """Art 17: finance's report of a contract whose source code the unit does not own, once."""
    exception = timeline.ip_exception_of(evt, data)
    if not uow.first_time(evt):
        return None
    uow.repo.save_ip_exception(exception)
    return exception


# --- reminders (every service's reminder.due; the declaration window's, Art 8) -------------------


@dataclass(frozen=True)
class ReminderFilters:
    due_from: dt.date | None = None
    due_to: dt.date | None = None
    kind: str | None = None
    project_id: str | None = None


@dataclass(frozen=True)
class ReminderPage:
    items: list[StoredReminder]
    total: int


class ReminderLedger(Protocol):
    """What the reminders' use cases need (``planning.repository.ReminderLedger``)."""

    def add_reminder(self, reminder: StoredReminder) -> None: ...
    def page_of_reminders(
        self, scope: Scope, filters: ReminderFilters, offset: int, limit: int
    ) -> tuple[list[StoredReminder], int]: ...


def send_window_reminders(
    uow: UnitOfWork[ReminderLedger], today: dt.date, rules: PlanningRules, lead: ReminderRules
) -> list[Event]:
    """Art 8: the window's opening or closing, if near, sent once and kept for ``list_reminders``
    (planning's own events are not delivered back to it). The reminders sent now."""
    sent = send_reminders(uow, window_reminders(today, rules, lead))
    for evt in sent:
        uow.repo.add_reminder(stored_of(evt))
    return sent


def record_reminder(uow: UnitOfWork[ReminderLedger], evt: Event) -> StoredReminder | None:
    """Another service's reminder, kept once (a redelivered one changes nothing)."""
    if not uow.first_time(evt):
        return None
    stored = stored_of(evt)
    uow.repo.add_reminder(stored)
    return stored


def list_reminders(
    repo: ReminderLedger,
    caller: Caller,
    rules: PlanningRules,
    filters: ReminderFilters,
    page: int = 1,
    page_size: int = 50,
) -> ReminderPage:
    """The reminders ``caller`` may see (Art 25: a project's as the project; the window's by all)."""
    check_due_range(filters.due_from, filters.due_to)
    scope = declaration.scope_of(caller, rules)
    items, total = repo.page_of_reminders(scope, filters, (page - 1) * page_size, page_size)
    return ReminderPage(items, total)
