"""The catalog of event types: every ``EventSpec`` that an installed service registers under the
``nx.events`` entry point group (see ``nxshared.discovery``), collected on first use."""

from nxshared.discovery import event_specs_by_service
from nxshared.events import EventSpec, Registry


class InstalledRegistry(Registry):
    """A registry filled from the installed services the first time it is read."""

    def __init__(self) -> None:
        super().__init__()
        self._loaded = False

    @property
    def specs(self) -> dict[str, EventSpec]:
        if not self._loaded:
            self._loaded = True
            for service, specs in event_specs_by_service():
                for spec in specs:
                    self.add(spec, emitter=service)
        return self._specs


REGISTRY = InstalledRegistry()
