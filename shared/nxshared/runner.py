"""Start one service: ``python -m nxshared.runner services/planning``.

Loads the service's ``config.yaml`` with ``NX_*`` overrides, applies its migrations, then runs it
in the foreground until SIGTERM or Ctrl-C.
"""

import nxshared  # noqa: F401,I001  (silences eventlet's import-time warning)
import eventlet

eventlet.monkey_patch()  # noqa: E402  (must precede every other import)

import importlib  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")

from nameko.cli.run import run  # noqa: E402

from nxshared.db import migrate  # noqa: E402
from nxshared.keys import KeySetError, TrustedKeys  # noqa: E402
from nxshared.settings import load_settings  # noqa: E402
from nxshared.topology import queue_type_setting  # noqa: E402


def load_service_class(path):
    module_name, _, class_name = path.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python -m nxshared.runner <service directory>")
    service_dir = Path(argv[0])
    config = {**queue_type_setting(), **load_settings(service_dir)}
    logging.basicConfig(
        level=config.get("LOG_LEVEL", "INFO"),
        format=f"%(asctime)s {config['SERVICE_NAME']} %(levelname)s %(name)s: %(message)s",
    )
    log = logging.getLogger("nxshared.runner")
    try:  # what Auth.setup reads: said in one line here, not in a traceback from inside nameko
        TrustedKeys.from_config(config)
    except KeySetError as exc:
        raise SystemExit(f"{config['SERVICE_NAME']} does not start: {exc}") from None
    log.info("migrating %s", config["DATABASE_URL"].split("@")[-1])
    migrate(config["DATABASE_URL"], service_dir / "migrations")
    service_cls = load_service_class(config["SERVICE_CLASS"])
    log.info("starting %s: metrics http://%s/metrics", config["SERVICE_NAME"], config["WEB_SERVER_ADDRESS"])
    run([service_cls], config)


if __name__ == "__main__":
    main()
