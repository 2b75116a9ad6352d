"""Why a broker restart can stop a service, pinned so that a nameko upgrade that changes it shows.

nameko 2.14.1's ``QueueConsumer.ack_message`` skips the ack when the message's channel has already
lost its connection, and ignores ``amqp.exceptions.ConnectionError`` (nameko issue #511, PR #512).
A socket reset by the broker while the connection still looks open raises the builtin
``ConnectionResetError`` inside ``basic_ack`` instead: it escapes, the worker thread dies with it and
nameko kills the container ("thread exited with error", "stopping services"). The suite's own
entrypoints use ``SettlingQueueConsumer``, which logs such an ack and goes on: the unacked message
is redelivered, and the consumer's inbox makes a redelivered event a no-op. Supervision
(deploy/suite.py, compose ``restart:``) remains for any other crash."""

import pytest
from amqp.exceptions import RecoverableConnectionError
from nameko.messaging import QueueConsumer


class Message:
    def __init__(self, error, connected=True):
        self.error = error
        self.channel = type("Channel", (), {"connection": object() if connected else None})()
        self.acked = False

    def ack(self):
        if self.error:
            raise self.error
        self.acked = True

    requeue = ack


def test_an_ack_over_a_connection_already_known_closed_is_skipped():
    message = Message(RecoverableConnectionError("connection already closed"), connected=False)
    QueueConsumer().ack_message(message)
    assert not message.acked


def test_amqps_connection_error_inside_the_ack_is_ignored():
    QueueConsumer().ack_message(Message(RecoverableConnectionError("connection already closed")))


def test_a_reset_socket_inside_the_ack_escapes_and_kills_the_container():
    with pytest.raises(ConnectionResetError):
        QueueConsumer().ack_message(Message(ConnectionResetError(104, "Connection reset by peer")))


@pytest.mark.parametrize("error", [ConnectionResetError(104, "reset"), BrokenPipeError(32, "broken pipe")])
def test_the_suites_consumer_survives_a_reset_socket_inside_the_ack(error):
    from nxshared.entrypoints import ReliableEventHandler, SecuredRpc, SettlingQueueConsumer

    SettlingQueueConsumer().ack_message(Message(error))
    SettlingQueueConsumer().requeue_message(Message(error))
    assert isinstance(SecuredRpc.rpc_consumer.queue_consumer, SettlingQueueConsumer)
    assert isinstance(ReliableEventHandler.queue_consumer, SettlingQueueConsumer)
