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
"""

import contextlib
import json
import logging
import threading
from collections import defaultdict
from typing import Any, NamedTuple

import eventlet
from nameko.standalone.events import get_event_exchange
from sqlalchemy import Text, bindparam, cast, func, select, update

from nxshared.amqp import ConfirmedBatches
from nxshared.clock import Clock

log = logging.getLogger(__name__)

BATCH = 100  # events in flight per round
MAX_BACKOFF = 10.0
MAX_HANDED = 10 * BATCH  # rows kept in memory for the next rounds; beyond, the outbox is read instead

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
        # built once: a statement built per round costs its construction and cache key every time
        heads = select(func.min(outbox.c.id)).where(outbox.c.sent_at.is_(None)).group_by(outbox.c.project_id)
        # the payload as the JSON text stored: published as it is, never parsed and serialized again
        self._heads = (
            select(outbox.c.id, outbox.c.event_id, outbox.c.event_type, cast(outbox.c.payload, Text).label("body"))
            .where(outbox.c.id.in_(heads))
            .order_by(outbox.c.id)
            .limit(BATCH)
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
            self._sent_early = self._from_memory()
            if self._sent_early:
                self._parked = False
                self.batches.send((row.id, row.body, row.event_type) for row in self._sent_early)
            sent = True
        except Exception as exc:
            log.warning("outbox: %r while publishing early; the relay publishes from the outbox", exc)
        finally:
            if not sent:
                self._sent_early = None
                self._read_next = True
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
            self.batches.close()

    def relay_once(self):
        """One round. Returns (events confirmed and marked sent, whether a failure holds one back)."""
        with self._round_lock:
            return self._relay_once()

    def _relay_once(self):
        early, self._sent_early = self._sent_early, None
        if early:
            rows, read = early, False
        else:
            rows, read = self._round()
            if not rows:
                self._read_next = False  # nothing unsent: from now on, what is handed is all there is
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
        failed = bool(outcome.returned or outcome.nacked)
        self._read_next = read or failed  # rows read may have more waiting behind them
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
                return rows, False
        self._handed = []
        self._dropped = False
        return self._next_rows(), True

    def _memory_trusted(self):
        """Whether the handed rows may be all the outbox holds unsent (see the module's docstring)."""
        return not (self._read_next or self._dropped)

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
            return conn.execute(self._heads).all()

    def _writing(self):
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite, as every unit of work)."""
        from nxshared.db import WRITE_OPTION  # nxshared.db imports this module

        return self.engine.connect().execution_options(**{WRITE_OPTION: True})

    def _mark_sent(self, rows):
        if not rows:
            return
        with self._writing() as conn, conn.begin():
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
        with self._writing() as conn, conn.begin():
            conn.execute(self._failed, {"ids": [row.id for row in rows], "reason": reason})
