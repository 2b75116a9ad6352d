"""The outbox relay: publishes committed events with pipelined publisher confirms and ``mandatory=True``.

A round takes each project's oldest unsent event (up to ``BATCH`` projects, in commit order): a
project's next event is published only once the previous one was confirmed
*and* routed, so per-project order holds while a hundred projects' events are in flight at once.
The round publishes them all on one confirm-mode channel, waits until the broker answered each,
then marks the acked ones sent in one ``UPDATE … WHERE id IN (…)``.

**From memory when it can.** A unit of work hands the relay the rows it has just committed
(``wake``), each knowing whether it was its project's oldest unsent event when inserted (the
outbox insert returns that). While the relay knows the outbox holds nothing else, a round takes
those heads from memory and does not read the outbox: a read on the path of every event, idle or
busy. It reads the outbox (each project's head, as above) when it cannot know: at start, after a
poll interval without a wake (events of another writer), after any failure, when a handed row
waits behind its project's head, and after every round that read rows (more may wait behind
them), until a read finds nothing.

**Sent by the committing green thread when the relay is idle.** If the relay waits for a wake and
could take the handed heads from memory, ``wake`` publishes them right there, on the green thread
that committed, and leaves their confirms to the relay's next round: the events leave before the
RPC that caused them replies, not after its reply, acknowledgement and teardown (~1 ms sooner on
these machines). The reply waits for the send (~0.2 ms) and, where the peers that handle the
event share the caller's machine, for the processor they then take. Anything else is handed to
the relay as before, and a failed send only makes the next round read the outbox.

Nothing unconfirmed is ever marked: after a crash or a lost connection the unanswered rows are
published again (consumers' inboxes drop the duplicate). A returned (unroutable) or nacked event
stays unsent, counts an attempt, and holds back its project's later events until it goes through.
After an error the relay reconnects with exponential back-off.

**More than one process (PostgreSQL).** Replicas of a service share its outbox, and each has a
relay. On PostgreSQL a round is one transaction that *claims* its rows before it publishes them
(``SELECT … WHERE id IN (…) FOR UPDATE SKIP LOCKED``, only rows still unsent and still their
project's oldest unsent event) and marks them sent before it commits: a row another relay has
claimed is skipped, and one it has sent meanwhile is no longer unsent when the lock is taken (READ
COMMITTED re-checks the locked row). A project's next event is not its oldest unsent one while its
predecessor is claimed elsewhere, so it is not claimed: per-project order holds across processes.
Rows read from the outbox and rows taken from memory are claimed alike; a row not claimed makes
the next round read the outbox again. Since a row handed to one process may wait behind a head
another process publishes, a relay however busy reads the outbox at least every
``REREAD_SECONDS``. On SQLite nothing claims (a write transaction held across a round
would stop every writer): a service on SQLite runs as a single process (``deploy/suite.py``
refuses replicas there).
"""

import contextlib
import json
import logging
import threading
import time
from collections import defaultdict
from typing import Any, NamedTuple

import eventlet
from nameko.standalone.events import get_event_exchange
from sqlalchemy import Text, bindparam, cast, func, select, update
from sqlalchemy.orm import aliased

from nxshared.amqp import ConfirmedBatches
from nxshared.clock import Clock

log = logging.getLogger(__name__)

BATCH = 100  # events in flight per round
MAX_BACKOFF = 10.0
MAX_HANDED = 10 * BATCH  # rows kept in memory for the next rounds; beyond, the outbox is read instead
REREAD_SECONDS = 2.0  # with claims (PostgreSQL): the longest a busy relay goes without reading the outbox

UNROUTABLE = "unroutable: no queue is bound for this event type"
NACKED = "nacked: the broker refused the message"


class Committed(NamedTuple):
    """An outbox row its unit of work has committed, as handed to the relay."""

    id: int
    event_id: str
    event_type: str
    project_id: str | None
    payload: dict[str, Any]
    head: bool  # no earlier event of its project was unsent when it was inserted

    @classmethod
    def inserted(cls, returned, event_id, event_type, project_id, payload):
        """The row as ``nxshared.db.OUTBOX_INSERT`` returned it: its id and the oldest unsent event
        of its project (itself, or none, when no earlier one waits). An event about no project is
        never handed as a head: those are read from the outbox, in commit order."""
        row_id, oldest_unsent = returned
        head = project_id is not None and oldest_unsent in (None, row_id)
        return cls(row_id, event_id, event_type, project_id, payload, head)


class _Row(NamedTuple):
    id: int
    event_id: str
    event_type: str
    body: str  # the JSON text to publish


class OutboxRelay:
    def __init__(self, *, engine, outbox, amqp_uri, source, config, metrics, enabled=True, poll_interval=0.5):
        self.engine = engine
        self.outbox = outbox
        self.amqp_uri = amqp_uri
        self.config = config
        self.metrics = metrics
        self.enabled = enabled
        self.poll_interval = poll_interval
        self.exchange = get_event_exchange(source, config)
        self.batches = ConfirmedBatches(amqp_uri, self.exchange)
        self._wakeup = threading.Event()
        self._running = False
        self._handed: list[Committed] = []
        self._read_next = True  # whether the next round must read the outbox (see the module's docstring)
        self._dropped = False  # handed rows were let go (too many): the outbox has them
        self._last_acked: set[int] = set()
        self._parked = False  # the run loop waits for a wake: no round is under way
        self._round_lock = threading.Lock()  # a round, or a send by a committing green thread
        self._sent_early: list[_Row] | None = None  # published by ``wake``, their confirms not yet collected
        self.claims = engine.dialect.name == "postgresql"  # see "More than one process" above
        self._claim = None  # the open transaction holding this round's rows (PostgreSQL)
        self._unclaimed = False  # a handed row was not claimed: the outbox must be read for it
        self._last_read = 0.0
        # built once: a statement built per round costs its construction and cache key every time
        heads = select(func.min(outbox.c.id)).where(outbox.c.sent_at.is_(None)).group_by(outbox.c.project_id)
        # the payload as the JSON text stored: published as it is, never parsed and serialized again
        self._heads = (
            select(outbox.c.id, outbox.c.event_id, outbox.c.event_type, cast(outbox.c.payload, Text).label("body"))
            .where(outbox.c.id.in_(heads))
            .order_by(outbox.c.id)
            .limit(BATCH)
        )
        earlier = aliased(outbox)
        oldest_of_its_project = (
            select(func.min(earlier.c.id))
            .where(earlier.c.project_id == outbox.c.project_id, earlier.c.sent_at.is_(None))
            .scalar_subquery()
        )
        self._claim_ids = (
            select(outbox.c.id)
            .where(
                outbox.c.id.in_(bindparam("ids", expanding=True)),
                outbox.c.sent_at.is_(None),
                outbox.c.id == oldest_of_its_project,
            )
            .with_for_update(skip_locked=True, of=outbox)
        )
        these = outbox.c.id.in_(bindparam("ids", expanding=True))
        self._sent = update(outbox).where(these).values(sent_at=bindparam("now"))
        self._failed = (
            update(outbox).where(these).values(attempts=outbox.c.attempts + 1, last_error=bindparam("reason"))
        )

    def wake(self, committed=()):
        """A unit of work committed these rows: relay them now rather than at the next poll."""
        if self.enabled:
            if len(self._handed) + len(committed) > MAX_HANDED:  # the broker is away: read them back later
                self._handed.clear()
                self._dropped = True
            else:
                self._handed.extend(committed)
                if committed and self._parked:
                    self._send_early()
        self._wakeup.set()

    def _send_early(self):
        """Publish the handed heads on the calling green thread, if the next round would take them
        from memory; their confirms are the next round's to collect. Raises nothing but what kills
        the green thread: the caller has committed, and a row not sent here is the relay's as any
        other (the next round reads the outbox)."""
        if not (self._memory_trusted() and self.batches.connected):
            return
        if not self._round_lock.acquire(blocking=False):
            return
        sent = False
        try:
            self._sent_early = self._claimed(self._from_memory())
            if self._sent_early:
                self._parked = False
                self.batches.send((row.id, row.body, row.event_type) for row in self._sent_early)
            else:
                self._end_claim()
            sent = True
        except Exception as exc:
            log.warning("outbox: %r while publishing early; the relay publishes from the outbox", exc)
        finally:
            if not sent:
                self._sent_early = None
                self._read_next = True
                self._end_claim()
            self._round_lock.release()

    def stop(self):
        self._running = False
        self._wakeup.set()

    def run(self):
        if not self.enabled:
            log.warning("outbox relay disabled (OUTBOX_RELAY_ENABLED=false): events stay in the outbox")
            return
        self._running = True
        backoff = self.poll_interval
        with contextlib.suppress(Exception):  # connected before any event, ready for early sends (a broker
            self.batches.open()  # away now is met, and logged, by the first round that publishes)
        try:
            while self._running:
                try:
                    sent, stuck = self.relay_once()
                    backoff = self.poll_interval
                except Exception:
                    log.exception("outbox relay failed; retrying in %.1fs", backoff)
                    sent, stuck = 0, True
                    backoff = min(backoff * 2, MAX_BACKOFF)
                if sent == 0 or stuck:
                    self._parked = not stuck
                    woken = self._wakeup.wait(backoff)
                    self._parked = False
                    if not woken:
                        self._read_next = True  # a poll: another writer's events are found only by reading
                    self._wakeup.clear()
                else:
                    eventlet.sleep(0)
        finally:
            self._end_claim()
            self.batches.close()

    def relay_once(self):
        """One round. Returns (events confirmed and marked sent, whether a failure holds one back)."""
        with self._round_lock:
            try:
                return self._relay_once()
            finally:
                self._end_claim()  # committed by a round that went through; rolled back otherwise

    def _relay_once(self):
        early, self._sent_early = self._sent_early, None
        if early:
            rows, read = early, False
        else:
            rows, read = self._round()
            if not rows:
                # nothing unsent (from now on, what is handed is all there is), unless a handed row was not claimed
                self._read_next, self._unclaimed = self._unclaimed, False
                return 0, False
        by_id = {row.id: row for row in rows}
        self._read_next = True  # until this round has gone through
        try:
            if early:  # sent by ``wake``: only the broker's answers are awaited
                outcome = self.batches.collect()
            else:
                outcome = self.batches.publish((row.id, row.body, row.event_type) for row in rows)
        except Exception as exc:
            self.metrics.publish_failures.labels("publish failed").inc()
            log.warning("outbox: %d event(s) not confirmed, kept unsent: %r", len(rows), exc)
            raise
        self._mark_sent([by_id[i] for i in outcome.acked])
        self._last_acked = set(outcome.acked)
        self._record_failures([by_id[i] for i in outcome.returned], UNROUTABLE)
        self._record_failures([by_id[i] for i in outcome.nacked], NACKED)
        self._end_claim(commit=True)
        failed = bool(outcome.returned or outcome.nacked)
        self._read_next = read or failed or self._unclaimed  # rows read may have more waiting behind them
        self._unclaimed = False
        return len(outcome.acked), failed

    def _round(self):
        """This round's events (at most one per project, its oldest unsent, at most ``BATCH``), and
        whether they were read from the outbox.

        The heads handed since the last round, unless the relay cannot know that the outbox holds
        nothing else; then each project's head as the outbox says, which covers every handed row
        (each was committed before it was handed). A handed row the previous round published
        already (read before it was handed) is not published twice.
        """
        if self._memory_trusted():
            rows = self._from_memory()
            if rows is not None:
                return self._claimed(rows), False
        self._handed = []
        self._dropped = False
        self._last_read = time.monotonic()
        return self._next_rows(), True

    def _memory_trusted(self):
        """Whether the handed rows may be all the outbox holds unsent (see the module's docstring)."""
        if self.claims and time.monotonic() - self._last_read > REREAD_SECONDS:
            return False
        return not (self._read_next or self._dropped)

    def _claimed(self, rows):
        """Of ``rows`` (read, or taken from memory), those this relay now holds (PostgreSQL; all of
        them on SQLite): each still unsent, its project's oldest unsent event, and claimed by no
        other. A row left out makes the next round read the outbox again: the relay that holds it
        may fail, or its project's next event wait behind it."""
        if not rows or not self.claims:
            return rows
        ids = set(self._begin_claim().execute(self._claim_ids, {"ids": [row.id for row in rows]}).scalars())
        if len(ids) < len(rows):
            self._unclaimed = True
        return [row for row in rows if row.id in ids]

    def _begin_claim(self):
        if self._claim is None:
            self._claim = self.engine.connect()
            self._claim.begin()
        return self._claim

    def _end_claim(self, commit=False):
        claim, self._claim = self._claim, None
        if claim is None:
            return
        try:
            if commit:
                claim.commit()
            else:
                claim.rollback()
        finally:
            claim.close()

    def _from_memory(self):
        """The handed heads, taken from memory; None (and the handed rows left) when they are not
        all this round needs: a handed row behind its project's head, or more heads than a batch."""
        fresh = [c for c in self._handed if c.id not in self._last_acked]
        heads = {}
        for c in fresh:
            if c.head and c.project_id not in heads:
                heads[c.project_id] = c
        if len(heads) < len(fresh) or len(heads) > BATCH:
            return None
        self._handed = []
        return [_Row(c.id, c.event_id, c.event_type, json.dumps(c.payload)) for c in heads.values()]

    def _next_rows(self):
        """The oldest unsent event of each project (at most ``BATCH`` of them), in commit order.

        Per project, not among the oldest N rows: a project held back with many events waiting
        behind its head must not starve the others.
        """
        with self.engine.connect() as conn:
            rows = conn.execute(self._heads).all()
        return self._claimed(rows)  # held until the round marks them sent (see "More than one process")

    @contextlib.contextmanager
    def _writing(self):
        """The round's claim (PostgreSQL), or a write transaction (``BEGIN IMMEDIATE`` on SQLite,
        as every unit of work) committed at the end of the block."""
        if self._claim is not None:
            yield self._claim
            return
        from nxshared.db import WRITE_OPTION  # nxshared.db imports this module

        with self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
            yield conn

    def _mark_sent(self, rows):
        if not rows:
            return
        with self._writing() as conn:
            conn.execute(self._sent, {"ids": [row.id for row in rows], "now": Clock.now()})
        counts: defaultdict[str, int] = defaultdict(int)
        for row in rows:
            counts[row.event_type] += 1
        for event_type, n in counts.items():
            self.metrics.events_published.labels(event_type).inc(n)

    def _record_failures(self, rows, reason):
        if not rows:
            return
        self.metrics.publish_failures.labels(reason.split(":")[0]).inc(len(rows))
        for row in rows:
            log.warning("outbox event %s (%s) not published: %s", row.event_id, row.event_type, reason)
        with self._writing() as conn:
            conn.execute(self._failed, {"ids": [row.id for row in rows], "reason": reason})
