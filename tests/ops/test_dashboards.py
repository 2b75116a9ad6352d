"""The dashboards are what deploy/grafana/dashboards.py generates, one for the suite and one per
installed service, on the provisioned data source, and every panel reads only metrics the services
export (that a running Prometheus accepts each expression is tests/ops/test_monitor.py's)."""

import json
import subprocess
import sys
from pathlib import Path

import yaml

from nxshared.discovery import installed_services
from tests.ops.exported import business_gauge_names, exported_metric_names, metric_names_in

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
sys.path.insert(0, str(GRAFANA))

import dashboards  # noqa: E402


def checked_in():
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in (GRAFANA / "dashboards").glob("*.json")}


def test_the_checked_in_dashboards_are_generated():
    check = subprocess.run([sys.executable, str(GRAFANA / "dashboards.py"), "--check"], capture_output=True)
    assert check.returncode == 0, check.stdout
    assert set(checked_in()) == {"nx-suite", *(f"nx-{s.name}" for s in installed_services())}


def test_every_panel_names_only_metrics_the_services_export(tmp_path):
    exported = exported_metric_names(tmp_path)
    for uid, board in checked_in().items():
        for expr in dashboards.expressions(board):
            named = metric_names_in(expr)
            assert named and named <= exported, (uid, expr, named - exported)


def test_every_panel_reads_the_provisioned_data_source():
    provisioned = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    [source] = provisioned["datasources"]
    for board in checked_in().values():
        assert board["uid"] and board["panels"]
        for panel in board["panels"]:
            assert panel["datasource"] == {"type": source["type"], "uid": source["uid"]}
            assert panel["targets"] and all(t["expr"] for t in panel["targets"])


def test_the_overview_shows_health_calls_the_event_hop_outbox_and_dead_letters():
    read = set().union(*(metric_names_in(e) for e in dashboards.expressions(checked_in()["nx-suite"])))
    for metric in (
        "up",
        "nx_rpc_duration_seconds_count",
        "nx_rpc_duration_seconds_bucket",
        "nx_rpc_refusals_total",
        "nx_event_handler_duration_seconds_bucket",
        "nx_outbox_backlog",
        "nx_outbox_oldest_age_seconds",
        "nx_events_dead_lettered_total",
    ):
        assert metric in read, metric


def test_each_bureau_sees_its_business_gauges():
    for service in installed_services():
        own = {n for n in business_gauge_names() if n.startswith(f"nx_{service.name}_")}
        board = checked_in()[f"nx-{service.name}"]
        read = set().union(*(metric_names_in(e) for e in dashboards.expressions(board)))
        assert own and own <= read, (service.name, own - read)
