"""Every rule of RULES §Testing and acceptance (Art 18–21, 24), on plain domain objects."""

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal

import pytest

from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, Forbidden, NotFound, RuleViolation, ValidationError
from nxshared.core.events import Event
from review import domain
from review.domain import Delivery, DeliveryStage, ReviewRules
from review.events import AcceptanceFailed, AcceptancePassed, Prechecked, PrecheckRequested, SupervisorRegistered

VISIBLE = "smart_office,county_gov,data_center,drc,finance,audit"
RULES = ReviewRules.from_settings("2000000.00", "300000.00", 3, "city,provincial,national", VISIBLE)
NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
EDU = Caller(sub="li", org="unit:edu")
CENTER = Caller(sub="wang", org="data_center")
SUPERVISOR = {"company": "某监理公司", "qualification_no": "JL-1", "lead_name": "赵六", "lead_certificate_no": "ZS-1"}
ACCEPTED = {"date": TODAY, "passed": True, "minutes": "验收组一致同意通过验收"}
ALL_CODES = [
    "approval",
    "contract",
    "supervisor",
    "third_party_software",
    "source_code",
    "database",
    "network_security",
    "mlps_filing",
]


def project(**overrides):
    fields_ = {
        "project_id": "prj-1",
        "name": "智慧教育平台",
        "unit": "unit:edu",
        "construction_mode": "self_built",
        "estimated_investment": Decimal("2500000.00"),
        "requires_construction_plan": True,
        "classified": False,
        "custom_software": True,
        "hosted_on_big_data_center": True,
    }
    fields_.update(overrides)
    return domain.PlannedProject(**fields_)


PANEL = [("expert_panel", "passed")]  # the (route, status) of a project's reviews: passed by a panel
PRECHECKS = {}  # every pre-check asked for in these tests, by id (the repository's part)


def report(kind, passed=True, n=0):
    return domain.TestReport(
        report_id=f"tr-{kind}-{n}",
        project_id="prj-1",
        kind=kind,
        agency="某检测中心",
        report_no=f"R-{n}",
        passed=passed,
        submitted_by="li@unit:edu",
        submitted_at=NOW,
    )


def supervisor():
    return domain.Supervisor(project_id="prj-1", **SUPERVISOR, registered_by="li@unit:edu", registered_at=NOW)


def contracted(**overrides):
    """A delivery whose approval and contract are known, nothing else."""
    return Delivery(project_id="prj-1", approved=True, approval_no="NF-1", contract_no="HT-1", **overrides)


def complete(kinds=("third_party_software", "source_code", "database", "network_security")):
    """A delivery meeting every condition of a hosted major custom-software project."""
    return contracted(supervisor=supervisor(), report_results=dict.fromkeys(kinds, True), mlps_status="filed")


def request(delivery, outcomes=PANEL, caller=EDU):
    precheck, events = domain.request_precheck(project(), delivery, outcomes, caller, RULES, NOW)
    PRECHECKS[precheck.precheck_id] = precheck
    return precheck, events


def latest(delivery):
    return PRECHECKS.get(delivery.precheck_id)


def conclude(delivery, verdict="passed", opinion="符合"):
    return domain.conclude_precheck(project(), delivery, latest(delivery), PANEL, verdict, opinion, CENTER, RULES, NOW)


def accept(delivery, acceptance=None, today=TODAY):
    acceptance = acceptance or ACCEPTED
    return domain.record_acceptance(project(), delivery, latest(delivery), PANEL, acceptance, EDU, RULES, today, NOW)


def codes(unmet):
    return [u.code for u in unmet]


def event(event_type, data, occurred_at=NOW):
    return Event(str(uuid.uuid4()), event_type, 1, occurred_at.isoformat(), "x", "prj-1", "x@x", data)


# --- the conditions (Art 13, 15–20, 24) ------------------------------------------------------------


def test_nothing_known_lists_every_condition_of_a_hosted_major_custom_software_project():
    assert codes(domain.unmet_conditions(project(), Delivery(project_id="prj-1"), major=True)) == ALL_CODES


def test_every_condition_met_lists_nothing():
    assert domain.unmet_conditions(project(), complete(), major=True) == []


def test_each_message_is_chinese_and_cites_its_article():
    unmet = domain.unmet_conditions(project(), Delivery(project_id="prj-1"), major=True)
    articles = {u.code: u.message for u in unmet}
    assert "第十三条" in articles["approval"] and "第十九条" in articles["supervisor"]
    assert "第二十条" in articles["source_code"] and "第二十四条" in articles["mlps_filing"]


def test_a_project_without_custom_software_needs_a_product_report_not_a_third_party_one():  # Art 20
    hardware = project(custom_software=False)
    assert codes(domain.unmet_conditions(hardware, complete(kinds=()), major=False)) == ["product"]
    assert domain.unmet_conditions(hardware, complete(kinds=("product",)), major=False) == []


def test_custom_software_needs_a_third_party_report():  # Art 20
    assert codes(domain.unmet_conditions(project(), complete(kinds=()), major=False)) == ["third_party_software"]
    assert domain.unmet_conditions(project(), complete(kinds=("third_party_software",)), major=False) == []


def test_a_major_project_also_needs_source_code_database_and_network_security_reports():  # Art 20
    only_software = complete(kinds=("third_party_software",))
    assert codes(domain.unmet_conditions(project(), only_software, major=True)) == [
        "source_code",
        "database",
        "network_security",
    ]


@pytest.mark.parametrize(
    ("outcomes", "major"),
    [
        (PANEL, True),
        ([("expert_panel", "failed"), ("expert_panel", "passed")], True),
        ([("center_opinion", "passed")], False),
        ([("expert_panel", "failed")], False),
        ([("expert_panel", "under_review")], False),
        ([("filing", "filed")], False),
        ([], False),
    ],
)
def test_a_major_project_is_one_whose_review_passed_by_an_expert_panel(outcomes, major):  # Art 20 Decision
    assert domain.is_major(outcomes) is major


def test_a_failed_report_counts_as_missing_until_a_passing_one_of_its_kind_arrives():  # Art 20
    failed = complete(kinds=())
    domain.keep_result(failed, report("third_party_software", passed=False))
    assert codes(domain.unmet_conditions(project(), failed, major=False)) == ["third_party_software"]
    domain.keep_result(failed, report("product", passed=True, n=1))
    assert codes(domain.unmet_conditions(project(), failed, major=False)) == ["third_party_software"]
    domain.keep_result(failed, report("third_party_software", passed=True, n=2))
    assert domain.unmet_conditions(project(), failed, major=False) == []


def test_a_later_failed_retest_makes_the_kind_missing_again():  # Art 20 Decision
    retested = complete(kinds=("third_party_software",))
    domain.keep_result(retested, report("third_party_software", passed=False, n=1))
    assert codes(domain.unmet_conditions(project(), retested, major=False)) == ["third_party_software"]


@pytest.mark.parametrize(
    ("hosted", "mlps", "unmet"),
    [(True, None, True), (True, "graded", True), (True, "filed", False), (False, None, False)],
)
def test_a_hosted_project_needs_its_mlps_grade_filed(hosted, mlps, unmet):  # Art 24
    delivery = complete()
    delivery.mlps_status = mlps
    found = codes(domain.unmet_conditions(project(hosted_on_big_data_center=hosted), delivery, major=True))
    assert found == (["mlps_filing"] if unmet else [])


def test_an_open_unauthorized_change_blocks_acceptance_until_resolved():  # Art 18
    delivery = complete()
    domain.learn_unauthorized_reported(delivery, event("change.unauthorized_reported", {"report_id": "uc-1"}))
    [unmet] = domain.unmet_conditions(project(), delivery, major=True)
    assert unmet.code == "unauthorized_change" and "uc-1" in unmet.message and "第十八条" in unmet.message
    domain.learn_unauthorized_resolved(delivery, event("change.unauthorized_resolved", {"report_ids": ["uc-1"]}))
    assert domain.unmet_conditions(project(), delivery, major=True) == []


def test_a_resolution_that_overtook_its_report_stays_resolved():  # Art 18
    delivery = complete()
    domain.learn_unauthorized_resolved(delivery, event("change.unauthorized_resolved", {"report_ids": ["uc-1"]}))
    domain.learn_unauthorized_reported(delivery, event("change.unauthorized_reported", {"report_id": "uc-1"}))
    assert domain.unmet_conditions(project(), delivery, major=True) == []


def test_the_latest_mlps_event_to_have_occurred_holds_whatever_order_they_arrive_in():  # Art 24
    delivery = complete()
    delivery.mlps_status = None
    later = NOW + dt.timedelta(minutes=5)
    domain.learn_mlps(delivery, event("mlps.filed", {}, occurred_at=NOW))
    assert delivery.mlps_status == "filed"
    domain.learn_mlps(delivery, event("mlps.graded", {}, occurred_at=later))  # re-graded: filed again later
    domain.learn_mlps(delivery, event("mlps.filed", {}, occurred_at=NOW))  # a retried older filing
    assert delivery.mlps_status == "graded"


def test_the_refusal_names_every_unmet_condition_at_once():
    unmet = domain.unmet_conditions(project(), Delivery(project_id="prj-1"), major=True)
    with pytest.raises(RuleViolation) as err:
        domain.check_conditions_met(unmet)
    assert err.value.code == "ACCEPTANCE_CONDITIONS_UNMET"
    for u in unmet:
        assert f"[{u.code}] {u.message}" in err.value.message
    assert f"{len(unmet)} 项" in err.value.message


# --- supervision and test reports (Art 19, 20) ---------------------------------------------------------


def test_the_supervisor_is_registered_once_the_project_is_approved():  # Art 19
    with pytest.raises(RuleViolation, match="APPROVAL_NOT_GRANTED"):
        domain.register_supervisor(project(), None, SUPERVISOR, EDU, RULES, NOW)
    delivery = contracted()
    registered, events = domain.register_supervisor(project(), delivery, SUPERVISOR, EDU, RULES, NOW)
    assert delivery.supervisor is registered and registered.registered_by == "li@unit:edu"
    assert events == [SupervisorRegistered(project_id="prj-1", actor="li@unit:edu", **SUPERVISOR)]


def test_only_the_owner_records_and_others_do_not_see_the_project():  # Art 4, 11, 25
    with pytest.raises(Forbidden):
        domain.register_supervisor(project(), contracted(), SUPERVISOR, CENTER, RULES, NOW)
    with pytest.raises(NotFound):
        domain.submit_test_report(project(), contracted(), {}, Caller("x", "unit:health"), RULES, NOW)
    with pytest.raises(RuleViolation, match="NOT_IN_ANNUAL_PLAN"):
        domain.register_supervisor(None, contracted(), SUPERVISOR, EDU, RULES, NOW)


def test_a_test_report_is_kept_passed_or_not():  # Art 20
    delivery = contracted()
    given = {"kind": "database", "agency": "某检测中心", "report_no": "R-1", "passed": False}
    submitted, [evt] = domain.submit_test_report(project(), delivery, given, EDU, RULES, NOW)
    assert delivery.report_results == {"database": False} and evt.data() == {"report_id": submitted.report_id, **given}


def test_nothing_is_recorded_once_accepted():  # Art 21
    with pytest.raises(Conflict, match="ALREADY_ACCEPTED"):
        domain.register_supervisor(project(), contracted(stage="accepted"), SUPERVISOR, EDU, RULES, NOW)


# --- the pre-check and acceptance (Art 21) ---------------------------------------------------------------


def precheck_requested(delivery=None):
    delivery = delivery or complete()
    request(delivery)
    return delivery


def prechecked(delivery=None):
    delivery = precheck_requested(delivery)
    conclude(delivery, "passed", "符合评审方案")
    return delivery


def test_a_precheck_request_with_unmet_conditions_is_refused_and_changes_nothing():  # Art 21
    delivery = contracted()
    before = dataclasses.replace(delivery)
    with pytest.raises(RuleViolation) as err:
        request(delivery)
    assert err.value.code == "ACCEPTANCE_CONDITIONS_UNMET"
    for code in ("supervisor", "third_party_software", "source_code", "database", "network_security", "mlps_filing"):
        assert f"[{code}]" in err.value.message
    assert delivery == before


def test_a_precheck_is_requested_by_the_owner_and_concluded_by_the_data_center():  # Art 21
    delivery = complete()
    precheck, [requested] = request(delivery)
    assert delivery.stage == "precheck_requested"
    assert requested == PrecheckRequested(project_id="prj-1", actor="li@unit:edu", precheck_id=precheck.precheck_id)
    with pytest.raises(Forbidden):
        request(complete(), [], CENTER)
    concluded, [evt] = conclude(delivery)
    assert concluded is precheck and (precheck.verdict, precheck.concluded_by) == ("passed", "wang@data_center")
    assert evt == Prechecked(
        project_id="prj-1", actor="wang@data_center", precheck_id=precheck.precheck_id, verdict="passed", passed=True,
        opinion="符合",
    )  # fmt: skip
    assert delivery.stage == "prechecked"


def test_the_conditions_are_checked_again_when_the_precheck_is_concluded_passed():  # Art 18, 21
    delivery = precheck_requested()
    domain.learn_mlps(delivery, event("mlps.graded", {}, occurred_at=NOW + dt.timedelta(hours=1)))
    with pytest.raises(RuleViolation, match=r"ACCEPTANCE_CONDITIONS_UNMET.*\[mlps_filing\]"):
        conclude(delivery)
    assert delivery.stage == "precheck_requested"
    conclude(delivery, "failed", "等保未备案")
    assert delivery.stage == "precheck_failed"


def test_a_failed_precheck_may_be_requested_again():  # Art 21
    delivery = precheck_requested()
    first = delivery.precheck_id
    conclude(delivery, "failed", "不符")
    request(delivery)
    assert delivery.stage == "precheck_requested" and delivery.precheck_id != first
    assert latest(delivery).verdict is None and PRECHECKS[first].verdict == "failed"


@pytest.mark.parametrize("stage", ["building", "precheck_failed", "prechecked", "accepted"])
def test_only_a_requested_precheck_is_concluded(stage):
    with pytest.raises(Conflict):
        domain.conclude_precheck(
            project(), dataclasses.replace(complete(), stage=stage), None, [], "failed", "不符", CENTER, RULES, NOW
        )


def test_a_second_request_while_one_is_open_or_passed_is_a_conflict():
    with pytest.raises(Conflict, match="PRECHECK_NOT_ALLOWED"):
        request(precheck_requested())
    with pytest.raises(Conflict, match="PRECHECK_NOT_ALLOWED"):
        request(prechecked())


def precheck_failed():
    delivery = precheck_requested()
    conclude(delivery, "failed", "不符")
    return delivery


@pytest.mark.parametrize("delivery", [complete, precheck_requested, precheck_failed])
def test_acceptance_needs_a_passed_precheck(delivery):  # Art 21
    with pytest.raises(RuleViolation, match="PRECHECK_NOT_PASSED"):
        accept(delivery())


def test_acceptance_after_a_passed_precheck():  # Art 21
    delivery = prechecked()
    recorded, [evt] = accept(delivery)
    assert delivery.stage == "accepted" and recorded.precheck_id == delivery.precheck_id
    assert evt == AcceptancePassed(
        project_id="prj-1", actor="li@unit:edu", acceptance_id=recorded.acceptance_id,
        precheck_id=recorded.precheck_id, date=TODAY, minutes=ACCEPTED["minutes"],
    )  # fmt: skip
    assert evt.data()["date"] == TODAY.isoformat()
    with pytest.raises(Conflict, match="ALREADY_ACCEPTED"):
        accept(delivery)


def test_a_failed_acceptance_may_be_recorded_again_later():  # Art 21
    delivery = prechecked()
    first, [failed] = accept(delivery, {**ACCEPTED, "passed": False})
    assert isinstance(failed, AcceptanceFailed) and delivery.stage == "acceptance_failed"
    second, _ = accept(delivery)
    assert delivery.stage == "accepted" and (first.passed, second.passed) == (False, True)


def test_an_unauthorized_change_reported_after_the_precheck_holds_the_acceptance_back():  # Art 18
    delivery = prechecked()
    domain.learn_unauthorized_reported(delivery, event("change.unauthorized_reported", {"report_id": "uc-9"}))
    with pytest.raises(RuleViolation, match=r"ACCEPTANCE_CONDITIONS_UNMET.*\[unauthorized_change\]"):
        accept(delivery)
    assert delivery.stage == "prechecked"


def test_an_acceptance_date_still_to_come_is_refused_naming_the_field():
    tomorrow = {**ACCEPTED, "date": TODAY + dt.timedelta(days=1)}
    with pytest.raises(ValidationError, match="acceptance.date"):
        accept(prechecked(), tomorrow)


def test_every_stage_and_action_of_the_table_is_known():
    for (stage, action), target in domain.DELIVERY_TRANSITIONS.items():
        assert isinstance(stage, DeliveryStage) and isinstance(target, DeliveryStage)
        assert action in domain.ACTION_NAMES


def test_readiness_is_the_list_the_precheck_refuses_with():
    readiness = domain.readiness(project(), contracted(), PANEL, Caller("x", "drc"), RULES)
    assert not readiness.ready
    assert codes(readiness.unmet) == ALL_CODES[2:]
    with pytest.raises(NotFound):
        domain.readiness(project(), contracted(), [], Caller("x", "unit:health"), RULES)
    assert domain.readiness(project(), complete(), PANEL, EDU, RULES).ready
