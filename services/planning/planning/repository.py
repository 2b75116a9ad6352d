"""Planning's repository on its own database: what the use cases load and add, and the queries of
the read side. ``locked_…`` loads an aggregate a use case is about to change, locked until its unit
of work ends (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's write transaction already serialises)."""

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, case, false, func, insert, or_, select, true, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from nxshared.tables import insert_if_absent
from planning.domain.changes import ChangeRequest, UnauthorizedChange
from planning.domain.declaration import Project, ProjectStatus, Scope
from planning.domain.plans import AnnualPlan
from planning.domain.reminders import StoredReminder
from planning.domain.risk import Basis, Override, Plan
from planning.domain.timeline import DISCLOSED as _DISCLOSED
from planning.domain.timeline import Disclosure, IpException, PublicEntry, TimelineEntry
from planning.models import (
    annual_plans,
    project_counts,
    projects,
    public_totals,
    reminders,
    risk_overrides,
    risk_ratings,
    timeline,
)
from planning.usecases import ProjectFilters, PublicFilters, ReminderFilters

_PLAN_STATUS = select(annual_plans.c.status).where(annual_plans.c.year == bindparam("year")).with_for_update()
_TIMELINE = (
    select(timeline)
    .where(timeline.c.project_id == bindparam("project_id"))
    .order_by(timeline.c.occurred_at, timeline.c.seq)
)
_ON_TIMELINE = select(timeline.c.seq).where(
    timeline.c.event_id == bindparam("event_id"), timeline.c.project_id == bindparam("project_id")
)
_ADD_TIMELINE_ENTRY = insert(timeline)
_ADD_PROJECT = insert(projects)
_PROJECT_COLUMNS = [c.name for c in projects.c]
_TIMELINE_COLUMNS = [c.name for c in timeline.c if c.name != "seq"]
_DISCLOSURE = (
    select(projects.c.project_id, projects.c.status, *(projects.c[name] for name in _DISCLOSED))
    .where(projects.c.project_id == bindparam("project_id"))
    .with_for_update()
)
_SAVE_DISCLOSURE = (
    update(projects)
    .where(projects.c.project_id == bindparam("b_project_id"))  # a column's own name is the SET clause's
    .values({name: bindparam(name) for name in _DISCLOSED})
)
_LATER_ON_TIMELINE = (
    select(timeline.c.seq)
    .where(timeline.c.project_id == bindparam("project_id"), timeline.c.occurred_at > bindparam("occurred_at"))
    .limit(1)
)

_RISK_PLAN = (
    select(projects.c.plan_year, projects.c.annual_investments, projects.c.status)
    .where(projects.c.project_id == bindparam("project_id"))
    .with_for_update()
)
_RISK = select(risk_ratings.c.reasons, risk_ratings.c.late, risk_ratings.c.late_from).where(
    risk_ratings.c.project_id == bindparam("project_id")
)
_ADD_RISK = insert(risk_ratings)
_SAVE_RISK = (
    update(risk_ratings)
    .where(risk_ratings.c.project_id == bindparam("b_project_id"))
    .values({name: bindparam(name) for name in ("reasons", "late", "late_from", "rating_on_time", "rating_late")})
)
_LATEST_OVERRIDE = (
    select(risk_overrides)
    .where(risk_overrides.c.project_id == bindparam("project_id"))
    .order_by(risk_overrides.c.seq.desc())
    .limit(1)
)


def _order(c: Any = Project):
    """The lists' order: plan year, declaration, id (indexed with each filter, ``planning.models``)."""
    return (c.plan_year, c.declared_at, c.project_id)


class TimelineLedger:
    """The timelines and what the public sees of each project, on a connection: statements only,
    nothing loaded into a session (values it returns are copies, saved by ``save_disclosure``).
    What ``record_timeline`` needs on every event of every other service, in a unit of work without
    an ORM session (``transaction(TimelineLedger, orm=False)``)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    @property
    def connection(self) -> Connection:
        return self._connection

    def timeline(self, project_id: str) -> list[TimelineEntry]:
        """The project's timeline in order, as values: read, never changed."""
        rows = self.connection.execute(_TIMELINE, {"project_id": project_id})
        return [TimelineEntry(**row._mapping) for row in rows]

    def on_timeline(self, event_id: str, project_id: str) -> bool:
        found = self.connection.execute(_ON_TIMELINE, {"event_id": event_id, "project_id": project_id})
        return found.first() is not None

    def later_on_timeline(self, entry: TimelineEntry) -> bool:
        """Whether the timeline of ``entry``'s project has an entry that occurred after it, in the
        timeline's order (``occurred_at``, then ``seq``: of two at the same time the one added last)."""
        found = self.connection.execute(
            _LATER_ON_TIMELINE, {"project_id": entry.project_id, "occurred_at": entry.occurred_at}
        )
        return found.first() is not None

    def add_timeline_entries(self, entries: Sequence[TimelineEntry]) -> None:
        """Inserted at once, by a statement built once (not loaded back: nothing reads them as objects)."""
        if entries:
            self.connection.execute(_ADD_TIMELINE_ENTRY, [_entry_row(e) for e in entries])

    def locked_disclosure(self, project_id: str) -> Disclosure | None:
        """The project's disclosure alone, locked as ``locked_project`` locks the project."""
        row = self.connection.execute(_DISCLOSURE, {"project_id": project_id}).first()
        return None if row is None else Disclosure(**row._mapping)

    def save_disclosure(self, disclosure: Disclosure) -> None:
        self.connection.execute(_SAVE_DISCLOSURE, _disclosure_row(disclosure))

    # --- risk ratings (issue 24) ----------------------------------------------------------------

    def locked_risk_plan(self, project_id: str) -> Plan | None:
        """What a rating reads of the project, its row locked until the unit of work ends: two
        events of one project rate it one after the other, the second reading the first's entry."""
        row = self.connection.execute(_RISK_PLAN, {"project_id": project_id}).first()
        return None if row is None else Plan(**row._mapping)

    def add_risk(self, project_id: str, basis: Basis) -> None:
        self.connection.execute(_ADD_RISK, {"project_id": project_id, **basis.as_row()})

    def save_risk(self, project_id: str, basis: Basis) -> None:
        """Replaces the project's rating basis (adds it if it has none yet)."""
        if not self.connection.execute(_SAVE_RISK, {"b_project_id": project_id, **basis.as_row()}).rowcount:
            self.add_risk(project_id, basis)

    def risk_basis(self, project_id: str) -> Basis | None:
        row = self.connection.execute(_RISK, {"project_id": project_id}).first()
        return None if row is None else Basis.from_row(*row)

    def latest_risk_override(self, project_id: str) -> Override | None:
        row = self.connection.execute(_LATEST_OVERRIDE, {"project_id": project_id}).first()
        return None if row is None else Override(**row._mapping)

    def add_risk_override(self, kept: Override) -> None:
        """Kept in the history, and as the project's override (what counting by rating reads)."""
        values = {k: getattr(kept, k) for k in ("project_id", "rating", "comment", "by", "at")}
        self.connection.execute(insert(risk_overrides), values)
        self.connection.execute(
            update(risk_ratings).where(risk_ratings.c.project_id == kept.project_id).values(override_rating=kept.rating)
        )

    def count_by_risk(self, today: dt.date) -> list[tuple[int, int]]:
        """How many projects have each rating on ``today`` (the override's when there is one), in
        one query over ``risk_ratings``."""
        r = risk_ratings.c
        late = and_(r.late_from.is_not(None), r.late_from <= today.isoformat())
        rating = case(
            (r.override_rating.is_not(None), r.override_rating), (late, r.rating_late), else_=r.rating_on_time
        )
        rated = select(rating.label("rating")).subquery()
        rows = self.connection.execute(
            select(rated.c.rating, func.count()).group_by(rated.c.rating).order_by(rated.c.rating)
        )
        return [(rating, n) for rating, n in rows]


class DeclarationLedger(TimelineLedger):
    """What ``declare_project`` needs, on a connection: the year's plan status and the new project,
    inserted as a row (``transaction(DeclarationLedger, orm=False)``): a session's flush of one new
    object cost more than the insert itself, on the path of every declaration."""

    def locked_plan_status(self, year: int) -> str | None:
        """The year's plan status alone, locked as ``locked_plan`` locks the plan: what a declaration
        reads of it, without loading the plan (a statement built once: a fifth of the cost)."""
        return self.connection.execute(_PLAN_STATUS, {"year": year}).scalar()

    def add_project(self, project: Project) -> None:
        self.connection.execute(_ADD_PROJECT, _values(project, _PROJECT_COLUMNS))


class SqlRepository(DeclarationLedger):
    """What the use cases load and add in one unit of work's session: the ledger's statements on
    the session's connection, and the aggregates the session loads (changes to them are flushed)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def connection(self) -> Connection:
        return self.session.connection()

    # --- projects -----------------------------------------------------------------------------

    def project(self, project_id: str) -> Project | None:
        return self.session.get(Project, project_id) if isinstance(project_id, str) else None

    def locked_project(self, project_id: str) -> Project | None:
        if not isinstance(project_id, str):
            return None
        return self.session.get(Project, project_id, with_for_update=True)

    def projects_by_ids(self, project_ids: list[str]) -> list[Project]:
        if not project_ids:
            return []
        return list(self.session.scalars(select(Project).where(Project.project_id.in_(project_ids))))

    def page_of_projects(
        self, scope: Scope, filters: ProjectFilters, offset: int, limit: int
    ) -> tuple[list[Mapping[str, Any]], int]:
        """One page of the projects in ``scope`` that pass ``filters``, in the lists' order, and
        how many there are: selected, ordered, paged and counted by the database."""
        return self._page(lambda c: [_in_scope(scope, c), *_filtered(filters, c)], offset, limit)

    def public_page(self, offset: int, limit: int) -> tuple[list[Mapping[str, Any]], int]:
        """Art 25: one page of the projects the public sees (never a classified one)."""
        return self._page(lambda c: [_not_classified(c)], offset, limit)

    def public_newest(self, filters: PublicFilters, offset: int, limit: int) -> list[Mapping[str, Any]]:
        """Art 25: one page of the projects the public sees that pass ``filters``, newest first
        (the lists' index read backwards); their count and sum are in ``public_totals``."""
        c = projects.c
        query = (
            select(projects)
            .where(_not_classified(c), *_public_filtered(filters, c))
            .order_by(*(column.desc() for column in _order(c)))
            .offset(offset)
            .limit(limit)
        )
        return [row._mapping for row in self.connection.execute(query)]

    def public_totals(self) -> list[Mapping[str, Any]]:
        """How many projects the public sees and the sum of their estimates, by (plan year, unit,
        category, stage): a few rows, kept by the database (migration 0005); none for a classified one."""
        rows = self.connection.execute(select(public_totals).where(public_totals.c.n > 0))
        return [row._mapping for row in rows]

    def public_timelines(self, project_ids: Sequence[str], event_types: Sequence[str]) -> dict[str, list[PublicEntry]]:
        """The entries of these types on the timelines of these projects, in order, in one query,
        as plain tuples of what the public pages show."""
        if not project_ids:
            return {}
        c = timeline.c
        query = (
            select(c.event_id, c.project_id, c.event_type, c.occurred_at, c.data)
            .where(c.project_id.in_(list(project_ids)), c.event_type.in_(list(event_types)))
            .order_by(c.project_id, c.occurred_at, c.seq)
        )
        found: dict[str, list[PublicEntry]] = {pid: [] for pid in project_ids}
        for row in self.connection.execute(query):
            found[row.project_id].append(PublicEntry(*row))
        return found

    def public_project(self, project_id: str) -> Mapping[str, Any] | None:
        """Art 25: the project's row, if the public may see it."""
        row = self.connection.execute(_PUBLIC_PROJECT, {"project_id": project_id}).first()
        return None if row is None else row._mapping

    def _page(self, where, offset: int, limit: int) -> tuple[list[Mapping[str, Any]], int]:
        """The page from ``projects``, as rows: a list only shows them, and loading 50 projects as
        objects cost as much as reading them (~1 ms); the total from ``project_counts``, kept by
        the database in the transaction of every change (migration 0003), where the same
        ``where(columns)`` holds: it has every column a scope or a filter tests."""
        connection = self.connection
        page = select(projects).where(*where(projects.c)).order_by(*_order(projects.c)).offset(offset).limit(limit)
        rows = connection.execute(page)
        total = connection.execute(select(func.sum(project_counts.c.n)).where(*where(project_counts.c))).scalar()
        return [row._mapping for row in rows], total or 0

    def locked_projects(self, year: int, plan_type: str) -> list[Project]:
        query = select(Project).where(Project.plan_year == year, Project.plan_type == plan_type).order_by(*_order())
        return list(self.session.scalars(query.with_for_update()))

    def count_by_status(self) -> list[tuple[str, int]]:
        n = func.sum(project_counts.c.n)
        rows = self.session.execute(select(project_counts.c.status, n).group_by(project_counts.c.status).having(n > 0))
        return [(status, count) for status, count in rows]

    def plan_rows(self, year: int, scope: Scope | None, in_plan: Sequence[str] = ()) -> list[Mapping[str, Any]]:
        """What the plan's spreadsheet shows of the projects of ``year``'s plan: the planned ones
        (the approved annual plan and the approved supplementary projects) and ``in_plan`` (an
        annual plan still being concurred); those in ``scope``, or what the public may see (None)."""
        c = projects.c
        member = c.status == ProjectStatus.PLANNED.value
        if in_plan:
            member = or_(member, c.project_id.in_(list(in_plan)))
        visible = _not_classified(c) if scope is None else _in_scope(scope, c)
        query = select(*(c[name] for name in PLAN_SHEET_COLUMNS)).where(c.plan_year == year, member, visible)
        return [row._mapping for row in self.connection.execute(query)]

    # --- annual plans -------------------------------------------------------------------------

    def plan(self, year: int) -> AnnualPlan | None:
        return self.session.get(AnnualPlan, year)

    def locked_plan(self, year: int) -> AnnualPlan | None:
        return self.session.get(AnnualPlan, year, with_for_update=True)

    def add_plan(self, plan: AnnualPlan) -> None:
        self.session.add(plan)

    # --- changes ------------------------------------------------------------------------------

    def locked_change(self, change_id: str) -> ChangeRequest | None:
        if not isinstance(change_id, str):
            return None
        return self.session.get(ChangeRequest, change_id, with_for_update=True)

    def add_change(self, change: ChangeRequest) -> None:
        self.session.add(change)

    def locked_open_unauthorized_changes(self, project_id: str) -> list[UnauthorizedChange]:
        query = select(UnauthorizedChange).where(
            UnauthorizedChange.project_id == project_id, UnauthorizedChange.resolved.is_(False)
        )
        return list(self.session.scalars(query.with_for_update()))

    def add_unauthorized_change(self, report: UnauthorizedChange) -> None:
        self.session.add(report)

    # --- timeline and the IP exception register ------------------------------------------------

    def ip_exceptions(self) -> list[IpException]:
        return list(self.session.scalars(select(IpException).order_by(IpException.reported_at)))

    def save_ip_exception(self, exception: IpException) -> None:
        """Adds the register's line, or replaces the one of the same contract."""
        self.session.merge(exception)


def _values(obj: Any, names: Sequence[str]) -> dict[str, Any]:
    """``obj``'s attributes of these names (its mapped columns'), as a statement's parameters."""
    return {name: getattr(obj, name) for name in names}


def _entry_row(entry: TimelineEntry) -> dict[str, Any]:
    return _values(entry, _TIMELINE_COLUMNS)


def _disclosure_row(disclosure: Disclosure) -> dict[str, Any]:
    return {"b_project_id": disclosure.project_id, **_values(disclosure, _DISCLOSED)}


# The conditions below take the columns they test (``projects.c`` or ``project_counts.c``): a list's
# page and its total are selected by the same rules.


def _in_scope(scope: Scope, c):
    """``planning.domain.declaration.in_scope`` as a condition (Art 4, 25)."""
    if scope.unit is not None:
        return c.unit == scope.unit
    if scope.all_classified:
        return true()
    if scope.unified_classified:
        return or_(_not_classified(c), c.construction_mode == "unified")
    return _not_classified(c)


def _not_classified(c):
    """``classified = false``, which an index can serve (``IS false`` cannot, on PostgreSQL)."""
    return c.classified == false()


def _filtered(filters: ProjectFilters, c) -> list:
    wanted = [(c.plan_year, filters.year), (c.status, filters.status), (c.unit, filters.unit)]
    return [column == value for column, value in wanted if value is not None]


def _public_filtered(filters: PublicFilters, c) -> list:
    wanted = [
        (c.plan_year, filters.year),
        (c.unit, filters.unit),
        (c.category, filters.category),
        (c.stage, filters.stage),
    ]
    return [column == value for column, value in wanted if value is not None]


PLAN_SHEET_COLUMNS = (
    "project_id",
    "name",
    "unit",
    "category",
    "construction_mode",
    "plan_type",
    "estimated_investment",
    "annual_investments",
)
_PUBLIC_PROJECT = select(projects).where(projects.c.project_id == bindparam("project_id"), _not_classified(projects.c))


# --- reminders ----------------------------------------------------------------------------------

_ADD_REMINDER = insert_if_absent(reminders)
_REMINDER_COLUMNS = [c.name for c in reminders.c]


class ReminderLedger:
    """Every service's reminders as planning keeps them, on a connection (statements only)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add_reminder(self, reminder: StoredReminder) -> None:
        self.connection.execute(_ADD_REMINDER, {name: getattr(reminder, name) for name in _REMINDER_COLUMNS})

    def page_of_reminders(
        self, scope: Scope, filters: ReminderFilters, offset: int, limit: int
    ) -> tuple[list[StoredReminder], int]:
        """One page of the reminders ``scope`` sees (those about no project, and those of the
        projects it sees), by due day, and how many there are."""
        r, p = reminders.c, projects.c
        joined = reminders.outerjoin(projects, p.project_id == r.project_id)
        wanted = [(r.kind, filters.kind), (r.project_id, filters.project_id)]
        where = [or_(r.project_id.is_(None), _in_scope(scope, p))]
        where += [column == value for column, value in wanted if value is not None]
        if filters.due_from is not None:
            where.append(r.due_on >= filters.due_from)
        if filters.due_to is not None:
            where.append(r.due_on <= filters.due_to)
        page = select(reminders).select_from(joined).where(*where).order_by(r.due_on, r.reminder_id)
        rows = self.connection.execute(page.offset(offset).limit(limit))
        total = self.connection.execute(select(func.count()).select_from(joined).where(*where)).scalar()
        return [StoredReminder(**row._mapping) for row in rows], total or 0
