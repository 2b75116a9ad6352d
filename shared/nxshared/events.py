"""The event envelope and the versioned registry of event types (CONTRACT §Events).

Every event is ``{event_id, event_type, version, occurred_at, source, project_id, actor, data}``.
An event type has a data schema per version and an upcaster per version step, so a consumer
decodes any older version into the newest it knows. Versions only ever *add* fields (a breaking
change is a new event type), so a newer peer's event is read with the newest schema known here,
its unknown fields ignored.
"""

import uuid
from dataclasses import dataclass, field

import marshmallow
from marshmallow import EXCLUDE, Schema, fields

from nxshared.errors import ValidationError


class EventSpec:
    """One event type: the source that owns it, a data schema per version, upcasters."""

    def __init__(self, event_type, source, schemas, upcasters=None):
        self.event_type = event_type
        self.source = source
        self.schemas = dict(schemas)
        self.upcasters = dict(upcasters or {})
        self.version = max(self.schemas)
        missing = [v for v in range(1, self.version) if v not in self.upcasters]
        if missing:
            raise ValueError(f"{event_type}: no upcaster from version(s) {missing}")

    def upcast(self, version, data):
        for step in range(version, self.version):
            data = self.upcasters[step](dict(data))
        return data


@dataclass(frozen=True)
class Event:
    event_id: str
    event_type: str
    version: int
    occurred_at: str
    source: str
    project_id: str | None
    actor: str | None
    data: dict = field(default_factory=dict)

    def as_payload(self):
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "version": self.version,
            "occurred_at": self.occurred_at,
            "source": self.source,
            "project_id": self.project_id,
            "actor": self.actor,
            "data": self.data,
        }


class _EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    version = fields.Integer(required=True, strict=True, validate=lambda v: v >= 1)
    occurred_at = fields.String(required=True)
    source = fields.String(required=True)
    project_id = fields.String(load_default=None, allow_none=True)
    actor = fields.String(load_default=None, allow_none=True)
    data = fields.Dict(load_default=dict)


class Registry:
    def __init__(self, specs):
        self.specs = {spec.event_type: spec for spec in specs}

    def spec(self, event_type):
        try:
            return self.specs[event_type]
        except KeyError:
            raise ValidationError("UNKNOWN_EVENT_TYPE", f"未知的事件类型 {event_type}") from None

    def event_types(self):
        return list(self.specs)

    def source_of(self, event_type):
        return self.spec(event_type).source

    def make(self, event_type, *, source, project_id, actor, data, occurred_at):
        """A new event of the newest version; its data is checked against that version's schema."""
        spec = self.spec(event_type)
        if spec.source != source:
            raise ValueError(f"{source} may not emit {event_type}: it belongs to {spec.source}")
        checked = _load_data(spec.schemas[spec.version], data, event_type)
        return Event(
            event_id=str(uuid.uuid4()),
            event_type=event_type,
            version=spec.version,
            occurred_at=occurred_at.isoformat(),
            source=source,
            project_id=project_id,
            actor=actor,
            data=checked,
        )

    def decode(self, payload):
        """Any version of an event, as the newest version known here."""
        try:
            envelope = _EnvelopeSchema().load(payload if isinstance(payload, dict) else {})
        except marshmallow.ValidationError as exc:
            raise ValidationError("MALFORMED_EVENT", f"事件信封不合法：{exc.messages}") from None
        spec = self.spec(envelope["event_type"])
        version = envelope["version"]
        data = envelope["data"]
        if version < spec.version:
            data = spec.upcast(version, data)
        data = _load_data(spec.schemas[spec.version], data, spec.event_type)
        return Event(**{**envelope, "version": spec.version, "data": data})


def _load_data(schema_cls, data, event_type):
    try:
        return schema_cls(unknown=EXCLUDE).dump(schema_cls(unknown=EXCLUDE).load(data))
    except marshmallow.ValidationError as exc:
        raise ValidationError("MALFORMED_EVENT", f"事件 {event_type} 的数据不合法：{exc.messages}") from None
