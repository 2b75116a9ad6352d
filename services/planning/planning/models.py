"""Planning's tables, mapped onto the domain's dataclasses."""

from sqlalchemy import JSON, Boolean, Column, Integer, MetaData, String, Table, Text
from sqlalchemy.orm import registry

from nxshared.tables import Money, UtcDateTime, inbox_table, outbox_table
from planning.domain.changes import ChangeRequest, UnauthorizedChange
from planning.domain.declaration import Project
from planning.domain.plans import AnnualPlan
from planning.domain.timeline import IpException, TimelineEntry

metadata = MetaData()
mapper_registry = registry(metadata=metadata)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

projects = Table(
    "projects",
    metadata,
    Column("project_id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("unit", String(64), nullable=False, index=True),
    Column("category", String(32), nullable=False),
    Column("construction_mode", String(16), nullable=False),
    Column("investment_mode", String(32), nullable=False),
    Column("plan_year", Integer, nullable=False, index=True),
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
    Column("status", String(16), nullable=False, index=True),
    Column("supplementary_status", String(32)),
    Column("supplementary_opinion", Text),
    Column("declared_by", String(64), nullable=False),
    Column("declared_at", UtcDateTime, nullable=False),
)

annual_plans = Table(
    "annual_plans",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("project_ids", JSON, nullable=False),
    Column("total_investment", Money, nullable=False),
    Column("status", String(16), nullable=False),
    Column("concurred_by", JSON, nullable=False),
    Column("compiled_by", String(64), nullable=False),
    Column("approved_by", String(64)),
)

change_requests = Table(
    "change_requests",
    metadata,
    Column("change_id", String(32), primary_key=True),
    Column("project_id", String(32), nullable=False, index=True),
    Column("description", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("opinion", Text),
    Column("decided_by", String(64)),
)

unauthorized_changes = Table(
    "unauthorized_changes",
    metadata,
    Column("report_id", String(32), primary_key=True),
    Column("project_id", String(32), nullable=False, index=True),
    Column("description", Text, nullable=False),
    Column("reported_by", String(64), nullable=False),
    Column("resolved", Boolean, nullable=False),
    Column("resolution", Text),
    Column("resolved_by", String(64)),
)

timeline = Table(
    "timeline",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("project_id", String(64), nullable=False, index=True),
    Column("event_type", String(64), nullable=False),
    Column("source", String(32), nullable=False),
    Column("occurred_at", String(40), nullable=False),
    Column("actor", String(64)),
    Column("data", JSON, nullable=False),
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
