"""Checkpoints (Art 27): at an interval the service appends, to a table apart from the trail, each
changed project's length and head hash and one root hash over every project's head. A trail is held
to its checkpoints by ``chain.verify``; the root (a gauge and ``get_checkpoint()``) lets anyone who
noted it earlier see that the checkpoints themselves were not rewritten.

**The root**: the SHA-256 hex digest of the UTF-8 bytes of
``json.dumps([[project_id, length, head], …] sorted by project_id, separators=(",", ":"),
ensure_ascii=False)`` over every trail's head (``""`` is the suite's own trail: events that name no
project)."""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from audit.domain.chain import GENESIS, Head


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    taken_at: str
    root: str
    projects: int
    entries: int


def root_of(heads: Mapping[str, Head]) -> str:
    listed = [[project_id, head.length, head.hash] for project_id, head in sorted(heads.items())]
    text = json.dumps(listed, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def changed_heads(live: Mapping[str, Head], checkpointed: Mapping[str, Head]) -> dict[str, Head]:
    """The trails that grew since their last checkpoint (a trail never shrinks; one that did is
    named again, so the checkpoint shows what the table held then)."""
    return {pid: head for pid, head in live.items() if checkpointed.get(pid, Head(0, GENESIS)) != head}
