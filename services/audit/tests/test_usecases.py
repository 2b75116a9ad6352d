"""Audit's use cases on an in-memory unit of work: the trail (once per event, arrival order, who
reads it), checkpoints, cases, and anomalies found from forged event sequences fed to the trail."""

import datetime as dt
import uuid

import pytest

from audit import domain, usecases
from audit.domain import AuditRules, Head
from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, NotFound
from nxshared.core.events import Event
from nxshared.core.uow import FakeUnitOfWork

from .fakes import FakeRepository

NOW = dt.datetime(2027, 6, 1, 9, 0, tzinfo=dt.UTC)
RULES = AuditRules.from_settings("smart_office,county_gov,data_center,drc,finance,audit")
AUDITOR = Caller("qian", "audit")
OFFICE = Caller("zhou", "smart_office")
UNIT = Caller("li", "unit:edu")
PID = "prj-1"
DECLARED = {
    "name": "智慧教育平台",
    "unit": "unit:edu",
    "category": "software",
    "construction_mode": "self_built",
    "plan_year": 2027,
    "plan_type": "annual",
    "estimated_investment": "2500000.00",
    "classified": False,
}


@pytest.fixture
def uow():
    return FakeUnitOfWork(FakeRepository(), handler="record_trail")


def sent(event_type, data=None, project_id=PID, minutes=0, source="planning"):
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "version": 1,
        "occurred_at": (NOW + dt.timedelta(minutes=minutes)).isoformat(),
        "source": source,
        "project_id": project_id,
        "actor": "li@unit:edu",
        "data": data or {},
    }


def record(uow, payload, received_at="2027-06-01T09:30:00+00:00"):
    with uow.transaction():
        return usecases.record_trail(uow, Event(**payload), received_at)


def feed(uow, *steps, project_id=PID):
    """Chain each ``(event_type, data)`` step, a minute apart; their payloads."""
    payloads = [sent(t, d, project_id, minutes=n) for n, (t, d) in enumerate(steps, start=1)]
    for payload in payloads:
        record(uow, payload)
    return payloads


# --- the trail --------------------------------------------------------------------------------------


def test_each_event_is_chained_once_however_often_it_arrives(uow):
    payload = sent("project.declared", DECLARED)
    first = record(uow, payload)
    assert record(uow, payload) is None
    assert [e["event_id"] for e in uow.repo.trails[PID]] == [payload["event_id"]]
    assert first["seq"] == 1 and first["prev_hash"] == domain.GENESIS


def test_events_are_chained_in_arrival_order_with_their_occurrence_kept(uow):
    later = sent("review.passed", {"review_id": "r"}, minutes=10)
    earlier = sent("review.submitted", {"review_id": "r"}, minutes=1)
    record(uow, later)
    record(uow, earlier)
    entries = usecases.get_trail(uow.repo, PID, 0, 1000, AUDITOR, RULES)
    assert [(e["seq"], e["event_type"]) for e in entries] == [(1, "review.passed"), (2, "review.submitted")]
    assert entries[1]["occurred_at"] == earlier["occurred_at"]
    assert entries[1]["prev_hash"] == entries[0]["hash"]


def test_the_trail_keeps_what_was_sent(uow):
    payload = {**sent("future.thing", {"a": [1, 2], "新": "值"}), "version": 7, "source": "newservice"}
    entry = record(uow, payload)
    assert {k: entry[k] for k in ("event_type", "version", "source", "data", "actor")} == {
        "event_type": "future.thing",
        "version": 7,
        "source": "newservice",
        "data": {"a": [1, 2], "新": "值"},
        "actor": "li@unit:edu",
    }


def test_events_naming_no_project_go_to_the_suite_trail(uow):
    record(uow, sent("plan.compiled", {"year": 2027, "project_ids": [PID]}, project_id=None))
    assert usecases.get_trail(uow.repo, None, 0, 10, AUDITOR, RULES)[0]["project_id"] is None
    with pytest.raises(NotFound):
        usecases.get_trail(uow.repo, None, 0, 10, OFFICE, RULES)


def test_pages_follow_after_seq(uow):
    feed(uow, *[("test_report.submitted", {"n": n}) for n in range(7)])
    first = usecases.get_trail(uow.repo, PID, 0, 3, AUDITOR, RULES)
    rest = usecases.get_trail(uow.repo, PID, 3, 1000, AUDITOR, RULES)
    assert [e["seq"] for e in first] == [1, 2, 3] and [e["seq"] for e in rest] == [4, 5, 6, 7]


def test_the_owner_and_the_smart_office_read_a_trail_once_audit_knows_whose_it_is(uow):
    record(uow, sent("review.submitted", {"review_id": "r"}))
    with pytest.raises(NotFound):  # who owns it is not known yet
        usecases.get_trail(uow.repo, PID, 0, 10, UNIT, RULES)
    record(uow, sent("project.declared", DECLARED))
    assert len(usecases.get_trail(uow.repo, PID, 0, 10, UNIT, RULES)) == 2
    assert usecases.verify_trail(uow.repo, PID, OFFICE, RULES).ok
    for other in (Caller("x", "unit:health"), Caller("x", "drc"), Caller("x", "finance")):
        with pytest.raises(NotFound):
            usecases.get_trail(uow.repo, PID, 0, 10, other, RULES)


def test_a_classified_trail_is_seen_by_audit_and_the_owner(uow):
    record(uow, sent("project.declared", {**DECLARED, "classified": True}))
    strict = AuditRules(("drc",))
    assert usecases.get_trail(uow.repo, PID, 0, 10, UNIT, strict)
    assert usecases.get_trail(uow.repo, PID, 0, 10, AUDITOR, strict)
    with pytest.raises(NotFound):
        usecases.get_trail(uow.repo, PID, 0, 10, OFFICE, strict)


def test_an_unknown_trail_does_not_exist(uow):
    with pytest.raises(NotFound):
        usecases.verify_trail(uow.repo, "prj-none", AUDITOR, RULES)


# --- checkpoints ------------------------------------------------------------------------------------


def test_a_checkpoint_holds_the_changed_heads_and_a_root_over_all(uow):
    feed(uow, ("project.declared", DECLARED), ("project.planned", {}))
    feed(uow, ("project.declared", {**DECLARED, "unit": "unit:health"}), project_id="prj-2")
    with uow.transaction():
        first = usecases.take_checkpoint(uow, NOW)
    assert first is not None and (first.seq, first.projects, first.entries) == (1, 2, 3)
    assert first.root == domain.root_of(uow.repo.heads)
    with uow.transaction():
        assert usecases.take_checkpoint(uow, NOW) is None  # nothing grew
    feed(uow, ("review.submitted", {}))
    with uow.transaction():
        second = usecases.take_checkpoint(uow, NOW)
    assert second is not None and second.seq == 2
    assert set(uow.repo.checkpoints[1][1]) == {PID}
    assert usecases.get_checkpoint(uow.repo) == second


def test_verify_holds_the_trail_to_its_checkpoints(uow):
    feed(uow, ("project.declared", DECLARED), ("project.planned", {}), ("review.submitted", {}))
    with uow.transaction():
        usecases.take_checkpoint(uow, NOW)
    del uow.repo.trails[PID][-1]  # the tail deleted behind the service's back (and its head moved)
    uow.repo.heads[PID] = Head(2, uow.repo.trails[PID][-1]["hash"])
    found = usecases.verify_trail(uow.repo, PID, AUDITOR, RULES)
    assert (found.ok, found.first_bad, found.checked_against) == (False, 3, 3)


# --- cases ------------------------------------------------------------------------------------------


def accepted(uow, project_id=PID):
    evt = Event(
        str(uuid.uuid4()),
        "acceptance.passed",
        1,
        NOW.isoformat(),
        "review",
        project_id,
        "li@unit:edu",
        {
            "acceptance_id": "acc-1",
            "precheck_id": "pc-1",
            "date": "2027-05-30",
        },
    )
    with uow.transaction():
        return evt, usecases.on_acceptance_passed(uow, evt, NOW)


def test_acceptance_opens_one_case(uow):
    evt, case = accepted(uow)
    assert case is not None and case.accepted_on == "2027-05-30" and case.acceptance_event_id == evt.event_id
    assert uow.types() == ["audit.opened"]
    with uow.transaction():
        assert usecases.on_acceptance_passed(uow, evt, NOW) is None  # redelivered
    _, again = accepted(uow)  # accepted again: it keeps its case
    assert again is None and uow.types() == ["audit.opened"]
    assert [c.case_id for c in usecases.list_cases(uow.repo, "open")] == [case.case_id]


def test_a_case_records_findings_and_closes(uow):
    _, case = accepted(uow)
    assert case is not None
    with uow.transaction():
        usecases.record_finding(uow, case.case_id, "high", "超合同付款", AUDITOR, NOW)
    with uow.transaction():
        closed = usecases.close_case(uow, case.case_id, "责令整改", AUDITOR, NOW)
    assert closed.status == "closed" and [f.severity for f in closed.findings] == ["high"]
    assert uow.types() == ["audit.opened", "audit.closed"]
    assert uow.emitted[-1].data()["worst_severity"] == "high"
    assert usecases.list_cases(uow.repo, "open") == []
    assert [c.status for c in usecases.list_cases(uow.repo, None)] == ["closed"]


def test_a_refused_decision_changes_nothing(uow):
    _, case = accepted(uow)
    assert case is not None
    with uow.transaction():
        usecases.close_case(uow, case.case_id, "合规", AUDITOR, NOW)
    with pytest.raises(Conflict), uow.transaction():
        usecases.record_finding(uow, case.case_id, "low", "迟到的发现", AUDITOR, NOW)
    assert uow.repo.all_cases[case.case_id].findings == []
    assert uow.types() == ["audit.opened", "audit.closed"]
    with pytest.raises(NotFound), uow.transaction():
        usecases.close_case(uow, "aud-none", "x", AUDITOR, NOW)


# --- anomalies from forged sequences --------------------------------------------------------------


LAWFUL = (
    ("project.declared", DECLARED),
    ("project.planned", {}),
    ("review.submitted", {}),
    ("review.passed", {}),
    ("approval.granted", {}),
    ("budget.approved", {"approved_amount": "2000000.00"}),
    ("procurement.registered", {"amount": "1800000.00"}),
    ("contract.registered", {"amount": "1800000.00"}),
    ("funds.disbursed", {"amount": "2000000.00"}),
    ("acceptance.prechecked", {"passed": True}),
    ("acceptance.passed", {"date": "2027-05-30"}),
)


def test_a_lawful_project_has_none(uow):
    feed(uow, *LAWFUL)
    assert usecases.list_anomalies(uow.repo, PID, AUDITOR, RULES) == []


def test_forged_sequences_show_each_anomaly_with_the_events_that_prove_it(uow):
    sent_ = feed(
        uow,
        ("project.declared", DECLARED),
        ("approval.granted", {}),  # before any review
        ("budget.approved", {"approved_amount": "100.00"}),
        ("funds.disbursed", {"amount": "50.00"}),  # before the contract
        ("contract.registered", {}),  # without procurement
        ("funds.disbursed", {"amount": "60.00"}),  # above the budget
        ("change.unauthorized_reported", {"report_id": "uc-1"}),
        ("acceptance.passed", {}),  # no pre-check, a change open
    )
    ids = [p["event_id"] for p in sent_]
    found = {(a.rule, a.event_ids) for a in usecases.list_anomalies(uow.repo, PID, AUDITOR, RULES)}
    assert found == {
        ("APPROVED_BEFORE_REVIEW", (ids[1],)),
        ("DISBURSED_BEFORE_CONTRACT", (ids[3],)),
        ("CONTRACT_WITHOUT_PROCUREMENT", (ids[4],)),
        ("DISBURSED_OVER_BUDGET", (ids[2], ids[5])),
        ("ACCEPTED_WITHOUT_PRECHECK", (ids[7],)),
        ("ACCEPTED_WITH_UNAUTHORIZED_CHANGE", (ids[6], ids[7])),
    }


def test_all_projects_anomalies_for_those_who_may_see_them(uow):
    feed(uow, ("project.declared", DECLARED), ("approval.granted", {}))
    feed(uow, ("project.declared", {**DECLARED, "classified": True}), ("approval.granted", {}), project_id="prj-2")
    feed(uow, *LAWFUL, project_id="prj-3")
    assert {a.project_id for a in usecases.list_anomalies(uow.repo, None, AUDITOR, RULES)} == {PID, "prj-2"}
    strict = AuditRules(("drc",))
    assert {a.project_id for a in usecases.list_anomalies(uow.repo, None, OFFICE, strict)} == {PID}
    with pytest.raises(NotFound):
        usecases.list_anomalies(uow.repo, "prj-2", OFFICE, strict)
    with pytest.raises(NotFound):
        usecases.list_anomalies(uow.repo, "prj-none", AUDITOR, RULES)
