"""Planning's rules and state machines, in plain Python (no nameko, SQLAlchemy or marshmallow), by
article group:

- ``declaration``: Art 6, 8, 9 declaration, who owns and who sees a project (Art 4, 11, 25);
- ``plans``: the annual plan and the supplementary plan (Art 9);
- ``changes``: change control and unauthorized changes (Art 10, 18);
- ``timeline``: each project's timeline and stage, the source-code exception register (Art 17).

Entities are dataclasses; ``planning.models`` maps them to tables. Every guard raises a domain error
carrying the rule's code and article. Every decision returns ``(what it decided, the typed events it
caused)`` (``Decided``), the events built from ``planning.events``.
"""

import uuid
from typing import TypeAlias, TypeVar

from nxshared.core.events import DomainEvent

T = TypeVar("T")

Decided: TypeAlias = tuple[T, list[DomainEvent]]


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
