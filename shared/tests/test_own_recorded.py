"""A handler's own recorded events (``@subscribe(…, own_recorded=True)``) on a real broker: the
broker still routes them (a mandatory publish is acked, not returned), they never reach the handler's
work queue, nothing keeps them; a binding an older version made to the work queue is removed."""

import pytest
from kombu import Connection
from nameko.standalone.events import get_event_exchange

from nxshared.amqp import ConfirmedBatches
from nxshared.topology import Subscription, declare

OLD = Subscription("owntest", "on_anything", (("owntest", "#"), ("elsewhere", "#")))
NEW = Subscription("owntest", "on_anything", OLD.bindings, own_recorded=True)


def queue_depth(conn, name):
    return conn.channel().queue_declare(name, passive=True).message_count


@pytest.mark.parametrize("queue_type", ["classic", "quorum"])
def test_own_recorded_events_are_routed_but_never_delivered(rabbit_config, queue_type):
    config = {"EVENT_QUEUE_TYPE": queue_type, "EVENT_MAX_ATTEMPTS": 2}
    uri = rabbit_config["AMQP_URI"]
    with Connection(uri) as conn:
        declare(conn, [OLD], sources=["owntest", "elsewhere"], config=config)  # an older version's
        declare(conn, [NEW], sources=["owntest", "elsewhere"], config=config)
        own, other = (ConfirmedBatches(uri, get_event_exchange(src, {})) for src in ("owntest", "elsewhere"))
        try:
            sent_own = own.publish([("e1", '{"event_id": "e1"}', "thing.decided")])
            sent_other = other.publish([("e2", '{"event_id": "e2"}', "thing.happened")])
        finally:
            own.close()
            other.close()
        assert (sent_own.acked, sent_own.returned, sent_other.acked) == (["e1"], [], ["e2"])
        assert queue_depth(conn, NEW.queue_name) == 1  # only elsewhere's event
        assert queue_depth(conn, NEW.recorded_queue_name) == 0


def test_without_own_recorded_every_binding_delivers():
    assert OLD.delivered_bindings == OLD.bindings and OLD.recorded_bindings == ()
    assert NEW.delivered_bindings == (("elsewhere", "#"),) and NEW.recorded_bindings == (("owntest", "#"),)
