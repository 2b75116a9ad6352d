"""security's event versions: each decodes as sent, and a newer peer's added fields are ignored."""

import pytest

from nxshared.catalog import REGISTRY
from nxshared.core.errors import ValidationError

V1 = {
    "mlps.graded": {"level": 3, "basis": "定级报告", "previous_level": None},
    "mlps.filed": {"level": 3, "filing_no": "43010099999-27001", "evaluation_agency": "某测评中心"},
    "inspection.recorded": {"inspection_id": "insp-1", "passed": False, "findings": "弱口令"},
    "incident.reported": {
        "incident_id": "inc-1",
        "severity": "critical",
        "description": "网页被篡改",
        "occurred_at": "2027-03-01T00:30:00+00:00",
        "deadline": "2027-03-01T02:30:00+00:00",
    },
    "incident.resolved": {
        "incident_id": "inc-1",
        "severity": "critical",
        "response": "已恢复",
        "deadline": "2027-03-01T02:30:00+00:00",
        "late": False,
    },
}


def envelope(event_type, data, version=1):
    return {
        "event_id": "e1",
        "event_type": event_type,
        "version": version,
        "occurred_at": "2027-03-01T00:00:00+00:00",
        "source": "security",
        "project_id": "p1",
        "actor": "sun@data_center",
        "data": data,
    }


@pytest.mark.parametrize("event_type", sorted(V1))
def test_every_security_event_decodes_as_sent_and_belongs_to_security(event_type):
    assert REGISTRY.source_of(event_type) == "security"
    assert REGISTRY.decode(envelope(event_type, V1[event_type])).data == V1[event_type]


@pytest.mark.parametrize("event_type", sorted(V1))
def test_a_newer_peers_added_fields_are_ignored(event_type):
    newer = envelope(event_type, {**V1[event_type], "added_later": "x"}, version=2)
    assert REGISTRY.decode(newer).data == V1[event_type]


def test_a_level_sent_as_text_is_malformed():
    with pytest.raises(ValidationError, match="MALFORMED_EVENT"):
        REGISTRY.decode(envelope("mlps.graded", {**V1["mlps.graded"], "level": "3"}))
