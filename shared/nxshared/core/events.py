"""What a decision caused: the domain returns typed events, the unit of work records them.

Each event type is a small frozen dataclass that names its type and the version it is (the newest
the emitting service knows); its fields other than ``project_id`` and ``actor`` are the event's
``data``. The envelope (id, time, source) is added when the unit of work records it.
"""

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from nxshared.core.money import format_money


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    event_type: ClassVar[str]
    version: ClassVar[int]

    project_id: str | None
    actor: str | None

    def data(self) -> dict[str, Any]:
        """The event's data as it travels: money as a contract string, dates as ISO text."""
        return {
            f.name: _plain(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.name not in ("project_id", "actor")
        }


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format_money(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Event:
    """An event in its envelope (CONTRACT §Events), as recorded in the outbox or as a consumer sees
    it after decoding: the data of the newest version known here, unknown fields dropped."""

    event_id: str
    event_type: str
    version: int
    occurred_at: str
    source: str
    project_id: str | None
    actor: str | None
    data: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_payload(self) -> dict[str, Any]:
        """The envelope as a JSON-ready dict. Its data is a copy of this event's, one level deep: the
        data a schema dumps holds plain values, and ``dataclasses.asdict`` (a deep copy of every
        value) cost ~0.1 ms of each emitted event."""
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "version": self.version,
            "occurred_at": self.occurred_at,
            "source": self.source,
            "project_id": self.project_id,
            "actor": self.actor,
            "data": dict(self.data),
        }
