"""Planning's tables, mapped onto the domain's dataclasses. Column sizes match the input limits of
``planning.schemas``; every ``*_by`` column keeps ``person@org`` (Art 27)."""

from sqlalchemy import JSON, Boolean, Column, Date, Index, Integer, MetaData, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import registry

from nxshared.tables import Money, UtcDateTime, inbox_table, outbox_table
from planning.domain.changes import ChangeRequest, UnauthorizedChange
from planning.domain.declaration import Project
from planning.domain.plans import AnnualPlan
from planning.domain.timeline import IpException, TimelineEntry

ACTOR = 200  # person@org: a token's sub (≤128) and an org code (≤64)

metadata = MetaData()
mapper_registry = registry(metadata=metadata)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

projects = Table(
    "projects",
    metadata,
    Column("project_id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("unit", String(64), nullable=False),
    Column("category", String(32), nullable=False),
    Column("construction_mode", String(16), nullable=False),
    Column("investment_mode", String(32), nullable=False),
    Column("plan_year", Integer, nullable=False),
    Column("plan_type", String(16), nullable=False),
    Column("basis", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("estimated_investment", Money, nullable=False),
    Column("funding_source", String(200), nullable=False),
    Column("annual_investments", JSON, nullable=False),
    Column("classified", Boolean, nullable=False),
    Column("hosted_on_big_data_center", Boolean, nullable=False),
    Column("standalone_infrastructure", JSON, nullable=False),
    Column("infrastructure_exemption", String(32)),
    Column("exemption_basis", Text),
    Column("requires_construction_plan", Boolean, nullable=False),
    Column("custom_software", Boolean, nullable=False),
    Column("higher_level_requirement", Text),
    Column("status", String(16), nullable=False),
    Column("supplementary_status", String(32)),
    Column("supplementary_opinion", Text),
    Column("declared_by", String(ACTOR), nullable=False),
    Column("declared_at", UtcDateTime, nullable=False),
    # what the public sees (Art 25), kept as the timeline grows
    Column("stage", String(32), nullable=False),
    Column("approval", JSON),
    Column("contract", JSON),
    Column("budget", JSON),
    Column("procurement", JSON),
    Column("disbursed", Money),
    # the lists' order (plan year, declaration, id) behind each filter and the visibility test
    Index("ix_projects_order", "plan_year", "declared_at", "project_id"),
    Index("ix_projects_unit_order", "unit", "plan_year", "declared_at", "project_id"),
    Index("ix_projects_status_order", "status", "plan_year", "declared_at", "project_id"),
    Index("ix_projects_classified_order", "classified", "plan_year", "declared_at", "project_id"),
)

# How many projects there are of each (unit, plan year, status, classified, construction mode): every
# dimension the lists filter or scope by, so a list's total is a sum over a few rows rather than a
# count over every visible project. Kept by database triggers on ``projects`` in the same
# transaction as each insert, update and delete (migration 0003): no code path can forget it.
project_counts = Table(
    "project_counts",
    metadata,
    Column("unit", String(64), primary_key=True),
    Column("plan_year", Integer, primary_key=True, autoincrement=False),
    Column("status", String(16), primary_key=True),
    Column("classified", Boolean, primary_key=True),
    Column("construction_mode", String(16), primary_key=True),
    Column("n", Integer, nullable=False),
)

# The projects the public sees (never a classified one), by (plan year, unit, category, stage): how
# many and the sum of their estimates, what the portal's totals, filters and chart read. Kept by
# database triggers on ``projects`` in the transaction of each change (migration 0005).
public_totals = Table(
    "public_totals",
    metadata,
    Column("plan_year", Integer, primary_key=True, autoincrement=False),
    Column("unit", String(64), primary_key=True),
    Column("category", String(32), primary_key=True),
    Column("stage", String(32), primary_key=True),
    Column("n", Integer, nullable=False),
    Column("estimated", Money, nullable=False),
)

annual_plans = Table(
    "annual_plans",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("project_ids", JSON, nullable=False),
    Column("total_investment", Money, nullable=False),
    Column("status", String(16), nullable=False),
    Column("concurred_by", JSON, nullable=False),
    Column("concurrences", JSON, nullable=False),
    Column("compiled_by", String(ACTOR), nullable=False),
    Column("approved_by", String(ACTOR)),
)

change_requests = Table(
    "change_requests",
    metadata,
    Column("change_id", String(32), primary_key=True),
    Column("project_id", String(32), nullable=False, index=True),
    Column("description", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("requested_by", String(ACTOR), nullable=False),
    Column("status", String(16), nullable=False),
    Column("opinion", Text),
    Column("decided_by", String(ACTOR)),
    Column("estimated_investment", Money),
)

unauthorized_changes = Table(
    "unauthorized_changes",
    metadata,
    Column("report_id", String(32), primary_key=True),
    Column("project_id", String(32), nullable=False, index=True),
    Column("description", Text, nullable=False),
    Column("reported_by", String(ACTOR), nullable=False),
    Column("resolved", Boolean, nullable=False),
    Column("resolution", Text),
    Column("resolved_by", String(ACTOR)),
)

timeline = Table(
    "timeline",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("project_id", String(64), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("source", String(32), nullable=False),
    Column("occurred_at", String(40), nullable=False),
    Column("actor", Text),  # as any service's envelope names it (up to 400 characters)
    Column("data", JSON, nullable=False),
    # a plan's event is on the timeline of each of its projects
    UniqueConstraint("event_id", "project_id", name="uq_timeline_event_project"),
    Index("ix_timeline_project_order", "project_id", "occurred_at", "seq"),
)

# Each project's risk rating (issue 24): its reasons but the schedule's, the schedule's from
# ``late_from`` on, the ratings both ways and the smart office's latest override, kept as the
# timeline grows (``planning.domain.risk.Basis``); what counting the projects by rating reads.
risk_ratings = Table(
    "risk_ratings",
    metadata,
    Column("project_id", String(32), primary_key=True),
    Column("reasons", JSON, nullable=False),
    Column("late", JSON),
    Column("late_from", String(10)),
    Column("rating_on_time", Integer, nullable=False),
    Column("rating_late", Integer, nullable=False),
    Column("override_rating", Integer),
)

# every override of a project's rating, with its comment, who and when (the latest wins)
risk_overrides = Table(
    "risk_overrides",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("project_id", String(32), nullable=False),
    Column("rating", Integer, nullable=False),
    Column("comment", Text, nullable=False),
    Column("by", String(ACTOR), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_risk_overrides_project", "project_id", "seq"),
)

ip_exceptions = Table(
    "ip_exceptions",
    metadata,
    Column("contract_no", String(64), primary_key=True),
    Column("project_id", String(64), nullable=False),
    Column("vendor", String(200), nullable=False),
    Column("source_code_owner", String(16), nullable=False),
    Column("unit", String(64)),
    Column("reported_at", String(40), nullable=False),
)

mapper_registry.map_imperatively(Project, projects)
mapper_registry.map_imperatively(AnnualPlan, annual_plans)
mapper_registry.map_imperatively(ChangeRequest, change_requests)
mapper_registry.map_imperatively(UnauthorizedChange, unauthorized_changes)
mapper_registry.map_imperatively(TimelineEntry, timeline)
mapper_registry.map_imperatively(IpException, ip_exceptions)

# every service's reminder.due (planning's own window reminders included), for list_reminders
reminders = Table(
    "reminders",
    metadata,
    Column("reminder_id", String(36), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("project_id", String(64)),  # null: about no project (the declaration window)
    Column("subject", String(200), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("owner_org", String(64), nullable=False),
    Column("source", String(32), nullable=False),
    Column("occurred_at", String(40), nullable=False),
    Index("ix_reminders_due", "due_on", "reminder_id"),
)
