"""RabbitMQ's own permissions keep every party to its part (``nxshared.broker_access``): proved on a
real broker, in a fresh virtual host with users of their own, with a service started under its
restricted user."""

import uuid

import pytest
from amqp.exceptions import AccessRefused
from kombu import Connection, Exchange, Producer, Queue
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import entrypoint_waiter
from nameko.testing.utils import find_free_port

from nxshared.broker_access import ManagementApi, amqp_uri, installed_grants
from nxshared.testing import bearer, make_event, planned_event
from nxshared.topology import deploy_installed

ADMIN = ("http://127.0.0.1:15672", "guest", "guest")


@pytest.fixture
def parties():
    """A vhost with every party's user (prefixed, so they stay apart from the suite's own),
    the topology declared by the operator: returns ``{party: amqp uri}``."""
    prefix = f"t{uuid.uuid4().hex[:6]}-"
    vhost = f"nxt-perm-{uuid.uuid4().hex[:8]}"
    grants = installed_grants(prefix)
    passwords = {g.user: uuid.uuid4().hex for g in grants}
    api = ManagementApi(*ADMIN)
    api.apply(grants, passwords, vhost)
    uris = {g.user.removeprefix(prefix): amqp_uri(g.user, passwords[g.user], "127.0.0.1", 5672, vhost) for g in grants}
    with Connection(uris["nx-operator"]) as conn:
        deploy_installed(conn)
    yield uris
    api.session.delete(f"{ADMIN[0]}/api/vhosts/{vhost}", timeout=10)
    api.delete_users(passwords)


def publish(uri, exchange, routing_key, payload):
    """Publish with a confirm, so that a refusal (which closes the channel) is seen here."""
    with Connection(uri, transport_options={"confirm_publish": True}) as conn:
        Producer(conn.channel()).publish(
            payload,
            exchange=Exchange(exchange, type="topic", durable=True, no_declare=True),
            routing_key=routing_key,
            serializer="json",
        )


def refused(action):
    with pytest.raises(AccessRefused):
        action()


@pytest.fixture
def approval(container_factory, service_config, parties):
    from approval.service import ApprovalService

    config = service_config("approval", TODAY="2027-03-01", AMQP_URI=parties["nx-approval"])
    container = container_factory(ApprovalService, config)
    container.start()  # declares, binds and serves under its own restricted user
    return container


def test_a_forged_review_passed_from_a_client_is_refused_and_approval_stays_awaiting(approval, parties):
    payload = planned_event(unit="unit:edu")
    pid = payload["project_id"]
    with entrypoint_waiter(approval, "on_project_planned", timeout=10):
        publish(parties["nx-planning"], "planning.events", "project.planned", payload)
    config = {"AMQP_URI": parties["nx-client"]}
    with ClusterRpcProxy(config, context_data={"authorization": bearer("unit:edu")}, timeout=20) as rpc:
        assert rpc.approval.apply_for_approval(project_id=pid, approval_type="approve")["status"] == "awaiting_review"
        forged = make_event("review.passed", pid, {"review_id": "rev-forged", "route": "filing", "opinion": "伪造"})
        refused(lambda: publish(parties["nx-client"], "review.events", "review.passed", forged))
        assert rpc.approval.get_approval(project_id=pid)["status"] == "awaiting_review"


def test_a_client_binds_nothing_to_an_events_exchange_nor_to_other_callers_calls(parties, approval):
    client = parties["nx-client"]

    def bind(exchange, key):
        with Connection(client) as conn:
            queue = Queue(
                f"rpc.reply-snoop-{uuid.uuid4().hex}",
                exchange=Exchange(exchange, type="topic", no_declare=True),
                routing_key=key,
                auto_delete=True,
            )
            queue(conn.channel()).declare()

    refused(lambda: bind("planning.events", "project.declared"))
    refused(lambda: bind("nameko-rpc", "approval.*"))  # would copy other systems' calls and tokens
    bind("nameko-rpc", str(uuid.uuid4()))  # its own reply queue is fine


def test_a_client_writes_into_no_service_queue(parties, approval):
    client = parties["nx-client"]
    payload = make_event("review.passed", "p", {"review_id": "r", "route": "filing", "opinion": ""})
    with Connection(client, transport_options={"confirm_publish": True}) as conn:
        producer = Producer(conn.channel())
        refused(lambda: producer.publish(payload, exchange="", routing_key="nx.approval.on_review_concluded"))
    refused(lambda: publish(client, "nx.approval.requeue", "nx.approval.on_review_concluded", payload))


def test_a_service_publishes_only_its_own_events(parties, approval):
    review = parties["nx-review"]
    planned = planned_event()
    refused(lambda: publish(review, "planning.events", "project.planned", planned))
    refused(lambda: publish(review, "review.events", "project.planned", planned))
    publish(
        review,
        "review.events",
        "review.submitted",
        make_event("review.submitted", planned["project_id"], {"review_id": "r", "route": "filing", "budget": "1.00"}),
    )


def test_the_services_own_user_cannot_read_another_services_queue(parties, approval):
    with Connection(parties["nx-review"]) as conn:
        refused(lambda: conn.channel().basic_get("nx.approval.on_review_concluded"))
    assert find_free_port()  # the broker is still there for the next test


def test_the_readme_prints_the_permissions_the_code_grants():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "deploy" / "broker_setup.py"
    spec = importlib.util.spec_from_file_location("broker_setup", path)
    setup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup)
    readme = setup.README.read_text(encoding="utf-8")
    expected = setup.readme_with_table(readme, installed_grants())
    assert expected == readme, "README is stale: run python deploy/broker_setup.py --write-readme"


def test_the_definitions_file_sets_up_a_broker_the_same_way():
    """What a production broker imports (``deploy/broker_setup.py --definitions``): loaded here
    through the management API, its users log in and keep to their part."""
    from nxshared.broker_access import definitions, installed_sources

    prefix = f"d{uuid.uuid4().hex[:6]}-"
    vhost = f"nxt-defs-{uuid.uuid4().hex[:8]}"
    grants = installed_grants(prefix)
    passwords = {g.user: uuid.uuid4().hex for g in grants}
    api = ManagementApi(*ADMIN)
    response = api.session.post(
        f"{ADMIN[0]}/api/definitions", json=definitions(grants, passwords, vhost, installed_sources()), timeout=30
    )
    assert response.status_code in (200, 201, 204), response.text
    try:
        uri = {
            g.user.removeprefix(prefix): amqp_uri(g.user, passwords[g.user], "127.0.0.1", 5672, vhost) for g in grants
        }
        planned = planned_event()
        publish(uri["nx-planning"], "planning.events", "project.planned", planned)  # the exchange is there
        refused(lambda: publish(uri["nx-client"], "planning.events", "project.planned", planned))
    finally:
        api.session.delete(f"{ADMIN[0]}/api/vhosts/{vhost}", timeout=10)
        api.delete_users(passwords)
