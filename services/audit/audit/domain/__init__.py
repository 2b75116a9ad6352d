"""Audit's rules (RULES §Oversight, Art 25–27), in plain Python.

- **The trail** (``chain``, Art 27): every event of every service, chained per project in arrival
  order with the hash rule; ``verify`` finds an edited, inserted, reordered or deleted entry, and
  with the ``checkpoints`` a deleted tail or a rewritten chain.
- **Cases** (``cases``, Art 26): opened when review's ``acceptance.passed`` arrives, findings
  recorded while open, closed with a conclusion; the life of a case is a table.
- **Anomalies** (``anomalies``, Art 13–15, 18, 21, 27): what the trail shows was done against the
  measures.
- **Who reads a trail** (``access``, Art 4, 25): audit, the smart office and the owner; a classified
  project's only the owner, audit and ``CLASSIFIED_VISIBLE_TO``.
"""

from audit.domain.access import can_read_trail, can_see_anomalies, check_trail_readable
from audit.domain.anomalies import WATCHED, Anomaly, anomalies_of
from audit.domain.cases import TRANSITIONS, check_case, close_case, next_status, open_case, record_finding
from audit.domain.chain import (
    FIELDS,
    GENESIS,
    Head,
    Verification,
    canonical,
    chain_next,
    data_text,
    entry_hash,
    verify,
    verify_rows,
)
from audit.domain.checkpoints import Checkpoint, changed_heads, root_of
from audit.domain.entities import (
    SUITE_TRAIL,
    AuditRules,
    Case,
    CaseAction,
    CaseStatus,
    Finding,
    Project,
    Severity,
    new_id,
)
from audit.domain.learning import TELLS_OWNER, learn_project

__all__ = [
    "FIELDS",
    "GENESIS",
    "SUITE_TRAIL",
    "TELLS_OWNER",
    "TRANSITIONS",
    "WATCHED",
    "Anomaly",
    "AuditRules",
    "Case",
    "CaseAction",
    "CaseStatus",
    "Checkpoint",
    "Finding",
    "Head",
    "Project",
    "Severity",
    "Verification",
    "anomalies_of",
    "can_read_trail",
    "can_see_anomalies",
    "canonical",
    "chain_next",
    "changed_heads",
    "check_case",
    "check_trail_readable",
    "close_case",
    "data_text",
    "entry_hash",
    "learn_project",
    "new_id",
    "next_status",
    "open_case",
    "record_finding",
    "root_of",
    "verify",
    "verify_rows",
]
