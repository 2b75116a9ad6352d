"""The events security emits, as its domain returns them: one frozen dataclass per event type, at the
newest version (CONTRACT §Events, source ``security``). Their data schemas per version are in
``security.event_schemas``."""

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from nxshared.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class MlpsGraded(DomainEvent):
    """Art 24: the data center graded the project's system; ``previous_level`` is the grade it
    replaces (null for a first grading). A re-graded system must be filed again."""

    event_type: ClassVar[str] = "mlps.graded"
    version: ClassVar[int] = 1
    level: int
    basis: str
    previous_level: int | None


@dataclass(frozen=True, kw_only=True)
class MlpsFiled(DomainEvent):
    """Art 24: the grade is filed, under the filing number, by the evaluation agency selected."""

    event_type: ClassVar[str] = "mlps.filed"
    version: ClassVar[int] = 1
    level: int
    filing_no: str
    evaluation_agency: str


@dataclass(frozen=True, kw_only=True)
class InspectionRecorded(DomainEvent):
    """Art 23: a periodic security inspection of the project and what it found."""

    event_type: ClassVar[str] = "inspection.recorded"
    version: ClassVar[int] = 1
    inspection_id: str
    passed: bool
    findings: str


@dataclass(frozen=True, kw_only=True)
class IncidentReported(DomainEvent):
    """Art 23: a security incident, and the deadline its severity sets for the response."""

    event_type: ClassVar[str] = "incident.reported"
    version: ClassVar[int] = 1
    incident_id: str
    severity: str
    description: str
    occurred_at: dt.datetime
    deadline: dt.datetime


@dataclass(frozen=True, kw_only=True)
class IncidentResolved(DomainEvent):
    """Art 23: the incident's response; ``late`` when it came after the deadline."""

    event_type: ClassVar[str] = "incident.resolved"
    version: ClassVar[int] = 1
    incident_id: str
    severity: str
    response: str
    deadline: dt.datetime
    late: bool
