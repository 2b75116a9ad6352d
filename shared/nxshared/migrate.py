"""``python -m nxshared.migrate <service directory>``: apply the service's migrations and exit.

Kubernetes runs it as each service's migration Job (deploy/k8s) before the new release's pods roll
out, so that two replicas never start on a database that is still being migrated; the runner
(``nxshared.runner``) applies the same migrations at start, a no-op once the Job has run."""

import logging
import sys
from pathlib import Path

from nxshared.db import migrate
from nxshared.settings import load_settings


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python -m nxshared.migrate <service directory>")
    service_dir = Path(argv[0])
    config = load_settings(service_dir)
    logging.basicConfig(level=config.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    where = str(config["DATABASE_URL"]).split("@")[-1]
    logging.getLogger("nxshared.migrate").info("migrating %s (%s)", config["SERVICE_NAME"], where)
    migrate(config["DATABASE_URL"], service_dir / "migrations")
    logging.getLogger("nxshared.migrate").info("%s's database is at its head revision", config["SERVICE_NAME"])


if __name__ == "__main__":
    main()
