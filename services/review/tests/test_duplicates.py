"""Duplicate projects (Art 12): the terms, the index, the matches and their acknowledgement, and the
finder's quality on a generated corpus with planted near-duplicates (quality, not time: the time
is bench/duplicates.py's)."""

import datetime as dt
from decimal import Decimal

import pytest

from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, RuleViolation
from review import domain
from review.domain import CorpusStatus, KnownProject, Review, ReviewRules, SimilarityIndex, terms
from review.events import DuplicatesAcknowledged

from .corpus import generate, quality

VISIBLE = "smart_office,county_gov,data_center,drc,finance,audit"
RULES = ReviewRules.from_settings("2000000.00", "300000.00", 3, "city,provincial,national", VISIBLE)
NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
CENTER = Caller(sub="wang", org="data_center")
EDU = Caller(sub="li", org="unit:edu")

SCHOOL = ("城关镇智慧校园管理平台", "建设全县中小学统一身份认证、电子班牌和家校互通系统，对接省教育平台。")
SCHOOL_AGAIN = (
    "城关镇智慧校园综合平台（二期）",
    "搭建全县中小学电子班牌、统一身份认证与家校互通功能，对接省教育平台。",
)
PARKING = ("县城智慧停车收费系统", "建设城区路内泊位检测、无感支付和停车诱导屏。")


def known(project_id, text, unit="unit:edu", classified=False, status=CorpusStatus.DECLARED):
    return KnownProject(project_id, text[0], text[1], unit, classified, status)


def index_of(*projects):
    index = SimilarityIndex()
    for project in projects:
        index.put(project)
    return index


def review_with(*scores, acknowledged=False):
    review = Review(
        review_id="rev-1", project_id="prj-new", route="expert_panel", status="under_review",
        budget=Decimal("2500000.00"), title="方案", document_ref="doc", submitted_by="li@unit:edu", submitted_at=NOW,
    )  # fmt: skip
    review.duplicates = [
        {"project_id": f"prj-{n}", "name": f"项目{n}", "unit": "unit:health", "status": "planned",
         "classified": False, "score": score}
        for n, score in enumerate(scores)
    ]  # fmt: skip
    if acknowledged:
        review.duplicates_acknowledged_at = NOW
    return review


def test_terms_are_character_bigrams_of_chinese_and_whole_latin_runs():
    assert terms("智慧校园", "") == {"智慧": 1, "慧校": 1, "校园": 1}
    assert terms("５Ｇ基站", "GIS") == {"5g": 1, "基站": 1, "gis": 1}  # NFKC: full-width is the same term
    assert terms("园", "，。") == {"园": 1}


def test_a_reworded_declaration_of_the_same_project_is_found_above_an_unrelated_one():
    index = index_of(known("prj-school", SCHOOL), known("prj-parking", PARKING, unit="unit:transport"))
    found = domain.find_duplicates(index, "prj-new", SCHOOL_AGAIN[0], SCHOOL_AGAIN[1], "", RULES)
    assert [m.project_id for m in found] == ["prj-school"]
    assert found[0].score > Decimal("0.5") and found[0].score == found[0].score.quantize(Decimal("0.001"))


def test_a_project_is_not_its_own_duplicate_and_a_project_left_out_of_the_plan_is_no_longer_matched():
    index = index_of(known("prj-school", SCHOOL))
    assert domain.find_duplicates(index, "prj-school", *SCHOOL, "", RULES) == []
    index.put(known("prj-school", SCHOOL, status=CorpusStatus.NOT_PLANNED))
    assert (len(index), index.df, index.postings) == (0, {}, {})


def test_what_review_knows_of_a_project_merges_its_events_in_any_order():
    planned = domain.merge_known(None, "p", "校园平台", None, "unit:edu", False, CorpusStatus.PLANNED)
    declared = domain.merge_known(planned, "p", "校园平台", "概述", "unit:edu", False, CorpusStatus.DECLARED)
    assert (declared.summary, declared.status) == ("概述", CorpusStatus.PLANNED)  # planned is not undone
    out = domain.merge_known(declared, "p", "校园平台", None, "unit:edu", False, CorpusStatus.NOT_PLANNED)
    again = domain.merge_known(out, "p", "校园平台", None, "unit:edu", False, CorpusStatus.PLANNED)
    assert (again.summary, again.status) == ("概述", CorpusStatus.NOT_PLANNED)


def test_a_strong_match_stops_the_review_passing_until_the_data_center_acknowledges_it():
    review = review_with("0.950", "0.400")
    with pytest.raises(RuleViolation) as err:
        domain.check_duplicates_acknowledged(review, RULES)
    assert err.value.code == "DUPLICATES_NOT_ACKNOWLEDGED" and "第十二条" in str(err.value)
    (event,) = domain.acknowledge(review, RULES, "功能不同，不属于重复建设", CENTER, NOW)
    assert event == DuplicatesAcknowledged(
        project_id="prj-new", actor="wang@data_center", review_id="rev-1", project_ids=["prj-0"],
        comment="功能不同，不属于重复建设",
    )  # fmt: skip
    assert (review.duplicates_acknowledged_by, review.duplicates_acknowledged_at) == ("wang@data_center", NOW)
    domain.check_duplicates_acknowledged(review, RULES)
    with pytest.raises(Conflict, match="DUPLICATES_ALREADY_ACKNOWLEDGED"):
        domain.acknowledge(review, RULES, "再次确认", CENTER, NOW)


def test_weak_matches_need_no_acknowledgement_and_cannot_be_acknowledged():
    review = review_with("0.600", "0.310")  # at the setting is not above it
    domain.check_duplicates_acknowledged(review, RULES)
    with pytest.raises(Conflict, match="NO_DUPLICATES_TO_ACKNOWLEDGE"):
        domain.acknowledge(review, RULES, "确认", CENTER, NOW)


def test_a_concluded_review_is_not_acknowledged():
    review = review_with("0.950")
    review.status = "failed"
    with pytest.raises(Conflict, match="REVIEW_NOT_OPEN"):
        domain.acknowledge(review, RULES, "确认", CENTER, NOW)


def test_concluding_as_passed_checks_the_acknowledgement_and_failing_does_not():
    review = review_with("0.950")
    review.route = "center_opinion"
    with pytest.raises(RuleViolation, match="DUPLICATES_NOT_ACKNOWLEDGED"):
        domain.conclude(review, "passed", "通过", CENTER, NOW, RULES)
    domain.conclude(review, "failed", "重复建设", CENTER, NOW, RULES)
    assert review.status == "failed"


def test_a_classified_match_is_listed_only_to_those_who_may_see_it():
    review = review_with("0.900", "0.800")
    review.duplicates[0].update(classified=True, unit="unit:police")
    assert [m["project_id"] for m in domain.as_seen_by(review, CENTER, RULES).duplicates] == ["prj-0", "prj-1"]
    police = domain.as_seen_by(review, Caller(sub="x", org="unit:police"), RULES)
    assert [m["project_id"] for m in police.duplicates] == ["prj-0"]  # its own, not another unit's
    assert [m["project_id"] for m in domain.as_seen_by(review, EDU, RULES).duplicates] == []  # others' projects
    seen = domain.as_seen_by(review, Caller(sub="x", org="drc"), ReviewRules.from_settings(
        "2000000.00", "300000.00", 3, "city", "data_center"))  # fmt: skip
    assert [m["project_id"] for m in seen.duplicates] == ["prj-1"]
    assert seen.review_id == review.review_id


@pytest.mark.parametrize(
    "listed, strong, most",
    [("0.7", "0.6", 10), ("0", "0.6", 10), ("0.3", "1.5", 10), ("x", "0.6", 10), ("0.3", "0.6", 0)],
)
def test_bad_duplicate_settings_stop_the_service_at_start(listed, strong, most):
    with pytest.raises(ValueError):
        ReviewRules.from_settings("2000000.00", "300000.00", 3, "city", VISIBLE, listed, strong, most)


def test_precision_and_recall_on_planted_near_duplicates():
    """2,000 generated projects, 100 of them reworded re-declarations of another; every planted one
    and 300 without a duplicate are looked up; a match above the configured DUPLICATE_ACK_SCORE is
    flagged. The bounds are this corpus's measured figures less a margin (bench: 10,000)."""
    corpus = generate(2000, 100)
    index = index_of(*(known(p.project_id, (p.name, p.summary), p.unit) for p in corpus.projects))

    def lookup(project):
        found = domain.find_duplicates(index, project.project_id, project.name, project.summary, "", RULES)
        return [(m.project_id, float(m.score)) for m in found]

    measured = quality(corpus, lookup, float(RULES.duplicate_ack_score), negatives=300)
    assert measured.recall >= 0.9, measured
    assert measured.precision >= 0.8, measured
