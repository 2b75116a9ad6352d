"""The events audit emits, as its domain returns them (CONTRACT §Events, source ``audit``). Their data
schemas per version are in ``audit.event_schemas``."""

from dataclasses import dataclass
from typing import ClassVar

from nxshared.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class AuditOpened(DomainEvent):
    """Art 26: an accepted project's audit case is open; ``acceptance_event_id`` is review's
    ``acceptance.passed`` that opened it."""

    event_type: ClassVar[str] = "audit.opened"
    version: ClassVar[int] = 1
    case_id: str
    acceptance_event_id: str
    accepted_on: str | None


@dataclass(frozen=True, kw_only=True)
class AuditClosed(DomainEvent):
    """Art 26: the audit case is closed with the auditor's conclusion: the project is audited."""

    event_type: ClassVar[str] = "audit.closed"
    version: ClassVar[int] = 1
    case_id: str
    conclusion: str
    findings: int
    worst_severity: str | None
