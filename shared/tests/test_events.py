"""The envelope and versioned registry: every old version decodes, newer peers are tolerated.

The library knows no service, so these tests register an event type of their own; each service
tests its real event types (``services/<name>/tests/test_events.py``)."""

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

import pytest
from marshmallow import Schema, fields

from nxshared.catalog import REGISTRY
from nxshared.core.errors import ValidationError
from nxshared.core.events import DomainEvent, Event
from nxshared.events import EventSpec, Registry, money_field
from nxshared.topology import bindings_for

NOW = dt.datetime(2026, 12, 15, tzinfo=dt.UTC)


class ThingDoneV1(Schema):
    amount = money_field(required=True)


class ThingDoneV2(ThingDoneV1):
    kind = fields.String(required=True)


def _v1_to_v2(data):
    data.setdefault("kind", "old")
    return data


@dataclass(frozen=True, kw_only=True)
class ThingDone(DomainEvent):
    event_type: ClassVar[str] = "thing.done"
    version: ClassVar[int] = 2
    amount: Decimal
    kind: str


@dataclass(frozen=True, kw_only=True)
class ThingDue(DomainEvent):
    event_type: ClassVar[str] = "thing.due"
    version: ClassVar[int] = 1
    amount: Decimal
    kind: str = "k"


REG = Registry([EventSpec.of("thing.done", "things", ThingDoneV1, ThingDoneV2, upcasters={1: _v1_to_v2})])


def envelope(version, data, **extra):
    return {
        "event_id": "e1",
        "event_type": "thing.done",
        "version": version,
        "occurred_at": NOW.isoformat(),
        "source": "things",
        "project_id": "p1",
        "actor": "a@county_gov",
        "data": data,
        **extra,
    }


def test_a_typed_event_becomes_a_full_envelope_of_the_newest_version():
    evt = REG.make(
        ThingDone(project_id="p1", actor="a", amount=Decimal("10.5"), kind="new"), source="things", occurred_at=NOW
    )
    payload = evt.as_payload()
    assert set(payload) == {"event_id", "event_type", "version", "occurred_at", "source", "project_id", "actor", "data"}
    assert payload["version"] == 2
    assert payload["data"] == {"amount": "10.50", "kind": "new"}
    assert REG.decode(payload) == evt


def test_version_1_is_upcast_to_the_newest():
    evt = REG.decode(envelope(1, {"amount": "1.00"}))
    assert evt.version == 2
    assert evt.data == {"amount": "1.00", "kind": "old"}


def test_a_newer_peers_event_is_read_and_its_unknown_fields_ignored():
    evt = REG.decode(envelope(3, {"amount": "1.00", "kind": "k", "added_in_v3": 1}, trace="x"))
    assert evt.data == {"amount": "1.00", "kind": "k"}


def test_malformed_events_are_refused():
    with pytest.raises(ValidationError):
        REG.decode({"event_type": "thing.done"})
    with pytest.raises(ValidationError):
        REG.decode(envelope(2, {"kind": "k"}))
    with pytest.raises(ValidationError):
        REG.decode({**envelope(1, {}), "event_type": "no.such"})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("event_id", ""),
        ("event_id", "e" * 65),
        ("event_type", 7),
        ("occurred_at", None),
        ("source", "s" * 65),
        ("project_id", "p" * 65),
        ("project_id", 1),
        ("actor", "a" * 401),
        ("version", 0),
        ("version", "2"),
        ("version", True),
        ("data", ["amount"]),
        ("data", None),
    ],
)
def test_an_envelope_field_out_of_its_bounds_is_refused_by_name(field, value):
    with pytest.raises(ValidationError, match=f"MALFORMED_EVENT.*'{field}'"):
        REG.decode({**envelope(2, {"amount": "1.00", "kind": "k"}), field: value})


def test_an_envelope_that_is_not_an_object_is_refused():
    with pytest.raises(ValidationError, match="MALFORMED_EVENT"):
        REG.decode(["thing.done"])


def test_optional_envelope_fields_may_be_missing_or_null():
    payload = {**envelope(2, {"amount": "1.00", "kind": "k"}), "actor": None}
    del payload["project_id"]
    evt = REG.decode(payload)
    assert (evt.project_id, evt.actor) == (None, None)


def test_an_unknown_event_type_is_kept_as_sent_only_when_asked():
    payload = {**envelope(1, {"anything": 1}), "event_type": "newer.thing", "source": "newer"}
    with pytest.raises(ValidationError):
        REG.decode(payload)
    assert REG.decode(payload, unknown_types=True).data == {"anything": 1}


def test_a_service_emits_only_its_own_event_types_at_their_registered_version():
    with pytest.raises(ValueError):
        REG.make(ThingDone(project_id="p", actor=None, amount=Decimal(1), kind="k"), source="other", occurred_at=NOW)

    @dataclass(frozen=True, kw_only=True)
    class OldThingDone(ThingDone):
        version: ClassVar[int] = 1

    with pytest.raises(ValueError):
        REG.make(
            OldThingDone(project_id="p", actor=None, amount=Decimal(1), kind="k"), source="things", occurred_at=NOW
        )


def test_an_event_type_is_registered_once():
    with pytest.raises(ValueError):
        Registry([EventSpec.of("thing.done", "a", ThingDoneV1), EventSpec.of("thing.done", "b", ThingDoneV1)])


def test_every_installed_event_type_has_an_upcast_path_for_every_version():
    assert REGISTRY.specs, "no service registers events: is the suite installed (make setup)?"
    for spec in REGISTRY.specs.values():
        assert set(spec.schemas) == set(range(1, spec.version + 1))
        assert set(spec.upcasters) == set(range(1, spec.version))


def test_the_payload_is_the_whole_envelope_and_a_copy_of_its_data():
    evt = Event("e-1", "thing.happened", 2, "2027-03-01T09:00:00+00:00", "here", "prj-1", "a@drc", {"n": [1, {"x": 2}]})
    payload = evt.as_payload()
    assert payload == dataclasses.asdict(evt)  # every field of the envelope, a new one too
    payload["data"]["n"] = []
    assert evt.data == {"n": [1, {"x": 2}]}


# --- a shared type: one spec, several emitters (reminder.due) ---------------------------------------


def test_a_shared_type_is_registered_once_and_emitted_by_each_service_that_lists_it():
    spec = EventSpec.shared("thing.due", ThingDoneV1)
    reg = Registry()
    reg.add(spec, emitter="a")
    reg.add(spec, emitter="b")  # the same spec again: one more emitter
    assert reg.emitters_of("thing.due") == ["a", "b"]
    made = reg.make(
        ThingDue(project_id=None, actor=None, amount=Decimal(1)), source="b", occurred_at=NOW, event_id="id-1"
    )
    assert (made.event_id, made.source) == ("id-1", "b")
    with pytest.raises(ValueError, match="may not emit"):
        reg.make(ThingDue(project_id=None, actor=None, amount=Decimal(1)), source="c", occurred_at=NOW)
    with pytest.raises(ValueError, match="registered twice"):
        reg.add(EventSpec.shared("thing.due", ThingDoneV1), emitter="c")


def test_reminder_due_is_emitted_by_every_service_that_owns_a_deadline_and_bound_on_each_exchange():
    emitters = ["audit", "finance", "planning", "review", "security"]
    assert REGISTRY.emitters_of("reminder.due") == emitters
    assert REGISTRY.emitters_of("review.passed") == ["review"]
    assert bindings_for(["reminder.due"], None, ()) == tuple((e, "reminder.due") for e in emitters)
    assert bindings_for(["reminder.due"], "finance", ()) == (("finance", "reminder.due"),)
    with pytest.raises(ValueError, match="not approval"):
        bindings_for(["reminder.due"], "approval", ())
