"""What security learns from other bureaus' events, in whatever order they arrive: a project planned
(Art 10), its contract registered (under construction, Art 15), its acceptance passed (Art 21)."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from nxshared.core.errors import ValidationError
from nxshared.core.events import Event
from security.domain.entities import Project


def project_of(evt: Event) -> str:
    """The project an event is about; security consumes only project events."""
    if not evt.project_id:
        raise ValidationError("MALFORMED_EVENT", f"事件 {evt.event_type} 缺少 project_id")
    return evt.project_id


def learn_planned(project: Project, data: Mapping[str, Any]) -> Project:
    """Art 10, 24: planning's ``project.planned`` (v2): the project exists, whose it is, whether it is
    classified and whether it is hosted on the Big Data Center (which makes MLPS filing due)."""
    project.planned = True
    project.name = data.get("name") or ""
    project.unit = data["unit"]
    project.construction_mode = data["construction_mode"]
    project.classified = bool(data["classified"])
    project.hosted_on_big_data_center = bool(data.get("hosted_on_big_data_center", False))
    project.plan_year = data.get("plan_year")
    return project


def learn_contracted(project: Project, evt: Event) -> Project:
    """Art 15, 22: finance's ``contract.registered``: the project is under construction from the day
    its contract was signed."""
    project.contracted_on = _day(evt.data.get("signed_on"), evt)
    return project


def learn_accepted(project: Project, evt: Event) -> Project:
    """Art 21, 22: review's ``acceptance.passed``: the project is accepted and may go live. Its data
    is read only for the acceptance ``date``; the envelope's day stands in when there is none."""
    project.accepted_on = _day(evt.data.get("date"), evt)
    return project


def _day(value: Any, evt: Event) -> dt.date:
    for text in (value, evt.occurred_at):
        try:
            return dt.date.fromisoformat(str(text)[:10])
        except (TypeError, ValueError):
            continue
    raise ValidationError("MALFORMED_EVENT", f"事件 {evt.event_type} 的日期不合法：{value!r}")
