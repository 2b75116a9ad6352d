"""Approval's tables, mapped onto the domain's dataclasses."""

from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, Text
from sqlalchemy.orm import registry

from approval import domain
from nxshared.tables import Money, UtcDateTime, inbox_table, outbox_table

ACTOR_MAX = 200  # "sub@org" (Art 27): a token's sub is at most 128 characters, an org code 64

metadata = MetaData()
mapper_registry = registry(metadata=metadata)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

projects = Table(
    "projects",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("planned", Boolean, nullable=False, default=False),
    Column("name", String(200)),
    Column("unit", String(64), index=True),
    Column("construction_mode", String(16)),
    Column("classified", Boolean, nullable=False, default=False),
    Column("plan_year", Integer),
    Column("plan_type", String(16)),
    Column("estimated_investment", Money),
    Column("estimate_as_of", String(40)),
)

reviews = Table(
    "reviews",
    metadata,
    Column("review_id", String(64), primary_key=True),
    Column("project_id", String(64), nullable=False, index=True),
    Column("outcome", String(16), nullable=False),
    Column("route", String(32), nullable=False),
    Column("opinion", Text, nullable=False),
    Column("concluded_at", String(40), nullable=False),
)

applications = Table(
    "applications",
    metadata,
    Column("application_id", String(32), primary_key=True),
    Column("project_id", String(64), nullable=False, index=True),
    Column("approval_type", String(16), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("applied_by", String(ACTOR_MAX), nullable=False),
    Column("applied_at", UtcDateTime, nullable=False),
    Column("review_id", String(64)),
    Column("approval_no", String(64), unique=True),
    Column("opinion", Text),
    Column("decided_by", String(ACTOR_MAX)),
    Column("decided_at", UtcDateTime),
    Column("estimated_investment", Money),
)

approval_counters = Table(
    "approval_counters",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last_seq", Integer, nullable=False, default=0),
)

mapper_registry.map_imperatively(domain.Project, projects)
mapper_registry.map_imperatively(domain.ConcludedReview, reviews)
mapper_registry.map_imperatively(domain.Application, applications)
mapper_registry.map_imperatively(domain.ApprovalCounter, approval_counters)
