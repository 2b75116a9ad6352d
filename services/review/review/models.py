"""Review's tables: a project, its reviews and the expert pool mapped onto the domain's dataclasses; a
delivery, its supervisor, reports, pre-checks and acceptances read and written as rows
(``review.delivery_repository``)."""

from sqlalchemy import JSON, Boolean, Column, Date, ForeignKey, Integer, MetaData, String, Table, Text, false, text
from sqlalchemy.orm import registry, relationship

from nxshared.tables import Money, UtcDateTime, inbox_table, outbox_table
from nxshared.validation import CODE_MAX, NAME_MAX
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
    # Art 24: hosted on the Big Data Center (project.planned v2); rows from before it knew: false
    Column("hosted_on_big_data_center", Boolean, nullable=False, server_default=false()),
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
    # Art 12: the similar projects found at submission, and the data center's acknowledgement
    Column("duplicates", JSON, nullable=False, default=[], server_default=text("'[]'")),  # rows of before: none
    Column("duplicates_acknowledged_by", String(ACTOR_MAX)),
    Column("duplicates_acknowledged_at", UtcDateTime),
    Column("duplicates_comment", Text),
)

# --- the projects the county declared or planned, for the duplicate check (Art 12) ---------------

known_projects = Table(
    "known_projects",
    metadata,
    Column("project_id", String(CODE_MAX), primary_key=True),
    Column("name", String(NAME_MAX), nullable=False),
    Column("summary", Text, nullable=False),
    Column("unit", String(CODE_MAX), nullable=False),
    Column("classified", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("version", Integer, nullable=False, index=True),  # the corpus version that wrote it
)

# one row (id 1): the corpus version, raised under its row lock by every change of known_projects,
# so that versions commit in order and an index cached in memory catches up by "version > mine"
corpus_version = Table(
    "corpus_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
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

# --- delivery and acceptance (Art 18–21, 24) ---------------------------------------------------------

deliveries = Table(
    "deliveries",
    metadata,
    Column("project_id", String(CODE_MAX), primary_key=True),
    Column("stage", String(24), nullable=False, default=domain.DeliveryStage.BUILDING.value),
    Column("approved", Boolean, nullable=False, default=False),
    Column("approval_no", String(CODE_MAX)),
    Column("contract_no", String(CODE_MAX)),
    Column("mlps_status", String(16)),
    Column("mlps_as_of", UtcDateTime),
    Column("report_results", JSON, nullable=False, default={}),  # Art 20: kind → its latest report passed
    Column("unauthorized_changes", JSON, nullable=False, default={}),  # Art 18: report id → resolved
    Column("precheck_id", String(32)),  # the latest pre-check (Art 21)
)

supervisors = Table(
    "supervisors",
    metadata,
    Column("project_id", String(CODE_MAX), ForeignKey("deliveries.project_id"), primary_key=True),
    Column("company", String(NAME_MAX), nullable=False),
    Column("qualification_no", String(CODE_MAX), nullable=False),
    Column("lead_name", String(NAME_MAX), nullable=False),
    Column("lead_certificate_no", String(CODE_MAX), nullable=False),
    Column("registered_by", String(ACTOR_MAX), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
)

test_reports = Table(
    "test_reports",
    metadata,
    Column("report_id", String(32), primary_key=True),
    Column("project_id", String(CODE_MAX), ForeignKey("deliveries.project_id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("agency", String(NAME_MAX), nullable=False),
    Column("report_no", String(CODE_MAX), nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("submitted_by", String(ACTOR_MAX), nullable=False),
    Column("submitted_at", UtcDateTime, nullable=False),
)

prechecks = Table(
    "prechecks",
    metadata,
    Column("precheck_id", String(32), primary_key=True),
    Column("project_id", String(CODE_MAX), ForeignKey("deliveries.project_id"), nullable=False, index=True),
    Column("requested_by", String(ACTOR_MAX), nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("verdict", String(16)),
    Column("opinion", Text),
    Column("concluded_by", String(ACTOR_MAX)),
    Column("concluded_at", UtcDateTime),
)

acceptances = Table(
    "acceptances",
    metadata,
    Column("acceptance_id", String(32), primary_key=True),
    Column("project_id", String(CODE_MAX), ForeignKey("deliveries.project_id"), nullable=False, index=True),
    Column("precheck_id", String(32), ForeignKey("prechecks.precheck_id"), nullable=False),
    Column("date", Date, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("minutes", Text, nullable=False),
    Column("recorded_by", String(ACTOR_MAX), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
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
mapper_registry.map_imperatively(domain.KnownProject, known_projects)
