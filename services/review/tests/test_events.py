"""review's delivery and acceptance events (v1): each typed event's data decodes as sent through the
catalog, a newer peer's added fields are ignored, and a missing required field is refused."""

import datetime as dt

import pytest

from nxshared.catalog import REGISTRY
from nxshared.core.errors import ValidationError
from review.events import (
    AcceptanceFailed,
    AcceptancePassed,
    Prechecked,
    PrecheckRequested,
    SupervisorRegistered,
    TestReportSubmitted,
)

WHO = {"project_id": "p1", "actor": "li@unit:edu"}
SENT = [
    SupervisorRegistered(
        **WHO, company="某监理公司", qualification_no="JL-1", lead_name="赵六", lead_certificate_no="Z-1"
    ),
    TestReportSubmitted(**WHO, report_id="tr-1", kind="database", agency="某检测中心", report_no="R-1", passed=False),
    PrecheckRequested(**WHO, precheck_id="pck-1"),
    Prechecked(**WHO, precheck_id="pck-1", verdict="passed", passed=True, opinion="符合"),
    AcceptancePassed(**WHO, acceptance_id="acc-1", precheck_id="pck-1", date=dt.date(2027, 6, 30), minutes="通过"),
    AcceptanceFailed(**WHO, acceptance_id="acc-1", precheck_id="pck-1", date=dt.date(2027, 6, 30), minutes="整改"),
]


def envelope(evt, data):
    return {
        "event_id": "e1",
        "event_type": evt.event_type,
        "version": evt.version,
        "occurred_at": "2027-03-01T00:00:00+00:00",
        "source": "review",
        "project_id": evt.project_id,
        "actor": evt.actor,
        "data": data,
    }


@pytest.mark.parametrize("evt", SENT, ids=lambda e: e.event_type)
def test_each_event_decodes_as_sent_and_ignores_fields_it_does_not_know(evt):
    assert (evt.version, REGISTRY.spec(evt.event_type).source) == (1, "review")
    assert REGISTRY.decode(envelope(evt, evt.data())).data == evt.data()
    assert REGISTRY.decode(envelope(evt, {**evt.data(), "added_later": 1})).data == evt.data()


@pytest.mark.parametrize("evt", SENT, ids=lambda e: e.event_type)
def test_a_missing_required_field_is_refused(evt):
    required = "date" if evt.event_type.startswith("acceptance.") and "date" in evt.data() else next(iter(evt.data()))
    with pytest.raises(ValidationError):
        REGISTRY.decode(envelope(evt, {k: v for k, v in evt.data().items() if k != required}))


@pytest.mark.parametrize("event_type", ["acceptance.passed", "acceptance.failed"])
def test_an_acceptance_is_read_from_its_date_alone(event_type):
    """What security's reader sends and needs (CONTRACT §Events: the envelope, the data's date)."""
    evt = next(e for e in SENT if e.event_type == event_type)
    data = REGISTRY.decode(envelope(evt, {"date": "2027-02-20", "minutes": "纪要"})).data
    assert data == {"date": "2027-02-20", "minutes": "纪要", "acceptance_id": None, "precheck_id": None}


def test_an_acceptance_carries_its_date_as_iso_text_for_security():
    assert SENT[4].data()["date"] == "2027-06-30"
