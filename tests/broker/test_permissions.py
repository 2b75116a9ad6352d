"""RabbitMQ's own permissions keep every party to its part (``nxshared.broker_access``): proved on a
real broker, in a fresh virtual host with users of their own, with a service started under its
restricted user."""

import uuid

import pytest
from amqp.exceptions import AccessRefused, NotAllowed, PreconditionFailed
from kombu import Connection, Exchange, Producer, Queue
from nameko.exceptions import RemoteError, UnknownService
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import entrypoint_waiter
from nameko.testing.utils import find_free_port

from nxshared.broker_access import CLIENT_LIMITS, ManagementApi, amqp_uri, installed_grants
from nxshared.testing import bearer, make_event, planned_event
from nxshared.topology import deploy_installed

ADMIN = ("http://127.0.0.1:15672", "guest", "guest")


@pytest.fixture
def parties():
    """A vhost with every party's user (prefixed, so they stay apart from the suite's own),
    the topology declared by the operator: returns ``{party: amqp uri}``."""
    prefix = f"t{uuid.uuid4().hex[:6]}-"
    vhost = f"nxt-perm-{uuid.uuid4().hex[:8]}"
    grants = installed_grants(prefix, clients=["edu"])
    passwords = {g.user: uuid.uuid4().hex for g in grants}
    api = ManagementApi(*ADMIN)
    api.apply(grants, passwords, vhost)
    uris = {g.user.removeprefix(prefix): amqp_uri(g.user, passwords[g.user], "127.0.0.1", 5672, vhost) for g in grants}
    with Connection(uris["nx-operator"]) as conn:
        deploy_installed(conn)
    uris["prefix"], uris["vhost"] = prefix, vhost
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
    with ClusterRpcProxy(client_config(parties), context_data={"authorization": bearer("unit:edu")}, timeout=20) as rpc:
        assert rpc.approval.apply_for_approval(project_id=pid, approval_type="approve")["status"] == "awaiting_review"
        forged = make_event("review.passed", pid, {"review_id": "rev-forged", "route": "filing", "opinion": "伪造"})
        refused(lambda: publish(parties["nx-client"], "review.events", "review.passed", forged))
        assert rpc.approval.get_approval(project_id=pid)["status"] == "awaiting_review"


def client_config(parties, client="nx-client"):
    """What a departmental system configures: its broker user and its own RPC exchange."""
    return {"AMQP_URI": parties[client], "rpc_exchange": f"{parties['prefix']}{client}.rpc"}


def ask_approval(config):
    """One call as the DRC through a client's settings (NotFound: no such project)."""
    with ClusterRpcProxy(config, context_data={"authorization": bearer("drc")}, timeout=5) as rpc:
        return rpc.approval.get_approval(project_id="prj-none")


def test_a_client_binds_nothing_to_an_events_exchange_nor_to_other_callers_calls(parties, approval):
    client = parties["nx-client"]
    own = client_config(parties)["rpc_exchange"]

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
    refused(lambda: bind("nameko-rpc", str(uuid.uuid4())))  # nameko-rpc is the bureaus': not even a reply key
    refused(lambda: bind(own, "approval.*"))  # its own exchange carries its calls: bound with reply keys only
    bind(own, str(uuid.uuid4()))  # its own reply queue is fine


def test_a_client_can_change_nothing_the_bureaus_share(parties, approval):
    """No configure permission on nameko-rpc nor on any service's exchange or queue: the calls of
    every other system go on whatever this one does."""
    client = parties["nx-client"]
    with Connection(client) as conn:
        refused(lambda: conn.channel().exchange_delete("nameko-rpc"))
    with Connection(client) as conn:
        refused(lambda: conn.channel().queue_delete("rpc-approval"))
    with Connection(client) as conn:
        refused(lambda: conn.channel().exchange_delete("planning.events"))
    with Connection(client) as conn:
        refused(lambda: conn.channel().exchange_unbind(client_config(parties)["rpc_exchange"], "nameko-rpc", "*"))
    with Connection(client) as conn:  # declaring nameko-rpc with other properties would break it too
        refused(lambda: conn.channel().exchange_declare("nameko-rpc", "direct", durable=False))
    for name in ("nx-client", "nx-client-edu"):
        with pytest.raises(RemoteError, match="NOT_FOUND"):
            ask_approval(client_config(parties, name))


def test_a_client_that_deletes_its_own_exchange_breaks_only_itself_until_enrolled_again(parties, approval):
    own = client_config(parties)["rpc_exchange"]
    with Connection(parties["nx-client"]) as conn:
        conn.channel().exchange_delete(own)
    with pytest.raises(UnknownService):  # re-declared by its proxy, but no longer linked: its calls go nowhere
        ask_approval(client_config(parties))
    with pytest.raises(RemoteError, match="NOT_FOUND"):
        ask_approval(client_config(parties, "nx-client-edu"))
    grant = next(g for g in installed_grants(parties["prefix"]) if g.rpc_exchange == own)
    ManagementApi(*ADMIN).link_client_exchange(parties["vhost"], own)  # what `nx enroll` does again
    with pytest.raises(RemoteError, match="NOT_FOUND"):
        ask_approval(client_config(parties))
    assert grant.limits


def test_a_client_cannot_use_another_clients_exchange(parties, approval):
    edu_exchange = client_config(parties, "nx-client-edu")["rpc_exchange"]
    call = {"args": [], "kwargs": {"project_id": "p"}}
    refused(lambda: publish(parties["nx-client"], edu_exchange, "approval.get_approval", call))
    with Connection(parties["nx-client"]) as conn:
        queue = Queue(
            f"rpc.reply-snoop-{uuid.uuid4().hex}",
            exchange=Exchange(edu_exchange, type="topic", no_declare=True),
            routing_key=str(uuid.uuid4()),
            auto_delete=True,
        )
        refused(lambda: queue(conn.channel()).declare())


def test_each_client_holds_a_bounded_number_of_connections(parties):
    user = f"{parties['prefix']}nx-client-edu"
    limits = ManagementApi(*ADMIN).session.get(f"{ADMIN[0]}/api/user-limits/{user}", timeout=10).json()
    assert limits == [{"user": user, "value": dict(CLIENT_LIMITS)}]
    opened = []
    try:
        for _ in range(dict(CLIENT_LIMITS)["max-connections"]):
            opened.append(Connection(parties["nx-client-edu"]))
            opened[-1].connect()
        extra = Connection(parties["nx-client-edu"])
        with pytest.raises(NotAllowed, match="connection limit"):
            extra.connect()
    finally:
        for conn in opened:
            conn.release()


def test_the_broker_refuses_a_message_over_its_maximum_size(parties):
    limit = broker_max_message_size()
    if limit is None or limit > 64 * 1024 * 1024:
        pytest.skip("the broker's max_message_size is not set by deploy/ensure-rabbitmq.sh here")
    with pytest.raises(PreconditionFailed):
        publish(
            parties["nx-client"], client_config(parties)["rpc_exchange"], "approval.get_approval", "x" * (limit + 1)
        )


def broker_max_message_size():
    import shutil
    import subprocess

    if shutil.which("rabbitmqctl") is None:
        return None
    out = subprocess.run(
        ["rabbitmqctl", "eval", "application:get_env(rabbit, max_message_size)."],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    digits = "".join(c for c in out if c.isdigit())
    return int(digits) if digits else None


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
        own = f"{prefix}nx-client.rpc"
        links = api.session.get(f"{ADMIN[0]}/api/exchanges/{vhost}/{own}/bindings/source", timeout=10).json()
        assert {(b["destination"], b["routing_key"]) for b in links} == {("nameko-rpc", "*.*")}
        limits = api.session.get(f"{ADMIN[0]}/api/user-limits/{prefix}nx-client", timeout=10).json()
        assert limits[0]["value"] == dict(CLIENT_LIMITS)
    finally:
        api.session.delete(f"{ADMIN[0]}/api/vhosts/{vhost}", timeout=10)
        api.delete_users(passwords)


def test_nx_enroll_sets_up_a_departmental_system_and_hands_over_its_settings(tmp_path):
    """``nx enroll edu``: its user, its own exchange linked to nameko-rpc, its limits; its settings
    (with its generated password) in a file only the operator can read."""
    import os
    import stat
    import subprocess
    import sys

    vhost = f"nxt-enroll-{uuid.uuid4().hex[:8]}"
    name = f"e{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "NX_SECRETS_FILE": str(tmp_path / "secrets.json"), "NX_BROKER_VHOST": vhost}
    env.pop("AMQP_URI", None)
    api = ManagementApi(*ADMIN)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "nxshared.cli", "enroll", name], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        settings_file = tmp_path / "clients" / f"{name}.env"
        assert stat.S_IMODE(settings_file.stat().st_mode) == 0o600
        settings = dict(line.split("=", 1) for line in settings_file.read_text().splitlines() if "=" in line)
        assert settings["rpc_exchange"] == f"nx-client-{name}.rpc"
        with Connection(settings["AMQP_URI"]) as conn:  # it logs in, and may publish its calls there
            Producer(conn.channel()).publish(
                {}, exchange=settings["rpc_exchange"], routing_key="planning.get_project", serializer="json"
            )
        links = api.session.get(f"{ADMIN[0]}/api/exchanges/{vhost}/nx-client-{name}.rpc/bindings/source", timeout=10)
        assert {(b["destination"], b["routing_key"]) for b in links.json()} == {("nameko-rpc", "*.*")}
        bad = subprocess.run(
            [sys.executable, "-m", "nxshared.cli", "enroll", "Bad Name"], env=env, capture_output=True, text=True
        )
        assert bad.returncode != 0 and "Traceback" not in bad.stderr
    finally:
        api.session.delete(f"{ADMIN[0]}/api/vhosts/{vhost}", timeout=10)
        api.delete_users([f"nx-client-{name}"])
