"""What audit learns of a project from the events on its trail: whose it is and whether it is
classified (``project.declared``, ``project.planned``), to know who may read the trail (Art 4, 25)."""

from collections.abc import Mapping
from typing import Any

from audit.domain.entities import Project

TELLS_OWNER = ("project.declared", "project.planned")


def learn_project(project: Project, event_type: str, data: Mapping[str, Any]) -> Project:
    if event_type in TELLS_OWNER:
        unit, mode = data.get("unit"), data.get("construction_mode")
        if isinstance(unit, str):
            project.unit = unit
        if isinstance(mode, str):
            project.construction_mode = mode
        if isinstance(data.get("classified"), bool):
            project.classified = data["classified"]
    return project
