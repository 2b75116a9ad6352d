"""The anomalies the measures forbid (Art 27: finance and audit supervise the use of funds and pursue
whoever broke the rules), found from a project's trail alone.

Events reach audit from six services in whatever order the broker delivers them, so the rules read
a trail in the order its events *occurred* (``occurred_at``; the arrival order where two are equal
or one cannot be read). Each rule is one function over that sequence; each anomaly names its rule,
article and the ``event_id``\\ s that show it:

- ``CONTRACT_WITHOUT_PROCUREMENT`` (Art 15): a contract registered with no procurement before it.
- ``DISBURSED_BEFORE_CONTRACT`` (Art 15, 27): funds disbursed before any contract was registered.
- ``DISBURSED_OVER_BUDGET`` (Art 14, 27): the disbursed total above the approved budget.
- ``APPROVED_BEFORE_REVIEW`` (Art 13): an approval granted before a passed or filed review.
- ``ACCEPTED_WITHOUT_PRECHECK`` (Art 21): an acceptance without a passed pre-check before it.
- ``ACCEPTED_WITH_UNAUTHORIZED_CHANGE`` (Art 18): an acceptance while an unauthorized change
  reported on the project was not resolved.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

Entry = Mapping[str, Any]

# the event types the rules read (the trail is read for these only)
WATCHED = (
    "procurement.registered",
    "contract.registered",
    "funds.disbursed",
    "budget.approved",
    "review.passed",
    "review.filed",
    "approval.granted",
    "acceptance.prechecked",
    "acceptance.passed",
    "change.unauthorized_reported",
    "change.unauthorized_resolved",
)


@dataclass(frozen=True)
class Anomaly:
    project_id: str
    rule: str
    article: str
    description: str
    event_ids: tuple[str, ...]


def in_occurrence_order(entries: Iterable[Entry]) -> list[Entry]:
    return sorted(entries, key=_when)


def _when(entry: Entry) -> tuple[dt.datetime, int]:
    try:
        at = dt.datetime.fromisoformat(entry["occurred_at"])
        at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    except (TypeError, ValueError):
        at = dt.datetime.max.replace(tzinfo=dt.UTC)  # unreadable: after everything readable, by arrival
    return at, int(entry["seq"])


def _amount(entry: Entry, name: str) -> Decimal:
    try:
        return Decimal(str((entry.get("data") or {}).get(name)))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def contract_without_procurement(project_id: str, entries: Sequence[Entry]) -> list[Anomaly]:
    """Art 15: a contract follows its procurement."""
    found, procured = [], False
    for entry in entries:
        if entry["event_type"] == "procurement.registered":
            procured = True
        elif entry["event_type"] == "contract.registered" and not procured:
            found.append(
                Anomaly(
                    project_id,
                    "CONTRACT_WITHOUT_PROCUREMENT",
                    "Art 15",
                    "合同登记前没有政府采购记录（第十五条）",
                    (entry["event_id"],),
                )
            )
    return found


def disbursed_before_contract(project_id: str, entries: Sequence[Entry]) -> list[Anomaly]:
    """Art 15, 27: funds are paid under a contract."""
    found, contracted = [], False
    for entry in entries:
        if entry["event_type"] == "contract.registered":
            contracted = True
        elif entry["event_type"] == "funds.disbursed" and not contracted:
            found.append(
                Anomaly(
                    project_id,
                    "DISBURSED_BEFORE_CONTRACT",
                    "Art 15, 27",
                    "合同登记前已拨付资金（第十五条、第二十七条）",
                    (entry["event_id"],),
                )
            )
    return found


def disbursed_over_budget(project_id: str, entries: Sequence[Entry]) -> list[Anomaly]:
    """Art 14, 27: the disbursed total never exceeds the approved budget (the latest approved before
    each disbursement; none approved is a budget of zero)."""
    found: list[Anomaly] = []
    budget, budget_event, total = Decimal(0), None, Decimal(0)
    for entry in entries:
        if entry["event_type"] == "budget.approved":
            budget, budget_event = _amount(entry, "approved_amount"), entry["event_id"]
        elif entry["event_type"] == "funds.disbursed":
            total += _amount(entry, "amount")
            if total > budget:
                shown = (entry["event_id"],) if budget_event is None else (budget_event, entry["event_id"])
                found.append(
                    Anomaly(
                        project_id,
                        "DISBURSED_OVER_BUDGET",
                        "Art 14, 27",
                        f"累计拨付 {total:.2f} 元超过批复预算 {budget:.2f} 元（第十四条、第二十七条）",
                        shown,
                    )
                )
    return found


def approved_before_review(project_id: str, entries: Sequence[Entry]) -> list[Anomaly]:
    """Art 13: approval only after the technical review passed (or the filing was accepted)."""
    found, reviewed = [], False
    for entry in entries:
        if entry["event_type"] in ("review.passed", "review.filed"):
            reviewed = True
        elif entry["event_type"] == "approval.granted" and not reviewed:
            found.append(
                Anomaly(
                    project_id,
                    "APPROVED_BEFORE_REVIEW",
                    "Art 13",
                    "技术评审通过或备案前已批准立项（第十三条）",
                    (entry["event_id"],),
                )
            )
    return found


def accepted_without_precheck(project_id: str, entries: Sequence[Entry]) -> list[Anomaly]:
    """Art 21: acceptance follows a passed pre-check by the data center."""
    found, prechecked = [], False
    for entry in entries:
        data = entry.get("data") or {}
        if entry["event_type"] == "acceptance.prechecked" and (data.get("passed") or data.get("verdict") == "passed"):
            prechecked = True
        elif entry["event_type"] == "acceptance.passed" and not prechecked:
            found.append(
                Anomaly(
                    project_id,
                    "ACCEPTED_WITHOUT_PRECHECK",
                    "Art 21",
                    "验收前没有通过信息和数据中心的预审（第二十一条）",
                    (entry["event_id"],),
                )
            )
    return found


def accepted_with_unauthorized_change(project_id: str, entries: Sequence[Entry]) -> list[Anomaly]:
    """Art 18: a project with an unauthorized change still open is not accepted."""
    found: list[Anomaly] = []
    open_reports: dict[str, str] = {}  # report_id → the event that reported it
    for entry in entries:
        data = entry.get("data") or {}
        if entry["event_type"] == "change.unauthorized_reported":
            open_reports[str(data.get("report_id"))] = entry["event_id"]
        elif entry["event_type"] == "change.unauthorized_resolved":
            for report_id in data.get("report_ids") or ():
                open_reports.pop(str(report_id), None)
        elif entry["event_type"] == "acceptance.passed" and open_reports:
            found.append(
                Anomaly(
                    project_id,
                    "ACCEPTED_WITH_UNAUTHORIZED_CHANGE",
                    "Art 18",
                    "存在未纠正的擅自变更时通过验收（第十八条）",
                    (*open_reports.values(), entry["event_id"]),
                )
            )
    return found


RULES: tuple[Callable[[str, Sequence[Entry]], list[Anomaly]], ...] = (
    contract_without_procurement,
    disbursed_before_contract,
    disbursed_over_budget,
    approved_before_review,
    accepted_without_precheck,
    accepted_with_unauthorized_change,
)


def anomalies_of(project_id: str, entries: Iterable[Entry]) -> list[Anomaly]:
    """Every anomaly of one project's trail (entries in any order), rule by rule."""
    ordered = in_occurrence_order(e for e in entries if e["event_type"] in WATCHED)
    return [anomaly for rule in RULES for anomaly in rule(project_id, ordered)]
