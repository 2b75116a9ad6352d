"""The trail's hash chain (Art 27): every project's events, chained in arrival order, so that an edited,
inserted, reordered or deleted entry shows.

**The rule** (README, docs/contract.md): an entry as ``get_trail`` returns it is
``{seq, event_id, event_type, version, source, project_id, actor, occurred_at, received_at, data,
prev_hash, hash}``; ``seq`` counts from 1 per project, ``prev_hash`` is the previous entry's ``hash``
(64 zeros for the first) and ``hash`` is the SHA-256 hex digest of the UTF-8 bytes of
``json.dumps(entry_without_hash, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``.
An outsider re-checks a trail with ``verify`` below, or ten lines of their own.

``verify`` also takes the project's **checkpoints** (its length and head hash as kept at an
interval in a separate append-only table, and as the trail's live head row says): a tail deleted
after one was taken leaves the trail shorter than it, and a chain rewritten from an edited entry
on (every later hash recomputed) no longer ends in the head it recorded.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

GENESIS = "0" * 64
HASHED = (
    "seq",
    "event_id",
    "event_type",
    "version",
    "source",
    "project_id",
    "actor",
    "occurred_at",
    "received_at",
    "data",
    "prev_hash",
)
FIELDS = (*HASHED, "hash")


def canonical(entry: Mapping[str, Any]) -> str:
    """The text an entry's hash is taken of: the entry without ``hash``, as the rule spells it."""
    return json.dumps({k: entry[k] for k in HASHED}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def data_text(data: Mapping[str, Any]) -> str:
    """An event's data as stored: the same canonical JSON, so it reads back as it was hashed."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(entry: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(entry).encode("utf-8")).hexdigest()


def chain_next(head: "Head", event: Mapping[str, Any], received_at: str) -> dict[str, Any]:
    """The entry that follows ``head`` for ``event`` (its envelope as it arrived; ``data`` as sent)."""
    entry = {
        "seq": head.length + 1,
        "event_id": event["event_id"],
        "event_type": event["event_type"],
        "version": event["version"],
        "source": event["source"],
        "project_id": event["project_id"],
        "actor": event["actor"],
        "occurred_at": event["occurred_at"],
        "received_at": received_at,
        "data": json.loads(data_text(event["data"])),  # exactly what reads back
        "prev_hash": head.hash,
    }
    entry["hash"] = entry_hash(entry)
    return entry


@dataclass(frozen=True)
class Head:
    """Where a trail ends: its length and its last entry's hash (``GENESIS`` for an empty one)."""

    length: int = 0
    hash: str = GENESIS


@dataclass(frozen=True)
class Verification:
    """``first_bad``: the ``seq`` of the first entry that is not what the chain says (for a trail
    shorter than a checkpoint, the first missing one); ``None`` when ``ok``."""

    ok: bool
    entries: int
    first_bad: int | None
    head: str  # the last stored entry's hash
    checked_against: int  # the longest checkpointed length the trail was held to


def verify(entries: Sequence[Mapping[str, Any]], checkpoints: Iterable[Head] = ()) -> Verification:
    """Art 27: re-check a trail read in ``seq`` order: each entry numbered in turn, linked to the one
    before and hashed as the rule says; then its length and head against each checkpoint."""
    first_bad = None
    prev = GENESIS
    for position, entry in enumerate(entries, start=1):
        if entry.get("seq") != position or entry.get("prev_hash") != prev or entry_hash(entry) != entry.get("hash"):
            first_bad = position
            break
        prev = entry["hash"]
    return _held_to([e.get("hash") for e in entries], checkpoints, first_bad)


def verify_rows(rows: Sequence[Sequence[Any]], checkpoints: Iterable[Head] = ()) -> Verification:
    """``verify`` on stored rows ``(seq, event_id, event_type, version, source, project_id, actor,
    occurred_at, received_at, data_text, prev_hash, hash)``: the canonical text is assembled from
    the stored columns (``data`` already canonical, the values repeated on a trail encoded once)
    instead of re-encoding every entry — the same bytes as ``canonical`` for every row
    ``chain_next`` wrote (a unit test holds them equal), about twice as fast. A row whose data text
    was rewritten, even to equal JSON, no longer hashes the same."""
    first_bad = None
    prev = GENESIS
    encoded: dict[Any, str] = {None: "null"}

    def quoted(value: Any) -> str:
        found = encoded.get(value)
        if found is None:
            found = encoded[value] = encode_basestring(value)
        return found

    sha256 = hashlib.sha256
    for position, row in enumerate(rows, start=1):
        seq, event_id, event_type, version, source, project_id, actor, occurred_at, received_at, data, ph, h = row
        if (
            seq != position
            or type(seq) is not int
            or ph != prev
            or type(version) is not int
            or not isinstance(data, str)
        ):
            first_bad = position
            break
        # the canonical text, keys in sorted order: strings JSON-encoded, data stored canonical (an
        # f-string, not ``%`` with an 11-tuple: no container allocated per row, so 10,000 rows set off
        # no garbage collection over the rows just read, which took as long as the hashing)
        text = (
            f'{{"actor":{quoted(actor)},"data":{data},"event_id":{encode_basestring(event_id)},'
            f'"event_type":{quoted(event_type)},"occurred_at":{encode_basestring(occurred_at)},'
            f'"prev_hash":{encode_basestring(ph)},"project_id":{quoted(project_id)},'
            f'"received_at":{encode_basestring(received_at)},"seq":{seq},"source":{quoted(source)},'
            f'"version":{version}}}'
        )
        if sha256(text.encode("utf-8")).hexdigest() != h:
            first_bad = position
            break
        prev = h
    return _held_to([row[11] for row in rows], checkpoints, first_bad)


def _held_to(hashes: Sequence[Any], checkpoints: Iterable[Head], first_bad: int | None) -> Verification:
    """The chain's verdict held to each checkpoint: a trail shorter than one lost its tail; one whose
    entry at a checkpointed length is not the head recorded there was rewritten up to it."""
    longest = 0
    for checkpoint in checkpoints:
        longest = max(longest, checkpoint.length)
        if checkpoint.length == 0:
            continue
        if len(hashes) < checkpoint.length:  # a tail deleted after the checkpoint: the first missing
            at = len(hashes) + 1
        elif hashes[checkpoint.length - 1] != checkpoint.hash:
            # a chain rewritten from an edited entry on, every later hash recomputed: only the
            # checkpointed end is known, so the entry there is named (the earliest such checkpoint)
            at = checkpoint.length
        else:
            continue
        first_bad = at if first_bad is None else min(first_bad, at)
    head = hashes[-1] if hashes else GENESIS
    return Verification(first_bad is None, len(hashes), first_bad, head, longest)
