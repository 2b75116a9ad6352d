"""Approval's use cases with an in-memory unit of work: what each one stores and emits, that a refused
call leaves everything as it was, and that a redelivered event is applied once."""

import datetime as dt
from decimal import Decimal

import pytest

from approval import usecases
from approval.domain import ApprovalRules
from nxshared.catalog import REGISTRY
from nxshared.core.caller import Caller
from nxshared.core.errors import Conflict, NotFound, RuleViolation
from nxshared.core.uow import FakeUnitOfWork
from nxshared.testing import make_event, planned_event

from .fakes import FakeRepository

PROJECT = "prj-0123456789ab"
NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
RULES = ApprovalRules.from_settings("南发改审〔{year}〕{seq:03d}号", "smart_office,county_gov,data_center,drc")
OWNER = Caller("li", "unit:edu")
DRC = Caller("wang", "drc")


@pytest.fixture
def uow():
    return FakeUnitOfWork(FakeRepository())


def run(uow, use_case, *args, **kwargs):
    with uow.transaction():
        return use_case(uow, *args, **kwargs)


def planned(uow, **data):
    run(uow, usecases.on_project_planned, REGISTRY.decode(planned_event(PROJECT, **data)))


def concluded(uow, outcome="passed", review_id="rev-1"):
    payload = make_event(f"review.{outcome}", PROJECT, {"review_id": review_id, "route": "expert_panel"})
    evt = REGISTRY.decode(payload)
    run(uow, usecases.on_review_concluded, evt)
    return evt


def changed(uow, estimate):
    data = {"change_id": "chg-1", "opinion": "同意变更", "estimated_investment": estimate}
    evt = REGISTRY.decode(make_event("change.approved", PROJECT, data))
    run(uow, usecases.on_change_approved, evt)
    return evt


def apply(uow, caller=OWNER):
    return run(uow, usecases.apply, PROJECT, "approve", caller=caller, rules=RULES, now=NOW)


def grant(uow):
    return run(uow, usecases.grant, PROJECT, "同意立项", caller=DRC, rules=RULES, year=2027, now=NOW)


def reject(uow):
    return run(uow, usecases.reject, PROJECT, "不予立项", caller=DRC, rules=RULES, now=NOW)


def state(uow):
    """Everything the unit of work holds, to compare before and after a refused call."""
    repo = uow.repo
    return repr((repo.projects, repo.concluded, repo.applications, repo.counters, uow.emitted, sorted(uow.inbox)))


def test_apply_stores_the_application_and_emits_applied(uow):
    planned(uow)
    application = apply(uow)
    assert uow.repo.applications == [application]
    assert application.status == "awaiting_review"
    (applied,) = uow.emitted
    assert (applied.event_type, applied.project_id, applied.actor) == ("approval.applied", PROJECT, "li@unit:edu")
    assert (applied.approval_type, applied.status) == ("approve", "awaiting_review")


def test_review_passed_then_grant_emits_granted_with_the_number(uow):
    planned(uow)
    apply(uow)
    concluded(uow, "passed")
    granted = grant(uow)
    assert (granted.status, granted.approval_no, granted.review_id) == ("granted", "南发改审〔2027〕001号", "rev-1")
    assert uow.types() == ["approval.applied", "approval.granted"]
    event = uow.emitted[-1]
    assert (event.approval_no, event.review_id, event.opinion, event.actor) == (
        "南发改审〔2027〕001号",
        "rev-1",
        "同意立项",
        "wang@drc",
    )
    assert uow.repo.counters[2027].last_seq == 1


def test_reject_emits_rejected(uow):
    planned(uow)
    apply(uow)
    assert reject(uow).status == "rejected"
    assert uow.types() == ["approval.applied", "approval.rejected"]
    assert uow.emitted[-1].opinion == "不予立项"


def test_get_returns_the_latest_application(uow):
    planned(uow)
    apply(uow)
    reject(uow)
    again = apply(uow)
    assert run(uow, usecases.get, PROJECT, caller=DRC, rules=RULES) is again
    with pytest.raises(NotFound, match="PROJECT_NOT_FOUND"):
        run(uow, usecases.get, "prj-unknown", caller=DRC, rules=RULES)


def test_a_project_the_caller_may_not_see_is_not_found_by_any_use_case(uow):
    """Art 4, 25: another unit, and a bureau outside CLASSIFIED_VISIBLE_TO for a classified project."""
    planned(uow, classified=True)
    apply(uow)
    concluded(uow, "passed")
    before = state(uow)
    for caller in (Caller("zhao", "unit:health"), Caller("qian", "finance")):
        with pytest.raises(NotFound, match="PROJECT_NOT_FOUND"):
            run(uow, usecases.get, PROJECT, caller=caller, rules=RULES)
    with pytest.raises(NotFound, match="PROJECT_NOT_FOUND"):
        apply(uow, caller=Caller("zhao", "unit:health"))
    hidden = ApprovalRules.from_settings(RULES.approval_no_format, "smart_office")
    with pytest.raises(NotFound, match="PROJECT_NOT_FOUND"):
        run(uow, usecases.grant, PROJECT, "同意", caller=DRC, rules=hidden, year=2027, now=NOW)
    with pytest.raises(NotFound, match="PROJECT_NOT_FOUND"):
        run(uow, usecases.reject, PROJECT, "不同意", caller=DRC, rules=hidden, now=NOW)
    assert state(uow) == before


def test_the_planned_estimate_follows_approved_changes_into_the_grant(uow):
    """Art 12, 18: planned at 2,500,000.00, raised to 9,000,000.00 by an approved change; a change
    that leaves the estimate (null) changes nothing; the grant carries the estimate (v2)."""
    planned(uow)
    assert apply(uow).estimated_investment == Decimal("2500000.00")
    changed(uow, "9000000.00")
    changed(uow, None)
    concluded(uow, "passed")
    granted = grant(uow)
    assert granted.estimated_investment == Decimal("9000000.00")
    assert (uow.emitted[-1].version, uow.emitted[-1].estimated_investment) == (2, Decimal("9000000.00"))


@pytest.mark.parametrize(
    ("prepare", "refused", "error"),
    [
        (lambda uow: None, apply, RuleViolation),  # not planned: the unknown project is not left behind
        (planned, grant, Conflict),  # no application; no counter is created
        (lambda uow: (planned(uow), apply(uow)), grant, RuleViolation),  # no passing review
        (lambda uow: (planned(uow), apply(uow)), apply, Conflict),  # one open application
        (lambda uow: (planned(uow), apply(uow), reject(uow)), reject, Conflict),  # decided
        (planned, lambda uow: apply(uow, caller=Caller("zhao", "unit:health")), NotFound),  # not visible
    ],
    ids=["unplanned", "no-application", "review-not-passed", "already-open", "already-decided", "not-visible"],
)
def test_a_refused_call_leaves_repository_and_events_unchanged(uow, prepare, refused, error):
    prepare(uow)
    before = state(uow)
    with pytest.raises(error):
        refused(uow)
    assert state(uow) == before


def test_a_redelivered_event_is_applied_once(uow):
    first = planned_event(PROJECT, name="第一版名称")
    run(uow, usecases.on_project_planned, REGISTRY.decode(first))
    planned(uow, name="第二版名称")
    run(uow, usecases.on_project_planned, REGISTRY.decode(first))
    assert uow.repo.projects[PROJECT].name == "第二版名称"
    assert len(uow.inbox) == 2


def test_a_redelivered_change_is_applied_once(uow):
    planned(uow)
    raised = changed(uow, "9000000.00")
    run(uow, usecases.on_change_approved, raised)
    assert uow.repo.projects[PROJECT].estimated_investment == Decimal("9000000.00")
    assert len(uow.inbox) == 2


def test_an_approved_change_received_before_the_plan_is_not_undone_by_it(uow):
    """Events come through separate queues: the later event's estimate stands, whatever the order."""
    early_plan = REGISTRY.decode(planned_event(PROJECT))
    changed(uow, "9000000.00")
    run(uow, usecases.on_project_planned, early_plan)
    assert uow.repo.projects[PROJECT].planned
    assert apply(uow).estimated_investment == Decimal("9000000.00")


def test_a_redelivered_review_is_recorded_once(uow):
    planned(uow)
    evt = concluded(uow, "passed")
    run(uow, usecases.on_review_concluded, evt)
    assert list(uow.repo.concluded) == ["rev-1"]
    assert uow.emitted == []


def test_a_passing_review_readies_an_open_application(uow):
    planned(uow)
    apply(uow)
    concluded(uow, "failed", "rev-0")
    assert uow.repo.applications[-1].status == "awaiting_review"
    concluded(uow, "filed")
    assert (uow.repo.applications[-1].status, uow.repo.applications[-1].review_id) == ("ready", "rev-1")
