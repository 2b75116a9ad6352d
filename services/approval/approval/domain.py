"""Approval rules and state machine (RULES §Technical review, Art 10, 11, 13), in plain Python.

Art 13: the DRC approves a project on the basis of the data center's technical review. This service
learns of reviews only from the review service's events, and of planned projects only from
planning's, in whatever order they arrive. The decisions taken here:

- **Lodge early, grant late.** The owner may apply as soon as the project is planned (Art 10). The
  application is ``awaiting_review`` until a *passing* review (``review.passed`` or ``review.filed``)
  of the project has been received, then ``ready``; only a ready application can be granted.
- **Every concluded review is recorded**, whether or not an application exists yet, and even before
  the project's ``project.planned`` has arrived. An application lodged after a passing review is ready
  at once; one lodged before becomes ready when the event arrives.
- **A failed review never unlocks, and never re-locks.** A ``review.failed`` leaves an awaiting
  application awaiting. A failed review received after a passing one does not take a ready application
  back to ``awaiting_review``: the passing review still stands (reviews are never withdrawn; a DRC that
  doubts the basis rejects the application). A grant relies on the latest passing review.
- **One open application per project.** The DRC may reject an open application with or without a
  review (a refusal needs no review basis); after a rejection the owner may apply again, as a new
  application, the rejected one kept. A granted project is not applied for again.
- **Approval numbers** are issued from a per-year counter in a format that is a setting, so each number
  is unique and the year's numbers are consecutive.
- **The estimate travels with the approval** (Art 12, 18): approval keeps the project's planned estimate
  from ``project.planned``, raised or lowered by planning's ``change.approved`` (v2 carries the new
  estimate; null leaves it as it was), whichever order the two events arrive in: the later event wins.
  An open application follows it; a decided one keeps the estimate it was decided on, and the grant's
  ``approval.granted`` carries it.
- **What a caller may not see does not exist** (Art 4, 25): a unit sees its own projects (and those built
  for it), a bureau every project except a classified one unless it is in ``CLASSIFIED_VISIBLE_TO``.
  Any other project is ``PROJECT_NOT_FOUND`` before any other check, in a message that names nothing.
"""

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from approval.events import ApprovalApplied, ApprovalGranted, ApprovalRejected
from nxshared.core.caller import Caller, check_project_owner, may_see, org_list_setting
from nxshared.core.errors import Conflict, NotFound, RuleViolation, ValidationError
from nxshared.core.events import Event


class ApprovalState(StrEnum):
    AWAITING_REVIEW = "awaiting_review"
    READY = "ready"
    GRANTED = "granted"
    REJECTED = "rejected"


class Action(StrEnum):
    APPLY = "apply"
    REVIEW_PASSED = "review_passed"
    GRANT = "grant"
    REJECT = "reject"


class ApprovalType(StrEnum):
    APPROVE = "approve"  # 审批
    VERIFY = "verify"  # 核准
    FILE = "file"  # 备案


class ReviewOutcome(StrEnum):
    PASSED = "passed"
    FILED = "filed"
    FAILED = "failed"


TRANSITIONS: dict[tuple[ApprovalState | None, Action], ApprovalState] = {
    (None, Action.APPLY): ApprovalState.AWAITING_REVIEW,
    (ApprovalState.REJECTED, Action.APPLY): ApprovalState.AWAITING_REVIEW,
    (ApprovalState.AWAITING_REVIEW, Action.REVIEW_PASSED): ApprovalState.READY,
    (ApprovalState.READY, Action.REVIEW_PASSED): ApprovalState.READY,
    (ApprovalState.READY, Action.GRANT): ApprovalState.GRANTED,
    (ApprovalState.AWAITING_REVIEW, Action.REJECT): ApprovalState.REJECTED,
    (ApprovalState.READY, Action.REJECT): ApprovalState.REJECTED,
}

OPEN_STATES = (ApprovalState.AWAITING_REVIEW, ApprovalState.READY)
PASSING_OUTCOMES = (ReviewOutcome.PASSED, ReviewOutcome.FILED)
OUTCOME_OF_EVENT = {f"review.{outcome}": outcome for outcome in ReviewOutcome}


@dataclass(frozen=True)
class ApprovalRules:
    """The settings behind the approval numbers (Art 13) and who sees classified projects (Art 25)."""

    approval_no_format: str
    classified_visible_to: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, approval_no_format: str, classified_visible_to: str | Iterable[str] = ()) -> "ApprovalRules":
        try:
            first, second = (approval_no_format.format(year=2000, seq=seq) for seq in (1, 2))
        except (KeyError, IndexError, ValueError, AttributeError):
            raise ValueError(f"APPROVAL_NO_FORMAT must use only {{year}} and {{seq}}: {approval_no_format!r}") from None
        if first == second:
            raise ValueError(f"APPROVAL_NO_FORMAT must contain {{seq}}: {approval_no_format!r}")
        return cls(approval_no_format, org_list_setting(classified_visible_to))


@dataclass
class Project:
    """What approval knows of a project. ``project.planned`` fills it in; a review event that arrives
    first leaves it known but not planned."""

    project_id: str
    planned: bool = False
    name: str | None = None
    unit: str | None = None
    construction_mode: str | None = None
    classified: bool = False
    plan_year: int | None = None
    plan_type: str | None = None
    estimated_investment: Decimal | None = None
    estimate_as_of: str | None = None  # ISO time of the event that told us the estimate


@dataclass
class ConcludedReview:
    """A review concluded by the data center, as its event told us."""

    review_id: str
    project_id: str
    outcome: str
    route: str
    opinion: str
    concluded_at: str  # ISO timestamp of the event


@dataclass
class Application:
    application_id: str
    project_id: str
    approval_type: str
    applied_by: str
    applied_at: dt.datetime
    status: str = ApprovalState.AWAITING_REVIEW.value
    review_id: str | None = None
    approval_no: str | None = None
    opinion: str | None = None
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    estimated_investment: Decimal | None = None  # the project's estimate, frozen once decided


@dataclass
class ApprovalCounter:
    """The last approval number issued in a year."""

    year: int
    last_seq: int = 0


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _transition(application: Application | None, action: Action) -> ApprovalState:
    current = ApprovalState(application.status) if application else None
    target = TRANSITIONS.get((current, action))
    if target is None:
        raise Conflict("APPROVAL_STATE_CONFLICT", f"立项申请当前状态为 {current or '未申请'}，不能执行 {action}")
    return target


# --- what approval learns from events ------------------------------------------------------


def project_of(evt: Event) -> str:
    """The project an event is about; approval consumes only project events."""
    if not evt.project_id:
        raise ValidationError("MALFORMED_EVENT", f"事件 {evt.event_type} 缺少 project_id")
    return evt.project_id


def learn_planned(
    project: Project, data: Mapping[str, Any], as_of: str, application: Application | None = None
) -> Project:
    """Art 10: planning's ``project.planned`` puts the project in the annual or supplementary plan,
    with its planned estimate as of ``as_of`` (the event's time)."""
    project.planned = True
    project.name = data.get("name") or ""
    project.unit = data["unit"]
    project.construction_mode = data["construction_mode"]
    project.classified = data["classified"]
    project.plan_year = data["plan_year"]
    project.plan_type = data["plan_type"]
    learn_estimate(project, application, data["estimated_investment"], as_of)
    return project


def learn_estimate(project: Project, application: Application | None, amount: str | Decimal | None, as_of: str) -> None:
    """Art 12, 18: the project's estimate as of ``as_of``. A null amount (a change that leaves the
    estimate as it was) or an event older than the one the estimate came from changes nothing; an
    open application follows the estimate, a decided one keeps the estimate it was decided on."""
    if amount is None:
        return
    if project.estimate_as_of is not None and _instant(as_of) <= _instant(project.estimate_as_of):
        return
    project.estimated_investment = Decimal(str(amount))
    project.estimate_as_of = as_of
    if application is not None and application.status in OPEN_STATES:
        application.estimated_investment = project.estimated_investment


def _instant(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso)


def concluded_review(event_type: str, project_id: str, data: Mapping[str, Any], occurred_at: str) -> ConcludedReview:
    return ConcludedReview(
        review_id=data["review_id"],
        project_id=project_id,
        outcome=OUTCOME_OF_EVENT[event_type].value,
        route=data["route"],
        opinion=data.get("opinion") or "",
        concluded_at=occurred_at,
    )


def latest_passing_review(reviews: Iterable[ConcludedReview]) -> ConcludedReview | None:
    """The passing review (passed or filed) concluded last, or None; failed reviews never count."""
    passing = [r for r in reviews if r.outcome in PASSING_OUTCOMES]
    return max(passing, key=lambda r: (_instant(r.concluded_at), r.review_id), default=None)


def take_reviews_into_account(application: Application | None, reviews: Iterable[ConcludedReview]) -> bool:
    """Art 13: an open application is ready once a passing review of its project is known, and relies
    on the latest one. A failed review changes nothing (see the module docstring). Whether the
    application changed."""
    basis = latest_passing_review(reviews)
    if application is None or basis is None or application.status not in OPEN_STATES:
        return False
    ready = _transition(application, Action.REVIEW_PASSED).value
    changed = (application.status, application.review_id) != (ready, basis.review_id)
    application.status, application.review_id = ready, basis.review_id
    return changed


# --- who may do what ------------------------------------------------------------------------


def check_in_plan(project: Project | None) -> Project:
    """Art 10: only a project in the annual or supplementary plan may apply for approval. This service
    knows that only from planning's ``project.planned`` event, which may still be on its way."""
    if project is None or not project.planned:
        raise RuleViolation(
            "NOT_IN_ANNUAL_PLAN",
            "审批服务尚未收到该项目纳入年度建设计划或增补计划的通知，不能申请立项；"
            "如计划刚刚批准，请稍后重试（第十条）",
            "Art 10",
        )
    return project


def check_owner(caller: Caller, project: Project) -> None:
    """Art 4, 11: the unit applies for its self-built project, ``data_center`` for a unified one."""
    check_project_owner(caller, project, "申请立项")


def can_see(caller: Caller, project: Project, rules: ApprovalRules) -> bool:
    """Art 4, 25: a unit sees its own projects (and those built for it); a bureau sees every project
    but a classified one, which only the bureaus of ``CLASSIFIED_VISIBLE_TO`` see."""
    return may_see(caller, project, rules.classified_visible_to)


def check_visible(caller: Caller, project: Project | None, rules: ApprovalRules) -> Project:
    """Art 4, 25: a project the caller may not see is not found, and the message says nothing of it:
    not its owner, not its name, not whether it exists."""
    if project is None or not project.planned or not can_see(caller, project, rules):
        raise NotFound("PROJECT_NOT_FOUND", "项目不存在或无权查看（第四条、第二十五条）")
    return project


def check_applied(application: Application | None) -> Application:
    if application is None:
        raise NotFound("APPROVAL_NOT_FOUND", "该项目尚未申请立项")
    return application


def check_one_open_application(latest: Application | None) -> None:
    """A project has at most one open application, and none once approved (Art 13)."""
    if latest is None or latest.status == ApprovalState.REJECTED.value:
        return
    if latest.status == ApprovalState.GRANTED.value:
        raise Conflict("ALREADY_APPROVED", f"项目已批准立项（{latest.approval_no}），不能再次申请（第十三条）")
    raise Conflict("APPLICATION_ALREADY_OPEN", f"项目已有待办的立项申请（{latest.status}），不能重复申请（第十三条）")


def check_open(application: Application | None) -> Application:
    """Only an open application can be decided, and only once."""
    if application is None:
        raise Conflict("NO_OPEN_APPLICATION", "该项目没有待审批的立项申请")
    if application.status not in OPEN_STATES:
        raise Conflict("APPROVAL_ALREADY_DECIDED", f"该立项申请已办结（{application.status}），不能再次审批")
    return application


def check_review_passed(application: Application) -> str:
    """Art 13: the DRC grants only on the basis of a passed (or filed) technical review, received as
    the review service's event; returns that review's id."""
    if application.status == ApprovalState.AWAITING_REVIEW.value or application.review_id is None:
        raise RuleViolation(
            "REVIEW_NOT_PASSED", "尚未收到该项目技术评审通过（或备案）的通知，不能批准立项（第十三条）", "Art 13"
        )
    return application.review_id


# --- decisions, and the events they cause ----------------------------------------------------


def apply(
    project: Project | None,
    latest: Application | None,
    reviews: Iterable[ConcludedReview],
    approval_type: str,
    caller: Caller,
    rules: ApprovalRules,
    now: dt.datetime,
) -> tuple[Application, ApprovalApplied]:
    """A new application, ready at once if a passing review is already known (Art 10, 11, 13).

    Art 10 comes first: a project approval has not heard of is answered alike for every caller."""
    project = check_in_plan(project)
    check_visible(caller, project, rules)
    check_owner(caller, project)
    check_one_open_application(latest)
    application = Application(
        application_id=new_id("apr"),
        project_id=project.project_id,
        approval_type=approval_type,
        applied_by=caller.actor,
        applied_at=now,
        status=_transition(latest, Action.APPLY).value,
        estimated_investment=project.estimated_investment,
    )
    take_reviews_into_account(application, reviews)
    applied = ApprovalApplied(
        project_id=project.project_id,
        actor=caller.actor,
        approval_type=application.approval_type,
        status=application.status,
    )
    return application, applied


def issue_approval_no(counter: ApprovalCounter, rules: ApprovalRules) -> str:
    """Art 13: the next number of the counter's year."""
    counter.last_seq += 1
    return rules.approval_no_format.format(year=counter.year, seq=counter.last_seq)


def grant(
    project: Project | None,
    application: Application | None,
    counter: ApprovalCounter,
    rules: ApprovalRules,
    opinion: str,
    caller: Caller,
    now: dt.datetime,
) -> tuple[Application, ApprovalGranted]:
    """Art 13: the DRC approves a ready application under the next approval number of the year."""
    check_visible(caller, project, rules)
    application = check_open(application)
    review_id = check_review_passed(application)
    application.status = _transition(application, Action.GRANT).value
    application.approval_no = approval_no = issue_approval_no(counter, rules)
    _decided(application, opinion, caller, now)
    granted = ApprovalGranted(
        project_id=application.project_id,
        actor=caller.actor,
        approval_no=approval_no,
        approval_type=application.approval_type,
        review_id=review_id,
        opinion=opinion,
        estimated_investment=application.estimated_investment,
    )
    return application, granted


def reject(
    project: Project | None,
    application: Application | None,
    rules: ApprovalRules,
    opinion: str,
    caller: Caller,
    now: dt.datetime,
) -> tuple[Application, ApprovalRejected]:
    """The DRC refuses an open application, with or without a review (see the module docstring)."""
    check_visible(caller, project, rules)
    application = check_open(application)
    application.status = _transition(application, Action.REJECT).value
    _decided(application, opinion, caller, now)
    return application, ApprovalRejected(project_id=application.project_id, actor=caller.actor, opinion=opinion)


def _decided(application: Application, opinion: str, caller: Caller, now: dt.datetime) -> None:
    application.opinion = opinion
    application.decided_by = caller.actor  # Art 27: the person as well as the org
    application.decided_at = now
