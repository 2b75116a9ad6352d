"""Who is calling, which orgs exist, and who acts for a project (CONTRACT §Calling, RULES Art 3, 4).

Org codes have one shape everywhere they are accepted (tokens, declarations, the expert pool): a
bureau's code or ``unit:<code>`` in lower case. ``normalize_org`` is the only way in.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from nxshared.core.errors import Forbidden

ANY_ORG = "*"
ANY_UNIT = "unit:*"
BUREAUS = ("smart_office", "data_center", "drc", "finance", "audit", "county_gov")
UNIT_ORG = re.compile(r"unit:[a-z0-9_\-]{1,59}\Z")  # \Z: no trailing newline, even with .match
MAX_ORG_LENGTH = 64


def is_org(org: object) -> bool:
    """An org code exactly as the contract spells it (no padding, no capitals, no newline)."""
    return isinstance(org, str) and (org in BUREAUS or UNIT_ORG.fullmatch(org) is not None)


@dataclass(frozen=True)
class Caller:
    sub: str
    org: str

    @property
    def actor(self) -> str:
        """Who did it, as events and decision records name them (Art 27): ``person@org``."""
        return f"{self.sub}@{self.org}"

    @property
    def is_unit(self) -> bool:
        return self.org.startswith("unit:")

    def is_one_of(self, allowed: tuple[str, ...] | list[str]) -> bool:
        return any(a == ANY_ORG or a == self.org or (a == ANY_UNIT and self.is_unit) for a in allowed)


class OwnedProject(Protocol):
    """Read-only, so that a project whose fields are plain ``str`` fits too."""

    @property
    def unit(self) -> str | None: ...

    @property
    def construction_mode(self) -> str | None: ...


def project_owner(project: OwnedProject) -> str | None:
    """Art 4, 11: the org that acts for a project: its unit for a self-built project, ``data_center``
    (which builds it) for a unified one."""
    return "data_center" if project.construction_mode == "unified" else project.unit


def check_project_owner(caller: Caller, project: OwnedProject, action: str) -> None:
    """Refuses anyone but the project's owner; ``action`` says, in Chinese, what was attempted."""
    owner = project_owner(project)
    if caller.org != owner:
        raise Forbidden("NOT_PROJECT_OWNER", f"只有项目建设单位（{owner}）可以{action}（第四条、第十一条）", "Art 11")


class VisibleProject(OwnedProject, Protocol):
    @property
    def classified(self) -> bool: ...


def may_see(caller: Caller, project: VisibleProject, classified_visible_to: Iterable[str]) -> bool:
    """Art 4, 25, the one visibility rule of every service: a unit sees its own projects (and those
    built for it); a bureau sees every project but a classified one, which only its owner and the
    bureaus of ``CLASSIFIED_VISIBLE_TO`` see."""
    if caller.org in (project.unit, project_owner(project)):
        return True
    if caller.is_unit:
        return False
    return not project.classified or caller.org in tuple(classified_visible_to)


def org_list_setting(value: str | Iterable[str], name: str = "CLASSIFIED_VISIBLE_TO") -> tuple[str, ...]:
    """A setting naming orgs (``"smart_office,drc"`` or a list): each must be an org code."""
    orgs = [o.strip() for o in value.split(",")] if isinstance(value, str) else [str(o).strip() for o in value]
    orgs = [o for o in orgs if o]
    unknown = [o for o in orgs if not is_org(o)]
    if unknown:
        raise ValueError(f"{name}: not org codes: {', '.join(unknown)}")
    return tuple(orgs)
