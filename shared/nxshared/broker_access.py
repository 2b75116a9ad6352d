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
- **a departmental system** (``nx-client``, or ``nx-client-<name>`` enrolled with ``nx enroll``)
  calls ``<service>.<method>`` on *its own* RPC exchange ``<user>.rpc`` (nameko's ``rpc_exchange``
  setting), which the operator links to ``nameko-rpc`` with two exchange-to-exchange bindings: its
  calls (``*.*``) go on to the services, every reply key (``*``) comes back to it, where only its own
  ``rpc.reply-…`` queue is bound with that key. It has no permission at all on ``nameko-rpc`` or on
  anything else the bureaus share: it can delete, unbind or flood only its own exchange, publish no
  event, write into no service's queue, bind nothing to an events exchange, and bind its queues only
  with reply keys (never a call key, which would copy other callers' calls and tokens). Its
  connections and channels are capped (RabbitMQ user limits);
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
CLIENT_EXCHANGE_SUFFIX = ".rpc"
CLIENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,29}")
# what one departmental system may hold open at once (``rabbitmqctl set_user_limits``)
CLIENT_LIMITS = (("max-connections", 20), ("max-channels", 200))
CALL_KEYS = "*.*"  # <service>.<method>: what a client exchange passes on to nameko-rpc
REPLY_KEYS = "*"  # a reply key (a UUID, one word): what nameko-rpc passes back to every client exchange
OPERATOR_USER = "nx-operator"
REPLY_KEY = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
NOTHING = "^$"
DEFAULT_ADMIN_URL = "http://guest:guest@127.0.0.1:15672"


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
    rpc_exchange: str | None = None  # a client's own RPC exchange, linked to nameko-rpc by the operator
    limits: tuple[tuple[str, int], ...] = ()


def client_user(name: str | None = None, prefix: str = "") -> str:
    """``nx-client`` (the suite's own, used by ``nx call``) or ``nx-client-<name>`` (enrolled)."""
    if name is not None and not CLIENT_NAME.fullmatch(name):
        raise ValueError(f"client name {name!r}: lower-case letters, digits and _, starting with a letter, ≤ 30")
    return f"{prefix}{CLIENT_USER}" + (f"-{name}" if name else "")


def client_exchange(user: str) -> str:
    return f"{user}{CLIENT_EXCHANGE_SUFFIX}"


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


def client_grant(services: Iterable[str], prefix: str = "", name: str | None = None) -> Grant:
    user = client_user(name, prefix)
    exchange = client_exchange(user)
    calls = "^(" + "|".join(re.escape(s) for s in sorted(services)) + r")\.[a-z_][a-z0-9_]*$"
    own = rf"^({re.escape(exchange)}|rpc\.reply-.*)$"
    return Grant(
        user=user,
        configure=own,
        write=own,
        read=own,
        topics=(TopicGrant(exchange, calls, REPLY_KEY),),
        rpc_exchange=exchange,
        limits=CLIENT_LIMITS,
    )


def operator_grant(prefix: str = "") -> Grant:
    return Grant(user=prefix + OPERATOR_USER, configure=".*", write=".*", read=".*", tags="management")


def installed_grants(prefix: str = "", clients: Iterable[str] = ()) -> list[Grant]:
    """Every party's grant for the services installed here, with the departmental systems
    ``clients`` enrolled besides the suite's own ``nx-client`` (user names may carry a prefix, so
    that tests can set up parties of their own beside the suite's)."""
    from nxshared.catalog import REGISTRY
    from nxshared.discovery import installed_services
    from nxshared.topology import subscriptions_of

    services = installed_services()
    grants = []
    for service in services:
        emitted = [t for t in REGISTRY.specs if service.name in REGISTRY.emitters_of(t)]
        grants.append(service_grant(service.name, emitted, subscriptions_of(service.load()), prefix))
    names = [s.name for s in services]
    grants.append(client_grant(names, prefix))
    grants += [client_grant(names, prefix, name) for name in sorted(set(clients))]
    grants.append(operator_grant(prefix))
    return grants


def installed_services_names() -> list[str]:
    from nxshared.discovery import installed_services

    return [s.name for s in installed_services()]


def enrolled_clients(path) -> list[str]:
    """The departmental systems ``nx enroll`` enrolled: those with a broker password in the local
    secrets file."""
    from nxshared.secrets import stored_names

    key = f"broker_password:{CLIENT_USER}-"
    return sorted(n.removeprefix(key) for n in stored_names(path) if n.startswith(key))


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


def client_links(exchange: str) -> list[tuple[str, str, str]]:
    """The two exchange-to-exchange bindings (source, destination, routing key) that connect a
    client's own RPC exchange with ``nameko-rpc``: its calls out, every reply back."""
    return [(exchange, RPC_EXCHANGE, CALL_KEYS), (RPC_EXCHANGE, exchange, REPLY_KEYS)]


def definitions(grants: Iterable[Grant], passwords: dict[str, str], vhost: str, sources: Iterable[str] = ()) -> dict:
    """A RabbitMQ definitions document (``rabbitmqctl import_definitions``) for these grants, with
    the events exchanges of ``sources``."""
    grants = list(grants)
    clients = [g.rpc_exchange for g in grants if g.rpc_exchange]
    exchanges = [f"{source}.events" for source in sources] + ([RPC_EXCHANGE] if clients else []) + clients
    return {
        "vhosts": [{"name": vhost}],
        "exchanges": [
            {
                "name": name,
                "vhost": vhost,
                "type": "topic",
                "durable": True,
                "auto_delete": False,
                "internal": False,
                "arguments": {},
            }
            for name in exchanges
        ],
        "bindings": [
            {
                "source": source,
                "vhost": vhost,
                "destination": destination,
                "destination_type": "exchange",
                "routing_key": key,
                "arguments": {},
            }
            for exchange in clients
            for source, destination, key in client_links(exchange)
        ],
        "users": [
            {
                "name": g.user,
                "password_hash": password_hash(passwords[g.user]),
                "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": g.tags,
                **({"limits": dict(g.limits)} if g.limits else {}),
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
            for limit, value in g.limits:
                self._put(f"user-limits/{u}/{limit}", {"value": value})
            if g.rpc_exchange:
                self.link_client_exchange(v, g.rpc_exchange)

    def link_client_exchange(self, v: str, exchange: str) -> None:
        """The client's own RPC exchange, and its two links with ``nameko-rpc`` (declared too:
        the services may not have started yet). Idempotent, as every call here."""
        from urllib.parse import quote

        for name in (RPC_EXCHANGE, exchange):
            self._put(f"exchanges/{v}/{quote(name, safe='')}", {"type": "topic", "durable": True})
        for source, destination, key in client_links(exchange):
            response = self.session.post(
                f"{self.url}/api/bindings/{v}/e/{quote(source, safe='')}/e/{quote(destination, safe='')}",
                json={"routing_key": key},
                timeout=10,
            )
            response.raise_for_status()

    def delete_users(self, users: Iterable[str]) -> None:
        from urllib.parse import quote

        for user in users:
            self.session.delete(f"{self.url}/api/users/{quote(user, safe='')}", timeout=10)


def management_api(environ=None) -> "ManagementApi":
    """The local broker's management API as its administrator (``NX_BROKER_ADMIN_URL``, default
    ``http://guest:guest@127.0.0.1:15672``, usable from this machine only)."""
    from urllib.parse import urlsplit

    environ = os.environ if environ is None else environ
    admin = urlsplit(environ.get("NX_BROKER_ADMIN_URL", DEFAULT_ADMIN_URL))
    return ManagementApi(f"{admin.scheme}://{admin.hostname}:{admin.port}", admin.username or "", admin.password or "")


def broker_vhost(environ=None) -> str:
    environ = os.environ if environ is None else environ
    return environ.get("NX_BROKER_VHOST", "nx")


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
