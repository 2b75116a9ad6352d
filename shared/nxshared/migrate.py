"""``python -m nxshared.migrate <service directory> [--to REVISION]``: bring the service's database to
its head revision (or to ``REVISION``) and exit.

Kubernetes runs it as each service's migration Job (deploy/k8s) before the new release's pods roll
out, so that two replicas never start on a database that is still being migrated; the runner
(``nxshared.runner``) applies the same migrations at start, a no-op once the Job has run.

Taking a service back to a previous release is the other way round: the *current* release's
migrations undo themselves (``--to`` the previous release's head revision, which they know and the
previous release's code does not know theirs), then the previous release starts on that schema
(README, "Rolling upgrades")."""

import argparse
import logging
from pathlib import Path

from nxshared.db import migrate
from nxshared.settings import load_settings


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m nxshared.migrate", description=__doc__.splitlines()[0])
    parser.add_argument("service_dir", type=Path, help="the service's folder (its config.yaml and migrations/)")
    parser.add_argument("--to", default="head", help="the revision to reach, up or down (default: head)")
    args = parser.parse_args(argv)
    config = load_settings(args.service_dir)
    logging.basicConfig(level=config.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("nxshared.migrate")
    where = str(config["DATABASE_URL"]).split("@")[-1]
    log.info("migrating %s (%s) to %s", config["SERVICE_NAME"], where, args.to)
    migrate(config["DATABASE_URL"], args.service_dir / "migrations", to=args.to)
    if args.to == "head":
        log.info("%s's database is at its head revision", config["SERVICE_NAME"])
    else:
        log.info("%s's database is at revision %s", config["SERVICE_NAME"], args.to)


if __name__ == "__main__":
    main()
