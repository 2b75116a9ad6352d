"""The outbox relay: publishes committed events with publisher confirms and ``mandatory=True``.

It reads unsent rows in commit order and marks each sent only after the broker confirmed it, so a
crash anywhere re-publishes at most the event in flight (consumers' inboxes drop the duplicate).
A returned (unroutable) message stays unsent, and later events of the same project wait behind
it, which keeps per-project order.
"""

import logging
import threading

import eventlet
from nameko.amqp.publish import UndeliverableMessage
from nameko.standalone.events import get_event_exchange
from sqlalchemy import select, update

from nxshared.amqp import publisher_for
from nxshared.clock import Clock

log = logging.getLogger(__name__)

BATCH = 100
MAX_BACKOFF = 10.0


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
        self.publisher = publisher_for(amqp_uri)
        self._wakeup = threading.Event()
        self._running = False

    def wake(self):
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

    def relay_once(self):
        """Publish what is unsent. Returns (published count, whether something is held back)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(self.outbox).where(self.outbox.c.sent_at.is_(None)).order_by(self.outbox.c.id).limit(BATCH)
            ).all()
        held = set()
        sent = 0
        for row in rows:
            if row.project_id in held:
                continue
            try:
                self.publisher.publish(row.payload, exchange=self.exchange, routing_key=row.event_type)
            except UndeliverableMessage:
                held.add(row.project_id)
                self._record_failure(row, "unroutable: no queue is bound for this event type")
                continue
            except Exception as exc:
                self._record_failure(row, f"publish failed: {exc!r}")
                raise
            with self.engine.begin() as conn:
                conn.execute(update(self.outbox).where(self.outbox.c.id == row.id).values(sent_at=Clock.now()))
            self.metrics.events_published.labels(row.event_type).inc()
            sent += 1
        return sent, bool(held)

    def _record_failure(self, row, reason):
        self.metrics.publish_failures.labels(reason.split(":")[0]).inc()
        log.warning("outbox event %s (%s) not published: %s", row.event_id, row.event_type, reason)
        with self.engine.begin() as conn:
            conn.execute(
                update(self.outbox)
                .where(self.outbox.c.id == row.id)
                .values(attempts=self.outbox.c.attempts + 1, last_error=reason)
            )
