"""The installed services, found through entry points, so that nothing here names one.

A service package declares itself in its ``pyproject.toml``::

    [project.entry-points."nx.services"]
    <name> = "<package>.service:<Name>Service"

    [project.entry-points."nx.events"]
    <name> = "<package>.event_schemas:SPECS"

``nx.services`` gives the launcher, the broker topology and the tests every installed service;
``nx.events`` gives the catalog the event types each one emits.
"""

import importlib
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

SERVICES_GROUP = "nx.services"
EVENTS_GROUP = "nx.events"


@dataclass(frozen=True)
class InstalledService:
    name: str
    target: str  # "module:Class"

    def load(self) -> Any:
        module_name, _, class_name = self.target.partition(":")
        return getattr(importlib.import_module(module_name), class_name)

    @property
    def directory(self) -> Path:
        """The service's folder (``config.yaml``, ``migrations/``): the parent of its package."""
        package = importlib.import_module(self.target.split(".", 1)[0].split(":", 1)[0])
        return Path(str(package.__file__)).resolve().parent.parent


def installed_services() -> list[InstalledService]:
    found = {ep.name: InstalledService(ep.name, ep.value) for ep in entry_points(group=SERVICES_GROUP)}
    return [found[name] for name in sorted(found)]


def installed_service(name: str) -> InstalledService:
    for service in installed_services():
        if service.name == name:
            return service
    raise LookupError(f"no installed service {name!r} (entry point group {SERVICES_GROUP})")


def event_specs_by_service() -> list[tuple[str, list[Any]]]:
    """Each service's ``SPECS`` with its name (the entry point's): the emitters of a shared spec."""
    return [(ep.name, list(ep.load())) for ep in sorted(entry_points(group=EVENTS_GROUP), key=lambda e: e.name)]
