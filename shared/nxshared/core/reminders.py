"""Reminders (``reminder.due``): what a service's own data says is due, found by its daily timer.

Each owning service decides its reminders in its domain module and returns ``Reminder`` values;
``ReminderDue`` is the event they travel as. The event type is one for the whole suite, emitted by
several services (each on its own exchange): its schema is registered once, in ``nxshared.reminders``.

**One reminder per (kind, subject, due day), by construction.** Its id is a uuid5 of the emitting
service, kind, project, subject and due day, and it is also the event's id. The outbox keeps every row it
ever wrote and its ``event_id`` is unique: the unit of work inserts a reminder with ``ON CONFLICT
DO NOTHING`` (``emit_once``), so a timer that runs many times a day, on two replicas or after a
restart writes it once (on PostgreSQL the second replica's insert waits for the first's commit,
then does nothing). Should a repeat ever leave, the consumers' idempotent inboxes drop it by its id.
No table of sent reminders is needed.
"""

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from nxshared.core.events import DomainEvent, Event
from nxshared.core.uow import UnitOfWork

# fixed for ever: the ids of reminders already sent depend on it
REMINDER_NAMESPACE = uuid.UUID("6f1f3f0e-8a51-5c47-9d0b-1b7a4c2e9d10")
SUBJECT_MAX = 200


@dataclass(frozen=True)
class Reminder:
    """Something due: its kind (``declaration_window_opening``, ``om_ending``, …), what it is about in
    Chinese, the day it is due, the org that must act and the project (none for a window)."""

    kind: str
    subject: str
    due_on: dt.date
    owner_org: str
    project_id: str | None = None

    def reminder_id(self, source: str) -> str:
        """The same for the same (service, kind, project, subject, due day), whenever and wherever
        found (two projects of one name are two reminders)."""
        key = f"{source}|{self.kind}|{self.project_id or ''}|{self.subject}|{self.due_on.isoformat()}"
        return str(uuid.uuid5(REMINDER_NAMESPACE, key))

    def event(self, source: str) -> "ReminderDue":
        return ReminderDue(
            project_id=self.project_id,
            actor=None,
            reminder_id=self.reminder_id(source),
            kind=self.kind,
            subject=self.subject[:SUBJECT_MAX],
            due_on=self.due_on,
            owner_org=self.owner_org,
        )


@dataclass(frozen=True, kw_only=True)
class ReminderDue(DomainEvent):
    """A reminder found by a service's timer; ``project_id`` is null for one about no project."""

    event_type: ClassVar[str] = "reminder.due"
    version: ClassVar[int] = 1
    reminder_id: str
    kind: str
    subject: str
    due_on: dt.date
    owner_org: str

    def data(self):
        return {**super().data(), "project_id": self.project_id}


def days_setting(name: str, value: object, low: int, high: int) -> int:
    """A reminder's setting counted in days (``REVIEW_EXPECTED_DAYS``, ``OM_REMINDER_DAYS`` …) as a
    whole number in ``low..high``, or a ``ValueError`` naming it: the service does not start with it."""
    text = str(value)
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise ValueError(f"{name} must be {low}..{high} days, got {value!r}")
    return int(text)


def send_reminders(uow: UnitOfWork, reminders: Iterable[Reminder]) -> list[Event]:
    """Write each reminder to the outbox of ``uow``'s service unless it was written before (same
    id): the ones sent now."""
    sent = []
    for reminder in reminders:
        evt = uow.emit_once(reminder.event(uow.source), event_id=reminder.reminder_id(uow.source))
        if evt is not None:
            sent.append(evt)
    return sent
