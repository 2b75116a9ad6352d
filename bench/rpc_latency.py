"""RPC latency of planning's declare_project beside a bare nameko echo RPC, in the same run.

    .venv/bin/python bench/rpc_latency.py [N]

Both run as separate processes on a private RabbitMQ virtual host; the client is this process.
Reports p50/p99 and their ratio to the baseline, and the planning process's resident memory.
"""

import nxshared  # noqa: F401,I001
import eventlet

eventlet.monkey_patch()  # noqa: E402

import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from common import SECRET, baseline, rss_mb, suite, summary, timed, vhost  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from nxshared.auth import mint_token  # noqa: E402
from nxshared.demo import sample_project  # noqa: E402


def declaration():
    project = sample_project(2027)
    project.update(
        plan_type="annual", higher_level_requirement=None, annual_investments=[{"year": 2027, "amount": "2500000.00"}]
    )
    return project


def main(n):
    with tempfile.TemporaryDirectory() as tmp, vhost() as amqp_uri:
        work = Path(tmp)
        with baseline(amqp_uri, work), suite(amqp_uri, work, ["planning"]):
            context = {"authorization": "Bearer " + mint_token(SECRET, "unit:edu", "bench")}
            with ClusterRpcProxy({"AMQP_URI": amqp_uri}, context_data=context, timeout=30) as cluster:
                echo = timed(lambda: cluster.bench_echo.echo("x"), n)
                project = declaration()
                declare = timed(lambda: cluster.planning.declare_project(project=project), n)
            pid = int((work / "run" / "planning.pid").read_text())
            report = {
                "baseline_echo": summary(echo),
                "declare_project": summary(declare),
                "ratio_p50": summary(declare)["p50_ms"] / summary(echo)["p50_ms"],
                "ratio_p99": summary(declare)["p99_ms"] / summary(echo)["p99_ms"],
                "planning_rss_mb": rss_mb(pid),
            }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
