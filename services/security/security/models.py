"""Security's tables, read and written as rows (``security.repository`` turns them into the domain's
dataclasses); the last overdue check's report is kept in ``overdue`` and ``overdue_checks``."""

from sqlalchemy import Boolean, Column, Date, Index, Integer, MetaData, String, Table, Text

from nxshared.tables import UtcDateTime, inbox_table, outbox_table
from nxshared.validation import CODE_MAX, NAME_MAX
from security import domain

ACTOR_MAX = 200  # "sub@org": a token's sub (≤128) and an org code (≤64)

metadata = MetaData()

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

projects = Table(
    "projects",
    metadata,
    Column("project_id", String(CODE_MAX), primary_key=True),
    Column("planned", Boolean, nullable=False, default=False),
    Column("name", String(NAME_MAX)),
    Column("unit", String(CODE_MAX)),
    Column("construction_mode", String(16)),
    Column("classified", Boolean, nullable=False, default=False),
    Column("hosted_on_big_data_center", Boolean, nullable=False, default=False),
    Column("plan_year", Integer),
    Column("contracted_on", Date),
    Column("accepted_on", Date),
    Column("mlps_status", String(16), nullable=False, default=domain.MlpsStatus.UNGRADED.value),
    Column("mlps_level", Integer),
    Column("mlps_basis", Text),
    Column("graded_by", String(ACTOR_MAX)),
    Column("graded_at", UtcDateTime),
    Column("filing_no", String(CODE_MAX), unique=True),
    Column("evaluation_agency", String(NAME_MAX)),
    Column("filed_by", String(ACTOR_MAX)),
    Column("filed_at", UtcDateTime),
    Index("ix_projects_under_way", "contracted_on", "accepted_on"),
)

inspections = Table(
    "inspections",
    metadata,
    Column("inspection_id", String(32), primary_key=True),
    Column("project_id", String(CODE_MAX), nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("findings", Text, nullable=False),
    Column("inspected_by", String(ACTOR_MAX), nullable=False),
    Column("inspected_at", UtcDateTime, nullable=False),
    Index("ix_inspections_project_at", "project_id", "inspected_at"),
)

incidents = Table(
    "incidents",
    metadata,
    Column("incident_id", String(32), primary_key=True),
    Column("project_id", String(CODE_MAX), nullable=False, index=True),
    Column("severity", String(16), nullable=False),
    Column("description", Text, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("deadline", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("reported_by", String(ACTOR_MAX), nullable=False),
    Column("reported_at", UtcDateTime, nullable=False),
    Column("response", Text),
    Column("resolved_by", String(ACTOR_MAX)),
    Column("resolved_at", UtcDateTime),
)

overdue = Table(
    "overdue",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("subject", String(CODE_MAX), primary_key=True),  # the incident for an incident, else the project
    Column("project_id", String(CODE_MAX), nullable=False),
    Column("since", UtcDateTime, nullable=False),
    Column("incident_id", String(32)),
    Column("severity", String(16)),
)

overdue_checks = Table(
    "overdue_checks",
    metadata,
    Column("name", String(16), primary_key=True),
    Column("as_of", UtcDateTime),  # the moment on the suite's clock the check looked at
    Column("checked_at", UtcDateTime),  # when it ran
)
