"""Who may do what on the broker: one RabbitMQ user per party, in the suite's own virtual host.

The card's rule — approval is released only after the review-passed event — holds only if nobody
but review can publish that event. RabbitMQ enforces it here, with its own permissions
(configure / write / read patterns per user and vhost) and topic permissions (routing keys a user
may publish to, and bind, on a topic exchange):

- **a service** (``nx-<service>``) publishes only its own event types on its own ``<service>.events``
  exchange, binds and reads only its own ``nx.<service>.…`` queues (to the sources it subscribes
  to, with the event types it subscribes to), re-routes failed events only through its own
  ``nx.<service>.requeue`` exchange (never the default exchange), serves its ``rpc-<service>``
  queue and answers on ``nameko-rpc`` only to reply keys;
- **a departmental system** (``nx-client``) calls ``<service>.<method>`` on ``nameko-rpc`` and
  reads its own ``rpc.reply-…`` queues bound with reply keys; it can publish no event, write into no
  service's queue, and bind nothing to an events exchange (nor to ``nameko-rpc`` with a call key,
  which would copy other callers' calls and tokens);
- **operators' tools** (``nx-operator``: ``nx deploy``, ``nx dead-letters``) may do everything in
  the vhost.

``guest`` is used by nothing. ``deploy/broker_setup.py`` applies this idempotently through the
management API (``make run``/``make up`` do it) or writes it as a definitions file for a production
broker.
"""

import base64
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

RPC_EXCHANGE = "nameko-rpc"
CLIENT_USER = "nx-client"
OPERATOR_USER = "nx-operator"
REPLY_KEY = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
NOTHING = "^$"


@dataclass(frozen=True)
class TopicGrant:
    exchange: str
    write: str
    read: str


@dataclass(frozen=True)
class Grant:
    """One user's permissions in the suite's vhost (RabbitMQ regular expressions)."""

    user: str
    configure: str
    write: str
    read: str
    topics: tuple[TopicGrant, ...] = field(default_factory=tuple)
    tags: str = ""


def _any_of(names: Iterable[str]) -> str:
    names = sorted(set(names))
    return "^(" + "|".join(re.escape(n) for n in names) + ")$" if names else NOTHING


def service_user(service: str, prefix: str = "") -> str:
    return f"{prefix}nx-{service}"


def service_grant(service: str, emitted: Iterable[str], subscriptions: Iterable, prefix: str = "") -> Grant:
    """``emitted``: the event types the service registers; ``subscriptions``: its
    ``nxshared.topology.Subscription``s (bindings of (source, routing key))."""
    own = re.escape(f"nx.{service}.")
    events = f"{service}.events"
    bindings = [b for sub in subscriptions for b in sub.bindings]
    sources = {source for source, _ in bindings}
    keys_by_source: dict[str, set[str]] = {}
    for source, key in bindings:
        keys_by_source.setdefault(source, set()).add(key)
    own_keys = keys_by_source.pop(service, set())
    topics = [TopicGrant(events, _any_of(emitted), ".*" if "#" in own_keys else _any_of(own_keys))]
    topics += [
        TopicGrant(f"{source}.events", NOTHING, ".*" if "#" in keys else _any_of(keys))
        for source, keys in sorted(keys_by_source.items())
    ]
    topics.append(TopicGrant(RPC_EXCHANGE, REPLY_KEY, "^" + re.escape(f"{service}.*") + "$"))
    return Grant(
        user=service_user(service, prefix),
        configure=f"^({re.escape(events)}|{own}.*|{re.escape('rpc-' + service)}|{re.escape(RPC_EXCHANGE)})$",
        write=f"^({re.escape(events)}|{own}.*|{re.escape('rpc-' + service)}|{re.escape(RPC_EXCHANGE)})$",
        read=f"^({own}.*|{re.escape('rpc-' + service)}|{re.escape(RPC_EXCHANGE)}|"
        + "|".join(re.escape(f"{s}.events") for s in sorted(sources | {service}))
        + ")$",
        topics=tuple(topics),
    )


def client_grant(services: Iterable[str], prefix: str = "") -> Grant:
    calls = "^(" + "|".join(re.escape(s) for s in sorted(services)) + r")\.[a-z_][a-z0-9_]*$"
    replies = r"^(nameko-rpc|rpc\.reply-.*)$"
    return Grant(
        user=prefix + CLIENT_USER,
        configure=replies,
        write=replies,
        read=replies,
        topics=(TopicGrant(RPC_EXCHANGE, calls, REPLY_KEY),),
    )


def operator_grant(prefix: str = "") -> Grant:
    return Grant(user=prefix + OPERATOR_USER, configure=".*", write=".*", read=".*", tags="management")


def installed_grants(prefix: str = "") -> list[Grant]:
    """Every party's grant for the services installed here (user names may carry a prefix, so that
    tests can set up parties of their own beside the suite's)."""
    from nxshared.catalog import REGISTRY
    from nxshared.discovery import installed_services
    from nxshared.topology import subscriptions_of

    services = installed_services()
    grants = []
    for service in services:
        emitted = [t for t, spec in REGISTRY.specs.items() if spec.source == service.name]
        grants.append(service_grant(service.name, emitted, subscriptions_of(service.load()), prefix))
    grants.append(client_grant((s.name for s in services), prefix))
    grants.append(operator_grant(prefix))
    return grants


def password_hash(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's ``rabbit_password_hashing_sha256``: base64(salt + sha256(salt + password))."""
    salt = os.urandom(4) if salt is None else salt
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def installed_sources() -> list[str]:
    """Every events exchange the installed services own or bind to (a subscriber may not create
    another service's exchange, so a broker set up from definitions has them all from the start)."""
    from nxshared.discovery import installed_services
    from nxshared.topology import installed_subscriptions

    subscribed = {src for sub in installed_subscriptions() for src in sub.sources}
    return sorted({s.name for s in installed_services()} | subscribed)


def definitions(grants: Iterable[Grant], passwords: dict[str, str], vhost: str, sources: Iterable[str] = ()) -> dict:
    """A RabbitMQ definitions document (``rabbitmqctl import_definitions``) for these grants, with
    the events exchanges of ``sources``."""
    grants = list(grants)
    return {
        "vhosts": [{"name": vhost}],
        "exchanges": [
            {
                "name": f"{source}.events",
                "vhost": vhost,
                "type": "topic",
                "durable": True,
                "auto_delete": False,
                "internal": False,
                "arguments": {},
            }
            for source in sources
        ],
        "users": [
            {
                "name": g.user,
                "password_hash": password_hash(passwords[g.user]),
                "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": g.tags,
            }
            for g in grants
        ],
        "permissions": [
            {"user": g.user, "vhost": vhost, "configure": g.configure, "write": g.write, "read": g.read} for g in grants
        ],
        "topic_permissions": [
            {"user": g.user, "vhost": vhost, "exchange": t.exchange, "write": t.write, "read": t.read}
            for g in grants
            for t in g.topics
        ],
    }


class ManagementApi:
    """The few management-API calls the set-up needs (idempotent PUTs)."""

    def __init__(self, url: str, user: str, password: str) -> None:
        import requests

        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.auth = (user, password)

    def _put(self, path: str, body: dict) -> None:
        response = self.session.put(f"{self.url}/api/{path}", json=body, timeout=10)
        response.raise_for_status()

    def apply(self, grants: Iterable[Grant], passwords: dict[str, str], vhost: str) -> None:
        from urllib.parse import quote

        v = quote(vhost, safe="")
        self._put(f"vhosts/{v}", {})
        for g in grants:
            self._put(f"users/{quote(g.user, safe='')}", {"password": passwords[g.user], "tags": g.tags})
            u = quote(g.user, safe="")
            self._put(f"permissions/{v}/{u}", {"configure": g.configure, "write": g.write, "read": g.read})
            for t in g.topics:
                self._put(f"topic-permissions/{v}/{u}", {"exchange": t.exchange, "write": t.write, "read": t.read})

    def delete_users(self, users: Iterable[str]) -> None:
        from urllib.parse import quote

        for user in users:
            self.session.delete(f"{self.url}/api/users/{quote(user, safe='')}", timeout=10)


def amqp_uri(user: str, password: str, host: str, port: int, vhost: str) -> str:
    from urllib.parse import quote

    return f"amqp://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{quote(vhost, safe='')}"


def local_party_uri(user: str, environ=None) -> str:
    """The AMQP URI of ``user`` on the local broker's suite vhost, its password from the local
    secrets file (``make run``/``make up`` set the broker up this way when no ``AMQP_URI`` is given).
    ``NX_BROKER_HOST``, ``NX_BROKER_PORT`` and ``NX_BROKER_VHOST`` move it."""
    from nxshared.secrets import broker_password, secrets_file

    environ = os.environ if environ is None else environ
    host = environ.get("NX_BROKER_HOST", "127.0.0.1")
    port = int(environ.get("NX_BROKER_PORT", "5672"))
    vhost = environ.get("NX_BROKER_VHOST", "nx")
    return amqp_uri(user, broker_password(user, secrets_file(environ)), host, port, vhost)


def explicit_amqp_uri(environ=None) -> str | None:
    """An ``AMQP_URI`` (or ``NX_AMQP_URI``) the operator set: then every party uses it as given."""
    environ = os.environ if environ is None else environ
    return environ.get("NX_AMQP_URI") or environ.get("AMQP_URI") or None
