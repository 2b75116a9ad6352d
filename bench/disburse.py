"""Latency of finance's ``disburse`` beside a bare nameko echo RPC, in the same run.

    .venv/bin/python bench/disburse.py [N]

The suite (every installed service, as `make up` starts it, on SQLite) and the echo baseline run as
separate processes on a private RabbitMQ virtual host; the client is this process. One project is
driven through the contract to a registered contract, then paid ``N`` times one yuan, each payment
beside one echo (alternating, so a busy machine slows both alike). Each payment locks the project's
ledger row, checks the running total against the budget, records the disbursement and its
``funds.disbursed`` event in one transaction. Prints p50/p99 of both and their ratios as JSON.
"""

import nxshared  # noqa: F401,I001
import eventlet

eventlet.monkey_patch()  # noqa: E402

import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from common import Callers, Suite, baseline, summary, vhost  # noqa: E402
from nameko.exceptions import RemoteError  # noqa: E402
from nameko.testing.utils import find_free_port  # noqa: E402

from nxshared.demo import pass_review, sample_project  # noqa: E402
from nxshared.discovery import installed_services  # noqa: E402

YEAR = 2026  # the suite runs on 2026-12-15: a supplementary project is for the current year
ESTIMATE = "1000000.00"  # a center-opinion review: the shortest way to an approval
NOT_HEARD_YET = ("NOT_IN_ANNUAL_PLAN", "APPROVAL_NOT_GRANTED")


def until(step, accept=bool, timeout=60):
    """Ask again while the answer is not yet there (events take a moment to reach the next bureau)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = step()
            if accept(result):
                return result
        except RemoteError as exc:
            if not exc.value.startswith(NOT_HEARD_YET) or time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise TimeoutError("the suite did not get there in time")
        time.sleep(0.2)


def side_by_side(echo, call, n, warmup=10):
    """Alternate one echo and one call, ``n`` times each (after a warm-up), so that a busy machine
    slows both sides alike; the seconds each took."""
    for _ in range(warmup):
        echo()
        call()
    echoes, calls = [], []
    for _ in range(n):
        for fn, samples in ((echo, echoes), (call, calls)):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
    return echoes, calls


def contracted_project(rpc, contract_no="HT-BENCH-1"):
    """A supplementary project (Art 9: no annual plan is approved, so other benches may still
    declare for the coming year) driven from its declaration to a registered contract numbered
    ``contract_no`` (a number names one contract); its id."""
    project = sample_project(YEAR)
    project.update(estimated_investment=ESTIMATE, annual_investments=[{"year": YEAR, "amount": ESTIMATE}])
    pid = rpc("unit:edu").planning.declare_project(project=project)["project_id"]
    rpc("smart_office").planning.review_supplementary(project_id=pid, decision="approve", opinion="同意")
    rpc("county_gov").planning.approve_supplementary(project_id=pid)
    plan_doc = {"title": "建设方案", "document_ref": "DOC-BENCH", "budget": ESTIMATE}
    review = until(lambda: rpc("unit:edu").review.submit_construction_plan(project_id=pid, plan=plan_doc))
    pass_review(
        lambda org, service, method, **kw: getattr(getattr(rpc(org), service), method)(**kw),
        pid,
        review["review_id"],
        "通过",
    )
    until(lambda: rpc("unit:edu").approval.apply_for_approval(project_id=pid, approval_type="approve"))
    until(lambda: rpc("drc").approval.get_approval(project_id=pid), lambda a: a["status"] == "ready")
    rpc("drc").approval.grant_approval(project_id=pid, opinion="同意立项")
    finance = rpc("finance").finance
    until(lambda: finance.review_budget(project_id=pid, approved_amount=ESTIMATE, opinion="同意"))
    procurement = {"method": "open_tender", "supplier": "某科技公司", "amount": ESTIMATE, "date": "2027-01-10"}
    rpc("unit:edu").finance.register_procurement(project_id=pid, procurement=procurement)
    contract = {"contract_no": contract_no, "vendor": "某科技公司", "amount": ESTIMATE, "om_years": 3}
    rpc("unit:edu").finance.register_contract(project_id=pid, contract={**contract, "source_code_owner": "unit"})
    return pid


def on_free_ports(suite):
    """The suite on ports free now: another run on this machine may hold the fixed ones, and its
    health pages would pass for ours."""
    for name in suite.names:
        port = find_free_port()
        suite.ports[name] = port
        suite.environ[f"NX_{name.upper()}_OPS_ADDRESS"] = f"127.0.0.1:{port}"
    return suite


def main(n):
    names = [service.name for service in installed_services()]
    with tempfile.TemporaryDirectory() as tmp, vhost() as amqp_uri:
        work = Path(tmp)
        callers = Callers(amqp_uri)
        try:
            with baseline(amqp_uri, work / "echo"), on_free_ports(Suite(amqp_uri, work, names)):
                pid = contracted_project(callers.get)
                proxy = callers.get("finance")
                echo, disburse = side_by_side(
                    lambda: proxy.bench_echo.echo("x"),
                    lambda: proxy.finance.disburse(project_id=pid, amount="1.00", purpose="基准测试"),
                    n,
                )
        finally:
            callers.close()
    echo_s, disburse_s = summary(echo), summary(disburse)
    report = {
        "baseline_echo": echo_s,
        "disburse": disburse_s,
        "ratio_p50": disburse_s["p50_ms"] / echo_s["p50_ms"],
        "ratio_p99": disburse_s["p99_ms"] / echo_s["p99_ms"],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
