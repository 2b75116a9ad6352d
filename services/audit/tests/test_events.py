"""audit's event versions: each decodes as sent, and a newer peer's added fields are ignored."""

import pytest

from nxshared.catalog import REGISTRY
from nxshared.core.errors import ValidationError

V1 = {
    "audit.opened": {"case_id": "aud-1", "acceptance_event_id": "e0", "accepted_on": "2027-05-30"},
    "audit.closed": {"case_id": "aud-1", "conclusion": "基本合规", "findings": 2, "worst_severity": "high"},
}


def envelope(event_type, data, version=1):
    return {
        "event_id": "e1",
        "event_type": event_type,
        "version": version,
        "occurred_at": "2027-06-01T00:00:00+00:00",
        "source": "audit",
        "project_id": "p1",
        "actor": "qian@audit",
        "data": data,
    }


@pytest.mark.parametrize("event_type", sorted(V1))
def test_every_audit_event_decodes_as_sent_and_belongs_to_audit(event_type):
    assert REGISTRY.source_of(event_type) == "audit"
    assert REGISTRY.decode(envelope(event_type, V1[event_type])).data == V1[event_type]


@pytest.mark.parametrize("event_type", sorted(V1))
def test_a_newer_peers_added_fields_are_ignored(event_type):
    newer = envelope(event_type, {**V1[event_type], "added_later": "x"}, version=2)
    assert REGISTRY.decode(newer).data == V1[event_type]


def test_a_count_of_findings_sent_as_text_is_malformed():
    with pytest.raises(ValidationError, match="MALFORMED_EVENT"):
        REGISTRY.decode(envelope("audit.closed", {**V1["audit.closed"], "findings": "2"}))
