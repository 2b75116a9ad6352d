"""Finance's tables, mapped onto the domain's dataclasses. Money is stored as whole fen (``Money``)."""

from sqlalchemy import Boolean, Column, Date, Integer, MetaData, String, Table, Text
from sqlalchemy.orm import registry

from finance import domain
from nxshared.tables import Money, UtcDateTime, inbox_table, outbox_table
from nxshared.validation import CODE_MAX, NAME_MAX

ACTOR_MAX = 200  # "sub@org": a token's sub (≤128) and an org code (≤64)

metadata = MetaData()
mapper_registry = registry(metadata=metadata)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

projects = Table(
    "projects",
    metadata,
    Column("project_id", String(CODE_MAX), primary_key=True),
    Column("planned", Boolean, nullable=False, default=False),
    Column("name", String(NAME_MAX)),
    Column("unit", String(CODE_MAX), index=True),
    Column("construction_mode", String(16)),
    Column("classified", Boolean, nullable=False, default=False),
    Column("plan_year", Integer),
    Column("estimated_investment", Money),
    Column("estimate_revised", Boolean, nullable=False, default=False),
    Column("approved", Boolean, nullable=False, default=False),
    Column("approval_no", String(CODE_MAX)),
    Column("stage", String(32), nullable=False, default=domain.Stage.AWAITING_BUDGET.value),
    Column("approved_budget", Money),
    Column("budget_opinion", Text),
    Column("budget_decided_by", String(ACTOR_MAX)),
    Column("budget_decided_at", UtcDateTime),
    Column("disbursed_total", Money, nullable=False, default=0),
)

procurements = Table(
    "procurements",
    metadata,
    Column("project_id", String(CODE_MAX), primary_key=True),
    Column("method", String(32), nullable=False),
    Column("supplier", String(NAME_MAX), nullable=False),
    Column("amount", Money, nullable=False),
    Column("date", Date, nullable=False),
    Column("registered_by", String(ACTOR_MAX), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
)

contracts = Table(
    "contracts",
    metadata,
    Column("project_id", String(CODE_MAX), primary_key=True),
    Column("contract_no", String(CODE_MAX), nullable=False, unique=True),
    Column("vendor", String(NAME_MAX), nullable=False),
    Column("amount", Money, nullable=False),
    Column("om_years", Integer, nullable=False),
    Column("om_exemption_basis", Text),
    Column("source_code_owner", String(16), nullable=False),
    Column("signed_on", Date, nullable=False),
    Column("om_ends_on", Date, nullable=False, index=True),
    Column("registered_by", String(ACTOR_MAX), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
)

disbursements = Table(
    "disbursements",
    metadata,
    Column("disbursement_id", String(32), primary_key=True),
    Column("project_id", String(CODE_MAX), nullable=False, index=True),
    Column("amount", Money, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("disbursed_by", String(ACTOR_MAX), nullable=False),
    Column("disbursed_at", UtcDateTime, nullable=False),
)

unauthorized_changes = Table(
    "unauthorized_changes",
    metadata,
    Column("report_id", String(CODE_MAX), primary_key=True),
    Column("project_id", String(CODE_MAX), nullable=False, index=True),
    Column("resolved", Boolean, nullable=False, default=False),
)

mapper_registry.map_imperatively(domain.Project, projects)
mapper_registry.map_imperatively(domain.Procurement, procurements)
mapper_registry.map_imperatively(domain.Contract, contracts)
mapper_registry.map_imperatively(domain.Disbursement, disbursements)
mapper_registry.map_imperatively(domain.UnauthorizedChange, unauthorized_changes)
