"""The risk rating (issue 24): each factor, the roll-up, the clock's one step, the thresholds'
settings, and the use cases that keep a project's rating and its overrides."""

import datetime as dt
from decimal import Decimal

import pytest

from nxshared.core.caller import Caller
from nxshared.core.errors import NotFound
from nxshared.core.uow import FakeUnitOfWork
from planning import usecases
from planning.domain.risk import Basis, Plan, Reason, RiskRules, basis, roll_up
from planning.domain.timeline import TimelineEntry

from .fakes import FakeRepository
from .test_usecases import NOW, OFFICE, RULES, TODAY, declare, event, run

PLAN = Plan(2027, [{"year": 2027, "amount": "600000.00"}, {"year": 2028, "amount": "400000.00"}], "planned")
RULES_ = RiskRules()
_seq = iter(range(1, 10_000))


def entry(event_type, **data):
    n = next(_seq)
    return TimelineEntry(f"e{n}", "prj-1", event_type, "x", f"2027-03-{n % 28 + 1:02d}T08:00:00+00:00", None, data)


def codes(b: Basis, today=dt.date(2027, 6, 1)):
    return {r.code: r.points for r in b.assess(today).reasons}


def contracted(*more):
    return [entry("contract.registered", contract_no="HT-1"), *more]


# --- the factors ------------------------------------------------------------------------------------


def test_a_project_with_nothing_against_it_is_rated_1():
    found = basis(PLAN, contracted(), RULES_)
    assert found.assess(dt.date(2027, 6, 1)).rating == 1 and found.assess(dt.date(2027, 6, 1)).reasons == []


def test_cost_overrun_within_and_beyond_the_tolerance():
    budget = entry("budget.approved", approved_amount="1000000.00")
    within = entry("funds.disbursed", disbursed_total="1050000.00")
    beyond = entry("funds.disbursed", disbursed_total="1200000.00")
    assert codes(basis(PLAN, contracted(budget), RULES_)) == {}
    assert codes(basis(PLAN, contracted(budget, within), RULES_)) == {"COST_OVERRUN": 1}
    found = basis(PLAN, contracted(budget, within, beyond), RULES_)
    assert codes(found) == {"COST_OVERRUN": 2}
    assert found.reasons[0].evidence == {
        "approved_budget": "1000000.00",
        "disbursed_total": "1200000.00",
        "over": "200000.00",
    }
    assert codes(basis(PLAN, contracted(budget, beyond), RiskRules(cost_tolerance=Decimal("0.5")))) == {
        "COST_OVERRUN": 1
    }


def test_disbursed_up_to_the_budget_is_no_overrun():
    budget = entry("budget.approved", approved_amount="1000000.00")
    assert codes(basis(PLAN, contracted(budget, entry("funds.disbursed", disbursed_total="1000000.00")), RULES_)) == {}


def test_the_schedule_is_late_from_the_day_after_the_milestones_year():
    """Not contracted by the end of the plan year; then not accepted by the last investment year."""
    planned = basis(PLAN, [entry("project.planned")], RULES_)
    assert planned.late_from == dt.date(2028, 1, 1)
    assert codes(planned, dt.date(2027, 12, 31)) == {}
    assert codes(planned, dt.date(2028, 1, 1)) == {"SCHEDULE_LATE": 2}
    assert planned.late.evidence == {"milestone": "contracted", "due": "2027-12-31"}
    signed = basis(PLAN, contracted(), RULES_)
    assert signed.late_from == dt.date(2029, 1, 1) and signed.late.evidence["milestone"] == "accepted"
    assert codes(signed, dt.date(2028, 12, 31)) == {} and codes(signed, dt.date(2029, 1, 1)) == {"SCHEDULE_LATE": 2}
    accepted = basis(PLAN, contracted(entry("acceptance.passed", date="2028-06-01")), RULES_)
    assert accepted.late is None and codes(accepted, dt.date(2040, 1, 1)) == {}


def test_a_project_not_planned_has_no_schedule():
    found = basis(Plan(2027, [], "not_planned"), [entry("project.not_planned")], RULES_)
    assert found.late is None and codes(found, dt.date(2030, 1, 1)) == {}


def test_a_failed_acceptance_is_not_an_acceptance():
    found = basis(PLAN, contracted(entry("acceptance.failed", date="2028-05-01")), RULES_)
    assert found.late.evidence == {"milestone": "accepted", "due": "2028-12-31"}


def test_open_unauthorized_changes_until_resolved():
    one, two = (
        entry("change.unauthorized_reported", report_id="r1"),
        entry("change.unauthorized_reported", report_id="r2"),
    )
    found = basis(PLAN, contracted(one, two), RULES_)
    assert codes(found) == {"UNAUTHORIZED_CHANGE": 2} and found.reasons[0].evidence == {"report_ids": ["r1", "r2"]}
    resolved = entry("change.unauthorized_resolved", report_ids=["r1", "r2"])
    assert codes(basis(PLAN, contracted(one, two, resolved), RULES_)) == {}


def test_failed_checks_count_and_passed_ones_do_not():
    passed = [
        entry("test_report.submitted", passed=True),
        entry("inspection.recorded", passed=True),
        entry("acceptance.prechecked", passed=True),
    ]
    assert codes(basis(PLAN, contracted(*passed), RULES_)) == {}
    failed = [
        entry("test_report.submitted", passed=False),
        entry("inspection.recorded", passed=False),
        entry("acceptance.prechecked", passed=False),
        entry("acceptance.failed", date="2027-05-01"),
    ]
    assert codes(basis(PLAN, contracted(failed[1]), RULES_)) == {"FAILED_CHECKS": 1}
    found = basis(PLAN, contracted(*failed[:3]), RULES_)
    assert codes(found) == {"FAILED_CHECKS": 2}
    assert [f["event_type"] for f in found.reasons[0].evidence["failures"]] == [
        "test_report.submitted",
        "inspection.recorded",
        "acceptance.prechecked",
    ]
    assert codes(basis(PLAN, contracted(*failed), RiskRules(failures_high=5))) == {"FAILED_CHECKS": 1}


def test_open_incidents_and_the_severe_ones():
    low = entry("incident.reported", incident_id="i1", severity="low")
    high = entry("incident.reported", incident_id="i2", severity="high")
    assert codes(basis(PLAN, contracted(low), RULES_)) == {"OPEN_INCIDENTS": 1}
    assert codes(basis(PLAN, contracted(low, high), RULES_)) == {"OPEN_INCIDENTS": 2}
    closed = entry("incident.resolved", incident_id="i2", severity="high")
    found = basis(PLAN, contracted(low, high, closed), RULES_)
    assert codes(found) == {"OPEN_INCIDENTS": 1}
    assert found.reasons[0].evidence == {"incidents": [{"incident_id": "i1", "severity": "low"}]}


# --- the roll-up and the thresholds' settings ---------------------------------------------------------


def test_the_rating_is_1_plus_the_points_at_most_5():
    def reasons(*points):
        return [Reason("X", "x", {}, p) for p in points]

    assert [roll_up(reasons()), roll_up(reasons(1)), roll_up(reasons(2, 1)), roll_up(reasons(2, 2, 2, 2))] == [
        1,
        2,
        4,
        5,
    ]


def test_a_kept_basis_reads_back_the_same_on_any_day():
    found = basis(PLAN, [entry("project.planned"), entry("incident.reported", incident_id="i", severity="low")], RULES_)
    row = found.as_row()
    assert (row["rating_on_time"], row["rating_late"], row["late_from"]) == (2, 4, "2028-01-01")
    back = Basis.from_row(row["reasons"], row["late"], row["late_from"])
    for day in (dt.date(2027, 12, 31), dt.date(2028, 1, 1)):
        assert back.assess(day) == found.assess(day)


def test_the_thresholds_are_settings_and_bad_ones_stop_the_service():
    rules = RiskRules.from_settings(
        {"RISK_COST_TOLERANCE": "0.2", "RISK_FAILURES_HIGH": 4, "RISK_SEVERE_INCIDENTS": "critical"}
    )
    assert rules == RiskRules(Decimal("0.2"), 4, ("critical",))
    assert RiskRules.from_settings({}) == RiskRules()
    for bad in ({"RISK_COST_TOLERANCE": "-1"}, {"RISK_FAILURES_HIGH": 0}):
        with pytest.raises(ValueError):
            RiskRules.from_settings(bad)


# --- the use cases ------------------------------------------------------------------------------------


@pytest.fixture
def uow():
    return FakeUnitOfWork(FakeRepository())


def test_a_declared_project_is_rated_and_each_event_rates_it_again(uow):
    project = declare(uow)
    pid = project.project_id
    assert usecases.get_risk(uow.repo, pid, OFFICE, TODAY, RULES).rating == 1
    incident = event("incident.reported", pid, data={"incident_id": "i1", "severity": "critical"}, source="security")
    run(uow, usecases.record_timeline, incident, RULES.risk)
    view = usecases.get_risk(uow.repo, pid, OFFICE, TODAY, RULES)
    assert (view.rating, [r.code for r in view.computed.reasons]) == (3, ["OPEN_INCIDENTS"])
    run(uow, usecases.report_unauthorized_change, pid, "擅自增加功能", OFFICE, RULES)
    assert usecases.get_risk(uow.repo, pid, OFFICE, TODAY, RULES).rating == 5


def test_an_override_wins_and_every_one_is_kept(uow):
    pid = declare(uow).project_id
    first = run(uow, usecases.override_risk, pid, 4, "进度风险", OFFICE, TODAY, NOW, RULES)
    second = run(uow, usecases.override_risk, pid, 2, "已整改", OFFICE, TODAY, NOW, RULES)
    assert (first.rating, second.rating, second.computed.rating) == (4, 2, 1)
    assert [o.rating for o in uow.repo.overrides] == [4, 2]
    view = usecases.get_risk(uow.repo, pid, OFFICE, TODAY, RULES)
    assert (view.rating, view.override.comment, view.override.by) == (2, "已整改", "p@smart_office")
    assert uow.types()[-2:] == ["risk.overridden", "risk.overridden"]
    assert uow.emitted[-1].data() == {"rating": 2, "comment": "已整改", "computed_rating": 1}


def test_the_rating_of_a_project_the_caller_may_not_see_is_not_found(uow):
    pid = declare(uow, classified=True).project_id
    with pytest.raises(NotFound):
        usecases.get_risk(uow.repo, pid, Caller("x", "unit:health"), TODAY, RULES)
    with pytest.raises(NotFound):
        run(uow, usecases.override_risk, "prj-none", 3, "x", OFFICE, TODAY, NOW, RULES)
