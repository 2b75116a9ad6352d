"""The suite's first hand-off, measured: review commits `passed` → approval's handler committed,
beside a bare nameko event hop (EventDispatcher → event_handler) in the same run; and the
end-to-end time of one project from declaration to approval.

    .venv/bin/python bench/event_hop.py [PROJECTS]

Hop times come from the services' own tables: review's outbox row (written in the transaction
that concluded the review) and approval's inbox row (written in the transaction that applied it).
"""

import nxshared  # noqa: F401,I001
import eventlet

eventlet.monkey_patch()  # noqa: E402

import datetime as dt  # noqa: E402
import json  # noqa: E402
import sqlite3  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from common import SECRET, baseline, suite, summary, vhost  # noqa: E402
from nameko.exceptions import RemoteError  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from nxshared.auth import mint_token  # noqa: E402
from nxshared.demo import sample_project  # noqa: E402

SERVICES = ["planning", "review", "approval"]


class Orgs:
    def __init__(self, amqp_uri):
        self.amqp_uri = amqp_uri
        self.proxies = {}

    def __call__(self, org, service, method, **kwargs):
        if org not in self.proxies:
            context = {"authorization": "Bearer " + mint_token(SECRET, org, "bench")}
            proxy = ClusterRpcProxy({"AMQP_URI": self.amqp_uri}, context_data=context, timeout=30)
            self.proxies[org] = (proxy, proxy.start())
        return getattr(getattr(self.proxies[org][1], service), method)(**kwargs)

    def close(self):
        for proxy, _ in self.proxies.values():
            proxy.stop()


def poll(step, accept, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = step()
            if accept(result):
                return result
        except RemoteError as exc:
            if "NOT_IN_ANNUAL_PLAN" not in exc.value:
                raise
        time.sleep(0.005)
    raise TimeoutError("the suite did not get there in time")


def one_project(rpc):
    """Declaration to granted approval, through every bureau; returns the review id."""
    project = sample_project(2026)
    project.update(estimated_investment="1000000.00", annual_investments=[{"year": 2026, "amount": "1000000.00"}])
    pid = rpc("unit:edu", "planning", "declare_project", project=project)["project_id"]
    rpc("smart_office", "planning", "review_supplementary", project_id=pid, decision="approve", opinion="同意")
    rpc("county_gov", "planning", "approve_supplementary", project_id=pid)
    poll(lambda: rpc("unit:edu", "approval", "apply_for_approval", project_id=pid, approval_type="approve"), bool)
    plan = {"title": "建设方案", "document_ref": "D", "budget": "1000000.00"}
    review = poll(lambda: rpc("unit:edu", "review", "submit_construction_plan", project_id=pid, plan=plan), bool)
    rpc("data_center", "review", "conclude_review", review_id=review["review_id"], verdict="passed", opinion="通过")
    poll(lambda: rpc("drc", "approval", "get_approval", project_id=pid), lambda a: a["status"] == "ready")
    rpc("drc", "approval", "grant_approval", project_id=pid, opinion="同意")
    return review["review_id"]


def parse(ts):
    value = dt.datetime.fromisoformat(ts)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def hop_seconds(work):
    """review.passed: review's outbox row → approval's inbox row, per event."""
    with sqlite3.connect(work / "review.db") as review, sqlite3.connect(work / "approval.db") as approval:
        emitted = dict(review.execute("SELECT event_id, created_at FROM outbox WHERE event_type = 'review.passed'"))
        applied = dict(
            approval.execute(
                "SELECT event_id, processed_at FROM inbox WHERE event_type = 'review.passed' AND handler = 'on_review_concluded'"
            )
        )
    return [(parse(applied[e]) - parse(emitted[e])).total_seconds() for e in emitted if e in applied]


def main(projects):
    with tempfile.TemporaryDirectory() as tmp, vhost() as amqp_uri:
        work = Path(tmp)
        with baseline(amqp_uri, work), suite(amqp_uri, work, SERVICES):
            rpc = Orgs(amqp_uri)
            try:
                for _ in range(3):
                    rpc("unit:edu", "bench_echo", "emit")  # warm-up, not counted
                lifetimes = []
                for _ in range(projects):
                    start = time.perf_counter()
                    one_project(rpc)
                    lifetimes.append(time.perf_counter() - start)
                for _ in range(projects):
                    rpc("unit:edu", "bench_echo", "emit")
                    time.sleep(0.02)
                bare = poll(lambda: rpc("unit:edu", "bench_listener", "hops"), lambda h: len(h) >= projects + 3)[3:]
            finally:
                rpc.close()
            hops = hop_seconds(work)
    report = {
        "baseline_bare_nameko_event_hop": summary(bare),
        "review_passed_to_approval_committed": summary(hops),
        "ratio_p50": summary(hops)["p50_ms"] / summary(bare)["p50_ms"],
        "ratio_p99": summary(hops)["p99_ms"] / summary(bare)["p99_ms"],
        "declaration_to_approval": summary(lifetimes),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
