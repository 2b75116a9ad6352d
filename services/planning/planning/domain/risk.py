"""Each project's risk rating (issue 24): the facts of its timeline weighed into a rating from 1
(low) to 5 (high), with the reasons that raised it; the smart office may override it.

Factors, each a reason ``{code, text, evidence}`` worth some points when it applies:

- ``COST_OVERRUN``: finance has disbursed more than the budget it approved (``budget.approved``,
  ``funds.disbursed``): 1 point, 2 when over by more than ``cost_tolerance`` (a share, 0.10);
- ``SCHEDULE_LATE``: a milestone of the plan is overdue by the clock: a contract registered by the
  end of the plan year, the acceptance passed by the end of the last year of its annual
  investments (the plan year when it names none). 2 points; a project not planned has no schedule;
- ``UNAUTHORIZED_CHANGE``: unauthorized changes reported and not yet resolved (Art 18): 2 points;
- ``FAILED_CHECKS``: failed test reports, acceptance pre-checks, acceptances and security
  inspections: 1 point, 2 from ``failures_high`` (3) of them;
- ``OPEN_INCIDENTS``: security incidents reported and not resolved: 1 point, 2 when one of them is
  of a ``severe`` severity (critical, high).

The rating is 1 plus the points of every reason, at most 5: a project with no reason is 1, one
with an overdue schedule and an open incident 4. The only factor the clock changes is the schedule,
and only once, on the day after the earliest unmet milestone's year ends (``late_from``): a
``Basis`` keeps the reasons without it and the schedule's reason beside, so the rating of any day
is read from it without reading the timeline again (``Basis.assess``).
"""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from nxshared.core.caller import Caller
from planning.domain import Decided
from planning.domain.timeline import stage_of
from planning.events import RiskOverridden

LOWEST, HIGHEST = 1, 5

# a stage's place on the way to acceptance: a refusal stays where the step it failed began
PROGRESS = {
    "declared": 0,
    "planned": 1,
    "under_review": 2,
    "review_failed": 2,
    "reviewed": 3,
    "approval_rejected": 3,
    "approved": 4,
    "budget_rejected": 4,
    "budgeted": 5,
    "contracted": 6,
    "prechecked": 7,
    "acceptance_failed": 7,
    "accepted": 8,
    "audited": 9,
}
NO_SCHEDULE = ("not_planned",)

# the events that change a rating: a project is rated again when one is on its timeline. The
# stages before a contract are one step as far as the schedule goes (``_schedule``), so the events
# of review, approval and a refused budget change nothing and are recorded without a rating.
RISK_EVENTS = frozenset(
    {
        "project.not_planned",
        "budget.approved",
        "contract.registered",
        "funds.disbursed",
        "test_report.submitted",
        "acceptance.prechecked",
        "acceptance.passed",
        "acceptance.failed",
        "audit.closed",
        "inspection.recorded",
        "incident.reported",
        "incident.resolved",
        "change.unauthorized_reported",
        "change.unauthorized_resolved",
    }
)


@dataclass(frozen=True)
class RiskRules:
    """The thresholds (settings ``RISK_COST_TOLERANCE``, ``RISK_FAILURES_HIGH``,
    ``RISK_SEVERE_INCIDENTS``)."""

    cost_tolerance: Decimal = Decimal("0.10")
    failures_high: int = 3
    severe: tuple[str, ...] = ("critical", "high")

    @classmethod
    def from_settings(cls, config: Mapping[str, Any]) -> "RiskRules":
        defaults = cls()
        tolerance = Decimal(str(config.get("RISK_COST_TOLERANCE", defaults.cost_tolerance)))
        failures = int(config.get("RISK_FAILURES_HIGH", defaults.failures_high))
        severe = config.get("RISK_SEVERE_INCIDENTS", ",".join(defaults.severe))
        if tolerance < 0 or failures < 1:
            raise ValueError("RISK_COST_TOLERANCE must be ≥ 0 and RISK_FAILURES_HIGH ≥ 1")
        names = severe.split(",") if isinstance(severe, str) else severe
        return cls(tolerance, failures, tuple(s.strip() for s in names if s.strip()))


@dataclass(frozen=True)
class Plan:
    """What a rating reads of the project itself."""

    plan_year: int
    annual_investments: Sequence[Mapping[str, Any]]
    status: str


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    evidence: dict[str, Any]
    points: int

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text, "evidence": self.evidence}

    def as_row(self) -> dict[str, Any]:
        """As it is kept (``risk_ratings``): with its points."""
        return {**self.as_dict(), "points": self.points}


@dataclass(frozen=True)
class Assessment:
    rating: int
    reasons: list[Reason]


@dataclass(frozen=True)
class Basis:
    """A project's reasons but the schedule's, and the schedule's reason from ``late_from`` on."""

    reasons: list[Reason]
    late: Reason | None = None
    late_from: dt.date | None = None

    @classmethod
    def from_row(
        cls, reasons: Sequence[Mapping[str, Any]], late: Mapping[str, Any] | None, late_from: str | None
    ) -> "Basis":
        return cls(
            [Reason(**r) for r in reasons],
            None if late is None else Reason(**late),
            None if late_from is None else dt.date.fromisoformat(late_from),
        )

    def as_row(self) -> dict[str, Any]:
        """The columns of ``risk_ratings``: the ratings before and from ``late_from`` kept beside
        the reasons, so that counting the projects by rating is one query."""
        return {
            "reasons": [r.as_row() for r in self.reasons],
            "late": None if self.late is None else self.late.as_row(),
            "late_from": None if self.late_from is None else self.late_from.isoformat(),
            "rating_on_time": roll_up(self.reasons),
            "rating_late": roll_up([*self.reasons, *([self.late] if self.late else [])]),
        }

    def assess(self, today: dt.date) -> Assessment:
        overdue = self.late if self.late_from is not None and today >= self.late_from else None
        reasons = [*self.reasons, *([overdue] if overdue else [])]
        return Assessment(roll_up(reasons), reasons)


@dataclass(frozen=True)
class Override:
    """The smart office's rating, with why, who and when (the latest of a project's wins)."""

    project_id: str
    rating: int
    comment: str
    by: str
    at: dt.datetime
    seq: int | None = field(default=None, compare=False)


def roll_up(reasons: Iterable[Reason]) -> int:
    return min(HIGHEST, LOWEST + sum(r.points for r in reasons))


def basis(plan: Plan, entries: Sequence[Any], rules: RiskRules) -> Basis:
    """The project's ``Basis`` from its plan and its whole timeline (``entries``, in order)."""
    found = [
        _cost(entries, rules),
        _unauthorized(entries),
        _failed_checks(entries, rules),
        _open_incidents(entries, rules),
    ]
    late, late_from = _schedule(plan, stage_of(entries) or plan.status)
    return Basis([r for r in found if r is not None], late, late_from)


def _latest(entries: Sequence[Any], event_type: str) -> Mapping[str, Any] | None:
    found = [e.data or {} for e in entries if e.event_type == event_type]
    return found[-1] if found else None


def _money(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def _cost(entries: Sequence[Any], rules: RiskRules) -> Reason | None:
    budget, disbursed = _latest(entries, "budget.approved"), _latest(entries, "funds.disbursed")
    approved = _money((budget or {}).get("approved_amount"))
    total = _money((disbursed or {}).get("disbursed_total"))
    if approved is None or total is None or total <= approved:
        return None
    over = total - approved
    share = over / approved if approved > 0 else None
    points = 2 if share is None or share > rules.cost_tolerance else 1
    evidence = {"approved_budget": str(approved), "disbursed_total": str(total), "over": str(over)}
    return Reason("COST_OVERRUN", f"已拨付 {total} 元，超出批复预算 {approved} 元 {over} 元", evidence, points)


def _schedule(plan: Plan, stage: str) -> tuple[Reason | None, dt.date | None]:
    """The earliest milestone the project has not reached, and the day it is overdue from."""
    if stage in NO_SCHEDULE or plan.status in NO_SCHEDULE:
        return None, None
    reached = PROGRESS.get(stage, 0)
    years = [int(y["year"]) for y in plan.annual_investments or () if isinstance(y, Mapping) and "year" in y]
    milestones = (
        ("contracted", plan.plan_year, "签订合同"),
        ("accepted", max([plan.plan_year, *years]), "通过验收"),
    )
    for milestone, year, what in milestones:
        if reached < PROGRESS[milestone]:
            evidence = {"milestone": milestone, "due": f"{year}-12-31"}
            text = f"按计划应于 {year} 年底前{what}，尚未完成"
            return Reason("SCHEDULE_LATE", text, evidence, 2), dt.date(year + 1, 1, 1)
    return None, None


def _unauthorized(entries: Sequence[Any]) -> Reason | None:
    reported = [e.data.get("report_id") for e in entries if e.event_type == "change.unauthorized_reported"]
    resolved = {
        rid for e in entries if e.event_type == "change.unauthorized_resolved" for rid in e.data.get("report_ids") or ()
    }
    still_open = [rid for rid in reported if rid not in resolved]
    if not still_open:
        return None
    text = f"有 {len(still_open)} 项擅自变更尚未处理（第十八条）"
    return Reason("UNAUTHORIZED_CHANGE", text, {"report_ids": still_open}, 2)


FAILURES = {
    "test_report.submitted": "测试报告未通过",
    "acceptance.prechecked": "验收预审未通过",
    "acceptance.failed": "验收未通过",
    "inspection.recorded": "安全检查未通过",
}


def _failed(entry: Any) -> bool:
    if entry.event_type not in FAILURES:
        return False
    return entry.event_type == "acceptance.failed" or (entry.data or {}).get("passed") is False


def _failed_checks(entries: Sequence[Any], rules: RiskRules) -> Reason | None:
    failures = [e for e in entries if _failed(e)]
    if not failures:
        return None
    evidence = {
        "failures": [{"event_type": e.event_type, "event_id": e.event_id, "on": e.occurred_at[:10]} for e in failures]
    }
    kinds = "、".join(dict.fromkeys(FAILURES[e.event_type] for e in failures))
    points = 2 if len(failures) >= rules.failures_high else 1
    return Reason("FAILED_CHECKS", f"{len(failures)} 次检查未通过（{kinds}）", evidence, points)


def _open_incidents(entries: Sequence[Any], rules: RiskRules) -> Reason | None:
    reported = {
        e.data.get("incident_id"): e.data.get("severity") for e in entries if e.event_type == "incident.reported"
    }
    for e in entries:
        if e.event_type == "incident.resolved":
            reported.pop(e.data.get("incident_id"), None)
    if not reported:
        return None
    severe = [i for i, severity in reported.items() if severity in rules.severe]
    evidence = {"incidents": [{"incident_id": i, "severity": s} for i, s in reported.items()]}
    text = f"有 {len(reported)} 起安全事件尚未处置" + (f"，其中 {len(severe)} 起为重大" if severe else "")
    return Reason("OPEN_INCIDENTS", text, evidence, 2 if severe else 1)


# --- the smart office's override --------------------------------------------------------------------


def override(
    project_id: str, rating: int, comment: str, computed: int, caller: Caller, now: dt.datetime
) -> Decided[Override]:
    """The smart office's rating of a project in place of the computed one, kept with its comment
    (``rating`` and ``comment`` as ``planning.schemas.RiskOverrideIn`` loaded them)."""
    kept = Override(project_id, rating, comment, caller.actor, now)
    event = RiskOverridden(
        project_id=project_id, actor=caller.actor, rating=kept.rating, comment=kept.comment, computed_rating=computed
    )
    return kept, [event]
