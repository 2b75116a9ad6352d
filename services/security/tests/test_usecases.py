"""Security's use cases on an in-memory unit of work: what each loads, keeps and emits, and that a
refused call leaves nothing behind."""

import datetime as dt
import uuid

import pytest

from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, NotFound, RuleViolation, ValidationError
from nxshared.core.events import Event
from nxshared.core.uow import FakeUnitOfWork
from security import domain, usecases

from .fakes import FakeRepository

NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
HOURS = {"critical": 2, "high": 24, "medium": 72, "low": 168}
RULES = domain.SecurityRules.from_settings("smart_office,audit,data_center", HOURS, 90)
CENTER = Caller("sun", "data_center")
PID = "prj-1"
PLANNED = {
    "name": "智慧教育平台",
    "unit": "unit:edu",
    "construction_mode": "self_built",
    "classified": False,
    "plan_year": 2027,
    "hosted_on_big_data_center": True,
}


def event(event_type, data, source="planning", project_id=PID):
    return Event(str(uuid.uuid4()), event_type, 1, NOW.isoformat(), source, project_id, "x@y", data)


@pytest.fixture
def uow():
    return FakeUnitOfWork(FakeRepository())


def run(uow, use_case, *args, **kwargs):
    with uow.transaction():
        return use_case(uow, *args, **kwargs)


def learn(uow, evt):
    run(uow, usecases.on_project_event, evt)
    return evt


def under_way(uow, project_id=PID, **data):
    learn(uow, event("project.planned", {**PLANNED, **data}, project_id=project_id))
    learn(uow, event("contract.registered", {"signed_on": "2027-01-10"}, "finance", project_id))


def incident(severity="high", occurred_at=NOW - dt.timedelta(hours=1), project_id=PID):
    return {"project_id": project_id, "severity": severity, "description": "网页被篡改", "occurred_at": occurred_at}


def test_the_same_event_twice_has_one_effect(uow):
    planned = learn(uow, event("project.planned", PLANNED))
    learn(uow, event("project.planned", {**PLANNED, "name": "改名后的平台"}))
    learn(uow, planned)
    assert uow.repo.known[PID].name == "改名后的平台"
    assert len(uow.inbox) == 2


def test_a_contract_before_the_plan_is_kept_until_the_plan_arrives(uow):
    learn(uow, event("contract.registered", {"signed_on": "2027-01-10"}, "finance"))
    with pytest.raises(RuleViolation, match="NOT_IN_ANNUAL_PLAN"):
        run(uow, usecases.grade_system, PID, 3, "定级报告", CENTER, RULES, NOW)
    learn(uow, event("project.planned", PLANNED))
    assert [p.project_id for p in uow.repo.projects_under_way()] == [PID]


def test_from_planned_to_filed_with_an_inspection_and_an_incident(uow):
    under_way(uow)
    run(uow, usecases.grade_system, PID, 3, "定级报告", CENTER, RULES, NOW)
    filed = run(uow, usecases.file_grading, PID, "43010099999-27001", "某测评中心", CENTER, RULES, NOW)
    assert (filed.mlps_status, filed.filed_by) == ("filed", "sun@data_center")
    run(uow, usecases.record_inspection, PID, False, "弱口令两处", CENTER, RULES, NOW)
    run(uow, usecases.record_inspection, PID, True, "", CENTER, RULES, NOW + dt.timedelta(days=1))
    reported = run(uow, usecases.report_incident, incident(), CENTER, RULES, NOW)
    posture = usecases.get_posture(uow.repo, PID, Caller("a", "audit"), RULES, NOW)
    assert posture.last_inspection.passed is True and [i.incident_id for i in posture.open_incidents] == [
        reported.incident_id
    ]
    assert posture.overdue == []
    run(uow, usecases.resolve_incident, reported.incident_id, "已恢复并加固", CENTER, RULES, NOW)
    assert usecases.get_posture(uow.repo, PID, CENTER, RULES, NOW).open_incidents == []
    assert uow.types() == [
        "mlps.graded",
        "mlps.filed",
        "inspection.recorded",
        "inspection.recorded",
        "incident.reported",
        "incident.resolved",
    ]


def test_a_refused_call_changes_nothing_and_emits_nothing(uow):
    under_way(uow)
    with pytest.raises(RuleViolation, match="NOT_GRADED"):
        run(uow, usecases.file_grading, PID, "F-1", "某测评中心", CENTER, RULES, NOW)
    with pytest.raises(ValidationError, match="findings"):
        run(uow, usecases.record_inspection, PID, False, "", CENTER, RULES, NOW)
    with pytest.raises(ValidationError, match="occurred_at"):
        run(uow, usecases.report_incident, incident(occurred_at=NOW + dt.timedelta(hours=1)), CENTER, RULES, NOW)
    assert uow.repo.known[PID].filing_no is None
    assert uow.repo.inspections == [] and uow.repo.incidents == {} and uow.emitted == []


def test_resolving_twice_is_a_conflict_and_an_unknown_incident_is_not_found(uow):
    under_way(uow)
    reported = run(uow, usecases.report_incident, incident(), CENTER, RULES, NOW)
    run(uow, usecases.resolve_incident, reported.incident_id, "已处置", CENTER, RULES, NOW)
    with pytest.raises(Conflict, match="ALREADY_RESOLVED"):
        run(uow, usecases.resolve_incident, reported.incident_id, "再次处置", CENTER, RULES, NOW)
    with pytest.raises(NotFound, match="INCIDENT_NOT_FOUND"):
        run(uow, usecases.resolve_incident, "inc-nothing", "处置", CENTER, RULES, NOW)
    assert uow.types() == ["incident.reported", "incident.resolved"]


def test_the_check_keeps_what_is_late_and_the_list_shows_what_the_caller_may_see(uow):
    under_way(uow)
    under_way(uow, "prj-secret", classified=True)
    learn(uow, event("project.planned", PLANNED, project_id="prj-later"))  # planned, not under way
    run(uow, usecases.report_incident, incident("critical"), CENTER, RULES, NOW)
    report, sent = run(uow, usecases.check_overdue, RULES, NOW + dt.timedelta(hours=3), NOW)
    assert sorted((e.data["kind"], e.project_id) for e in sent) == [
        ("mlps_filing_due", PID),
        ("mlps_filing_due", "prj-secret"),
    ]
    again, repeated = run(uow, usecases.check_overdue, RULES, NOW + dt.timedelta(hours=3), NOW)
    assert again.overdue == report.overdue and repeated == []  # the same reminders are not sent twice
    assert sorted((o.kind, o.project_id) for o in report.overdue) == [
        ("incident", PID),
        ("mlps_filing", PID),
        ("mlps_filing", "prj-secret"),
    ]
    assert uow.repo.ran_at == NOW
    public_only = domain.SecurityRules.from_settings("data_center", HOURS, 90)
    listed = usecases.list_overdue(uow.repo, Caller("a", "audit"), public_only)
    assert {o.project_id for o in listed.overdue} == {PID} and listed.checked_at == NOW + dt.timedelta(hours=3)
    run(uow, usecases.grade_system, PID, 2, "定级报告", CENTER, RULES, NOW)
    run(uow, usecases.file_grading, PID, "F-1", "某测评中心", CENTER, RULES, NOW)
    later, sent = run(uow, usecases.check_overdue, RULES, NOW + dt.timedelta(days=100), NOW)
    assert sorted((e.data["kind"], e.project_id) for e in sent) == [
        ("inspection_due", PID),
        ("inspection_due", "prj-secret"),
    ]
    assert sorted((o.kind, o.project_id) for o in later.overdue) == [
        ("incident", PID),
        ("inspection", PID),
        ("inspection", "prj-secret"),
        ("mlps_filing", "prj-secret"),
    ]
