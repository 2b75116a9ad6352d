"""Every rule of RULES §Technical review (Art 10–12), on plain domain objects."""

import datetime as dt
from decimal import Decimal

import pytest

from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, Forbidden, NotFound, RuleViolation
from review import domain
from review.domain import ReviewRoute, ReviewRules, ReviewStatus
from review.events import OpinionRecorded, PanelAssigned, ReviewPassed, ReviewSubmitted

VISIBLE = "smart_office,county_gov,data_center,drc,finance,audit"
RULES = ReviewRules.from_settings("2000000.00", "300000.00", 3, "city,provincial,national", VISIBLE)
NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
EDU = Caller(sub="li", org="unit:edu")
CENTER = Caller(sub="wang", org="data_center")


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
    }
    fields_.update(overrides)
    return domain.PlannedProject(**fields_)


def plan(budget="2500000.00"):
    return {"title": "建设方案", "document_ref": "doc-1", "budget": Decimal(budget)}


def submit(budget="2500000.00", history=(), caller=EDU, **project_overrides):
    """A submission whose plan budget is the project's estimate unless ``estimated_investment`` says otherwise."""
    project_overrides.setdefault("estimated_investment", Decimal(budget))
    review, _ = domain.submit_plan(project(**project_overrides), list(history), plan(budget), caller, RULES, NOW)
    return review


def file(project_, history=(), caller=EDU):
    review, _ = domain.file_project(project_, list(history), caller, RULES, NOW)
    return review


def expert(n, level="city", employer="unit:nju"):
    return domain.Expert(expert_id=f"exp-{n}", name=f"专家{n}", level=level, field="软件", employer=employer)


def panel_review(experts=3):
    review = submit()
    if experts:
        domain.assign_panel(review, [expert(n) for n in range(experts)], project(), RULES, CENTER)
    return review


def code_of(excinfo):
    return excinfo.value.code


# --- settings ----------------------------------------------------------------------------------


def test_settings_are_parsed_from_config_strings():
    assert RULES.expert_panel_threshold == Decimal("2000000.00")
    assert RULES.filing_threshold == Decimal("300000.00")
    assert RULES.panel_expert_levels == ("city", "provincial", "national")


SETTINGS = {
    "expert_panel_threshold": "2000000.00",
    "filing_threshold": "300000.00",
    "panel_min_experts": 3,
    "panel_expert_levels": "city",
    "classified_visible_to": VISIBLE,
}


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"panel_expert_levels": "city,town"}, "PANEL_EXPERT_LEVELS"),
        ({"expert_panel_threshold": "two million"}, "EXPERT_PANEL_THRESHOLD"),
        ({"filing_threshold": "1.001"}, "FILING_THRESHOLD"),
        ({"panel_min_experts": "three"}, "PANEL_MIN_EXPERTS"),
        ({"classified_visible_to": "drc,UNIT:EDU"}, "CLASSIFIED_VISIBLE_TO"),
    ],
)
def test_bad_settings_stop_the_service(bad, named):
    with pytest.raises(ValueError, match=named):
        ReviewRules.from_settings(**{**SETTINGS, **bad})


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"panel_min_experts": 2}, "PANEL_MIN_EXPERTS"),
        ({"panel_min_experts": "0"}, "PANEL_MIN_EXPERTS"),
        ({"panel_expert_levels": "county,city"}, "PANEL_EXPERT_LEVELS"),
        ({"filing_threshold": "2000000.01"}, "FILING_THRESHOLD"),
    ],
)
def test_settings_that_would_break_art_12_stop_the_service(bad, named):
    with pytest.raises(ValueError, match=named):
        ReviewRules.from_settings(**{**SETTINGS, **bad})


def test_settings_within_art_12_are_accepted():
    rules = ReviewRules.from_settings(**{**SETTINGS, "panel_min_experts": 5, "filing_threshold": "2000000.00"})
    assert (rules.panel_min_experts, rules.filing_threshold) == (5, Decimal("2000000.00"))


# --- Art 10: only planned projects --------------------------------------------------------------


def test_unknown_project_is_not_in_plan_and_the_message_says_retry():
    with pytest.raises(RuleViolation) as err:
        domain.submit_plan(None, [], plan(), EDU, RULES, NOW)
    assert code_of(err) == "NOT_IN_ANNUAL_PLAN"
    assert "尚未收到" in err.value.message and "稍后重试" in err.value.message
    assert err.value.message.endswith("（第十条）")


def test_filing_of_unknown_project_is_not_in_plan():
    with pytest.raises(RuleViolation) as err:
        file(None)
    assert code_of(err) == "NOT_IN_ANNUAL_PLAN"


# --- Art 11: who submits ------------------------------------------------------------------------


def test_self_built_project_is_submitted_by_its_unit_and_the_person_is_kept():
    assert submit().submitted_by == "li@unit:edu"


@pytest.mark.parametrize("org", ["drc", "data_center"])
def test_no_one_else_submits_a_self_built_project(org):
    with pytest.raises(Forbidden) as err:
        submit(caller=Caller("x", org))
    assert code_of(err) == "NOT_PROJECT_OWNER"


def test_unified_project_is_submitted_by_the_data_center_not_the_unit():
    assert submit(caller=CENTER, construction_mode="unified").submitted_by == "wang@data_center"
    with pytest.raises(Forbidden):
        submit(caller=EDU, construction_mode="unified")


def test_a_unit_sees_only_its_own_projects():
    domain.check_visible(EDU, project(), RULES)
    domain.check_visible(Caller("x", "drc"), project(), RULES)
    with pytest.raises(NotFound):
        domain.check_visible(Caller("x", "unit:health"), project(), RULES)


def test_a_classified_project_is_seen_by_its_owner_and_the_bureaus_named_in_the_setting():
    secret = project(classified=True)
    rules = ReviewRules.from_settings(**{**SETTINGS, "classified_visible_to": "smart_office,data_center"})
    for org in ("unit:edu", "data_center", "smart_office"):
        domain.check_visible(Caller("x", org), secret, rules)
    for org in ("drc", "audit", "unit:health"):
        with pytest.raises(NotFound):
            domain.check_visible(Caller("x", org), secret, rules)
    domain.check_visible(Caller("x", "drc"), project(), rules)


@pytest.mark.parametrize(
    ("caller", "classified"), [(Caller("x", "unit:health"), False), (Caller("x", "smart_office"), True)]
)
def test_a_project_out_of_sight_is_not_found_before_the_owner_check_and_names_nothing(caller, classified):
    rules = ReviewRules.from_settings(**{**SETTINGS, "classified_visible_to": "data_center"})
    hidden = project(classified=classified)
    with pytest.raises(NotFound) as err:
        domain.submit_plan(hidden, [], plan(), caller, rules, NOW)
    assert code_of(err) == "PROJECT_NOT_FOUND"
    for leak in ("unit:edu", "智慧教育平台", "prj-1"):
        assert leak not in str(err.value)


def test_a_visible_project_of_another_owner_stays_forbidden():
    with pytest.raises(Forbidden) as err:
        submit(caller=Caller("x", "drc"))
    assert code_of(err) == "NOT_PROJECT_OWNER"


# --- Art 12: routing by budget ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("budget", "route"),
    [
        ("2000000.00", ReviewRoute.EXPERT_PANEL),
        ("2000000.01", ReviewRoute.EXPERT_PANEL),
        ("1999999.99", ReviewRoute.CENTER_OPINION),
        ("0.01", ReviewRoute.CENTER_OPINION),
    ],
)
def test_route_by_budget_at_the_cent(budget, route):
    review = submit(budget)
    assert review.route == route.value
    assert review.status == ReviewStatus.UNDER_REVIEW.value


# --- Art 12, 18: the plan's budget and the project's estimate ----------------------------------


def test_route_follows_the_estimate_when_the_plan_is_priced_below_it():
    review = submit("1999999.99", estimated_investment=Decimal("9000000.00"))
    assert review.route == "expert_panel"
    assert review.budget == Decimal("1999999.99")


def test_a_plan_budget_above_the_estimate_is_refused():
    with pytest.raises(RuleViolation) as err:
        submit("9000000.01", estimated_investment=Decimal("9000000.00"))
    assert code_of(err) == "OVER_ESTIMATE"
    assert "第十二条" in err.value.message and "第十八条" in err.value.message


def test_an_approved_change_raises_the_estimate_and_the_route_follows_it():
    raised = project(estimated_investment=Decimal("1000000.00"))
    domain.apply_estimate_change(raised, "chg-1", Decimal("2500000.00"))
    review, _ = domain.submit_plan(raised, [], plan("2400000.00"), EDU, RULES, NOW)
    assert (review.route, raised.estimate, raised.estimate_change_id) == (
        "expert_panel",
        Decimal("2500000.00"),
        "chg-1",
    )
    domain.apply_estimate_change(raised, "chg-2", None)
    assert raised.estimate == Decimal("2500000.00")


def test_a_change_that_lowered_the_estimate_holds_the_plan_to_it():
    lowered = project(estimated_investment=Decimal("1000000.00"))
    domain.apply_estimate_change(lowered, "chg-1", Decimal("250000.00"))
    with pytest.raises(RuleViolation) as err:
        domain.submit_plan(lowered, [], plan("300000.00"), EDU, RULES, NOW)
    assert code_of(err) == "OVER_ESTIMATE"


def test_filing_follows_the_changed_estimate():
    changed = project(estimated_investment=Decimal("250000.00"), requires_construction_plan=False)
    assert file(changed).budget == Decimal("250000.00")
    domain.apply_estimate_change(changed, "chg-1", Decimal("300000.00"))
    with pytest.raises(RuleViolation) as err:
        file(changed)
    assert code_of(err) == "FILING_NOT_ALLOWED"


def small(estimate="299999.99", needs_plan=False):
    return project(estimated_investment=Decimal(estimate), requires_construction_plan=needs_plan)


def test_filing_just_below_the_threshold_is_filed():
    filed = file(small("299999.99"))
    assert (filed.route, filed.status) == ("filing", "filed")
    assert filed.budget == Decimal("299999.99")


@pytest.mark.parametrize(("estimate", "needs_plan"), [("300000.00", False), ("300000.01", False), ("1000.00", True)])
def test_filing_refused_at_the_threshold_or_when_a_plan_is_required(estimate, needs_plan):
    with pytest.raises(RuleViolation) as err:
        file(small(estimate, needs_plan))
    assert code_of(err) == "FILING_NOT_ALLOWED"
    assert err.value.message.endswith("（第十二条）")


# --- Art 12: one review at a time, resubmission after failure ------------------------------------


def concluded(status):
    review = submit("1000000.00")
    review.status = status
    return review


def test_one_open_review_per_project():
    with pytest.raises(Conflict) as err:
        submit(history=[submit()])
    assert code_of(err) == "REVIEW_ALREADY_OPEN"
    with pytest.raises(Conflict):
        file(small(), [submit()])


@pytest.mark.parametrize("status", ["passed", "filed"])
def test_a_passed_or_filed_project_is_not_submitted_again(status):
    with pytest.raises(Conflict) as err:
        submit(history=[concluded(status)])
    assert code_of(err) == "ALREADY_REVIEWED"


def test_a_failed_review_can_be_resubmitted_as_a_new_review():
    failed = concluded("failed")
    again = submit(history=[failed])
    assert again.review_id != failed.review_id
    assert again.status == "under_review"


# --- Art 12: the expert panel --------------------------------------------------------------------


def test_panel_of_three_city_experts_is_seated_in_order():
    review = panel_review(3)
    assert [seat.expert_id for seat in review.experts] == ["exp-0", "exp-1", "exp-2"]


def test_panel_too_small():
    with pytest.raises(RuleViolation) as err:
        panel_review(2)
    assert code_of(err) == "PANEL_TOO_SMALL"


def test_panel_counts_distinct_experts():
    review = submit()
    with pytest.raises(RuleViolation) as err:
        domain.assign_panel(review, [expert(1), expert(1), expert(2)], project(), RULES, CENTER)
    assert code_of(err) == "PANEL_TOO_SMALL"


def test_panel_expert_level_below_city_is_refused():
    review = submit()
    with pytest.raises(RuleViolation) as err:
        domain.assign_panel(review, [expert(1), expert(2, level="county"), expert(3)], project(), RULES, CENTER)
    assert code_of(err) == "EXPERT_LEVEL_TOO_LOW"


@pytest.mark.parametrize(("mode", "employer"), [("self_built", "unit:edu"), ("unified", "data_center")])
def test_expert_employed_by_the_applicant_may_not_sit(mode, employer):
    review = submit(caller=EDU if mode == "self_built" else CENTER, construction_mode=mode)
    chosen = [expert(1), expert(2), expert(3, employer=employer)]
    with pytest.raises(RuleViolation) as err:
        domain.assign_panel(review, chosen, project(construction_mode=mode), RULES, CENTER)
    assert code_of(err) == "EXPERT_CONFLICT"


def test_a_center_opinion_review_may_invite_any_number_of_experts_of_any_level():
    review = submit("1999999.99")
    domain.assign_panel(review, [expert(1, level="county")], project(), RULES, CENTER)
    assert [seat.expert_id for seat in review.experts] == ["exp-1"]


def test_an_invited_expert_employed_by_the_applicant_may_not_sit_either():
    with pytest.raises(RuleViolation) as err:
        domain.assign_panel(submit("1999999.99"), [expert(1, employer="unit:edu")], project(), RULES, CENTER)
    assert code_of(err) == "EXPERT_CONFLICT"


def test_a_center_opinion_with_invited_experts_waits_for_their_opinions():
    review = submit("1999999.99")
    domain.assign_panel(review, [expert(1), expert(2)], project(), RULES, CENTER)
    domain.record_opinion(review, "exp-1", "fail", "不可行", CENTER)
    with pytest.raises(RuleViolation) as err:
        domain.conclude(review, "passed", "通过", CENTER, NOW, RULES)
    assert code_of(err) == "PANEL_OPINIONS_INCOMPLETE"
    domain.record_opinion(review, "exp-2", "fail", "不可行", CENTER)
    domain.conclude(review, "passed", "中心意见：通过", CENTER, NOW, RULES)
    assert review.status == "passed"


def panel_with(*verdicts):
    review = panel_review(len(verdicts))
    for n, verdict in enumerate(verdicts):
        domain.record_opinion(review, f"exp-{n}", verdict, "意见", CENTER)
    return review


@pytest.mark.parametrize(
    "verdicts", [("fail", "fail", "pass"), ("fail", "fail", "fail"), ("fail", "fail", "fail", "pass", "conditional")]
)
def test_a_panel_whose_majority_failed_cannot_pass(verdicts):
    review = panel_with(*verdicts)
    with pytest.raises(RuleViolation) as err:
        domain.conclude(review, "passed", "通过", CENTER, NOW, RULES)
    assert code_of(err) == "PANEL_MAJORITY_FAILED"
    assert review.status == "under_review"
    domain.conclude(review, "failed", "不通过", CENTER, NOW, RULES)
    assert review.status == "failed"


@pytest.mark.parametrize("verdicts", [("fail", "pass", "conditional"), ("fail", "fail", "pass", "pass")])
def test_a_panel_without_a_failing_majority_may_pass(verdicts):
    review = panel_with(*verdicts)
    domain.conclude(review, "passed", "通过", CENTER, NOW, RULES)
    assert review.status == "passed"


def test_panel_is_assigned_once():
    with pytest.raises(Conflict) as err:
        domain.assign_panel(panel_review(3), [expert(n) for n in range(4, 7)], project(), RULES, CENTER)
    assert code_of(err) == "PANEL_ALREADY_ASSIGNED"


def test_only_an_assigned_expert_gives_an_opinion_once():
    review = panel_review(3)
    with pytest.raises(Conflict) as err:
        domain.record_opinion(review, "exp-9", "pass", "同意", CENTER)
    assert code_of(err) == "EXPERT_NOT_ON_PANEL"
    domain.record_opinion(review, "exp-0", "pass", "同意", CENTER)
    with pytest.raises(Conflict):
        domain.record_opinion(review, "exp-0", "fail", "改主意", CENTER)


def test_panel_concluded_only_when_every_opinion_is_in():
    review = panel_review(3)
    domain.record_opinion(review, "exp-0", "pass", "同意", CENTER)
    domain.record_opinion(review, "exp-1", "conditional", "补充安全方案", CENTER)
    with pytest.raises(RuleViolation) as err:
        domain.conclude(review, "passed", "通过", CENTER, NOW, RULES)
    assert code_of(err) == "PANEL_OPINIONS_INCOMPLETE"
    assert "exp-2" in err.value.message
    domain.record_opinion(review, "exp-2", "pass", "同意", CENTER)
    domain.conclude(review, "passed", "通过", CENTER, NOW, RULES)
    assert (review.status, review.concluded_by) == ("passed", "wang@data_center")


def test_panel_without_experts_is_not_concluded():
    with pytest.raises(RuleViolation) as err:
        domain.conclude(panel_review(0), "failed", "不通过", CENTER, NOW, RULES)
    assert code_of(err) == "PANEL_OPINIONS_INCOMPLETE"


def test_center_opinion_is_concluded_directly():
    review = submit("1999999.99")
    domain.conclude(review, "failed", "方案不完整", CENTER, NOW, RULES)
    assert (review.status, review.opinion) == ("failed", "方案不完整")


def test_a_filing_or_a_concluded_review_is_not_concluded():
    filed = file(small())
    for review in (filed, concluded("passed"), concluded("failed")):
        with pytest.raises(Conflict) as err:
            domain.conclude(review, "passed", "通过", CENTER, NOW, RULES)
        assert code_of(err) == "REVIEW_NOT_OPEN"


def test_no_opinions_or_experts_once_concluded():
    review = panel_review(3)
    review.status = "failed"
    with pytest.raises(Conflict):
        domain.record_opinion(review, "exp-0", "pass", "同意", CENTER)
    with pytest.raises(Conflict):
        domain.assign_panel(concluded("passed"), [expert(n) for n in range(3)], project(), RULES, CENTER)


# --- Art 27: each decision returns the events that record it -------------------------------------


def test_each_decision_returns_its_events():
    review, events = domain.submit_plan(project(), [], plan(), EDU, RULES, NOW)
    assert events == [
        ReviewSubmitted(
            project_id="prj-1", actor="li@unit:edu", review_id=review.review_id, route="expert_panel",
            budget=Decimal("2500000.00"),
        )
    ]  # fmt: skip
    seated = domain.assign_panel(review, [expert(n) for n in range(3)], project(), RULES, CENTER)
    assert seated == [
        PanelAssigned(
            project_id="prj-1", actor="wang@data_center", review_id=review.review_id, route="expert_panel",
            expert_ids=["exp-0", "exp-1", "exp-2"],
        )
    ]  # fmt: skip
    recorded = [domain.record_opinion(review, f"exp-{n}", "pass", "同意", CENTER) for n in range(3)]
    assert recorded[1] == [
        OpinionRecorded(
            project_id="prj-1", actor="wang@data_center", review_id=review.review_id, expert_id="exp-1", verdict="pass"
        )
    ]
    concluded_events = domain.conclude(review, "passed", "同意建设", CENTER, NOW, RULES)
    assert concluded_events == [
        ReviewPassed(
            project_id="prj-1", actor="wang@data_center", review_id=review.review_id, route="expert_panel",
            opinion="同意建设",
        )
    ]  # fmt: skip
    filed, [filed_event] = domain.file_project(small(), [], EDU, RULES, NOW)
    assert (filed_event.event_type, filed_event.actor, filed.concluded_by) == (
        "review.filed",
        "li@unit:edu",
        "li@unit:edu",
    )
