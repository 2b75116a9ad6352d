"""The event envelope and the versioned registry of event types (CONTRACT §Events).

Every event is ``{event_id, event_type, version, occurred_at, source, project_id, actor, data}``.
An event type has a data schema per version and an upcaster per version step, so a consumer
decodes any older version into the newest it knows. Versions only ever *add* fields (a breaking
change is a new event type), so a newer peer's event is read with the newest schema known here,
its unknown fields ignored.

The schemas live with the service that emits them (``<service>/events.py``, a list of
``EventSpec``), registered under the ``nx.events`` entry point group; ``nxshared.catalog`` collects
what is installed.
"""

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import marshmallow
from marshmallow import EXCLUDE, Schema, fields, validate

from nxshared.core.errors import ValidationError
from nxshared.core.events import DomainEvent, Event
from nxshared.validation import dump, instance

MONEY = validate.Regexp(r"\d+(\.\d{1,2})?\Z")
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def money_field(**kw: Any) -> fields.String:
    """A contract money string in an event's data."""
    return fields.String(validate=MONEY, **kw)


SHARED_SOURCE = "shared"  # a shared spec's ``source``: several services emit its type (``EventSpec.shared``)


class EventSpec:
    """One event type: the source that owns it, a data schema per version, upcasters."""

    def __init__(
        self,
        event_type: str,
        source: str,
        schemas: dict[int, type[Schema]],
        upcasters: dict[int, Upcaster] | None = None,
    ) -> None:
        self.event_type = event_type
        self.source = source
        self.schemas = dict(schemas)
        self.upcasters = dict(upcasters or {})
        self.version = max(self.schemas)
        missing = [v for v in range(1, self.version) if v not in self.upcasters]
        if missing:
            raise ValueError(f"{event_type}: no upcaster from version(s) {missing}")

    @classmethod
    def of(cls, event_type: str, source: str, *schemas: type[Schema], upcasters=None) -> "EventSpec":
        """``EventSpec.of("project.planned", "planning", V1, V2, upcasters={1: v1_to_v2})``."""
        return cls(event_type, source, dict(enumerate(schemas, start=1)), upcasters)

    @classmethod
    def shared(cls, event_type: str, *schemas: type[Schema], upcasters=None) -> "EventSpec":
        """A type several services emit, each on its own exchange (``reminder.due``): registered once
        in nxshared; each emitter lists this same spec among its own ``SPECS``."""
        return cls.of(event_type, SHARED_SOURCE, *schemas, upcasters=upcasters)

    @property
    def is_shared(self) -> bool:
        return self.source == SHARED_SOURCE

    def upcast(self, version: int, data: dict[str, Any]) -> dict[str, Any]:
        for step in range(version, self.version):
            data = self.upcasters[step](dict(data))
        return data


_ENVELOPE_TEXT = {"event_id": 64, "event_type": 64, "occurred_at": 40, "source": 64}  # required: 1..max
_ENVELOPE_OPTIONAL_TEXT = {"project_id": 64, "actor": 400}  # may be missing or null


def checked_envelope(payload: Any) -> dict[str, Any]:
    """The envelope's fields, bounded as the contract says, anything else in it ignored. Checked
    by hand: every event a service consumes passes here, and a marshmallow schema took half of a
    decode (17 of 33 µs, five times that in a process that had been idle)."""
    if not isinstance(payload, dict):
        raise ValidationError("MALFORMED_EVENT", "事件信封不合法：须为 JSON 对象")
    problems = {}
    envelope = {}
    for name, longest in _ENVELOPE_TEXT.items():
        value = payload.get(name)
        if not isinstance(value, str) or not 1 <= len(value) <= longest:
            problems[name] = f"须为 1 至 {longest} 个字符的字符串"
        envelope[name] = value
    for name, longest in _ENVELOPE_OPTIONAL_TEXT.items():
        value = payload.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > longest):
            problems[name] = f"须为不超过 {longest} 个字符的字符串或 null"
        envelope[name] = value
    version = payload.get("version")
    if type(version) is not int or version < 1:
        problems["version"] = "须为正整数"
    envelope["version"] = version
    data = payload.get("data", {})
    if not isinstance(data, dict):
        problems["data"] = "须为 JSON 对象"
    envelope["data"] = data
    if problems:
        raise ValidationError("MALFORMED_EVENT", f"事件信封不合法：{problems}")
    return envelope


class Registry:
    def __init__(self, specs: Iterable[EventSpec] = ()) -> None:
        self._specs: dict[str, EventSpec] = {}
        self._emitters: dict[str, set[str]] = {}
        for spec in specs:
            self.add(spec)

    def add(self, spec: EventSpec, emitter: str | None = None) -> None:
        """Register ``spec``; a shared spec again and again, once per ``emitter`` that lists it."""
        known = self.specs.get(spec.event_type)
        if known is not None and known is not spec:
            raise ValueError(f"{spec.event_type} is registered twice ({known.source} and {spec.source})")
        self.specs[spec.event_type] = spec
        if spec.is_shared and emitter is not None:
            self._emitters.setdefault(spec.event_type, set()).add(emitter)

    def emitters_of(self, event_type: str) -> list[str]:
        """The services that emit ``event_type``: its source, or every emitter of a shared type."""
        spec = self.spec(event_type)
        return sorted(self._emitters.get(event_type, ())) if spec.is_shared else [spec.source]

    @property
    def specs(self) -> dict[str, EventSpec]:
        return self._specs

    def spec(self, event_type: str) -> EventSpec:
        try:
            return self.specs[event_type]
        except KeyError:
            raise ValidationError("UNKNOWN_EVENT_TYPE", f"未知的事件类型 {event_type}") from None

    def event_types(self) -> list[str]:
        return list(self.specs)

    def source_of(self, event_type: str) -> str:
        return self.spec(event_type).source

    def make(self, event: DomainEvent, *, source: str, occurred_at: dt.datetime, event_id: str | None = None) -> Event:
        """The envelope of a decision's event (a fresh id unless ``event_id`` is given); its data
        is checked against its version's schema."""
        spec = self.spec(event.event_type)
        if source not in self.emitters_of(event.event_type):
            raise ValueError(f"{source} may not emit {event.event_type}: it belongs to {spec.source}")
        if event.version != spec.version:
            raise ValueError(f"{event.event_type} v{event.version} is not the registered v{spec.version}")
        return Event(
            event_id=event_id or str(uuid.uuid4()),
            event_type=event.event_type,
            version=spec.version,
            occurred_at=occurred_at.isoformat(),
            source=source,
            project_id=event.project_id,
            actor=event.actor,
            data=_load_data(spec.schemas[spec.version], event.data(), event.event_type),
        )

    def decode(self, payload: Any, *, unknown_types: bool = False) -> Event:
        """Any version of an event, as the newest version known here. An event type no installed
        service registers is refused, or with ``unknown_types=True`` kept with its data as sent
        (for consumers that only read the envelope, such as a timeline)."""
        envelope = checked_envelope(payload)
        if unknown_types and envelope["event_type"] not in self.specs:
            return Event(**envelope)
        spec = self.spec(envelope["event_type"])
        data = envelope["data"]
        if envelope["version"] < spec.version:
            data = spec.upcast(envelope["version"], data)
        data = _load_data(spec.schemas[spec.version], data, spec.event_type)
        return Event(**{**envelope, "version": spec.version, "data": data})


def _load_data(schema_cls: type[Schema], data: dict[str, Any], event_type: str) -> dict[str, Any]:
    schema = instance(schema_cls, unknown=EXCLUDE)  # fields a newer peer added are ignored
    try:
        return dump(schema_cls, schema.load(data))
    except marshmallow.ValidationError as exc:
        raise ValidationError("MALFORMED_EVENT", f"事件 {event_type} 的数据不合法：{exc.messages}") from None
