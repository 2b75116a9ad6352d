"""Security's service tests: the real container on a real broker (per-test vhost) and database, with
planning's, finance's and review's events delivered through the broker."""

import time
import uuid

import pytest
import requests
from nameko.testing.utils import find_free_port
from sqlalchemy import func, select

from nxshared.clock import Clock
from nxshared.core.errors import Conflict, Forbidden, NotFound, RuleViolation, ValidationError
from nxshared.db import make_engine
from nxshared.testing import call, make_event, planned_event, schema_drift
from nxshared.testing import deliver as deliver_to
from security.models import incidents, inspections, outbox, projects
from security.service import SecurityService

PROJECT = "prj-0123456789ab"
TODAY = "2027-03-01"
HANDLERS = {"planning": "on_project_planned", "finance": "on_contract_registered", "review": "on_acceptance_passed"}


@pytest.fixture
def config(service_config):
    return service_config("security", TODAY=TODAY)


@pytest.fixture
def security(container_factory, config):
    container = container_factory(SecurityService, config)
    container.start()
    return container


def deliver(container, payload):
    return deliver_to(container, HANDLERS[payload["source"]], payload)


def planned(container, project_id=PROJECT, **data):
    return deliver(container, planned_event(project_id, **data))


def contracted(container, project_id=PROJECT, signed_on="2027-01-10"):
    data = {
        "contract_no": f"HT-{project_id}",
        "vendor": "某科技公司",
        "amount": "1800000.00",
        "om_years": 3,
        "om_exemption_basis": None,
        "source_code_owner": "unit",
        "signed_on": signed_on,
        "om_ends_on": "2030-01-10",
    }
    return deliver(container, make_event("contract.registered", project_id, data, actor="li@unit:edu"))


def accepted(container, project_id=PROJECT, **data):
    """review's ``acceptance.passed``, which no installed service registers yet: its envelope as CONTRACT
    §Events describes it."""
    payload = {
        "event_id": str(uuid.uuid4()),
        "event_type": "acceptance.passed",
        "version": 1,
        "occurred_at": Clock.now().isoformat(),
        "source": "review",
        "project_id": project_id,
        "actor": "li@unit:edu",
        "data": data,
    }
    return deliver(container, payload)


def grade(container, level=3, project_id=PROJECT, basis="定级报告：业务信息安全二级，系统服务安全三级"):
    return call(container, "grade_system", "data_center", project_id=project_id, level=level, basis=basis)


def file(container, filing_no="43010099999-27001", project_id=PROJECT, agency="湖南某等级保护测评中心"):
    return call(
        container, "file_grading", "data_center", project_id=project_id, filing_no=filing_no, evaluation_agency=agency
    )


def inspect(container, passed=True, findings="", project_id=PROJECT):
    return call(container, "record_inspection", "data_center", project_id=project_id, findings=findings, passed=passed)


def report(container, project_id=PROJECT, **overrides):
    incident = {
        "project_id": project_id,
        "severity": "high",
        "description": "门户网站首页被篡改",
        "occurred_at": "2027-03-01T08:30:00+08:00",
        **overrides,
    }
    return call(container, "report_incident", "data_center", incident=incident)


def posture(container, org="data_center", project_id=PROJECT):
    return call(container, "get_posture", org, project_id=project_id)


def query(config, statement):
    engine = make_engine(config["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return conn.execute(statement).all()
    finally:
        engine.dispose()


def emitted(config, event_type=None):
    statement = select(outbox.c.payload).order_by(outbox.c.id)
    if event_type:
        statement = statement.where(outbox.c.event_type == event_type)
    return [payload for (payload,) in query(config, statement)]


def count(config, table):
    return query(config, select(func.count()).select_from(table))[0][0]


def eventually(probe, timeout=10, what="condition"):
    """Poll ``probe`` until it returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


# --- from planned to filed, with an inspection and an incident ---------------------------------------------


def test_from_planned_to_filed_with_an_inspection_and_an_incident(security, config):
    planned(security)
    contracted(security)
    graded = grade(security, 3)
    assert (graded["status"], graded["level"], graded["graded_by"]) == ("graded", 3, "tester@data_center")
    filed = file(security)
    assert (filed["status"], filed["filing_no"], filed["evaluation_agency"]) == (
        "filed",
        "43010099999-27001",
        "湖南某等级保护测评中心",
    )
    inspected = inspect(security, passed=False, findings="两台服务器存在弱口令")
    assert (inspected["passed"], inspected["by"]) == (False, "tester@data_center")
    incident = report(security)
    assert incident["status"] == "open" and incident["incident_id"].startswith("inc-")
    assert (incident["occurred_at"], incident["deadline"]) == ("2027-03-01T00:30:00+00:00", "2027-03-02T00:30:00+00:00")
    seen = posture(security, "unit:edu")
    assert seen["hosted_on_big_data_center"] is True
    assert {k: seen["mlps"][k] for k in ("level", "status", "filing_no", "evaluation_agency")} == {
        "level": 3,
        "status": "filed",
        "filing_no": "43010099999-27001",
        "evaluation_agency": "湖南某等级保护测评中心",
    }
    assert seen["last_inspection"]["findings"] == "两台服务器存在弱口令"
    assert [i["incident_id"] for i in seen["open_incidents"]] == [incident["incident_id"]]
    resolved = call(security, "resolve_incident", "data_center", incident_id=incident["incident_id"], response="已恢复")
    assert (resolved["status"], resolved["resolved_by"]) == ("resolved", "tester@data_center")
    assert posture(security)["open_incidents"] == []
    assert [p["event_type"] for p in emitted(config)] == [
        "mlps.graded",
        "mlps.filed",
        "inspection.recorded",
        "incident.reported",
        "incident.resolved",
    ]
    (filed_event,) = emitted(config, "mlps.filed")
    assert filed_event["data"] == {
        "level": 3,
        "filing_no": "43010099999-27001",
        "evaluation_agency": "湖南某等级保护测评中心",
    }
    assert filed_event["actor"] == "tester@data_center" and filed_event["source"] == "security"
    (resolved_event,) = emitted(config, "incident.resolved")
    assert resolved_event["data"]["late"] is False


def test_a_regraded_system_must_be_filed_again(security, config):
    planned(security)
    with pytest.raises(RuleViolation, match="^NOT_GRADED: 系统尚未定级，不能备案（第二十四条）$"):
        file(security)
    grade(security, 2)
    file(security, "F-1")
    with pytest.raises(Conflict, match="^ALREADY_FILED: "):
        file(security, "F-2")
    regraded = grade(security, 3, basis="接入人口库，重新定级")
    assert (regraded["status"], regraded["level"], regraded["filing_no"]) == ("graded", 3, None)
    assert file(security, "F-2")["status"] == "filed"
    graded_events = emitted(config, "mlps.graded")
    assert [(e["data"]["level"], e["data"]["previous_level"]) for e in graded_events] == [(2, None), (3, 2)]


def test_a_filing_number_names_one_system(security):
    for project_id in (PROJECT, "prj-other"):
        planned(security, project_id)
        grade(security, 2, project_id)
    file(security, "F-1")
    with pytest.raises(Conflict, match="^FILING_NO_TAKEN: "):
        file(security, "F-1", project_id="prj-other")


def test_resolving_twice_is_a_conflict_and_an_unknown_incident_is_not_found(security, config):
    planned(security)
    incident = report(security, severity="critical", occurred_at="2027-02-27T10:00:00+08:00")
    resolved = call(security, "resolve_incident", "data_center", incident_id=incident["incident_id"], response="已处置")
    assert resolved["status"] == "resolved"
    with pytest.raises(Conflict, match="^ALREADY_RESOLVED: "):
        call(security, "resolve_incident", "data_center", incident_id=incident["incident_id"], response="再次")
    with pytest.raises(NotFound, match="^INCIDENT_NOT_FOUND: "):
        call(security, "resolve_incident", "data_center", incident_id="inc-000000000000", response="处置")
    (late,) = emitted(config, "incident.resolved")
    assert late["data"]["late"] is True  # two hours after 2027-02-27 10:00 (+08:00) is long past


# --- projects security does not know, and who sees what --------------------------------------------------


def test_a_project_security_has_not_heard_of_is_not_in_the_plan_or_not_found(security, config):
    for attempt in (
        lambda: grade(security),
        lambda: inspect(security),
        lambda: report(security),
    ):
        with pytest.raises(RuleViolation, match="^NOT_IN_ANNUAL_PLAN: "):
            attempt()
    with pytest.raises(NotFound, match="^PROJECT_NOT_FOUND: "):
        posture(security)
    contracted(security)  # finance's news before planning's: still not planned
    with pytest.raises(NotFound):
        posture(security)
    assert emitted(config) == []


@pytest.mark.parametrize("org", ["unit:edu", "smart_office", "drc", "finance", "audit", "county_gov", "data_center"])
def test_every_bureau_and_the_owner_see_the_posture(security, org):
    planned(security)
    assert posture(security, org)["mlps"]["status"] == "ungraded"


def test_another_unit_is_told_nothing_exists(security):
    planned(security)
    with pytest.raises(NotFound) as err:
        posture(security, "unit:health")
    assert str(err.value) == "PROJECT_NOT_FOUND: 项目不存在或无权查看"


@pytest.mark.parametrize("org", ["unit:edu", "drc", "finance", "smart_office", "audit", "county_gov"])
def test_only_the_data_center_decides(security, org):
    planned(security)
    for method, kwargs in (
        ("grade_system", {"project_id": PROJECT, "level": 3, "basis": "依据"}),
        ("file_grading", {"project_id": PROJECT, "filing_no": "F-1", "evaluation_agency": "某机构"}),
        ("record_inspection", {"project_id": PROJECT, "findings": "", "passed": True}),
        ("resolve_incident", {"incident_id": "inc-1", "response": "处置"}),
    ):
        with pytest.raises(Forbidden):
            call(security, method, org, **kwargs)


def test_a_classified_project_follows_the_setting(container_factory, service_config):
    container = container_factory(
        SecurityService, service_config("security", TODAY=TODAY, CLASSIFIED_VISIBLE_TO="audit")
    )
    container.start()
    planned(container, classified=True)
    assert posture(container, "audit")["project_id"] == PROJECT
    assert posture(container, "unit:edu")["project_id"] == PROJECT
    for org in ("smart_office", "drc", "data_center"):
        with pytest.raises(NotFound):
            posture(container, org)
    with pytest.raises(NotFound):
        grade(container)
    planned(container, "prj-unified", classified=True, construction_mode="unified")
    assert grade(container, project_id="prj-unified")["level"] == 3  # the data center builds it: its owner


# --- bounded input: refused naming the field, nothing stored ---------------------------------------------------


@pytest.mark.parametrize("level", ["3", True, False, 0, 6, 3.5, None, [3]])
def test_the_level_is_an_integer_from_one_to_five(security, config, level):
    planned(security)
    with pytest.raises(ValidationError, match="level:"):
        grade(security, level)
    assert posture(security)["mlps"]["status"] == "ungraded" and emitted(config) == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"basis": "  "}, "basis"),
        ({"basis": "x" * 5001}, "basis"),
        ({"project_id": "x" * 65}, "project_id"),
    ],
)
def test_bad_grading_input_is_refused_naming_the_field(security, config, kwargs, field):
    planned(security)
    with pytest.raises(ValidationError, match=f"{field}:"):
        call(security, "grade_system", "data_center", **{"project_id": PROJECT, "level": 3, "basis": "依据", **kwargs})
    assert emitted(config) == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"filing_no": ""}, "filing_no"),
        ({"filing_no": " F-1"}, "filing_no"),
        ({"filing_no": "F" * 65}, "filing_no"),
        ({"evaluation_agency": "   "}, "evaluation_agency"),
        ({"evaluation_agency": None}, "evaluation_agency"),
        ({"evaluation_agency": "x" * 201}, "evaluation_agency"),
    ],
)
def test_both_filing_fields_are_required_and_bounded(security, config, kwargs, field):
    planned(security)
    grade(security)
    wanted = {"project_id": PROJECT, "filing_no": "F-1", "evaluation_agency": "某测评机构", **kwargs}
    with pytest.raises(ValidationError, match=f"{field}:"):
        call(security, "file_grading", "data_center", **wanted)
    assert posture(security)["mlps"]["status"] == "graded"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"passed": False, "findings": "   "}, "findings"),
        ({"passed": "false", "findings": "弱口令"}, "passed"),
        ({"passed": 1, "findings": ""}, "passed"),
        ({"passed": None, "findings": ""}, "passed"),
        ({"passed": True, "findings": "x" * 5001}, "findings"),
        ({"passed": True, "findings": None}, "findings"),
    ],
)
def test_bad_inspection_input_is_refused_naming_the_field(security, config, kwargs, field):
    planned(security)
    with pytest.raises(ValidationError, match=f"{field}:"):
        inspect(security, **kwargs)
    assert count(config, inspections) == 0 and emitted(config) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"severity": "catastrophic"}, "incident.severity"),
        ({"severity": "HIGH"}, "incident.severity"),
        ({"description": " "}, "incident.description"),
        ({"description": "x" * 5001}, "incident.description"),
        ({"occurred_at": "2027-03-01T08:30:00"}, "incident.occurred_at"),  # no time zone
        ({"occurred_at": "2027-03-01"}, "incident.occurred_at"),
        ({"occurred_at": "yesterday"}, "incident.occurred_at"),
        ({"occurred_at": 1772330000}, "incident.occurred_at"),
        ({"occurred_at": "1999-12-31T23:00:00+00:00"}, "incident.occurred_at"),
        ({"occurred_at": "2027-03-09T00:00:00+08:00"}, "incident.occurred_at"),  # after today (2027-03-01)
        ({"tip": "unknown field"}, "incident.tip"),
    ],
)
def test_bad_incident_input_is_refused_naming_the_field(security, config, overrides, field):
    planned(security)
    with pytest.raises(ValidationError, match=f"{field}:"):
        report(security, **overrides)
    assert count(config, incidents) == 0 and emitted(config) == []


def test_bad_resolutions_are_refused_naming_the_field(security, config):
    planned(security)
    incident = report(security)
    for kwargs, field in (({"response": ""}, "response"), ({"incident_id": "i" * 65, "response": "x"}, "incident_id")):
        with pytest.raises(ValidationError, match=f"{field}:"):
            call(security, "resolve_incident", "data_center", **{"incident_id": incident["incident_id"], **kwargs})
    assert posture(security)["open_incidents"][0]["status"] == "open"


# --- the events security learns from ---------------------------------------------------------------------------


def test_the_same_event_twice_has_one_effect(security, config):
    first = planned(security, name="旧名称")
    planned(security, name="新名称")
    deliver(security, first)
    assert posture(security)["name"] == "新名称"
    assert query(config, select(projects.c.name))[0][0] == "新名称"


def test_a_v1_project_planned_is_upcast_as_not_hosted(security):
    """``project.planned`` v1 (before plan types) says nothing of hosting: not hosted, so no filing
    falls due when it comes under way (an inspection does)."""
    v2 = planned_event(PROJECT)
    added_in_v2 = ("plan_type", "name", "custom_software", "hosted_on_big_data_center")
    v1 = {**v2, "version": 1, "data": {k: v for k, v in v2["data"].items() if k not in added_in_v2}}
    deliver(security, v1)
    contracted(security, signed_on="2026-11-01")
    seen = posture(security)
    assert seen["hosted_on_big_data_center"] is False
    assert [o["kind"] for o in seen["overdue"]] == ["inspection"]


def test_an_acceptance_nobody_registers_yet_is_read_by_its_envelope(security):
    planned(security)
    accepted(security, date="2027-02-20", minutes="验收会议纪要")
    (late,) = posture(security)["overdue"]
    assert (late["kind"], late["since"]) == ("mlps_filing", "2027-02-20T00:00:00+00:00")


# --- the periodic check, on the suite's clock -----------------------------------------------------------------


def test_the_check_lists_what_is_late_and_moving_the_clock_finds_more(container_factory, service_config):
    config = service_config("security", TODAY=TODAY, OVERDUE_CHECK_SECONDS=0.1)
    first = container_factory(SecurityService, config)
    first.start()
    planned(first)
    contracted(first, signed_on="2027-01-10")  # under way: hosted without a filing
    planned(first, "prj-filed")
    contracted(first, "prj-filed", signed_on="2027-01-10")
    grade(first, 2, "prj-filed")
    file(first, "F-1", "prj-filed")
    inspect(first, project_id="prj-filed")
    planned(first, "prj-secret", classified=True)
    critical = report(first, "prj-secret", severity="critical", occurred_at="2027-02-28T08:00:00+08:00")

    def found(container, org="data_center"):
        listed = call(container, "list_overdue", org)
        return sorted((o["kind"], o["project_id"]) for o in listed["overdue"]), listed["checked_at"]

    wanted = [("incident", "prj-secret"), ("mlps_filing", PROJECT)]
    eventually(lambda: found(first)[0] == wanted, what="the check to find the filing and the incident")
    assert found(first)[1].startswith("2027-03-01T")
    metrics = requests.get(f"http://{config['WEB_SERVER_ADDRESS']}/metrics", timeout=5).text
    assert 'nx_security_overdue{kind="mlps_filing"} 1.0' in metrics
    assert 'nx_security_overdue{kind="incident"} 1.0' in metrics
    assert 'nx_security_overdue{kind="inspection"} 0.0' in metrics
    assert 'nx_security_incidents_open{severity="critical"} 1.0' in metrics
    assert 'nx_security_hosted_systems{status="filed"} 1.0' in metrics
    # checked many times, each filing found missing reminded once (prj-filed's too, if a check ran
    # between its contract and its filing), and counted once
    filings = [p for p in emitted(config, "reminder.due") if p["project_id"] == PROJECT]
    (filing,) = filings
    assert filing["event_id"] == filing["data"]["reminder_id"]
    assert filing["data"]["kind"] == "mlps_filing_due" and filing["data"]["due_on"] == "2027-01-10"
    assert filing["data"]["owner_org"] == "data_center" and "等保定级备案" in filing["data"]["subject"]
    sent = len(emitted(config, "reminder.due"))
    counted = f'nx_reminders_emitted_total{{kind="mlps_filing_due"}} {float(sent)}'
    scrape = f"http://{config['WEB_SERVER_ADDRESS']}/metrics"
    eventually(lambda: counted in requests.get(scrape, timeout=5).text, what="each reminder counted after its commit")
    first.stop()

    moved = {**config, "TODAY": "2027-06-01", "WEB_SERVER_ADDRESS": f"127.0.0.1:{find_free_port()}"}
    later = container_factory(SecurityService, moved)
    later.start()
    three_months = [
        ("incident", "prj-secret"),
        ("inspection", PROJECT),
        ("inspection", "prj-filed"),
        ("mlps_filing", PROJECT),
    ]
    eventually(lambda: found(later)[0] == three_months, what="the check to find the inspections due")
    reminded = sorted((p["data"]["kind"], p["project_id"]) for p in emitted(config, "reminder.due"))
    assert [r for r in reminded if r != ("mlps_filing_due", "prj-filed")] == [
        ("inspection_due", PROJECT),
        ("inspection_due", "prj-filed"),
        ("mlps_filing_due", PROJECT),
    ]
    with pytest.raises(Forbidden):
        call(later, "list_overdue", "unit:edu")
    call(later, "resolve_incident", "data_center", incident_id=critical["incident_id"], response="已处置")
    eventually(lambda: ("incident", "prj-secret") not in found(later)[0], what="the resolved incident to drop out")


def test_the_posture_says_what_is_late_on_the_clock(security):
    planned(security)
    contracted(security, signed_on="2026-11-01")  # more than 90 days before 2027-03-01
    report(security, severity="critical", occurred_at="2027-02-28T08:00:00+08:00")
    kinds = sorted(o["kind"] for o in posture(security)["overdue"])
    assert kinds == ["incident", "inspection", "mlps_filing"]


# --- migrations ---------------------------------------------------------------------------------


def test_the_migrated_schema_matches_the_models(config):
    """Every table, column and index of the models (the outbox's partial index too) is what the
    migrations made."""
    from security.models import metadata

    assert schema_drift(config["DATABASE_URL"], metadata) == []
