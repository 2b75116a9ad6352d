"""Delivery and acceptance's use cases on an in-memory unit of work: facts learned once from other
bureaus' events, what each decision stores and emits, and that a refused call changes nothing."""

import copy
import datetime as dt
import uuid

import pytest

from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, NotFound, RuleViolation, ValidationError
from nxshared.core.events import Event
from nxshared.core.uow import FakeUnitOfWork
from review import usecases

from .fakes import FakeRepository
from .test_usecases import EDU, NOW, RULES, plan_project, run

CENTER = Caller(sub="wang", org="data_center")
TODAY = NOW.date()
SUPERVISOR = {"company": "某监理公司", "qualification_no": "JL-1", "lead_name": "赵六", "lead_certificate_no": "ZS-1"}


@pytest.fixture
def uow():
    return FakeUnitOfWork(FakeRepository())


def fact(event_type, data, project_id="prj-1", occurred_at=NOW):
    return Event(str(uuid.uuid4()), event_type, 1, occurred_at.isoformat(), "x", project_id, "x@x", data)


def learn(uow, event_type, data, **kwargs):
    evt = fact(event_type, data, **kwargs)
    run(uow, usecases.on_delivery_fact, evt)
    return evt


def contracted(uow, hosted=False, custom_software=False, project_id="prj-1"):
    plan_project(
        uow,
        project_id,
        custom_software=custom_software,
        hosted_on_big_data_center=hosted,
        estimated_investment="800000.00",
    )
    learn(uow, "approval.granted", {"approval_no": "NF-1"}, project_id=project_id)
    learn(uow, "contract.registered", {"contract_no": "HT-1"}, project_id=project_id)
    return project_id


def snapshot(uow):
    repo = uow.repo
    return copy.deepcopy((repo.deliveries, repo.test_reports, repo.prechecks, repo.acceptances, uow.emitted))


def refused(uow, error, use_case, *args):
    before = snapshot(uow)
    with pytest.raises(error) as err:
        run(uow, use_case, *args)
    assert snapshot(uow) == before
    return err.value


def readiness(uow, caller=EDU, project_id="prj-1"):
    return usecases.get_acceptance_readiness(uow.repo, caller, RULES, project_id)


def test_each_fact_is_applied_once(uow):
    contracted(uow)
    evt = learn(uow, "change.unauthorized_reported", {"report_id": "uc-1"})
    run(uow, usecases.on_delivery_fact, fact("change.unauthorized_resolved", {"report_ids": ["uc-1"]}))
    run(uow, usecases.on_delivery_fact, evt)  # redelivered: already applied, not reopened
    assert uow.repo.deliveries["prj-1"].unauthorized_changes == {"uc-1": True}
    assert uow.emitted == []


def test_facts_may_arrive_before_the_project_is_planned(uow):
    learn(uow, "approval.granted", {"approval_no": "NF-1"}, project_id="prj-early")
    with pytest.raises(NotFound):
        readiness(uow, project_id="prj-early")
    plan_project(uow, "prj-early")
    assert "approval" not in [u.code for u in readiness(uow, project_id="prj-early").unmet]


def test_a_hardware_purchase_needs_a_supervisor_and_a_product_report(uow):
    contracted(uow)
    assert [u.code for u in readiness(uow).unmet] == ["supervisor", "product"]
    run(uow, usecases.register_supervisor, EDU, RULES, NOW, "prj-1", SUPERVISOR)
    report = {"kind": "product", "agency": "某检测中心", "report_no": "R-1", "passed": True}
    run(uow, usecases.submit_test_report, EDU, RULES, NOW, "prj-1", report)
    assert readiness(uow).ready
    assert uow.types() == ["supervisor.registered", "test_report.submitted"]


def test_from_precheck_to_acceptance(uow):
    contracted(uow, hosted=True)
    run(uow, usecases.register_supervisor, EDU, RULES, NOW, "prj-1", SUPERVISOR)
    report = {"kind": "product", "agency": "某检测中心", "report_no": "R-1", "passed": True}
    run(uow, usecases.submit_test_report, EDU, RULES, NOW, "prj-1", report)
    err = refused(uow, RuleViolation, usecases.request_acceptance_precheck, EDU, RULES, NOW, "prj-1")
    assert err.code == "ACCEPTANCE_CONDITIONS_UNMET" and "[mlps_filing]" in err.message
    learn(uow, "mlps.graded", {"level": 2})
    learn(uow, "mlps.filed", {"level": 2}, occurred_at=NOW + dt.timedelta(minutes=1))
    precheck = run(uow, usecases.request_acceptance_precheck, EDU, RULES, NOW, "prj-1")
    concluded = run(uow, usecases.conclude_acceptance_precheck, CENTER, RULES, NOW, "prj-1", "passed", "符合")
    assert concluded.precheck_id == precheck.precheck_id
    acceptance = {"date": TODAY, "passed": True, "minutes": "通过"}
    recorded = run(uow, usecases.record_acceptance, EDU, RULES, TODAY, NOW, "prj-1", acceptance)
    assert recorded.passed and uow.repo.deliveries["prj-1"].stage == "accepted"
    assert list(uow.repo.acceptances) == [recorded.acceptance_id] and len(uow.repo.test_reports) == 1
    assert uow.repo.prechecks[precheck.precheck_id].verdict == "passed"
    assert uow.types()[-3:] == ["acceptance.precheck_requested", "acceptance.prechecked", "acceptance.passed"]


def test_refused_calls_store_and_emit_nothing(uow):
    plan_project(uow)
    refused(uow, RuleViolation, usecases.register_supervisor, EDU, RULES, NOW, "prj-1", SUPERVISOR)
    contracted(uow, project_id="prj-2")
    refused(uow, RuleViolation, usecases.request_acceptance_precheck, EDU, RULES, NOW, "prj-2")
    refused(uow, Conflict, usecases.conclude_acceptance_precheck, CENTER, RULES, NOW, "prj-2", "passed", "符合")
    acceptance = {"date": TODAY, "passed": True, "minutes": "通过"}
    refused(uow, RuleViolation, usecases.record_acceptance, EDU, RULES, TODAY, NOW, "prj-2", acceptance)
    tomorrow = {**acceptance, "date": TODAY + dt.timedelta(days=1)}
    refused(uow, RuleViolation, usecases.record_acceptance, EDU, RULES, TODAY, NOW, "prj-2", tomorrow)
    other = Caller(sub="x", org="unit:health")
    refused(uow, NotFound, usecases.register_supervisor, other, RULES, NOW, "prj-2", SUPERVISOR)
    with pytest.raises(NotFound):
        readiness(uow, other, "prj-2")


def test_a_date_to_come_is_refused_and_nothing_is_stored(uow):
    contracted(uow)
    run(uow, usecases.register_supervisor, EDU, RULES, NOW, "prj-1", SUPERVISOR)
    report = {"kind": "product", "agency": "某检测中心", "report_no": "R-1", "passed": True}
    run(uow, usecases.submit_test_report, EDU, RULES, NOW, "prj-1", report)
    run(uow, usecases.request_acceptance_precheck, EDU, RULES, NOW, "prj-1")
    run(uow, usecases.conclude_acceptance_precheck, CENTER, RULES, NOW, "prj-1", "passed", "符合")
    tomorrow = {"date": TODAY + dt.timedelta(days=1), "passed": True, "minutes": "通过"}
    err = refused(uow, ValidationError, usecases.record_acceptance, EDU, RULES, TODAY, NOW, "prj-1", tomorrow)
    assert "acceptance.date" in err.message
