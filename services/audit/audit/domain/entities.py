"""What audit keeps besides the trail: the projects it learned of (to know who may read their
trail), audit cases with their findings (Art 26), and its settings."""

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from nxshared.core.caller import org_list_setting

SUITE_TRAIL = ""  # the trail of events that name no project (the annual plan's)


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CaseAction(StrEnum):
    RECORD_FINDING = "record_finding"
    CLOSE = "close"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True)
class AuditRules:
    """Who besides the owner and audit sees a classified project's trail (Art 25)."""

    classified_visible_to: tuple[str, ...]

    @classmethod
    def from_settings(cls, classified_visible_to: str | Iterable[str]) -> "AuditRules":
        return cls(org_list_setting(classified_visible_to))


@dataclass
class Project:
    """A project as audit learned it from ``project.declared`` / ``project.planned`` on its trail."""

    project_id: str
    unit: str | None = None
    construction_mode: str | None = None
    classified: bool = False


@dataclass
class Finding:
    finding_id: str
    case_id: str
    severity: str
    description: str
    recorded_by: str
    recorded_at: dt.datetime


@dataclass
class Case:
    """Art 26: an accepted project's audit, opened when review's ``acceptance.passed`` arrives."""

    case_id: str
    project_id: str
    status: str
    opened_at: dt.datetime
    acceptance_event_id: str
    accepted_on: str | None = None
    conclusion: str | None = None
    closed_by: str | None = None
    closed_at: dt.datetime | None = None
    findings: list[Finding] = field(default_factory=list)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
