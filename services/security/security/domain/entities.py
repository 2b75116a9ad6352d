"""What security knows of a project and what it keeps: the MLPS grade and filing (Art 24),
inspections and incidents (Art 23), their states as data, and the settings behind the deadlines and
who sees a classified project."""

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from nxshared.core.caller import org_list_setting

MLPS_LEVELS = (1, 2, 3, 4, 5)  # Art 24: 等级保护 levels one to five
LONGEST_RESPONSE_HOURS = 24 * 365  # a setting beyond a year is a typo, not a deadline
LONGEST_INSPECTION_INTERVAL_DAYS = 3 * 365


class MlpsStatus(StrEnum):
    """Where a system's MLPS grading stands (Art 24). Re-grading a filed system takes it back to
    ``graded``: the new grade must be filed again."""

    UNGRADED = "ungraded"
    GRADED = "graded"
    FILED = "filed"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class IncidentStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class OverdueKind(StrEnum):
    """What the periodic check finds (Art 23, 24)."""

    MLPS_FILING = "mlps_filing"  # hosted, under construction or accepted, no MLPS filing
    INSPECTION = "inspection"  # under construction or accepted, not inspected within the interval
    INCIDENT = "incident"  # open past the deadline its severity set


@dataclass(frozen=True)
class SecurityRules:
    """The settings behind security's rules: who besides the owner sees a classified project
    (Art 25), how long an incident of each severity may stay open and how often a project is
    inspected (Art 23). Built once at start; a bad setting stops the service."""

    classified_visible_to: tuple[str, ...]
    response_times: Mapping[Severity, dt.timedelta]
    inspection_interval: dt.timedelta

    @classmethod
    def from_settings(
        cls,
        classified_visible_to: str | Iterable[str],
        incident_response_hours: Mapping[str, float],
        inspection_interval_days: float,
    ) -> "SecurityRules":
        if not isinstance(incident_response_hours, Mapping):
            raise ValueError("INCIDENT_RESPONSE_HOURS: expected a mapping of severity to hours")
        unknown = sorted(set(map(str, incident_response_hours)) - {s.value for s in Severity})
        missing = [s.value for s in Severity if s.value not in incident_response_hours]
        if unknown or missing:
            raise ValueError(f"INCIDENT_RESPONSE_HOURS: unknown {unknown}, missing {missing}")
        times = {}
        for severity in Severity:
            hours = incident_response_hours[severity.value]
            if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= LONGEST_RESPONSE_HOURS:
                raise ValueError(f"INCIDENT_RESPONSE_HOURS.{severity.value}: hours in (0, {LONGEST_RESPONSE_HOURS}]")
            times[severity] = dt.timedelta(hours=hours)
        days = inspection_interval_days
        if (
            isinstance(days, bool)
            or not isinstance(days, int | float)
            or not 0 < days <= LONGEST_INSPECTION_INTERVAL_DAYS
        ):
            raise ValueError(f"INSPECTION_INTERVAL_DAYS: days in (0, {LONGEST_INSPECTION_INTERVAL_DAYS}]")
        return cls(org_list_setting(classified_visible_to), times, dt.timedelta(days=days))

    def deadline(self, severity: str, occurred_at: dt.datetime) -> dt.datetime:
        """Art 23: the response is due this long after the incident occurred."""
        return occurred_at + self.response_times[Severity(severity)]


@dataclass
class Project:
    """What security knows of a project (from planning, finance and review) and its MLPS grading;
    the aggregate every decision about the project locks."""

    project_id: str
    planned: bool = False
    name: str | None = None
    unit: str | None = None
    construction_mode: str | None = None
    classified: bool = False
    hosted_on_big_data_center: bool = False
    plan_year: int | None = None
    contracted_on: dt.date | None = None  # finance's contract.registered: under construction since
    accepted_on: dt.date | None = None  # review's acceptance.passed
    mlps_status: str = MlpsStatus.UNGRADED.value
    mlps_level: int | None = None
    mlps_basis: str | None = None
    graded_by: str | None = None
    graded_at: dt.datetime | None = None
    filing_no: str | None = None
    evaluation_agency: str | None = None
    filed_by: str | None = None
    filed_at: dt.datetime | None = None

    @property
    def under_way(self) -> bool:
        """Under construction (contracted) or accepted: security must be built and run with it (Art 22)."""
        return self.contracted_on is not None or self.accepted_on is not None

    @property
    def under_way_since(self) -> dt.date | None:
        days = [d for d in (self.contracted_on, self.accepted_on) if d is not None]
        return min(days) if days else None


@dataclass
class Inspection:
    inspection_id: str
    project_id: str
    passed: bool
    findings: str
    inspected_by: str
    inspected_at: dt.datetime


@dataclass
class Incident:
    incident_id: str
    project_id: str
    severity: str
    description: str
    occurred_at: dt.datetime
    deadline: dt.datetime
    reported_by: str
    reported_at: dt.datetime
    status: str = IncidentStatus.OPEN.value
    response: str | None = None
    resolved_by: str | None = None
    resolved_at: dt.datetime | None = None


@dataclass(frozen=True)
class Overdue:
    """One thing the check found late: ``since`` is when it fell due."""

    kind: str
    project_id: str
    since: dt.datetime
    incident_id: str | None = None
    severity: str | None = None


@dataclass
class Posture:
    """A project's security at a glance (``get_posture``); ``mlps`` is the project's grading."""

    project_id: str
    name: str | None
    hosted_on_big_data_center: bool
    mlps: Project
    last_inspection: Inspection | None
    open_incidents: list[Incident]
    overdue: list[Overdue]


@dataclass
class OverdueReport:
    """What the last periodic check found; ``checked_at`` is the moment on the suite's clock it
    looked at (none before the first check)."""

    checked_at: dt.datetime | None
    overdue: list[Overdue] = field(default_factory=list)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def moment(today: dt.date, now: dt.datetime) -> dt.datetime:
    """The instant on the suite's clock: ``today`` (``NX_TODAY`` when set) at the real local time of
    day, as UTC. Without ``NX_TODAY`` it is ``now`` itself; with it, tests and rehearsals move the
    day and every deadline is measured against it."""
    local = now.astimezone()
    return dt.datetime.combine(today, local.timetz()).astimezone(dt.UTC)
