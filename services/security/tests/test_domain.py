"""Security's rules, one test per rule, on plain objects (no broker, no database)."""

import datetime as dt
import uuid

import pytest

from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, NotFound, RuleViolation, ValidationError
from nxshared.core.events import Event
from security import domain

NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
HOURS = {"critical": 2, "high": 24, "medium": 72, "low": 168}
RULES = domain.SecurityRules.from_settings("smart_office,audit,data_center", HOURS, 90)
CENTER = Caller("sun", "data_center")
PLANNED = {
    "name": "智慧教育平台",
    "unit": "unit:edu",
    "construction_mode": "self_built",
    "classified": False,
    "plan_year": 2027,
    "hosted_on_big_data_center": True,
}


def planned(**data):
    return domain.learn_planned(domain.Project("prj-1"), {**PLANNED, **data})


def event(event_type, data, occurred_at="2027-02-01T08:00:00+00:00"):
    return Event(str(uuid.uuid4()), event_type, 1, occurred_at, "x", "prj-1", "a@b", data)


def contracted(signed_on="2027-01-10", **data):
    return domain.learn_contracted(planned(**data), event("contract.registered", {"signed_on": signed_on}))


def graded(level=3, **data):
    project = planned(**data)
    domain.grade_system(project, level, "定级报告", CENTER, RULES, NOW)
    return project


def incident(severity="critical", occurred_at=NOW - dt.timedelta(hours=1), **more):
    return {
        "project_id": "prj-1",
        "severity": severity,
        "description": "数据库遭暴力破解",
        "occurred_at": occurred_at,
        **more,
    }


# --- the settings ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hours",
    [
        {"critical": 2, "high": 24, "medium": 72},  # one missing
        {**HOURS, "urgent": 1},  # one unknown
        {**HOURS, "low": 0},
        {**HOURS, "low": "168"},
        {**HOURS, "low": True},
        {**HOURS, "low": 24 * 366},
        "critical=2",
    ],
)
def test_a_bad_response_time_setting_stops_the_service(hours):
    with pytest.raises(ValueError, match="INCIDENT_RESPONSE_HOURS"):
        domain.SecurityRules.from_settings("audit", hours, 90)


@pytest.mark.parametrize("days", [0, -1, "90", 10_000])
def test_a_bad_inspection_interval_stops_the_service(days):
    with pytest.raises(ValueError, match="INSPECTION_INTERVAL_DAYS"):
        domain.SecurityRules.from_settings("audit", HOURS, days)


def test_the_deadline_follows_the_severity():
    assert RULES.deadline("critical", NOW) == NOW + dt.timedelta(hours=2)
    assert RULES.deadline("high", NOW) == NOW + dt.timedelta(hours=24)
    assert RULES.deadline("medium", NOW) == NOW + dt.timedelta(hours=72)
    assert RULES.deadline("low", NOW) == NOW + dt.timedelta(days=7)


def test_the_clock_moves_the_day_and_keeps_the_time_of_day():
    real = dt.datetime(2026, 12, 4, 15, 30, tzinfo=dt.UTC)
    assert domain.moment(real.astimezone().date(), real) == real
    moved = domain.moment(real.astimezone().date() + dt.timedelta(days=11), real)
    assert moved - real == dt.timedelta(days=11)


# --- what security learns ---------------------------------------------------------------------------------


def test_a_planned_project_says_whether_it_is_hosted_and_classified():
    project = planned(classified=True, hosted_on_big_data_center=False)
    assert (project.planned, project.classified, project.hosted_on_big_data_center) == (True, True, False)
    assert project.under_way is False


def test_a_contract_puts_the_project_under_way_from_its_signing():
    project = contracted("2027-01-10")
    assert project.under_way and project.under_way_since == dt.date(2027, 1, 10)


def test_an_acceptance_without_a_date_is_dated_by_its_envelope():
    project = domain.learn_accepted(planned(), event("acceptance.passed", {}, occurred_at="2027-05-02T01:00:00+00:00"))
    assert project.accepted_on == dt.date(2027, 5, 2)


# --- access (Art 10, 25) ---------------------------------------------------------------------------------


def test_an_unplanned_project_is_not_in_the_plan():
    for project in (None, domain.Project("prj-1")):
        with pytest.raises(RuleViolation, match="NOT_IN_ANNUAL_PLAN"):
            domain.grade_system(project, 3, "依据", CENTER, RULES, NOW)


def test_a_classified_project_is_hidden_from_the_data_center_unless_the_setting_names_it():
    rules = domain.SecurityRules.from_settings("audit", HOURS, 90)
    with pytest.raises(NotFound, match="PROJECT_NOT_FOUND"):
        domain.grade_system(planned(classified=True), 3, "依据", CENTER, rules, NOW)
    unified = planned(classified=True, construction_mode="unified")  # the data center builds it: its owner
    assert domain.grade_system(unified, 3, "依据", CENTER, rules, NOW)[0].mlps_level == 3


@pytest.mark.parametrize(
    ("org", "sees"), [("unit:edu", True), ("unit:health", False), ("drc", True), ("county_gov", True)]
)
def test_the_posture_is_for_every_bureau_and_the_owner(org, sees):
    project = planned()
    if sees:
        assert domain.posture(project, Caller("x", org), RULES, None, [], NOW).project_id == "prj-1"
    else:
        with pytest.raises(NotFound):
            domain.posture(project, Caller("x", org), RULES, None, [], NOW)


# --- MLPS (Art 24) -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", [0, 6, True, "3", 3.0, None])
def test_the_level_is_an_integer_from_one_to_five(level):
    with pytest.raises(ValidationError, match="level"):
        domain.grade_system(planned(), level, "依据", CENTER, RULES, NOW)


def test_no_filing_before_a_grade():
    with pytest.raises(RuleViolation, match="^NOT_GRADED: 系统尚未定级，不能备案（第二十四条）$"):
        domain.file_grading(planned(), "43010099999-27001", "某测评机构", None, CENTER, RULES, NOW)


def test_a_grade_is_filed_once_and_a_regrade_must_be_filed_again():
    project = graded(3)
    project, filed = domain.file_grading(project, "F-1", "某测评机构", None, CENTER, RULES, NOW)
    assert (project.mlps_status, filed.level, filed.filing_no) == ("filed", 3, "F-1")
    with pytest.raises(Conflict, match="ALREADY_FILED"):
        domain.file_grading(project, "F-2", "某测评机构", None, CENTER, RULES, NOW)
    project, regraded = domain.grade_system(project, 4, "业务扩展", CENTER, RULES, NOW)
    assert (project.mlps_status, project.filing_no, regraded.previous_level) == ("graded", None, 3)
    assert domain.file_grading(project, "F-2", "某测评机构", None, CENTER, RULES, NOW)[1].level == 4


def test_a_filing_number_names_one_system():
    other = graded()
    other.project_id = "prj-2"
    other.filing_no = "F-1"
    with pytest.raises(Conflict, match="FILING_NO_TAKEN"):
        domain.file_grading(graded(), "F-1", "某测评机构", other, CENTER, RULES, NOW)


# --- inspections and incidents (Art 23) ------------------------------------------------------------------


def test_a_failed_inspection_names_its_findings():
    with pytest.raises(ValidationError, match="findings"):
        domain.record_inspection(planned(), False, "  ", CENTER, RULES, NOW)
    inspection, recorded = domain.record_inspection(planned(), True, "", CENTER, RULES, NOW)
    assert inspection.passed and recorded.inspection_id == inspection.inspection_id


def test_an_incident_gets_the_deadline_of_its_severity_from_its_occurrence():
    occurred = dt.datetime(2027, 3, 1, 16, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # 08:00 UTC
    reported, event = domain.report_incident(planned(), incident("high", occurred), CENTER, RULES, NOW)
    assert reported.occurred_at == dt.datetime(2027, 3, 1, 8, 0, tzinfo=dt.UTC)
    assert reported.deadline == dt.datetime(2027, 3, 2, 8, 0, tzinfo=dt.UTC) == event.deadline
    assert reported.status == "open"


def test_an_incident_has_not_occurred_in_the_future():
    with pytest.raises(ValidationError, match="incident.occurred_at"):
        domain.report_incident(planned(), incident(occurred_at=NOW + dt.timedelta(minutes=1)), CENTER, RULES, NOW)


def test_an_incident_is_resolved_once_and_a_late_response_is_marked():
    project = planned()
    reported, _ = domain.report_incident(project, incident("critical"), CENTER, RULES, NOW)
    resolved, event = domain.resolve_incident(
        reported, project, "已封禁来源地址", CENTER, RULES, NOW + dt.timedelta(hours=2)
    )
    assert (resolved.status, event.late) == ("resolved", True)
    with pytest.raises(Conflict, match="ALREADY_RESOLVED"):
        domain.resolve_incident(reported, project, "再次处置", CENTER, RULES, NOW)


def test_an_unknown_or_hidden_incident_is_not_found():
    with pytest.raises(NotFound, match="INCIDENT_NOT_FOUND"):
        domain.resolve_incident(None, None, "处置", CENTER, RULES, NOW)
    hidden = planned(classified=True)
    reported, _ = domain.report_incident(hidden, incident(), CENTER, RULES, NOW)
    rules = domain.SecurityRules.from_settings("audit", HOURS, 90)
    with pytest.raises(NotFound, match="INCIDENT_NOT_FOUND"):
        domain.resolve_incident(reported, hidden, "处置", CENTER, rules, NOW)


# --- what is late (Art 22–24) ------------------------------------------------------------------------------


def test_a_hosted_project_under_way_without_a_filing_is_late():
    assert domain.filing_overdue(planned()) is None  # not under way yet
    late = domain.filing_overdue(contracted("2027-01-10"))
    assert (late.kind, late.since) == ("mlps_filing", dt.datetime(2027, 1, 10, tzinfo=dt.UTC))
    assert domain.filing_overdue(contracted(hosted_on_big_data_center=False)) is None
    project = contracted()
    domain.grade_system(project, 2, "依据", CENTER, RULES, NOW)
    assert domain.filing_overdue(project) is not None  # graded is not filed
    domain.file_grading(project, "F-1", "某测评机构", None, CENTER, RULES, NOW)
    assert domain.filing_overdue(project) is None


def test_an_accepted_project_is_under_way_too():
    project = domain.learn_accepted(planned(), event("acceptance.passed", {"date": "2027-02-20"}))
    assert domain.filing_overdue(project).since == dt.datetime(2027, 2, 20, tzinfo=dt.UTC)


def test_an_inspection_is_due_an_interval_after_the_last_or_after_the_signing():
    project = contracted("2027-01-10")
    start = dt.datetime(2027, 1, 10, tzinfo=dt.UTC)
    assert (
        domain.inspection_overdue(project, None, start + dt.timedelta(days=90) - dt.timedelta(seconds=1), RULES) is None
    )
    late = domain.inspection_overdue(project, None, start + dt.timedelta(days=90), RULES)
    assert (late.kind, late.since) == ("inspection", start + dt.timedelta(days=90))
    last = start + dt.timedelta(days=80)
    assert domain.inspection_overdue(project, last, start + dt.timedelta(days=169), RULES) is None
    assert domain.inspection_overdue(project, last, start + dt.timedelta(days=170), RULES) is not None
    assert domain.inspection_overdue(planned(), None, start + dt.timedelta(days=900), RULES) is None  # not under way


def test_an_incident_open_past_its_deadline_is_late_and_a_resolved_one_is_not():
    project = planned()
    reported, _ = domain.report_incident(project, incident("critical"), CENTER, RULES, NOW)
    assert domain.incident_overdue(reported, reported.deadline - dt.timedelta(seconds=1)) is None
    late = domain.incident_overdue(reported, reported.deadline)
    assert (late.kind, late.incident_id, late.severity) == ("incident", reported.incident_id, "critical")
    domain.resolve_incident(reported, project, "已处置", CENTER, RULES, NOW)
    assert domain.incident_overdue(reported, reported.deadline + dt.timedelta(days=1)) is None


def test_the_check_finds_every_kind_oldest_first_and_the_visible_ones_are_listed():
    project = contracted("2027-01-10")
    quiet = domain.learn_planned(domain.Project("prj-2"), {**PLANNED, "classified": True})
    reported, _ = domain.report_incident(quiet, {**incident("low"), "project_id": "prj-2"}, CENTER, RULES, NOW)
    later = NOW + dt.timedelta(days=60)
    found = domain.check_overdue([project], {}, [reported], later, RULES)
    assert [(o.kind, o.project_id) for o in found] == [
        ("mlps_filing", "prj-1"),
        ("incident", "prj-2"),
        ("inspection", "prj-1"),
    ]
    report = domain.OverdueReport(later, found)
    projects = {"prj-1": project, "prj-2": quiet}
    only_public = domain.SecurityRules.from_settings("data_center", HOURS, 90)
    seen = domain.visible_overdue(report, projects, Caller("a", "audit"), only_public)
    assert [o.project_id for o in seen.overdue] == ["prj-1", "prj-1"]
    assert len(domain.visible_overdue(report, projects, CENTER, only_public).overdue) == 3


def test_the_filings_and_inspections_due_are_reminded_and_incidents_are_not():
    project = contracted("2027-01-10")
    quiet = domain.learn_planned(domain.Project("prj-2"), {**PLANNED, "classified": True})
    reported, _ = domain.report_incident(quiet, {**incident("low"), "project_id": "prj-2"}, CENTER, RULES, NOW)
    found = domain.check_overdue([project], {}, [reported], NOW + dt.timedelta(days=60), RULES)
    reminders = domain.reminders_of(found, {"prj-1": project, "prj-2": quiet})
    assert [(r.kind, r.project_id, r.due_on.isoformat(), r.owner_org) for r in reminders] == [
        ("mlps_filing_due", "prj-1", "2027-01-10", "data_center"),
        ("inspection_due", "prj-1", "2027-04-10", "data_center"),
    ]
    assert reminders[0].subject == "智慧教育平台：等保定级备案到期（第二十四条）"
    assert reminders[0].reminder_id("security") == domain.reminders_of(found, {"prj-1": project})[0].reminder_id(
        "security"
    )
