"""Broker users and permissions per party (``nxshared.broker_access``), idempotently.

    python deploy/broker_setup.py                  apply to the local broker (management API)
    python deploy/broker_setup.py --definitions F  write a RabbitMQ definitions file instead
                                                   (for a production broker: rabbitmqctl import_definitions F)
    python deploy/broker_setup.py --compose        for docker compose: .data/rabbitmq-definitions.json and
                                                   .data/compose.env (the services' broker passwords), both
                                                   0600, and the token issuer's keys (nx keys init)
    python deploy/broker_setup.py --table          print the permission table (user → configure/write/read)
    python deploy/broker_setup.py --write-readme   rewrite that table in the README

Passwords are generated once into the local secrets file (``nxshared.secrets``), never printed.
Settings: ``NX_BROKER_ADMIN_URL`` (default ``http://guest:guest@127.0.0.1:15672``, the local broker's
administrator, usable from this machine only), ``NX_BROKER_VHOST`` (default ``nx``).
"""

import json
import os
import sys
from pathlib import Path

from nxshared.broker_access import (
    OPERATOR_USER,
    broker_vhost,
    definitions,
    enrolled_clients,
    installed_grants,
    installed_sources,
    management_api,
)
from nxshared.issuer import Issuer
from nxshared.secrets import broker_password, secrets_file

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- broker-permissions:start -->", "<!-- broker-permissions:end -->"


def passwords(grants):
    return {g.user: broker_password(g.user, secrets_file()) for g in grants}


def table(grants):
    lines = ["| user | configure | write | read | its own RPC exchange, limits |", "|---|---|---|---|---|"]
    cell = lambda pattern: "`" + pattern.replace("|", "\\|") + "`"  # noqa: E731
    lines += [
        f"| `{g.user}` | {cell(g.configure)} | {cell(g.write)} | {cell(g.read)} | {own_exchange_and_limits(g)} |"
        for g in grants
    ]
    return "\n".join(lines)


def own_exchange_and_limits(grant):
    if not grant.rpc_exchange:
        return ""
    limits = ", ".join(f"{name} {value}" for name, value in grant.limits)
    return f"`{grant.rpc_exchange}` (calls `*.*` → `nameko-rpc`, replies `*` ←); {limits}"


def readme_with_table(text, grants):
    before, _, rest = text.partition(START)
    _, _, after = rest.partition(END)
    return f"{before}{START}\n{table(grants)}\n{END}{after}"


def apply(grants):
    management_api().apply(grants, passwords(grants), broker_vhost())


def write_private(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    print(f"wrote {path}")


def compose_env(grants):
    """The variables docker-compose.yml needs: each service's broker password. (Tokens: the
    services mount the issuer's public set, .data/jwks.json, which ``nx keys init`` writes.)"""
    lines = []
    for g in grants:
        if g.rpc_exchange is None and g.user != OPERATOR_USER:
            service = g.user.removeprefix("nx-")
            lines.append(f"NX_BROKER_PASSWORD_{service.upper()}={broker_password(g.user, secrets_file())}")
    return "\n".join(lines) + "\n"


def every_grant():
    """The installed services' parties and every departmental system enrolled here."""
    return installed_grants(clients=enrolled_clients(secrets_file()))


def main(argv):
    grants = installed_grants() if argv in (["--table"], ["--write-readme"]) else every_grant()
    if argv[:1] == ["--definitions"] and len(argv) == 2:
        write_private(
            argv[1], json.dumps(definitions(grants, passwords(grants), broker_vhost(), installed_sources()), indent=2)
        )
    elif argv == ["--compose"]:
        write_private(
            ".data/rabbitmq-definitions.json",
            json.dumps(definitions(grants, passwords(grants), "nx", installed_sources()), indent=2),
        )
        write_private(".data/compose.env", compose_env(grants))
        if Issuer(secrets_file()).init():
            print("wrote the token issuer's key pair (.data/issuer-keys.json 0600, public .data/jwks.json)")
    elif argv == ["--table"]:
        print(table(grants))
    elif argv == ["--write-readme"]:
        README.write_text(readme_with_table(README.read_text(encoding="utf-8"), grants), encoding="utf-8")
    elif not argv:
        apply(grants)
        print(f"broker: {len(grants)} users with their permissions in vhost {broker_vhost()}")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
