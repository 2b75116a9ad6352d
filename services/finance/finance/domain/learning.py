"""What finance learns from other bureaus' events, in whatever order they arrive: planned (Art 10),
approved (Art 13), an estimate changed or a change made without approval (Art 18)."""

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from finance.domain.entities import Project, UnauthorizedChange
from nxshared.core.errors import ValidationError
from nxshared.core.events import Event
from nxshared.core.money import parse_money


def project_of(evt: Event) -> str:
    """The project an event is about; finance consumes only project events."""
    if not evt.project_id:
        raise ValidationError("MALFORMED_EVENT", f"事件 {evt.event_type} 缺少 project_id")
    return evt.project_id


def _money(value: Any) -> Decimal:
    amount = parse_money(value)
    if amount is None:
        raise ValidationError("MALFORMED_EVENT", f"事件中的金额不合法：{value!r}")
    return amount


def learn_planned(project: Project, data: Mapping[str, Any]) -> Project:
    """Art 10: planning's ``project.planned``. An estimate already revised by a change (whose event
    overtook this one) is kept."""
    project.planned = True
    project.name = data.get("name") or ""
    project.unit = data["unit"]
    project.construction_mode = data["construction_mode"]
    project.classified = data["classified"]
    project.plan_year = data["plan_year"]
    if not project.estimate_revised:
        project.estimated_investment = _money(data["estimated_investment"])
    return project


def learn_approved(project: Project, data: Mapping[str, Any]) -> Project:
    """Art 13: the DRC's ``approval.granted``: the project may ask for its budget (Art 14)."""
    project.approved = True
    project.approval_no = data.get("approval_no")
    return project


def learn_change(project: Project, data: Mapping[str, Any]) -> Project:
    """Art 18: an approved change that alters the estimate (``estimated_investment`` not null) sets
    the estimate future budget reviews are held to; any other approved change leaves it."""
    if data.get("estimated_investment") is not None:
        project.estimated_investment = _money(data["estimated_investment"])
        project.estimate_revised = True
    return project


def resolve_reports(
    reports: Iterable[UnauthorizedChange], report_ids: Iterable[str], project_id: str
) -> list[UnauthorizedChange]:
    """Art 18: planning resolved these reports. A resolution that overtook its report is kept as a
    resolved report, so the late report cannot reopen it."""
    known = {r.report_id: r for r in reports}
    resolved = []
    for report_id in report_ids:
        report = known.get(report_id) or UnauthorizedChange(report_id, project_id)
        report.resolved = True
        resolved.append(report)
    return resolved
