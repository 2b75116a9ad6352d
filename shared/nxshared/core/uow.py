"""The unit of work as a use case sees it, and an in-memory fake for use-case tests.

A use case runs inside one open unit of work: it loads through ``uow.repo`` (the service's own
repository), lets the domain decide, and records what the decision caused with ``uow.emit``. The
real unit of work (``nxshared.db``) commits the state, the outbox rows and the inbox row together;
the fake keeps everything in memory and, like a rolled-back transaction, leaves nothing behind when
the use case raises.
"""

import copy
import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, Protocol, TypeVar

from nxshared.core.events import DomainEvent, Event

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class UnitOfWork(Protocol[R_co]):
    @property
    def repo(self) -> R_co: ...

    @property
    def source(self) -> str:
        """The service whose database (and outbox) this is."""

    def emit(self, *events: DomainEvent) -> list[Event]:
        """Record events to be published once this unit of work commits; their envelopes."""

    def emit_once(self, event: DomainEvent, event_id: str) -> Event | None:
        """Record ``event`` under ``event_id`` unless that id was recorded before (then None)."""

    def first_time(self, event: Event) -> bool:
        """Record ``event`` as applied by this handler; False when it already was (idempotent inbox)."""


class FakeUnitOfWork(Generic[R]):
    """``with uow.transaction(): use_case(uow, …)``: committed on success, as it was on a raise."""

    def __init__(self, repo: R, handler: str = "use_case", source: str = "test") -> None:
        self._repo = repo
        self.handler = handler
        self.source = source
        self.emitted: list[DomainEvent] = []
        self.inbox: set[tuple[str, str]] = set()
        self.emitted_ids: set[str] = set()

    @property
    def repo(self) -> R:
        return self._repo

    @contextmanager
    def transaction(self) -> Iterator["FakeUnitOfWork[R]"]:
        snapshot = copy.deepcopy((self._repo, self.emitted, self.inbox, self.emitted_ids))
        try:
            yield self
        except BaseException:
            self._repo, self.emitted, self.inbox, self.emitted_ids = snapshot
            raise

    def emit(self, *events: DomainEvent) -> list[Event]:
        self.emitted.extend(events)
        now = dt.datetime.now(dt.UTC).isoformat()
        return [
            Event(str(uuid.uuid4()), e.event_type, e.version, now, self.source, e.project_id, e.actor, e.data())
            for e in events
        ]

    def emit_once(self, event: DomainEvent, event_id: str) -> Event | None:
        if event_id in self.emitted_ids:
            return None
        self.emitted_ids.add(event_id)
        (made,) = self.emit(event)
        return dataclasses.replace(made, event_id=event_id)

    def first_time(self, event: Event) -> bool:
        key = (event.event_id, self.handler)
        if key in self.inbox:
            return False
        self.inbox.add(key)
        return True

    def types(self) -> list[str]:
        """The types of the events emitted so far, in order."""
        return [e.event_type for e in self.emitted]
