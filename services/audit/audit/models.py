"""Audit's tables (Core, no ORM mapping): the trail and its heads, the checkpoints (append-only, apart
from the trail), what audit learned of each project, and the cases with their findings."""

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, Text

from nxshared.tables import UtcDateTime, inbox_table, outbox_table
from nxshared.validation import CODE_MAX

ACTOR_MAX = 400  # an envelope's actor, as the contract bounds it
HASH_LEN = 64
STAMP_MAX = 40  # an envelope's occurred_at, as the contract bounds it

metadata = MetaData()

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

# the trail: one row per event, per project in seq order; every hashed value kept as it was hashed
trail = Table(
    "trail",
    metadata,
    Column("trail", String(CODE_MAX), primary_key=True),  # the project, "" for events naming none
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("event_id", String(CODE_MAX), nullable=False, unique=True),
    Column("event_type", String(CODE_MAX), nullable=False),
    Column("version", Integer, nullable=False),
    Column("source", String(CODE_MAX), nullable=False),
    Column("project_id", String(CODE_MAX)),
    Column("actor", String(ACTOR_MAX)),
    Column("occurred_at", String(STAMP_MAX), nullable=False),
    Column("received_at", String(STAMP_MAX), nullable=False),
    Column("data", Text, nullable=False),  # canonical JSON text
    Column("prev_hash", String(HASH_LEN), nullable=False),
    Column("hash", String(HASH_LEN), nullable=False),
    Index("ix_trail_event_type", "event_type", "trail"),
)

# each trail's live head: the row its appends lock (one locking rule)
trail_heads = Table(
    "trail_heads",
    metadata,
    Column("trail", String(CODE_MAX), primary_key=True),
    Column("length", Integer, nullable=False, default=0),
    Column("head", String(HASH_LEN), nullable=False, default="0" * HASH_LEN),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("taken_at", UtcDateTime, nullable=False),
    Column("root", String(HASH_LEN), nullable=False),
    Column("projects", Integer, nullable=False),
    Column("entries", Integer, nullable=False),
)

checkpoint_heads = Table(
    "checkpoint_heads",
    metadata,
    Column("checkpoint_seq", Integer, primary_key=True, autoincrement=False),
    Column("trail", String(CODE_MAX), primary_key=True),
    Column("length", Integer, nullable=False),
    Column("head", String(HASH_LEN), nullable=False),
    Index("ix_checkpoint_heads_trail", "trail", "checkpoint_seq"),
)

projects = Table(
    "projects",
    metadata,
    Column("project_id", String(CODE_MAX), primary_key=True),
    Column("unit", String(CODE_MAX)),
    Column("construction_mode", String(16)),
    Column("classified", Boolean, nullable=False, default=False),
)

cases = Table(
    "cases",
    metadata,
    Column("case_id", String(32), primary_key=True),
    Column("project_id", String(CODE_MAX), nullable=False, unique=True),
    Column("status", String(16), nullable=False, index=True),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("acceptance_event_id", String(CODE_MAX), nullable=False),
    Column("accepted_on", String(10)),
    Column("conclusion", Text),
    Column("closed_by", String(ACTOR_MAX)),
    Column("closed_at", UtcDateTime),
)

findings = Table(
    "findings",
    metadata,
    Column("finding_id", String(32), primary_key=True),
    Column("case_id", String(32), nullable=False, index=True),
    Column("severity", String(16), nullable=False),
    Column("description", Text, nullable=False),
    Column("recorded_by", String(ACTOR_MAX), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)
