"""Audit on a real broker (Art 26–27): a project driven through all six services by their rules, from
its declaration to a closed audit case. Audit's trail holds every event planning's timeline holds,
chained and verified; the anomalies are none; an outsider re-checks the trail from what get_trail
returns; the project's stage becomes ``audited``. The time from declaration to the closed case is
printed, and the trail's verification at that size."""

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nameko.exceptions import RemoteError

from .conftest import ROOT, wait_for
from .flows import stage_becomes
from .test_acceptance_e2e import TODAY, accept, approve, center_review, contract, declare, supervise_and_test

pytestmark = pytest.mark.e2e
ALL = ("planning", "review", "approval", "finance", "security", "audit")


def outsider_first_bad(entries):
    prev = "0" * 64
    for n, entry in enumerate(entries, start=1):
        body = {k: v for k, v in entry.items() if k != "hash"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if (
            entry["seq"] != n
            or entry["prev_hash"] != prev
            or hashlib.sha256(text.encode()).hexdigest() != entry["hash"]
        ):
            return n
        prev = entry["hash"]
    return None


def whole_trail(suite, pid, org="audit"):
    entries, after = [], 0
    while True:
        page = suite.rpc(org, "audit", "get_trail", project_id=pid, after_seq=after, limit=20)
        entries.extend(page)
        if len(page) < 20:
            return entries
        after = page[-1]["seq"]


def open_case_of(suite, pid):
    cases = suite.rpc("audit", "audit", "list_cases", status="open")
    return next((c for c in cases if c["project_id"] == pid), None)


def test_a_project_from_declaration_to_a_closed_audit_case(suite):
    suite.up(*ALL, NX_AUDIT_CHECKPOINT_SECONDS="1")
    started = time.monotonic()
    pid = declare(
        suite, "800000.00", name="县会议室视频终端采购", custom_software=False, hosted_on_big_data_center=False
    )
    center_review(suite, pid, "800000.00")
    approve(suite, pid)
    contract(suite, pid, "780000.00")
    suite.rpc("finance", "finance", "disburse", project_id=pid, amount="234000.00", purpose="合同首付款（30%）")
    wait_for(
        lambda: (
            [u["code"] for u in suite.rpc("unit:edu", "review", "get_acceptance_readiness", project_id=pid)["unmet"]]
            == ["supervisor", "product"]
        ),
        what="review to hear the contract",
    )
    supervise_and_test(suite, pid, ["product"])
    accept(suite, pid)

    case = wait_for(lambda: open_case_of(suite, pid), what="audit to open the case on the acceptance")
    assert case["accepted_on"] == TODAY and case["findings"] == []
    assert suite.rpc("audit", "audit", "list_anomalies", project_id=pid) == []
    suite.rpc(
        "audit", "audit", "record_finding", case_id=case["case_id"], severity="low", description="验收资料归档不全"
    )
    closed = suite.rpc("audit", "audit", "close_case", case_id=case["case_id"], conclusion="资金使用合规")
    assert closed["status"] == "closed" and [f["severity"] for f in closed["findings"]] == ["low"]
    stage_becomes(suite, pid, "audited")
    seconds = time.monotonic() - started

    timeline = suite.rpc("smart_office", "planning", "get_timeline", project_id=pid)["events"]
    wanted = {e["event_id"] for e in timeline}
    trail = wait_for(
        lambda: (t := whole_trail(suite, pid)) and wanted <= {e["event_id"] for e in t} and t,
        what="audit's trail to hold every event of the timeline",
    )
    assert {e["event_id"] for e in trail} == wanted  # the same events, each once
    assert {"audit.opened", "audit.closed", "funds.disbursed", "acceptance.passed"} <= {e["event_type"] for e in trail}
    assert outsider_first_bad(trail) is None
    checked = time.monotonic()
    verified = suite.rpc("audit", "audit", "verify_trail", project_id=pid)
    took = time.monotonic() - checked
    assert (verified["ok"], verified["entries"], verified["first_bad"]) == (True, len(trail), None)
    assert verified["head"] == trail[-1]["hash"]
    assert whole_trail(suite, pid, "unit:edu") == trail  # the owner reads the same trail
    with pytest.raises(RemoteError) as refused:
        suite.rpc("unit:health", "audit", "get_trail", project_id=pid)
    assert refused.value.exc_type == "NotFound"
    assert suite.rpc("audit", "audit", "list_anomalies") == []
    checkpoint = wait_for(
        lambda: (c := suite.rpc("audit", "audit", "get_checkpoint")) and c, timeout=30, what="a checkpoint"
    )
    assert len(checkpoint["root"]) == 64
    print(
        f"\naudit e2e: 800,000.00 hardware purchase from declaration to a closed audit case in {seconds:.2f} s; "
        f"its trail of {len(trail)} entries verified over RPC in {took * 1000:.1f} ms"
    )


def test_nx_demo_drives_its_project_to_a_closed_case(suite):
    suite.up(*ALL)
    nx = Path(sys.executable).with_name("nx")
    done = subprocess.run([str(nx), "demo"], env=suite.env, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert f"accepted on {TODAY}" in done.stdout
    assert "anomalies on the trail: 0" in done.stdout
    assert "audit case closed with 1 finding(s)" in done.stdout
    assert "stage audited" in done.stdout
    assert "ok True" in done.stdout.split("verify_trail", 1)[1], done.stdout
