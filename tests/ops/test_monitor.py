"""``make monitor`` against a running suite: the real services (as ``make up`` starts them, on a
fresh virtual host) and Debian's Prometheus and Alertmanager started by deploy/monitor.py, scraping
every second. Every process is scraped, every dashboard panel's and alert rule's expression is
accepted by Prometheus's query API, and a service that is stopped is seen down: its NxServiceDown
alert fires (its ``for: 1m`` included) and reaches Alertmanager. About 90 s."""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from nameko.testing.utils import find_free_port

from tests.e2e.conftest import Suite
from tests.ops.test_prometheus import alerting_rules

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy" / "grafana"))

import dashboards  # noqa: E402

pytestmark = pytest.mark.skipif(
    shutil.which("prometheus") is None or shutil.which("prometheus-alertmanager") is None,
    reason="Prometheus or Alertmanager is not installed (Debian's prometheus and prometheus-alertmanager "
    "packages: `bash deploy/ensure-prometheus.sh` as root)",
)

STOPPED = "finance"


def get(url):
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def query(prometheus, expr):
    return get(f"http://{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))


def wait_for(probe, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.5)


@pytest.fixture
def monitored(rabbit_config, tmp_path):
    suite = Suite(rabbit_config["AMQP_URI"], tmp_path, today="2026-12-15")
    env = {
        **suite.env,
        "NX_PROMETHEUS_ADDRESS": f"127.0.0.1:{find_free_port()}",
        "NX_ALERTMANAGER_ADDRESS": f"127.0.0.1:{find_free_port()}",
        "NX_MONITOR_SCRAPE_INTERVAL": "1s",
        "NX_MONITOR_EVALUATION_INTERVAL": "1s",
        "NX_MONITOR_DATA_DIR": str(tmp_path / "monitor-data"),
    }
    monitor = [sys.executable, str(ROOT / "deploy" / "monitor.py")]
    try:
        began = time.monotonic()
        suite.up()
        print(f"suite up in {time.monotonic() - began:.0f} s")
        started = subprocess.run([*monitor, "up"], env=env, cwd=ROOT, capture_output=True, text=True)
        assert started.returncode == 0, started.stdout + started.stderr
        print(started.stdout)
        yield suite, env["NX_PROMETHEUS_ADDRESS"], env["NX_ALERTMANAGER_ADDRESS"]
    finally:
        subprocess.run([*monitor, "down"], env=env, cwd=ROOT, check=False)
        began = time.monotonic()
        suite.close()
        print(f"suite down in {time.monotonic() - began:.0f} s")


@pytest.mark.timeout(240)
def test_prometheus_scrapes_every_process_and_sees_a_stopped_service_down(monitored):
    suite, prometheus, alertmanager = monitored
    processes = set(suite.ports)

    def all_up():
        targets = get(f"http://{prometheus}/api/v1/targets")["data"]["activeTargets"]
        health = {t["labels"]["process"]: t["health"] for t in targets}
        return set(health) == processes and all(h == "up" for h in health.values())

    wait_for(all_up, 30, f"every process scraped: {sorted(processes)}")
    # the outbox and business gauges are read at each scrape
    for expr in ("nx_outbox_backlog", "nx_finance_contracts_om_ending_soon", "nx_security_overdue"):
        assert query(prometheus, expr)["data"]["result"], expr

    stopped_at = time.monotonic()
    suite.down(STOPPED)
    print(f"{STOPPED} stopped in {time.monotonic() - stopped_at:.0f} s")

    # while its alert's minute runs: every expression of the dashboards and the rules is one the
    # running Prometheus accepts
    expressions = [e for board in dashboards.dashboards().values() for e in dashboards.expressions(board)]
    expressions += [rule["expr"] for rule in alerting_rules()]
    for expr in expressions:
        answer = query(prometheus, expr)
        assert answer["status"] == "success", (expr, answer)

    def firing():
        alerts = get(f"http://{prometheus}/api/v1/alerts")["data"]["alerts"]
        return [
            a
            for a in alerts
            if a["labels"]["alertname"] == "NxServiceDown"
            and a["labels"]["process"] == STOPPED
            and a["state"] == "firing"
        ]

    [alert] = wait_for(firing, 100, f"NxServiceDown firing for {STOPPED}")
    print(
        f"firing {time.monotonic() - stopped_at:.0f} s after {STOPPED} stopped:", json.dumps(alert, ensure_ascii=False)
    )
    assert alert["labels"]["severity"] == "critical" and alert["labels"]["service"] == STOPPED
    assert alert["annotations"]["summary"].startswith(f"{STOPPED} is down")
    # only the stopped service is down
    down = query(prometheus, 'up{job="nx"} == 0')["data"]["result"]
    assert [r["metric"]["process"] for r in down] == [STOPPED]

    def received():
        alerts = get(f"http://{alertmanager}/api/v2/alerts")
        return [
            a for a in alerts if a["labels"].get("alertname") == "NxServiceDown" and a["status"]["state"] == "active"
        ]

    [delivered] = wait_for(received, 20, "the alert in Alertmanager")
    assert delivered["labels"]["process"] == STOPPED
    print("in Alertmanager:", json.dumps(delivered["labels"], ensure_ascii=False))


def test_the_monitor_writes_the_scrape_configuration_of_its_environment(tmp_path):
    """``make monitor`` scrapes the suite its environment started (overridden ops addresses), each
    replica that ran on its own ops address."""
    env = {**os.environ, "NX_RUN_DIR": str(tmp_path), "NX_FINANCE_OPS_ADDRESS": "127.0.0.1:19904"}
    for replica in ("finance.2", "finance.3"):  # `make up REPLICAS=3` ran finance's replicas here
        (tmp_path / f"{replica}.state.json").write_text("{}")
    code = (
        "import sys; sys.path.insert(0, 'deploy'); import monitor; "
        "path, processes = monitor.write_prometheus_config(); print(path)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    import yaml

    config = yaml.safe_load(Path(out.stdout.strip()).read_text())
    [job] = config["scrape_configs"]
    targets = {c["labels"]["process"]: c["targets"] for c in job["static_configs"]}
    assert targets["finance"] == ["127.0.0.1:19904"] and targets["review"] == ["127.0.0.1:9002"]
    assert targets["finance.2"] == ["127.0.0.1:19914"] and targets["finance.3"] == ["127.0.0.1:19924"]
    assert "review.2" not in targets  # only the replicas that ran
    assert config["rule_files"] == [str(ROOT / "deploy" / "prometheus" / "rules" / "*.yml")]
