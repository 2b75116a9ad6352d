"""Review's tables, mapped onto the domain's dataclasses."""

from sqlalchemy import Boolean, Column, ForeignKey, Integer, MetaData, String, Table, Text
from sqlalchemy.orm import registry, relationship

from nxshared.tables import Money, UtcDateTime, inbox_table, outbox_table
from nxshared.validation import NAME_MAX
from review import domain

metadata = MetaData()
mapper_registry = registry(metadata=metadata)
ACTOR_MAX = 200  # who decided, as "person@org" (Art 27): a token's sub (≤128) and an org code

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

planned_projects = Table(
    "planned_projects",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("unit", String(64), nullable=False, index=True),
    Column("construction_mode", String(16), nullable=False),
    Column("estimated_investment", Money, nullable=False),
    Column("requires_construction_plan", Boolean, nullable=False),
    Column("classified", Boolean, nullable=False),
    Column("custom_software", Boolean, nullable=False),
    Column("changed_estimate", Money),  # Art 18: the estimate as the latest approved change set it
    Column("estimate_change_id", String(64)),
)

experts = Table(
    "experts",
    metadata,
    Column("expert_id", String(32), primary_key=True),
    Column("name", String(NAME_MAX), nullable=False),
    Column("level", String(16), nullable=False),
    Column("field", String(200), nullable=False),
    Column("employer", String(200), nullable=False),
)

reviews = Table(
    "reviews",
    metadata,
    Column("review_id", String(32), primary_key=True),
    Column("project_id", String(64), ForeignKey("planned_projects.project_id"), nullable=False, index=True),
    Column("route", String(16), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("budget", Money, nullable=False),
    Column("title", String(200), nullable=False),
    Column("document_ref", String(200)),
    Column("submitted_by", String(ACTOR_MAX), nullable=False),
    Column("submitted_at", UtcDateTime, nullable=False),
    Column("opinion", Text),
    Column("concluded_by", String(ACTOR_MAX)),
    Column("concluded_at", UtcDateTime),
)

panel_seats = Table(
    "panel_seats",
    metadata,
    Column("review_id", String(32), ForeignKey("reviews.review_id"), primary_key=True),
    Column("expert_id", String(32), ForeignKey("experts.expert_id"), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("verdict", String(16)),
    Column("opinion", Text),
)

mapper_registry.map_imperatively(domain.PlannedProject, planned_projects)
mapper_registry.map_imperatively(domain.Expert, experts)
mapper_registry.map_imperatively(domain.PanelSeat, panel_seats)
mapper_registry.map_imperatively(
    domain.Review,
    reviews,
    properties={
        "experts": relationship(
            domain.PanelSeat, order_by=panel_seats.c.position, cascade="all, delete-orphan", lazy="selectin"
        )
    },
)
