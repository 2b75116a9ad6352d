"""The envelope and versioned registry: every old version decodes, newer peers are tolerated."""

import datetime as dt

import pytest

from nxshared.catalog import REGISTRY
from nxshared.errors import ValidationError

NOW = dt.datetime(2026, 12, 15, tzinfo=dt.UTC)
PLANNED_V2 = {
    "name": "n",
    "unit": "unit:edu",
    "construction_mode": "self_built",
    "plan_year": 2027,
    "plan_type": "supplementary",
    "estimated_investment": "10.00",
    "requires_construction_plan": True,
    "classified": False,
    "custom_software": True,
    "hosted_on_big_data_center": True,
}


def envelope(version, data, **extra):
    return {
        "event_id": "e1",
        "event_type": "project.planned",
        "version": version,
        "occurred_at": NOW.isoformat(),
        "source": "planning",
        "project_id": "p1",
        "actor": "a@county_gov",
        "data": data,
        **extra,
    }


def test_made_events_carry_the_newest_version_and_a_full_envelope():
    evt = REGISTRY.make(
        "project.planned", source="planning", project_id="p1", actor="a", data=PLANNED_V2, occurred_at=NOW
    )
    payload = evt.as_payload()
    assert set(payload) == {"event_id", "event_type", "version", "occurred_at", "source", "project_id", "actor", "data"}
    assert payload["version"] == 2
    assert REGISTRY.decode(payload) == evt


def test_version_1_is_upcast_to_the_newest():
    v1 = {
        k: v
        for k, v in PLANNED_V2.items()
        if k not in ("plan_type", "name", "custom_software", "hosted_on_big_data_center")
    }
    evt = REGISTRY.decode(envelope(1, v1))
    assert evt.version == 2
    assert evt.data["plan_type"] == "annual"


def test_every_version_of_every_event_type_has_an_upcast_path():
    for spec in REGISTRY.specs.values():
        assert set(spec.schemas) == set(range(1, spec.version + 1))
        assert set(spec.upcasters) == set(range(1, spec.version))


def test_a_newer_peers_event_is_read_and_its_unknown_fields_ignored():
    evt = REGISTRY.decode(envelope(3, {**PLANNED_V2, "added_in_v3": 1}, trace="x"))
    assert "added_in_v3" not in evt.data
    assert evt.data["plan_type"] == "supplementary"


def test_malformed_events_are_refused():
    with pytest.raises(ValidationError):
        REGISTRY.decode({"event_type": "project.planned"})
    with pytest.raises(ValidationError):
        REGISTRY.decode(envelope(2, {"unit": "unit:edu"}))
    with pytest.raises(ValidationError):
        REGISTRY.decode({**envelope(1, {}), "event_type": "no.such"})


def test_a_service_emits_only_its_own_event_types():
    with pytest.raises(ValueError):
        REGISTRY.make(
            "review.passed",
            source="planning",
            project_id="p",
            actor=None,
            data={"review_id": "r", "route": "filing"},
            occurred_at=NOW,
        )
