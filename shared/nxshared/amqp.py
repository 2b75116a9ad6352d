"""Publishing with publisher confirms and ``mandatory=True``: a message the broker did not take,
or could not route, is reported instead of vanishing.

``publisher_for`` publishes one message and waits for its confirm (nameko's ``Publisher``).
``ConfirmedBatches`` keeps one channel in confirm mode and pipelines: it publishes a whole batch,
then waits until the broker has answered every message of it (``send`` and ``collect``, the two
halves of ``publish``, may run on different green threads: ``nxshared.outbox``'s early sends).
"""

import contextlib
import time
from dataclasses import dataclass, field

from kombu import Connection, Producer
from nameko.amqp.publish import Publisher

CONFIRM_TIMEOUT = 30.0


def publisher_for(amqp_uri):
    return Publisher(amqp_uri, use_confirms=True, mandatory=True, serializer="json")


class ConfirmTimeout(Exception):
    """The broker did not answer every message of a batch in time (treated as a lost connection)."""


@dataclass
class BatchOutcome:
    """What the broker said about each message of a batch, by the key the caller gave it."""

    acked: list = field(default_factory=list)  # taken and routed: safe to consider sent
    returned: list = field(default_factory=list)  # unroutable (mandatory): nobody got it
    nacked: list = field(default_factory=list)  # the broker refused it


class ConfirmedBatches:
    """One connection and one channel in confirm mode, for one exchange.

    The broker numbers the messages of a confirm-mode channel 1, 2, 3…; ``basic.ack``/``basic.nack``
    name that number (``multiple`` covers every earlier one too). A ``basic.return`` names no number,
    so each message carries its key as ``message_id``; the broker sends a message's return before
    its ack, so once a message is acked its return, if any, has been seen.

    Any error leaves the connection closed; the next batch opens a new one. Messages without an
    answer are in none of the outcome's lists: the caller must publish them again.
    """

    def __init__(self, amqp_uri, exchange, confirm_timeout=CONFIRM_TIMEOUT):
        self.amqp_uri = amqp_uri
        self.exchange = exchange
        self.confirm_timeout = confirm_timeout
        self._connection = None
        self._producer = None
        self._tag = 0
        self._pending = {}  # delivery tag -> key
        self._outcome = BatchOutcome()
        self._returned = set()

    def publish(self, messages):
        """Publish ``(key, body, routing_key)`` triples, each body a JSON text; return the
        ``BatchOutcome`` once all are answered.

        On a connection error or a confirm timeout, raise; no message of the batch is then known sent.
        """
        self.send(messages)
        return self.collect()

    @property
    def connected(self):
        return self._producer is not None

    def send(self, messages):
        """``publish``'s first half: the batch leaves, its answers are not waited for (``collect``)."""
        self._pending.clear()
        self._returned.clear()
        self._outcome = BatchOutcome()
        try:
            producer = self.open()
            for key, body, routing_key in messages:
                producer.publish(
                    body,
                    routing_key=routing_key,
                    content_type="application/json",
                    content_encoding="utf-8",
                    mandatory=True,
                    delivery_mode=2,
                    message_id=str(key),
                    retry=False,
                )
                self._tag += 1
                self._pending[self._tag] = key
        except BaseException:
            self.close()
            raise

    def collect(self):
        """``publish``'s second half: the outcome of the batch ``send`` published, once all are answered."""
        try:
            self._await_confirms()
        except BaseException:
            self.close()
            raise
        return self._outcome

    def close(self):
        connection, self._connection, self._producer = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):  # already broken: nothing left to release cleanly
                connection.release()

    def open(self):
        """The producer on this batches' channel, connecting first if needed."""
        if self._producer is None:
            connection = Connection(self.amqp_uri, connect_timeout=5)
            channel = connection.channel()
            self._connection = connection
            channel.confirm_select()
            self._tag = 0
            channel.events["basic_ack"].add(self._on_ack)
            channel.events["basic_nack"].add(self._on_nack)
            self.exchange(channel).declare()
            self._producer = Producer(
                channel, exchange=self.exchange, serializer="json", on_return=self._on_return, auto_declare=False
            )
        return self._producer

    def _await_confirms(self):
        deadline = time.monotonic() + self.confirm_timeout
        while self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ConfirmTimeout(f"{len(self._pending)} message(s) without a confirm after {self.confirm_timeout}s")
            assert self._connection is not None  # opened by the publish that is awaiting confirms
            try:
                self._connection.drain_events(timeout=remaining)
            except TimeoutError:
                continue

    def _answered(self, delivery_tag, multiple):
        tags = [t for t in self._pending if t <= delivery_tag] if multiple else [delivery_tag]
        return [self._pending.pop(t) for t in tags if t in self._pending]

    def _on_ack(self, delivery_tag, multiple):
        for key in self._answered(delivery_tag, multiple):
            (self._outcome.returned if str(key) in self._returned else self._outcome.acked).append(key)

    def _on_nack(self, delivery_tag, multiple):
        self._outcome.nacked.extend(self._answered(delivery_tag, multiple))

    def _on_return(self, exception, exchange, routing_key, message):
        self._returned.add(message.properties.get("message_id"))
