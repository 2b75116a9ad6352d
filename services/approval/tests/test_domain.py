"""Approval's rules, one test per rule, on plain objects (no broker, no database)."""

import datetime as dt

import pytest

from approval import domain
from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, Forbidden, NotFound, RuleViolation

NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
RULES = domain.ApprovalRules.from_settings("南发改审〔{year}〕{seq:03d}号")
UNIT = Caller("li", "unit:edu")
DRC = Caller("wang", "drc")


def planned(construction_mode="self_built", **data):
    fields_ = {
        "name": "智慧教育平台",
        "unit": "unit:edu",
        "construction_mode": construction_mode,
        "classified": False,
        "plan_year": 2027,
        "plan_type": "annual",
        **data,
    }
    return domain.learn_planned(domain.Project("prj-1"), fields_)


def review(outcome, review_id="rev-1", at="2027-03-01T10:00:00+00:00"):
    return domain.concluded_review(f"review.{outcome}", "prj-1", {"review_id": review_id, "route": "x"}, at)


def apply(reviews=(), latest=None, caller=UNIT, project=None):
    application, _ = domain.apply(project or planned(), latest, list(reviews), "approve", caller, NOW)
    return application


def granted(application, counter=None):
    return domain.grant(application, counter or domain.ApprovalCounter(2027), RULES, "同意立项", DRC, NOW)[0]


def rejected(application, opinion="不予立项"):
    return domain.reject(application, opinion, DRC, NOW)[0]


# --- Art 10: only planned projects --------------------------------------------------------------


def test_unknown_project_may_not_apply():
    with pytest.raises(RuleViolation) as err:
        domain.apply(None, None, [], "approve", UNIT, NOW)
    assert err.value.code == "NOT_IN_ANNUAL_PLAN"
    assert "稍后重试" in err.value.message
    assert err.value.message.endswith("（第十条）")


def test_project_known_only_from_a_review_may_not_apply():
    with pytest.raises(RuleViolation, match="NOT_IN_ANNUAL_PLAN"):
        apply(project=domain.Project("prj-1"))


# --- Art 4, 11: who applies ---------------------------------------------------------------------


def test_another_unit_may_not_apply():
    with pytest.raises(Forbidden, match="NOT_PROJECT_OWNER"):
        apply(caller=Caller("zhao", "unit:health"))


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
    application = granted(apply([review("passed")]))
    assert application.status == "granted"
    assert application.approval_no == "南发改审〔2027〕001号"
    assert (application.decided_by, application.opinion) == ("drc", "同意立项")


def test_approval_numbers_are_sequential_and_unique_per_year():
    counter = domain.ApprovalCounter(2027)
    numbers = [domain.issue_approval_no(counter, RULES) for _ in range(3)]
    assert numbers == ["南发改审〔2027〕001号", "南发改审〔2027〕002号", "南发改审〔2027〕003号"]
    assert domain.issue_approval_no(domain.ApprovalCounter(2028), RULES) == "南发改审〔2028〕001号"


def test_grant_without_an_application_is_a_conflict():
    with pytest.raises(Conflict, match="NO_OPEN_APPLICATION"):
        granted(None)


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
    domain.check_visible(UNIT, project)
    domain.check_visible(DRC, project)
    with pytest.raises(NotFound):
        domain.check_visible(Caller("zhao", "unit:health"), project)


@pytest.mark.parametrize("fmt", ["南发改审〔{year}〕号", "{year}-{seq}-{other}", "{year}-{seq:d"])
def test_an_approval_number_format_must_number_uniquely(fmt):
    with pytest.raises(ValueError):
        domain.ApprovalRules.from_settings(fmt)
