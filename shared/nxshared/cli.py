"""``nx``: the operator's command line.

    nx token --org ORG [--sub NAME] [--ttl S]     a token for an org, signed by the local issuer's key
    nx keys init | rotate | retire KID | list     the local issuer's signing keys (public set: .data/jwks.json)
    nx call SERVICE METHOD [JSON] --org ORG       call any RPC method with JSON keyword arguments
    nx timeline PROJECT_ID [--org ORG]            print a project's timeline
    nx reminders [--from D] [--to D] [--kind K] [--project P] [--page N] [--org ORG]
                                                  what the services' daily timers found due, by due day
    nx deploy                                     declare every exchange, queue and binding
    nx enroll NAME                                enrol a departmental system: its broker user, its own
                                                  RPC exchange and limits; writes its settings to a file
    nx dead-letters [--replay QUEUE]              count parked events and RPC requests, or send a queue's events back
    nx demo                                       drive a sample project as far as the services go

Reads (``get_…``, ``list_…``) are asked again across a broker reconnect for up to
``NX_RPC_RETRY_SECONDS`` (30); other calls are sent once. A broker that cannot be reached is a
one-line message, not a stack trace.

Broker: ``AMQP_URI`` when set (every command uses it as given, calling on ``NX_RPC_EXCHANGE``,
default ``nameko-rpc``); otherwise the suite's local vhost as ``make run``/``make up`` set it up, as
the departmental client user (``nx-client``: calls, on its own exchange ``nx-client.rpc``) or the
operators' user (``nx-operator``: ``deploy``, ``dead-letters``, ``enroll``), passwords from the local
secrets file. Tokens: signed by the local issuer's current key (``nx keys``), whose public half is the
set the services trust by default; a county with its own identity platform mints them there.
"""

import argparse
import json
import os
import sys

import nxshared  # noqa: F401  (silences eventlet's import-time warning)


def amqp_uri(operator=False):
    """The broker as an explicit ``AMQP_URI``, else as the client (or operator) party."""
    from nxshared.broker_access import CLIENT_USER, OPERATOR_USER, explicit_amqp_uri, local_party_uri

    return explicit_amqp_uri() or local_party_uri(OPERATOR_USER if operator else CLIENT_USER)


def rpc_exchange():
    """Where ``nx`` publishes its calls: the client's own exchange on the managed vhost."""
    from nxshared.broker_access import CLIENT_USER, RPC_EXCHANGE, client_exchange, explicit_amqp_uri

    if explicit_amqp_uri():
        return os.environ.get("NX_RPC_EXCHANGE") or RPC_EXCHANGE
    return client_exchange(CLIENT_USER)


def issuer():
    from nxshared.issuer import Issuer
    from nxshared.secrets import secrets_file

    return Issuer(secrets_file())


def token(org, sub="operator", ttl_seconds=3600):
    return issuer().mint(org, sub, ttl_seconds)


def cmd_token(args):
    from nxshared.core.caller import is_org

    org = args.org or args.org_positional
    if not org or not is_org(org):
        sys.exit(f"nx token: 机构代码无效 / not an org code: {org!r} (e.g. smart_office, unit:edu)")
    if not 60 <= args.ttl <= 12 * 3600:
        sys.exit("nx token: --ttl 须在 60 至 43200 秒之间 / must be 60..43200 seconds")
    print(token(org, args.sub, args.ttl))


def cmd_keys(args):
    keys = issuer()
    if args.action == "init":
        kid = keys.init()
        print(
            f"issuer key {kid} created; public set {keys.public_path}"
            if kid
            else f"issuer keys exist ({keys.private_path})"
        )
    elif args.action == "rotate":
        print(f"now signing with {keys.rotate()}; the previous keys stay trusted until `nx keys retire KID`")
    elif args.action == "retire":
        if not args.kid:
            sys.exit("nx keys retire KID")
        keys.retire(args.kid)
        print(f"retired {args.kid}: services refuse its tokens within their refresh interval (30 s)")
    current, kids = keys.kids()
    for kid in kids:
        print(f"{'*' if kid == current else ' '} {kid}")


class Client:
    """RPC calls as one org, through one connection; reads ride out a broker reconnect
    (``nxshared.rpcclient``)."""

    def __init__(self, org, sub="operator", timeout=30):
        from nxshared.rpcclient import ResilientRpc

        retry_for = float(os.environ.get("NX_RPC_RETRY_SECONDS", 30))
        context = {"authorization": f"Bearer {token(org, sub)}"}
        self._rpc = ResilientRpc(amqp_uri(), context, timeout=timeout, retry_for=retry_for, rpc_exchange=rpc_exchange())

    def call(self, service, method, **kwargs):
        return self._rpc.call(service, method, **kwargs)

    def close(self):
        self._rpc.close()


def call(service, method, org, **kwargs):
    client = Client(org)
    try:
        return client.call(service, method, **kwargs)
    finally:
        client.close()


def _print(value):
    print(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True))


def cmd_call(args):
    from nameko.exceptions import RemoteError

    kwargs = json.loads(args.json) if args.json else {}
    if not isinstance(kwargs, dict):
        sys.exit("JSON arguments must be an object of keyword arguments")
    try:
        _print(call(args.service, args.method, args.org, **kwargs))
    except RemoteError as exc:
        sys.exit(f"{exc.exc_type}: {exc.value}")


def cmd_timeline(args):
    timeline = call("planning", "get_timeline", args.org, project_id=args.project_id)
    print(f"project {args.project_id}: stage {timeline['stage']}")
    for entry in timeline["events"]:
        print(f"  {entry['occurred_at']}  {entry['event_type']:<32} {entry['source']:<9} {entry['actor'] or ''}")


def cmd_reminders(args):
    filters = {"due_from": args.due_from, "due_to": args.due_to, "kind": args.kind, "project_id": args.project_id}
    found = call("planning", "list_reminders", args.org, page=args.page, **filters)
    for r in found["items"]:
        print(f"  {r['due_on']}  {r['kind']:<28} {r['project_id'] or '—':<18} {r['owner_org']:<12} {r['subject']}")
    shown = len(found["items"])
    print(f"{shown} of {found['total']} reminder(s), page {args.page}")


def cmd_deploy(args):
    from kombu import Connection

    from nxshared.topology import deploy_installed, queue_type_setting

    with Connection(amqp_uri(operator=True)) as conn:
        declared = deploy_installed(conn, queue_type_setting())
    for sub in declared:
        print(f"declared {sub.queue_name} (+ retry and .dead queues) for {sub.describe()}")


def cmd_dead_letters(args):
    from kombu import Connection

    from nxshared.discovery import installed_services
    from nxshared.topology import dead_queue, installed_subscriptions, replay_dead_letters, rpc_dead_queue

    subscriptions = installed_subscriptions()

    with Connection(amqp_uri(operator=True)) as conn:
        if args.replay:
            sub = next((s for s in subscriptions if s.queue_name == args.replay), None)
            if sub is None:
                sys.exit(
                    f"no subscriber queue {args.replay}; see `nx dead-letters` (parked RPC requests are not replayed)"
                )
            print(f"{sub.dead_queue_name}: {replay_dead_letters(conn, sub)} event(s) sent back to {sub.queue_name}")
            return
        channel = conn.channel()
        parked = [dead_queue(sub) for sub in subscriptions]
        parked += [rpc_dead_queue(service.name) for service in installed_services()]
        for queue in parked:
            _, count, _ = queue(channel).queue_declare(passive=True)
            print(f"{queue.name}: {count}")


def cmd_enroll(args):
    import requests

    from nxshared import broker_access as broker
    from nxshared.secrets import broker_password, secrets_file

    try:
        user = broker.client_user(args.name)
    except ValueError as exc:
        sys.exit(f"nx enroll: {exc}")
    grant = broker.client_grant(broker.installed_services_names(), name=args.name)
    password = broker_password(user, secrets_file())
    try:
        broker.management_api().apply([grant], {user: password}, broker.broker_vhost())
    except requests.RequestException as exc:
        sys.exit(
            f"nx enroll: 无法通过管理接口设置消息代理 / cannot set up the broker through its management API: {exc}"
        )
    host, port = os.environ.get("NX_BROKER_HOST", "127.0.0.1"), int(os.environ.get("NX_BROKER_PORT", "5672"))
    path = secrets_file().parent / "clients" / f"{args.name}.env"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(
            f"# departmental system {args.name}: nameko ClusterRpcProxy settings (keep secret)\n"
            f"AMQP_URI={broker.amqp_uri(user, password, host, port, broker.broker_vhost())}\n"
            f"rpc_exchange={grant.rpc_exchange}\n"
        )
    limits = ", ".join(f"{name} {value}" for name, value in grant.limits)
    print(f"enrolled {user}: calls on its own exchange {grant.rpc_exchange} ({limits})")
    print(f"its settings (with its password) are in {path} (0600): hand them over by a secure channel")


def cmd_demo(args):
    from nxshared.demo import run_demo

    run_demo(Client, print_step=lambda text: print(text, flush=True))


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="nx", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("token", help="a token for an org, signed by the local issuer")
    p.add_argument("org_positional", nargs="?", metavar="ORG")
    p.add_argument("--org")
    p.add_argument("--sub", default="operator")
    p.add_argument("--ttl", type=int, default=3600, help="seconds (60..43200)")
    p.set_defaults(func=cmd_token)
    p = sub.add_parser("keys", help="the local issuer's signing keys")
    p.add_argument("action", choices=["init", "rotate", "retire", "list"])
    p.add_argument("kid", nargs="?")
    p.set_defaults(func=cmd_keys)
    p = sub.add_parser("call", help="call an RPC method")
    p.add_argument("service")
    p.add_argument("method")
    p.add_argument("json", nargs="?", help='keyword arguments as a JSON object, e.g. \'{"project_id": "prj-…"}\'')
    p.add_argument("--org", required=True)
    p.set_defaults(func=cmd_call)
    p = sub.add_parser("timeline", help="print a project's timeline")
    p.add_argument("project_id")
    p.add_argument("--org", default="smart_office")
    p.set_defaults(func=cmd_timeline)
    p = sub.add_parser("reminders", help="what the services' daily timers found due (reminder.due), by due day")
    p.add_argument("--from", dest="due_from", metavar="YYYY-MM-DD", help="due on or after this day")
    p.add_argument("--to", dest="due_to", metavar="YYYY-MM-DD", help="due on or before this day")
    p.add_argument("--kind", help="e.g. om_ending, review_overdue, declaration_window_closing")
    p.add_argument("--project", dest="project_id")
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--org", default="smart_office")
    p.set_defaults(func=cmd_reminders)
    sub.add_parser("deploy", help="declare exchanges, queues and bindings").set_defaults(func=cmd_deploy)
    p = sub.add_parser("dead-letters", help="count parked events, or send one subscriber's back")
    p.add_argument("--replay", metavar="QUEUE", help="e.g. nx.planning.record_timeline: retry its parked events")
    p.set_defaults(func=cmd_dead_letters)
    p = sub.add_parser("enroll", help="enrol a departmental system (its broker user and RPC exchange)")
    p.add_argument("name", help="e.g. edu: the user nx-client-edu, the exchange nx-client-edu.rpc")
    p.set_defaults(func=cmd_enroll)
    sub.add_parser("demo", help="drive a sample project").set_defaults(func=cmd_demo)
    args = parser.parse_args(argv)
    from nameko.exceptions import RpcTimeout, UnknownService

    from nxshared.issuer import IssuerError
    from nxshared.rpcclient import LINK_ERRORS, BrokerUnavailable

    try:
        args.func(args)
    except IssuerError as exc:
        sys.exit(f"nx: {exc}")
    except BrokerUnavailable as exc:
        sys.exit(f"nx: {exc}")
    except RpcTimeout as exc:
        sys.exit(
            f"nx: 等待回复超时（{exc} 秒），服务可能未运行（make status） / no reply within {exc} s: is the service running?"
        )
    except UnknownService as exc:
        name = exc._service_name
        sys.exit(f"nx: 服务 {name} 未运行 / the {name} service is not running (make status)")
    except LINK_ERRORS as exc:  # nx deploy, nx dead-letters: their own connection
        sys.exit(f"nx: 无法连接消息代理，请确认 RabbitMQ 正在运行 / cannot reach the broker: {exc}")


if __name__ == "__main__":
    main()
