"""The foundation on a real broker: planning started as `make up` starts it."""

import subprocess
import sys
import uuid

import pytest
from kombu import Exchange, Producer, Queue

from nxshared.clock import Clock
from nxshared.testing import make_event

from .conftest import wait_for
from .flows import declare, plan, stage_becomes, timeline_types

pytestmark = pytest.mark.e2e

# planning puts its own events on the timeline as it decides: the declaration and each step of the plan
PLAN_EVENTS = ["project.declared", "plan.compiled", "plan.concurred", "plan.concurred", "plan.approved"]


def test_declare_compile_concur_approve_timeline_shows_planned(suite):
    suite.up("planning")
    pid = declare(suite)
    plan(suite, pid)
    stage_becomes(suite, pid, "planned")
    assert timeline_types(suite, pid) == [*PLAN_EVENTS, "project.planned"]
    public = suite.http("planning", f"/public/projects/{pid}")
    assert public["stage"] == "planned"


def test_killed_between_commit_and_publish_the_event_still_arrives_once(suite):
    suite.up("planning", NX_PLANNING_OUTBOX_RELAY_ENABLED="false")
    with suite.connection() as conn:
        watch = Queue(
            f"watch-{uuid.uuid4().hex[:6]}",
            Exchange("planning.events", type="topic", durable=True),
            routing_key="project.planned",
            durable=True,
        )
        watch(conn.channel()).declare()
        pid = declare(suite)
        plan(suite, pid)  # committed, with project.planned in the outbox; the relay is off
        assert suite.metric("planning", "nx_outbox_backlog") >= 2
        suite.kill9("planning")
        suite.up("planning")
        # the timeline said planned before the kill (same transaction); wait for the relay instead
        wait_for(lambda: suite.metric("planning", "nx_outbox_backlog") == 0, what="the outbox to be relayed")
        channel = conn.channel()
        received = []
        while (message := watch(channel).get(no_ack=True)) is not None:
            received.append(message.payload)
        assert [m["project_id"] for m in received] == [pid]
    assert timeline_types(suite, pid).count("project.planned") == 1
    assert suite.metric("planning", "nx_outbox_backlog") == 0


def _publish(conn, evt_payload, source):
    Producer(conn.channel()).publish(
        evt_payload,
        exchange=Exchange(f"{source}.events", type="topic", durable=True),
        routing_key=evt_payload["event_type"],
        serializer="json",
    )


def test_the_same_event_delivered_twice_has_one_effect(suite):
    suite.up("planning")
    pid = declare(suite)
    payload = make_event(
        "review.submitted",
        pid,
        {"review_id": "rev-1", "route": "expert_panel", "budget": "2500000.00"},
        actor="t@data_center",
    )
    with suite.connection() as conn:
        _publish(conn, payload, "review")
        _publish(conn, payload, "review")
    wait_for(
        lambda: (
            suite.metric(
                "planning",
                'nx_events_consumed_total{event_type="review.submitted",handler="record_timeline",outcome="duplicate"}',
            )
            == 1
        ),
        what="the duplicate to be seen",
    )
    assert timeline_types(suite, pid).count("review.submitted") == 1


def test_an_event_its_handler_cannot_decode_is_parked_at_once_and_replayed_on_demand(suite):
    """Its data breaks its version's schema: another attempt cannot mend it, so it is parked on its
    first delivery (issue 18), not retried; retries of a handler that fails are in
    shared/tests/test_retry_queues.py."""
    suite.up("planning")
    broken = {
        "event_id": str(uuid.uuid4()),
        "event_type": "review.passed",
        "version": 1,
        "source": "review",
        "occurred_at": Clock.now().isoformat(),
        "project_id": "prj-x",
        "actor": None,
        "data": {},
    }
    with suite.connection() as conn:
        _publish(conn, broken, "review")
        dead = Queue("nx.planning.record_timeline.dead", durable=True)
        wait_for(lambda: dead(conn.channel()).queue_declare(passive=True).message_count == 1, what="dead letter")
    sample = 'nx_events_dead_lettered_total{event_type="review.passed",handler="record_timeline"}'
    assert suite.metric("planning", sample) == 1
    retried = 'nx_events_retried_total{event_type="review.passed",handler="record_timeline"}'
    assert suite.metric("planning", retried) == 0
    assert (
        suite.metric("planning", 'nx_messages_rejected_total{consumer="record_timeline",reason="malformed_event"}') == 1
    )

    replay = subprocess.run(
        [sys.executable, "-m", "nxshared.cli", "dead-letters", "--replay", "nx.planning.record_timeline"],
        env=suite.env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "1 event(s) sent back" in replay.stdout
    wait_for(lambda: suite.metric("planning", sample) == 2, what="the replayed event to be parked again")
    assert suite.metric("planning", retried) == 0


def test_refusals_reach_the_caller_as_the_contracts_exc_types(suite):
    from nameko.exceptions import RemoteError

    suite.up("planning")
    with pytest.raises(RemoteError) as err:
        suite.rpc("smart_office", "planning", "get_project", project_id="prj-x", extra=1)
    assert err.value.exc_type == "ValidationError" and err.value.value.startswith("INVALID_ARGUMENTS: ")
    with pytest.raises(RemoteError) as err:
        suite.rpc("unit:edu", "planning", "compile_annual_plan", year=2027, project_ids=["prj-x"])
    assert err.value.exc_type == "Forbidden"
    with pytest.raises(RemoteError) as err:
        suite.rpc("smart_office", "planning", "get_project", project_id="prj-x")
    assert (err.value.exc_type, err.value.value) == ("NotFound", "PROJECT_NOT_FOUND: 项目不存在或无权查看")
