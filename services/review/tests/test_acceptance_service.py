"""Delivery and acceptance on the real container, a real broker (per-test vhost) and database: the
facts arrive as real events of their owners (approval, finance, planning, security), the decisions
go out through the outbox."""

import datetime as dt

import pytest

from nxshared.core.errors import Conflict, Forbidden, NotFound, RuleViolation, ValidationError
from nxshared.db import OUTBOX
from nxshared.testing import call, deliver, make_event, planned_event
from review.models import acceptances, deliveries, prechecks, supervisors, test_reports
from review.service import ReviewService

from .test_service import published, rows

SUPERVISOR = {"company": "某监理公司", "qualification_no": "JL-1", "lead_name": "赵六", "lead_certificate_no": "ZS-1"}
MAJOR_REPORTS = ("third_party_software", "source_code", "database", "network_security")
TABLES = (deliveries, supervisors, test_reports, prechecks, acceptances)


@pytest.fixture
def config(service_config):
    return service_config("review")


@pytest.fixture
def review(container_factory, config):
    container = container_factory(ReviewService, config)
    container.start()
    return container


def planned(container, **data):
    return deliver(container, "on_project_planned", planned_event(**data))["project_id"]


def fact(container, handler, event_type, project_id, data):
    deliver(container, handler, make_event(event_type, project_id, data, actor="tester@x"))


def approved(container, project_id):
    data = {"approval_no": "南发改审〔2027〕1号", "approval_type": "approve", "review_id": "rev-1"}
    fact(container, "on_approval_granted", "approval.granted", project_id, data)


def contracted(container, project_id):
    approved(container, project_id)
    data = {
        "contract_no": f"HT-{project_id}",
        "vendor": "某科技公司",
        "amount": "700000.00",
        "om_years": 3,
        "source_code_owner": "unit",
        "signed_on": "2027-01-10",
        "om_ends_on": "2030-01-10",
    }
    fact(container, "on_contract_registered", "contract.registered", project_id, data)
    return project_id


def filed(container, project_id):
    fact(container, "on_mlps", "mlps.graded", project_id, {"level": 3, "basis": "定级报告"})
    data = {"level": 3, "filing_no": "43010099999-1", "evaluation_agency": "某测评中心"}
    fact(container, "on_mlps", "mlps.filed", project_id, data)


def submit_report(container, project_id, kind, passed=True, org="unit:edu"):
    report = {"kind": kind, "agency": "某检测中心", "report_no": f"R-{kind}", "passed": passed}
    return call(container, "submit_test_report", org, project_id=project_id, report=report)


def readiness(container, project_id, org="unit:edu"):
    return call(container, "get_acceptance_readiness", org, project_id=project_id)


def unmet(container, project_id, org="unit:edu"):
    return [u["code"] for u in readiness(container, project_id, org)["unmet"]]


def panel_reviewed(container):
    project_id = planned(container)
    review_id = call(
        container,
        "submit_construction_plan",
        "unit:edu",
        project_id=project_id,
        plan={"title": "建设方案", "document_ref": "D-1", "budget": "2500000.00"},
    )["review_id"]
    experts = [
        call(
            container,
            "register_expert",
            "data_center",
            expert={"name": name, "level": "city", "field": "软件", "employer": "unit:njupt"},
        )["expert_id"]
        for name in ("甲", "乙", "丙")
    ]
    call(container, "assign_experts", "data_center", review_id=review_id, expert_ids=experts)
    for expert_id in experts:
        call(
            container,
            "record_expert_opinion",
            "data_center",
            review_id=review_id,
            expert_id=expert_id,
            verdict="pass",
            opinion="可行",
        )
    call(container, "conclude_review", "data_center", review_id=review_id, verdict="passed", opinion="通过")
    return project_id


def test_a_freshly_contracted_major_project_lists_what_it_still_lacks(review, config):
    project_id = contracted(review, panel_reviewed(review))
    answer = readiness(review, project_id)
    assert answer["project_id"] == project_id and answer["ready"] is False
    assert [u["code"] for u in answer["unmet"]] == [
        "supervisor",
        "third_party_software",
        "source_code",
        "database",
        "network_security",
        "mlps_filing",
    ]
    assert all("第" in u["message"] and "条" in u["message"] for u in answer["unmet"])
    for org in ("smart_office", "data_center", "drc", "finance", "audit", "county_gov"):
        assert readiness(review, project_id, org) == answer
    with pytest.raises(NotFound, match="PROJECT_NOT_FOUND"):
        readiness(review, project_id, "unit:health")


def test_a_major_project_from_supervision_to_acceptance(review, config):
    project_id = contracted(review, panel_reviewed(review))
    with pytest.raises(RuleViolation) as err:
        call(review, "request_acceptance_precheck", "unit:edu", project_id=project_id)
    for code in ("supervisor", "third_party_software", "source_code", "database", "network_security", "mlps_filing"):
        assert f"[{code}]" in str(err.value)
    assert str(err.value).startswith("ACCEPTANCE_CONDITIONS_UNMET: ")
    registered = call(review, "register_supervisor", "unit:edu", project_id=project_id, supervisor=SUPERVISOR)
    assert registered["registered_by"] == "tester@unit:edu"
    submit_report(review, project_id, "database", passed=False)
    for kind in MAJOR_REPORTS:
        submit_report(review, project_id, kind)
    filed(review, project_id)
    assert readiness(review, project_id) == {"project_id": project_id, "ready": True, "unmet": []}
    requested = call(review, "request_acceptance_precheck", "unit:edu", project_id=project_id)
    with pytest.raises(Forbidden):
        call(review, "conclude_acceptance_precheck", "unit:edu", project_id=project_id, verdict="passed", opinion="x")
    concluded = call(
        review,
        "conclude_acceptance_precheck",
        "data_center",
        project_id=project_id,
        verdict="passed",
        opinion="符合方案",
    )
    assert (concluded["precheck_id"], concluded["verdict"]) == (requested["precheck_id"], "passed")
    today = dt.date.today().isoformat()
    accepted = call(
        review,
        "record_acceptance",
        "unit:edu",
        project_id=project_id,
        acceptance={"date": today, "passed": True, "minutes": "验收组同意通过验收"},
    )
    assert (accepted["passed"], accepted["date"]) == (True, today)
    [evt] = published(config, "acceptance.passed")
    assert (evt.project_id, evt.actor, evt.data["date"]) == (project_id, "tester@unit:edu", today)
    [checked] = published(config, "acceptance.prechecked")
    assert checked.data == {
        "precheck_id": requested["precheck_id"],
        "verdict": "passed",
        "passed": True,
        "opinion": "符合方案",
    }
    assert len(published(config, "test_report.submitted")) == 5
    [sup] = published(config, "supervisor.registered")
    assert sup.data == SUPERVISOR


def test_an_unauthorized_change_reported_after_the_precheck_holds_the_acceptance_back(review, config):
    project_id = contracted(review, planned(review, custom_software=False, hosted_on_big_data_center=False))
    call(review, "register_supervisor", "unit:edu", project_id=project_id, supervisor=SUPERVISOR)
    submit_report(review, project_id, "product")
    call(review, "request_acceptance_precheck", "unit:edu", project_id=project_id)
    call(review, "conclude_acceptance_precheck", "data_center", project_id=project_id, verdict="passed", opinion="符合")
    report = {"report_id": "uc-1", "description": "擅自增加功能模块"}
    fact(review, "on_unauthorized_change", "change.unauthorized_reported", project_id, report)
    acceptance = {"date": dt.date.today().isoformat(), "passed": True, "minutes": "通过"}
    with pytest.raises(RuleViolation, match=r"\[unauthorized_change\]"):
        call(review, "record_acceptance", "unit:edu", project_id=project_id, acceptance=acceptance)
    failed = call(
        review, "record_acceptance", "unit:edu", project_id=project_id, acceptance={**acceptance, "passed": False}
    )
    assert failed["passed"] is False
    fact(review, "on_unauthorized_change", "change.unauthorized_resolved", project_id, {"report_ids": ["uc-1"]})
    assert call(review, "record_acceptance", "unit:edu", project_id=project_id, acceptance=acceptance)["passed"]
    assert [e.event_type for e in published(config, "acceptance.failed")] == ["acceptance.failed"]
    with pytest.raises(Conflict, match="ALREADY_ACCEPTED"):
        call(review, "record_acceptance", "unit:edu", project_id=project_id, acceptance=acceptance)


def test_supervision_waits_for_the_approval_and_the_owner_acts(review, config):
    project_id = planned(review, construction_mode="unified")
    with pytest.raises(RuleViolation, match="APPROVAL_NOT_GRANTED"):
        call(review, "register_supervisor", "data_center", project_id=project_id, supervisor=SUPERVISOR)
    approved(review, project_id)
    with pytest.raises(Forbidden):
        call(review, "register_supervisor", "unit:edu", project_id=project_id, supervisor=SUPERVISOR)
    assert call(review, "register_supervisor", "data_center", project_id=project_id, supervisor=SUPERVISOR)
    with pytest.raises(RuleViolation, match="NOT_IN_ANNUAL_PLAN"):
        call(review, "request_acceptance_precheck", "unit:edu", project_id="prj-unknown")


def test_the_same_fact_twice_has_one_effect(review, config):
    project_id = contracted(review, planned(review, custom_software=False, hosted_on_big_data_center=False))
    evt = make_event("change.unauthorized_reported", project_id, {"report_id": "uc-1", "description": "擅自变更"})
    deliver(review, "on_unauthorized_change", evt)
    fact(review, "on_unauthorized_change", "change.unauthorized_resolved", project_id, {"report_ids": ["uc-1"]})
    deliver(review, "on_unauthorized_change", evt)
    assert "unauthorized_change" not in unmet(review, project_id)


BAD_INPUT = [
    ("register_supervisor", {"supervisor": {**SUPERVISOR, "company": "  "}}, "supervisor.company"),
    ("register_supervisor", {"supervisor": {**SUPERVISOR, "lead_name": "名" * 201}}, "supervisor.lead_name"),
    ("register_supervisor", {"supervisor": {k: v for k, v in SUPERVISOR.items() if k != "qualification_no"}}, "supervisor.qualification_no"),
    ("register_supervisor", {"supervisor": {**SUPERVISOR, "lead_certificate_no": ""}}, "supervisor.lead_certificate_no"),
    ("register_supervisor", {"supervisor": "某监理公司"}, "supervisor"),
    ("submit_test_report", {"report": {"kind": "hardware", "agency": "A", "report_no": "R", "passed": True}}, "report.kind"),
    ("submit_test_report", {"report": {"kind": "product", "agency": " ", "report_no": "R", "passed": True}}, "report.agency"),
    ("submit_test_report", {"report": {"kind": "product", "agency": "A", "report_no": "R" * 65, "passed": True}}, "report.report_no"),
    ("submit_test_report", {"report": {"kind": "product", "agency": "A", "report_no": "R", "passed": "yes"}}, "report.passed"),
    ("submit_test_report", {"project_id": ["prj"], "report": {}}, "project_id"),
    ("request_acceptance_precheck", {"project_id": 7}, "project_id"),
    ("conclude_acceptance_precheck", {"verdict": "ok", "opinion": "符合"}, "verdict"),
    ("conclude_acceptance_precheck", {"verdict": "passed", "opinion": "长" * 5001}, "opinion"),
    ("record_acceptance", {"acceptance": {"date": "1999-12-31", "passed": True, "minutes": "通过"}}, "acceptance.date"),
    ("record_acceptance", {"acceptance": {"date": "2027-02-30", "passed": True, "minutes": "通过"}}, "acceptance.date"),
    ("record_acceptance", {"acceptance": {"date": "2999-01-01", "passed": True, "minutes": "通过"}}, "acceptance.date"),
    ("record_acceptance", {"acceptance": {"date": "2027-01-01", "passed": 1, "minutes": "通过"}}, "acceptance.passed"),
    ("record_acceptance", {"acceptance": {"date": "2027-01-01", "passed": True, "minutes": " "}}, "acceptance.minutes"),
    ("get_acceptance_readiness", {"project_id": None}, "project_id"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "bad", "field"), BAD_INPUT)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(review, config, method, bad, field):
    project_id = contracted(review, planned(review, custom_software=False, hosted_on_big_data_center=False))
    call(review, "register_supervisor", "unit:edu", project_id=project_id, supervisor=SUPERVISOR)
    submit_report(review, project_id, "product")
    call(review, "request_acceptance_precheck", "unit:edu", project_id=project_id)
    org = "data_center" if method == "conclude_acceptance_precheck" else "unit:edu"
    before = [rows(config, table) for table in TABLES], [r.event_id for r in rows(config, OUTBOX)]
    with pytest.raises(ValidationError) as err:
        call(review, method, org, **{"project_id": project_id, **bad})
    assert f"：{field}" in str(err.value) or f"; {field}" in str(err.value)
    assert ([rows(config, table) for table in TABLES], [r.event_id for r in rows(config, OUTBOX)]) == before
