"""A focused run of the portal's pages at scale (issue 22): planning alone, on SQLite and then on
PostgreSQL, bulk-loaded to each size (bench/bulk_load.py), and the p50 of ``/portal/``,
``/public/oc4ids/projects`` and ``/public/ocds/releases`` beside ``/public/projects`` and
``list_projects`` measured in the same run, as ``make bench`` reports them (section 6).

    .venv/bin/python bench/portal_pages.py [SIZE ...]     (default: 100000)
"""

import nxshared  # noqa: F401,I001
import eventlet

eventlet.monkey_patch()  # noqa: E402

import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from common import Callers, Suite, drop_postgres_databases, fresh_postgres_databases, vhost  # noqa: E402
from nameko.testing.utils import find_free_port  # noqa: E402
from run import FULL, capped_cell, first_project, lists_at_scale, portal_row  # noqa: E402

PG_PREFIX = "nxportalbench"


def on_free_ports(suite):
    """Every address of the suite (ops, public side's ops, public) on a port free now: another run
    on this machine may hold the fixed ones."""
    for name in list(suite.ports):
        suite.ports[name] = find_free_port()
        suite.environ[
            f"NX_{name.removesuffix('-public').upper()}_{'PUBLIC_' if name.endswith('-public') else ''}OPS_ADDRESS"
        ] = f"127.0.0.1:{suite.ports[name]}"
    for name in suite.public_ports:
        suite.public_ports[name] = find_free_port()
        suite.environ[f"NX_{name.upper()}_PUBLIC_ADDRESS"] = f"127.0.0.1:{suite.public_ports[name]}"
    return suite


def measure(sizes):
    cfg = {**FULL, "sizes": sizes}
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in ("sqlite", "postgresql"):
            url = fresh_postgres_databases(["planning"], PG_PREFIX) if backend == "postgresql" else None
            with vhost() as amqp_uri:
                rpc = Callers(amqp_uri)
                try:
                    with on_free_ports(Suite(amqp_uri, Path(tmp) / backend, ["planning"], database_url=url)) as suite:
                        first_project(suite, rpc)
                        report[backend] = lists_at_scale(suite, rpc, cfg)
                finally:
                    rpc.close()
                    if url:
                        drop_postgres_databases(["planning"], PG_PREFIX)
    return report


def main(argv):
    sizes = tuple(int(a) for a in argv) or (100_000,)
    report = measure(sizes)
    print(json.dumps(report, indent=2, default=str))
    for backend, lists in report.items():
        for size, m in lists.items():
            if size == "planning_rss_mb":
                continue
            print(
                f"| `list_projects` / `/public/projects` p50, {m['projects']:,} projects, {backend} | "
                f"{capped_cell(m['list_projects'])} / {capped_cell(m['public_projects'])} | | ≤ 15 ms at 100,000 |"
            )
            print(portal_row(m, size, backend))


if __name__ == "__main__":
    main(sys.argv[1:])
