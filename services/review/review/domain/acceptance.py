"""Supervision, test reports, the pre-check and acceptance (Art 18–21, 24): the decisions, each
checked against the conditions of ``review.domain.conditions``.

The owner registers a supervisor (Art 19) and submits test reports (Art 20) once the project is
approved; it asks the data center for the pre-check (Art 21), refused with every unmet condition
at once; the data center concludes it, a pass checked again; the owner records the acceptance after
a passed pre-check, a pass checked again (Art 18: an unauthorized change reported since holds it
back). A failed pre-check or acceptance is recorded as it is and may be followed by another.
"""

import dataclasses
import datetime as dt
from typing import Any

from nxshared.core.caller import Caller
from nxshared.core.errors import RuleViolation, ValidationError
from nxshared.core.events import DomainEvent
from review.domain.access import check_in_plan, check_owner, check_visible
from review.domain.conditions import Readiness, check_conditions_met, is_major, keep_result, unmet_conditions
from review.domain.delivery import (
    Acceptance,
    Delivery,
    DeliveryAction,
    Precheck,
    Supervisor,
    TestReport,
    delivery_transition,
)
from review.domain.entities import PlannedProject, ReviewRules, new_id
from review.events import (
    AcceptanceFailed,
    AcceptancePassed,
    Prechecked,
    PrecheckRequested,
    SupervisorRegistered,
    TestReportSubmitted,
)

PRECHECK_VERDICTS = ("passed", "failed")


def check_approved(delivery: Delivery | None, action: str) -> Delivery:
    """Art 13: a project is supervised and tested once it is approved; before that nothing is built."""
    if delivery is None or not delivery.approved:
        raise RuleViolation(
            "APPROVAL_NOT_GRANTED",
            f"评审服务尚未收到该项目的立项批复，不能{action}；如刚刚批复，请稍后重试（第十三条）",
            "Art 13",
        )
    return delivery


def _owned(project: PlannedProject | None, caller: Caller, rules: ReviewRules) -> PlannedProject:
    """A planned project (Art 10) the caller sees (Art 4, 25) and acts for (Art 11)."""
    planned = check_visible(caller, check_in_plan(project), rules)
    check_owner(caller, planned)
    return planned


# --- the decisions ------------------------------------------------------------------------------------


def readiness(
    project: PlannedProject | None,
    delivery: Delivery | None,
    outcomes: list[tuple[str, str]],
    caller: Caller,
    rules: ReviewRules,
) -> Readiness:
    """What the project still lacks for its acceptance: the list the pre-check refuses with. Seen by
    whoever may see the project (Art 4, 25)."""
    seen = check_visible(caller, project, rules)
    facts = delivery or Delivery(project_id=seen.project_id)
    return Readiness(seen.project_id, unmet_conditions(seen, facts, is_major(outcomes)))


def register_supervisor(
    project: PlannedProject | None,
    delivery: Delivery | None,
    supervisor: dict[str, Any],
    caller: Caller,
    rules: ReviewRules,
    now: dt.datetime,
) -> tuple[Supervisor, list[DomainEvent]]:
    """Art 19: the owner registers its project's supervisor once the project is approved; a later
    registration replaces it."""
    planned = _owned(project, caller, rules)
    approved = check_approved(delivery, "登记监理")
    delivery_transition(approved, DeliveryAction.REGISTER_SUPERVISOR)
    registered = Supervisor(project_id=planned.project_id, **supervisor, registered_by=caller.actor, registered_at=now)
    if approved.supervisor is None:
        approved.supervisor = registered
    else:  # the same record, replaced field by field (one supervisor per project)
        for kept in dataclasses.fields(Supervisor):
            setattr(approved.supervisor, kept.name, getattr(registered, kept.name))
    return approved.supervisor, [SupervisorRegistered(project_id=planned.project_id, actor=caller.actor, **supervisor)]


def submit_test_report(
    project: PlannedProject | None,
    delivery: Delivery | None,
    report: dict[str, Any],
    caller: Caller,
    rules: ReviewRules,
    now: dt.datetime,
) -> tuple[TestReport, list[DomainEvent]]:
    """Art 20: the owner submits a test report of one kind, passed or not, once the project is
    approved; it is the one of its kind that counts from now on."""
    planned = _owned(project, caller, rules)
    approved = check_approved(delivery, "提交检测报告")
    delivery_transition(approved, DeliveryAction.SUBMIT_TEST_REPORT)
    submitted = TestReport(
        report_id=new_id("tr"), project_id=planned.project_id, **report, submitted_by=caller.actor, submitted_at=now
    )
    keep_result(approved, submitted)
    event = TestReportSubmitted(
        project_id=planned.project_id, actor=caller.actor, report_id=submitted.report_id, **report
    )
    return submitted, [event]


def request_precheck(
    project: PlannedProject | None,
    delivery: Delivery | None,
    outcomes: list[tuple[str, str]],
    caller: Caller,
    rules: ReviewRules,
    now: dt.datetime,
) -> tuple[Precheck, list[DomainEvent]]:
    """Art 21: the owner reports the finished project to the data center, refused with every
    condition still unmet (Art 18–20, 24)."""
    planned = _owned(project, caller, rules)
    facts = delivery or Delivery(project_id=planned.project_id)
    target = delivery_transition(facts, DeliveryAction.REQUEST_PRECHECK)
    check_conditions_met(unmet_conditions(planned, facts, is_major(outcomes)))
    precheck = Precheck(
        precheck_id=new_id("pck"), project_id=planned.project_id, requested_by=caller.actor, requested_at=now
    )
    facts.precheck_id = precheck.precheck_id
    facts.stage = target.value
    requested = PrecheckRequested(project_id=planned.project_id, actor=caller.actor, precheck_id=precheck.precheck_id)
    return precheck, [requested]


def conclude_precheck(
    project: PlannedProject | None,
    delivery: Delivery | None,
    precheck: Precheck | None,
    outcomes: list[tuple[str, str]],
    verdict: str,
    opinion: str,
    caller: Caller,
    rules: ReviewRules,
    now: dt.datetime,
) -> tuple[Precheck, list[DomainEvent]]:
    """Art 21: the data center concludes the pre-check it was asked for (``precheck``, the latest).
    A pass is checked against every condition again (one may have become unmet since the request);
    a failure may always be recorded."""
    planned = check_visible(caller, check_in_plan(project), rules)
    facts = delivery or Delivery(project_id=planned.project_id)
    passed = verdict == "passed"
    target = delivery_transition(facts, DeliveryAction.PRECHECK_PASSED if passed else DeliveryAction.PRECHECK_FAILED)
    if passed:
        check_conditions_met(unmet_conditions(planned, facts, is_major(outcomes)))
    latest = _latest(precheck, facts)
    latest.verdict, latest.opinion, latest.concluded_by, latest.concluded_at = verdict, opinion, caller.actor, now
    facts.stage = target.value
    event = Prechecked(
        project_id=planned.project_id,
        actor=caller.actor,
        precheck_id=latest.precheck_id,
        verdict=verdict,
        passed=passed,
        opinion=opinion,
    )
    return latest, [event]


def _latest(precheck: Precheck | None, delivery: Delivery) -> Precheck:
    """The delivery's latest pre-check: a stage past the request always has one."""
    if precheck is None or precheck.precheck_id != delivery.precheck_id:
        raise ValueError(f"pre-check {delivery.precheck_id} of {delivery.project_id} is not the one given")
    return precheck


def check_acceptance_date(day: dt.date, today: dt.date) -> None:
    """An acceptance is recorded for a day that has come (the schema keeps it within 2000–2100)."""
    if day > today:
        raise ValidationError(
            "INVALID_INPUT", f"输入不合法：acceptance.date: 验收日期不能晚于今天（{today.isoformat()}）"
        )


def record_acceptance(
    project: PlannedProject | None,
    delivery: Delivery | None,
    precheck: Precheck | None,
    outcomes: list[tuple[str, str]],
    acceptance: dict[str, Any],
    caller: Caller,
    rules: ReviewRules,
    today: dt.date,
    now: dt.datetime,
) -> tuple[Acceptance, list[DomainEvent]]:
    """Art 21: the owner records its acceptance, only after a passed pre-check (the latest one,
    ``precheck``). A pass lets the system go live, so it is checked against every condition again
    (Art 18: an unauthorized change reported since the pre-check holds it back); a failure is
    recorded as it is and may be followed by another acceptance."""
    planned = _owned(project, caller, rules)
    facts = delivery or Delivery(project_id=planned.project_id)
    passed = bool(acceptance["passed"])
    target = delivery_transition(
        facts, DeliveryAction.ACCEPTANCE_PASSED if passed else DeliveryAction.ACCEPTANCE_FAILED
    )
    latest = _latest(precheck, facts)
    check_acceptance_date(acceptance["date"], today)
    if passed:
        check_conditions_met(unmet_conditions(planned, facts, is_major(outcomes)))
    recorded = Acceptance(
        acceptance_id=new_id("acc"),
        project_id=planned.project_id,
        precheck_id=latest.precheck_id,
        date=acceptance["date"],
        passed=passed,
        minutes=acceptance["minutes"],
        recorded_by=caller.actor,
        recorded_at=now,
    )
    facts.stage = target.value
    outcome = AcceptancePassed if passed else AcceptanceFailed
    event = outcome(
        project_id=planned.project_id,
        actor=caller.actor,
        acceptance_id=recorded.acceptance_id,
        precheck_id=latest.precheck_id,
        date=recorded.date,
        minutes=recorded.minutes,
    )
    return recorded, [event]
