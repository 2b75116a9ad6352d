"""Approval's rules, one test per rule, on plain objects (no broker, no database)."""

import datetime as dt
from decimal import Decimal

import pytest

from approval import domain
from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, Forbidden, NotFound, RuleViolation

NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
RULES = domain.ApprovalRules.from_settings("南发改审〔{year}〕{seq:03d}号", "smart_office,drc, audit")
PLANNED_AT = "2027-02-01T10:00:00+00:00"
UNIT = Caller("li", "unit:edu")
DRC = Caller("wang", "drc")


PLANNED = {
    "name": "智慧教育平台",
    "unit": "unit:edu",
    "construction_mode": "self_built",
    "classified": False,
    "plan_year": 2027,
    "plan_type": "annual",
    "estimated_investment": "2500000.00",
}


def planned(project=None, **data):
    return domain.learn_planned(project or domain.Project("prj-1"), {**PLANNED, **data}, PLANNED_AT)


def review(outcome, review_id="rev-1", at="2027-03-01T10:00:00+00:00"):
    return domain.concluded_review(f"review.{outcome}", "prj-1", {"review_id": review_id, "route": "x"}, at)


def apply(reviews=(), latest=None, caller=UNIT, project=None):
    application, _ = domain.apply(project or planned(), latest, list(reviews), "approve", caller, RULES, NOW)
    return application


def grant(application, counter=None, project=None, caller=DRC):
    counter = counter or domain.ApprovalCounter(2027)
    return domain.grant(project or planned(), application, counter, RULES, "同意立项", caller, NOW)


def granted(application, counter=None):
    return grant(application, counter)[0]


def rejected(application, opinion="不予立项", project=None, caller=DRC):
    return domain.reject(project or planned(), application, RULES, opinion, caller, NOW)[0]


# --- Art 10: only planned projects --------------------------------------------------------------


def test_unknown_project_may_not_apply():
    with pytest.raises(RuleViolation) as err:
        domain.apply(None, None, [], "approve", UNIT, RULES, NOW)
    assert err.value.code == "NOT_IN_ANNUAL_PLAN"
    assert "稍后重试" in err.value.message
    assert err.value.message.endswith("（第十条）")


def test_project_known_only_from_a_review_may_not_apply():
    with pytest.raises(RuleViolation, match="NOT_IN_ANNUAL_PLAN"):
        apply(project=domain.Project("prj-1"))


# --- Art 4, 11: who applies ---------------------------------------------------------------------


def test_another_unit_finds_no_project_to_apply_for_and_learns_nothing_of_it():
    """Art 4, 25: NotFound, not Forbidden, and the message names neither the owner nor the project."""
    with pytest.raises(NotFound) as err:
        apply(caller=Caller("zhao", "unit:health"))
    assert err.value.code == "PROJECT_NOT_FOUND"
    assert "unit:edu" not in str(err.value) and "智慧教育平台" not in str(err.value)


def test_data_center_applies_for_a_unified_project_not_the_unit():
    project = planned(construction_mode="unified")
    assert apply(project=project, caller=Caller("chen", "data_center")).status == "awaiting_review"
    with pytest.raises(Forbidden, match="NOT_PROJECT_OWNER"):
        apply(project=project, caller=UNIT)


def test_data_center_may_not_apply_for_a_self_built_project():
    with pytest.raises(Forbidden, match="NOT_PROJECT_OWNER"):
        apply(caller=Caller("chen", "data_center"))


# --- Art 13: the review unlocks the grant -------------------------------------------------------


def test_application_before_any_review_awaits_it_and_grant_is_refused():
    application = apply()
    assert application.status == "awaiting_review"
    with pytest.raises(RuleViolation) as err:
        granted(application)
    assert err.value.code == "REVIEW_NOT_PASSED"
    assert err.value.article == "Art 13"
    assert application.status == "awaiting_review"


@pytest.mark.parametrize("outcome", ["passed", "filed"])
def test_application_after_a_passing_review_is_ready(outcome):
    application = apply([review(outcome)])
    assert application.status == "ready"
    assert application.review_id == "rev-1"


@pytest.mark.parametrize("outcome", ["passed", "filed"])
def test_passing_review_arriving_later_makes_the_application_ready(outcome):
    application = apply()
    domain.take_reviews_into_account(application, [review(outcome)])
    assert application.status == "ready"
    assert application.review_id == "rev-1"


def test_failed_review_does_not_unlock():
    application = apply([review("failed")])
    assert application.status == "awaiting_review"
    domain.take_reviews_into_account(application, [review("failed"), review("failed", "rev-2")])
    assert application.status == "awaiting_review"


def test_failed_review_after_a_passed_one_does_not_relock():
    reviews = [review("passed"), review("failed", "rev-2", at="2027-03-02T10:00:00+00:00")]
    application = apply(reviews)
    domain.take_reviews_into_account(application, reviews)
    assert application.status == "ready"
    assert application.review_id == "rev-1"


def test_grant_relies_on_the_latest_passing_review_whatever_the_arrival_order():
    later = review("passed", "rev-2", at="2027-03-05T10:00:00+00:00")
    application = apply([later, review("passed")])
    assert application.review_id == "rev-2"
    assert granted(application).review_id == "rev-2"


def test_reviews_do_not_change_a_decided_application():
    application = granted(apply([review("passed")]))
    domain.take_reviews_into_account(application, [review("passed", "rev-9", at="2027-04-01T00:00:00+00:00")])
    assert (application.status, application.review_id) == ("granted", "rev-1")


# --- decisions ------------------------------------------------------------------------------------


def test_grant_issues_a_number_and_records_the_decision():
    application, event = grant(apply([review("passed")]))
    assert application.status == "granted"
    assert application.approval_no == "南发改审〔2027〕001号"
    assert (application.decided_by, application.opinion) == ("wang@drc", "同意立项")
    assert (event.approval_no, event.review_id, event.actor) == ("南发改审〔2027〕001号", "rev-1", "wang@drc")


def test_the_application_and_the_decision_keep_the_person_as_well_as_the_org():
    """Art 27: who applied and who decided is person@org, in the record and in the event."""
    application, applied = domain.apply(planned(), None, [], "approve", UNIT, RULES, NOW)
    assert (application.applied_by, applied.actor) == ("li@unit:edu", "li@unit:edu")
    decided, event = domain.reject(planned(), application, RULES, "材料不全", DRC, NOW)
    assert (decided.decided_by, event.actor) == ("wang@drc", "wang@drc")


def test_approval_numbers_are_sequential_and_unique_per_year():
    counter = domain.ApprovalCounter(2027)
    numbers = [domain.issue_approval_no(counter, RULES) for _ in range(3)]
    assert numbers == ["南发改审〔2027〕001号", "南发改审〔2027〕002号", "南发改审〔2027〕003号"]
    assert domain.issue_approval_no(domain.ApprovalCounter(2028), RULES) == "南发改审〔2028〕001号"


def test_grant_without_an_application_is_a_conflict():
    with pytest.raises(Conflict, match="NO_OPEN_APPLICATION"):
        granted(None)
    with pytest.raises(Conflict, match="NO_OPEN_APPLICATION"):
        rejected(None)


@pytest.mark.parametrize("decide", [granted, rejected])
def test_a_decided_application_is_not_decided_again(decide):
    application = decide(apply([review("passed")]))
    with pytest.raises(Conflict, match="APPROVAL_ALREADY_DECIDED"):
        granted(application)
    with pytest.raises(Conflict, match="APPROVAL_ALREADY_DECIDED"):
        rejected(application)


def test_drc_may_reject_before_the_review():
    application = rejected(apply(), "不符合产业政策")
    assert (application.status, application.opinion) == ("rejected", "不符合产业政策")


# --- one open application -------------------------------------------------------------------------


@pytest.mark.parametrize("reviews", [[], [review("passed")]], ids=["awaiting", "ready"])
def test_only_one_open_application(reviews):
    with pytest.raises(Conflict, match="APPLICATION_ALREADY_OPEN"):
        apply(reviews, latest=apply(reviews))


def test_a_granted_project_is_not_applied_for_again():
    with pytest.raises(Conflict, match="ALREADY_APPROVED"):
        apply(latest=granted(apply([review("passed")])))


def test_after_a_rejection_the_owner_applies_again_as_a_new_application():
    first = rejected(apply([review("passed")]), "材料不全")
    again = apply([review("passed")], latest=first)
    assert again.application_id != first.application_id
    assert again.status == "ready"
    assert first.status == "rejected"


# --- visibility and settings ----------------------------------------------------------------------


def test_a_unit_sees_only_its_own_projects():
    project = planned()
    domain.check_visible(UNIT, project, RULES)
    domain.check_visible(DRC, project, RULES)
    with pytest.raises(NotFound):
        domain.check_visible(Caller("zhao", "unit:health"), project, RULES)


def test_a_classified_project_is_seen_by_its_unit_and_the_bureaus_of_the_setting_only():
    """Art 25: CLASSIFIED_VISIBLE_TO (here smart_office, drc, audit) as planning has it."""
    project = planned(classified=True)
    for caller in (UNIT, DRC, Caller("a", "audit"), Caller("s", "smart_office")):
        domain.check_visible(caller, project, RULES)
    for caller in (Caller("f", "finance"), Caller("c", "data_center"), Caller("zhao", "unit:health")):
        with pytest.raises(NotFound, match="PROJECT_NOT_FOUND"):
            domain.check_visible(caller, project, RULES)


def test_the_unit_sees_its_classified_unified_project_and_data_center_builds_it():
    project = planned(classified=True, construction_mode="unified")
    domain.check_visible(UNIT, project, RULES)
    assert apply(project=project, caller=Caller("chen", "data_center")).status == "awaiting_review"


def test_visibility_comes_before_the_owner_check():
    """A bureau that may not see a classified project is told NotFound, not NOT_PROJECT_OWNER."""
    with pytest.raises(NotFound, match="PROJECT_NOT_FOUND"):
        apply(project=planned(classified=True), caller=Caller("chen", "data_center"))


def test_the_drc_decides_only_on_a_project_it_may_see():
    hidden = domain.ApprovalRules.from_settings(RULES.approval_no_format, "smart_office")
    project = planned(classified=True)
    application = apply([review("passed")], project=project)
    counter = domain.ApprovalCounter(2027)
    with pytest.raises(NotFound, match="PROJECT_NOT_FOUND"):
        domain.grant(project, application, counter, hidden, "同意", DRC, NOW)
    with pytest.raises(NotFound, match="PROJECT_NOT_FOUND"):
        domain.reject(project, application, hidden, "不同意", DRC, NOW)
    with pytest.raises(NotFound, match="PROJECT_NOT_FOUND"):
        domain.reject(domain.Project("prj-1"), application, RULES, "不同意", DRC, NOW)
    assert (application.status, counter.last_seq) == ("ready", 0)


# --- the planned estimate (Art 12, 18) -------------------------------------------------------------


def test_the_application_carries_the_planned_estimate_into_the_grant():
    application, event = grant(apply([review("passed")]))
    assert application.estimated_investment == Decimal("2500000.00")
    assert event.estimated_investment == Decimal("2500000.00")
    assert event.version == 2


def test_an_approved_change_moves_the_estimate_of_the_project_and_its_open_application():
    project = planned()
    application = apply(project=project)
    domain.learn_estimate(project, application, "9000000.00", "2027-02-10T10:00:00+00:00")
    assert project.estimated_investment == application.estimated_investment == Decimal("9000000.00")
    domain.learn_estimate(project, application, None, "2027-02-11T10:00:00+00:00")  # a change of scope only
    assert project.estimated_investment == Decimal("9000000.00")


def test_the_later_event_sets_the_estimate_whatever_the_arrival_order():
    project = domain.Project("prj-1")
    domain.learn_estimate(project, None, "9000000.00", "2027-02-10T10:00:00+00:00")  # change first
    planned(project)
    assert (project.planned, project.estimated_investment) == (True, Decimal("9000000.00"))


def test_a_decided_application_keeps_the_estimate_it_was_decided_on():
    project = planned()
    application = granted(apply([review("passed")], project=project))
    domain.learn_estimate(project, application, "9000000.00", "2027-03-10T10:00:00+00:00")
    assert (project.estimated_investment, application.estimated_investment) == (
        Decimal("9000000.00"),
        Decimal("2500000.00"),
    )


@pytest.mark.parametrize("fmt", ["南发改审〔{year}〕号", "{year}-{seq}-{other}", "{year}-{seq:d"])
def test_an_approval_number_format_must_number_uniquely(fmt):
    with pytest.raises(ValueError):
        domain.ApprovalRules.from_settings(fmt)
