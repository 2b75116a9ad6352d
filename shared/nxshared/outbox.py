"""The outbox relay: publishes committed events with pipelined publisher confirms and ``mandatory=True``.

A round takes each project's oldest unsent event (up to ``BATCH`` projects, in commit order): a
project's next event is published only once the previous one was confirmed
*and* routed, so per-project order holds while a hundred projects' events are in flight at once.
The round publishes them all on one confirm-mode channel, waits until the broker answered each,
then marks the acked ones sent in one ``UPDATE … WHERE id IN (…)``.

Nothing unconfirmed is ever marked: after a crash or a lost connection the unanswered rows are
published again (consumers' inboxes drop the duplicate). A returned (unroutable) or nacked event
stays unsent, counts an attempt, and holds back its project's later events until it goes through.
After an error the relay reconnects with exponential back-off.
"""

import logging
import threading
from collections import defaultdict

import eventlet
from nameko.standalone.events import get_event_exchange
from sqlalchemy import bindparam, func, select, update

from nxshared.amqp import ConfirmedBatches
from nxshared.clock import Clock

log = logging.getLogger(__name__)

BATCH = 100  # events in flight per round
MAX_BACKOFF = 10.0

UNROUTABLE = "unroutable: no queue is bound for this event type"
NACKED = "nacked: the broker refused the message"


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
        # built once: a statement built per round costs its construction and cache key every time
        heads = select(func.min(outbox.c.id)).where(outbox.c.sent_at.is_(None)).group_by(outbox.c.project_id)
        self._heads = (
            select(outbox.c.id, outbox.c.event_id, outbox.c.event_type, outbox.c.payload)
            .where(outbox.c.id.in_(heads))
            .order_by(outbox.c.id)
            .limit(BATCH)
        )
        these = outbox.c.id.in_(bindparam("ids", expanding=True))
        self._sent = update(outbox).where(these).values(sent_at=bindparam("now"))
        self._failed = (
            update(outbox).where(these).values(attempts=outbox.c.attempts + 1, last_error=bindparam("reason"))
        )

    def wake(self):
        """A unit of work committed events: relay them now rather than at the next poll."""
        self._wakeup.set()

    def stop(self):
        self._running = False
        self._wakeup.set()

    def run(self):
        if not self.enabled:
            log.warning("outbox relay disabled (OUTBOX_RELAY_ENABLED=false): events stay in the outbox")
            return
        self._running = True
        backoff = self.poll_interval
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
                    self._wakeup.wait(backoff)
                    self._wakeup.clear()
                else:
                    eventlet.sleep(0)
        finally:
            self.batches.close()

    def relay_once(self):
        """One round. Returns (events confirmed and marked sent, whether a failure holds one back)."""
        rows = self._next_rows()
        if not rows:
            return 0, False
        by_id = {row.id: row for row in rows}
        try:
            outcome = self.batches.publish((row.id, row.payload, row.event_type) for row in rows)
        except Exception as exc:
            self.metrics.publish_failures.labels("publish failed").inc()
            log.warning("outbox: %d event(s) not confirmed, kept unsent: %r", len(rows), exc)
            raise
        self._mark_sent([by_id[i] for i in outcome.acked])
        self._record_failures([by_id[i] for i in outcome.returned], UNROUTABLE)
        self._record_failures([by_id[i] for i in outcome.nacked], NACKED)
        return len(outcome.acked), bool(outcome.returned or outcome.nacked)

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
