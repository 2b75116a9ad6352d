"""Who reads a trail (Art 4, 25, 27): audit always; the smart office and the project's owner; a
classified project's only its owner, audit and ``CLASSIFIED_VISIBLE_TO``. To anyone else it does
not exist (the refusal names nothing)."""

from audit.domain.entities import SUITE_TRAIL, AuditRules, Project
from nxshared.core.caller import Caller, may_see, project_owner
from nxshared.core.errors import NotFound


def can_read_trail(caller: Caller, trail: str, project: Project | None, rules: AuditRules) -> bool:
    if caller.org == "audit":
        return True
    if trail == SUITE_TRAIL or project is None:  # nothing learned yet of whose project it is
        return False
    if caller.org in (project.unit, project_owner(project)):
        return True
    return caller.org == "smart_office" and may_see(caller, project, rules.classified_visible_to)


def check_trail_readable(caller: Caller, trail: str, project: Project | None, rules: AuditRules) -> None:
    if not can_read_trail(caller, trail, project, rules):
        raise NotFound("PROJECT_NOT_FOUND", "项目不存在或无权查看")


def can_see_anomalies(caller: Caller, project: Project | None, rules: AuditRules) -> bool:
    """``list_anomalies`` is for audit and the smart office; the latter sees a classified project's
    only when ``CLASSIFIED_VISIBLE_TO`` names it."""
    if caller.org == "audit":
        return True
    return project is not None and may_see(caller, project, rules.classified_visible_to)
