"""Supervision, test reports, the pre-check and acceptance (Art 18–21, 24).

Acceptance is the gate to operation (Art 21). Before it the unit reports the finished project to
the data center, whose pre-check refuses it with **every** condition still unmet, not the first one
(RULES §Testing and acceptance). The conditions, each with a stable code, in this order:

- ``approval`` — the DRC granted the project's approval (Art 13);
- ``contract`` — its contract is registered with finance (Art 15–17);
- ``supervisor`` — a qualified supervisor is registered (Art 19);
- ``product`` — a project without custom software: a product test report or manual (Art 20);
- ``third_party_software`` — custom software: a third party's test report (Art 20);
- ``source_code``, ``database``, ``network_security`` — a major project, **Decision:** one whose
  review passed by an expert panel: third-party reports on each (Art 20);
- ``mlps_filing`` — a project hosted on the Big Data Center: its MLPS grade filed (Art 24);
- ``unauthorized_change`` — no change carried out without approval left unresolved (Art 18).

A test report counts when the latest of its kind passed (**Decision:** a failed one counts as
missing until a passing one of that kind arrives; a later failed re-test makes it missing again).
The same list is what ``readiness`` shows, what a pre-check request and a passed conclusion are
refused with, and what a passed acceptance is checked against again: a condition that became unmet
after the pre-check (an unauthorized change reported since, a re-graded system) holds it back.
"""

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nxshared.core.caller import Caller
from nxshared.core.errors import RuleViolation, ValidationError
from nxshared.core.events import DomainEvent
from review.domain.access import check_in_plan, check_owner, check_visible
from review.domain.delivery import (
    MLPS_FILED,
    Acceptance,
    Delivery,
    DeliveryAction,
    Precheck,
    ReportKind,
    Supervisor,
    TestReport,
    delivery_transition,
)
from review.domain.entities import PlannedProject, ReviewRoute, ReviewRules, ReviewStatus, new_id
from review.events import (
    AcceptanceFailed,
    AcceptancePassed,
    Prechecked,
    PrecheckRequested,
    SupervisorRegistered,
    TestReportSubmitted,
)

PRECHECK_VERDICTS = ("passed", "failed")
MAJOR_REPORTS = (ReportKind.SOURCE_CODE, ReportKind.DATABASE, ReportKind.NETWORK_SECURITY)
REPORT_NAMES = {
    ReportKind.PRODUCT: "硬件及成熟软件产品的测评报告或说明书",
    ReportKind.THIRD_PARTY_SOFTWARE: "定制开发软件的第三方检测报告",
    ReportKind.SOURCE_CODE: "源代码的第三方检测报告",
    ReportKind.DATABASE: "数据库系统的第三方检测报告",
    ReportKind.NETWORK_SECURITY: "网络和信息安全保密的第三方检测报告",
}


@dataclass(frozen=True)
class Unmet:
    """One condition of acceptance not met yet: its stable code and what is missing, in Chinese."""

    code: str
    message: str


@dataclass(frozen=True)
class Readiness:
    project_id: str
    unmet: list[Unmet]

    @property
    def ready(self) -> bool:
        return not self.unmet


def is_major(outcomes: Iterable[tuple[str, str]]) -> bool:
    """Art 20 Decision: a major project is one whose review passed by an expert panel (Art 12);
    ``outcomes`` are the ``(route, status)`` of the project's reviews."""
    return (ReviewRoute.EXPERT_PANEL.value, ReviewStatus.PASSED.value) in set(outcomes)


def passing_kinds(report_results: Mapping[str, bool]) -> set[str]:
    """Art 20 Decision: the kinds whose latest report passed."""
    return {kind for kind, passed in report_results.items() if passed}


def keep_result(delivery: Delivery, report: TestReport) -> None:
    """Art 20 Decision: the latest report of a kind is the one that counts, passed or not."""
    delivery.report_results = {**delivery.report_results, report.kind: report.passed}


def unmet_conditions(project: PlannedProject, delivery: Delivery, major: bool) -> list[Unmet]:
    """Every condition of acceptance the project does not meet yet, in the order of the codes
    (Art 13, 15–21, 24); empty when it may be pre-checked and accepted."""
    unmet = []
    if not delivery.approved:
        unmet.append(Unmet("approval", "项目尚未取得立项批复（第十三条）"))
    if delivery.contract_no is None:
        unmet.append(Unmet("contract", "项目尚未登记建设合同（第十五条至第十七条）"))
    if delivery.supervisor is None:
        unmet.append(
            Unmet(
                "supervisor",
                "项目尚未登记具备信息系统工程监理资质的监理单位及持有执业资格证书的监理项目负责人（第十九条）",
            )
        )
    unmet += _missing_reports(project, delivery, major)
    if project.hosted_on_big_data_center and delivery.mlps_status != MLPS_FILED:
        unmet.append(Unmet("mlps_filing", "依托县大数据中心建设的项目尚未完成等级保护定级备案（第二十四条）"))
    open_reports = delivery.open_unauthorized_changes()
    if open_reports:
        unmet.append(
            Unmet(
                "unauthorized_change",
                f"项目存在擅自变更（{'、'.join(open_reports)}），处理完毕前不予验收（第十八条）",
            )
        )
    return unmet


def _missing_reports(project: PlannedProject, delivery: Delivery, major: bool) -> list[Unmet]:
    """Art 20: the reports the project needs whose latest one did not pass, or that are missing."""
    needed = [ReportKind.THIRD_PARTY_SOFTWARE if project.custom_software else ReportKind.PRODUCT]
    if major:
        needed += MAJOR_REPORTS
    passing = passing_kinds(delivery.report_results)
    qualifier = "重大项目" if major else "项目"
    return [
        Unmet(kind.value, f"{qualifier}尚缺合格的{REPORT_NAMES[kind]}（第二十条）")
        for kind in needed
        if kind.value not in passing
    ]


def check_conditions_met(unmet: list[Unmet]) -> None:
    """Art 18–21, 24: refused with every unmet condition at once, each with its code."""
    if unmet:
        listed = "；".join(f"[{u.code}] {u.message}" for u in unmet)
        raise RuleViolation(
            "ACCEPTANCE_CONDITIONS_UNMET",
            f"验收条件尚有 {len(unmet)} 项未满足：{listed}",
            "Art 18, Art 19, Art 20, Art 21, Art 24",
        )


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
