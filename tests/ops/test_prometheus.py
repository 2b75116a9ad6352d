"""The scrape configuration is current and valid, the alert rules are valid, each alert fires in a
unit test of its own (``promtool test rules``), reads only metrics the services export, and carries
its runbook in English and Chinese. promtool is Debian's ``prometheus`` package
(``deploy/ensure-prometheus.sh``, run by ``make setup``); without it those tests skip, saying so."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.ops.exported import exported_metric_names, metric_names_in

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
RULES = sorted((PROMETHEUS / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))
ANNOTATIONS = {"summary", "summary_zh", "runbook", "runbook_zh"}

needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool is not installed (Debian's prometheus package: `bash deploy/ensure-prometheus.sh` as root)",
)


def alerting_rules():
    return [rule for path in RULES for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"]]


def promtool(*args):
    done = subprocess.run(["promtool", *args], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_the_scrape_configuration_is_generated_from_the_installed_services():
    check = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "prometheus_config.py"), "--check"], capture_output=True
    )
    assert check.returncode == 0, check.stdout
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    [job] = config["scrape_configs"]
    targets = {c["labels"]["process"]: c["targets"] for c in job["static_configs"]}
    # every service's ops address, and planning's public side's (README, Public and ops addresses)
    assert targets["planning"] == ["127.0.0.1:9001"] and targets["planning-public"] == ["127.0.0.1:9101"]
    assert targets["finance"] == ["127.0.0.1:9004"] and targets["audit"] == ["127.0.0.1:9006"]
    compose = yaml.safe_load((PROMETHEUS / "prometheus-compose.yml").read_text())
    [job] = compose["scrape_configs"]
    assert {c["labels"]["process"]: c["targets"] for c in job["static_configs"]}["planning-public"] == [
        "planning-public:9101"
    ]


@needs_promtool
@pytest.mark.parametrize("name", ["prometheus.yml", "prometheus-compose.yml"])
def test_promtool_accepts_the_configuration_and_its_rules(name):
    out = promtool("check", "config", str(PROMETHEUS / name))
    assert "SUCCESS" in out and f"{len(alerting_rules())} rules found" in out


@needs_promtool
def test_promtool_checks_the_rules():
    promtool("check", "rules", *map(str, RULES))


@needs_promtool
def test_promtool_unit_tests_of_the_rules_pass():
    print(promtool("test", "rules", *map(str, RULE_TESTS)))


def test_every_alert_fires_in_a_unit_test():
    fired = {
        case["alertname"]
        for path in RULE_TESTS
        for test in yaml.safe_load(path.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case["exp_alerts"]
    }
    names = [rule["alert"] for rule in alerting_rules()]
    assert len(names) == len(set(names))
    assert set(names) == fired


def test_every_alert_has_a_severity_and_its_runbook_in_english_and_chinese():
    for rule in alerting_rules():
        assert rule["labels"]["severity"] in ("critical", "warning", "info"), rule["alert"]
        assert set(rule["annotations"]) == ANNOTATIONS, rule["alert"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in rule["annotations"]["runbook_zh"]), rule["alert"]


def test_the_rules_read_only_metrics_the_services_export(tmp_path):
    exported = exported_metric_names(tmp_path)
    for rule in alerting_rules():
        named = metric_names_in(rule["expr"])
        assert named, rule["alert"]
        assert named <= exported, (rule["alert"], named - exported)


def test_the_alerts_cover_what_operators_watch():
    """Issue 23's list: each of these reads the metric that says it."""
    reads = {rule["alert"]: metric_names_in(rule["expr"]) for rule in alerting_rules()}
    assert reads["NxServiceDown"] == {"up"}
    assert reads["NxEventsParked"] == {"nx_events_dead_lettered_total"}
    assert reads["NxOutboxNotDraining"] == {"nx_outbox_oldest_age_seconds"}
    assert reads["NxEventLoopStalls"] == {"nx_event_loop_stalls_total"}
    assert reads["NxRpcRefusalsSurging"] == {"nx_rpc_refusals_total", "nx_rpc_duration_seconds_count"}
    assert reads["NxRpcInternalErrors"] == {"nx_rpc_refusals_total"}
    assert reads["NxReviewOpenTooLong"] == {"nx_review_oldest_open_age_seconds"}
    assert reads["NxOmContractsEndingSoon"] == {"nx_finance_contracts_om_ending_soon"}
    assert reads["NxMlpsOverdue"] == reads["NxIncidentOverdue"] == {"nx_security_overdue"}


def test_the_alertmanager_configuration_is_valid():
    if shutil.which("amtool") is None:
        pytest.skip("amtool is not installed (Debian's prometheus-alertmanager package)")
    done = subprocess.run(
        ["amtool", "check-config", str(PROMETHEUS / "alertmanager.yml")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_readme_lists_every_alert():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Operations", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[1].strip().strip("`") for line in section.splitlines() if line.startswith("| `Nx")}
    assert rows == {rule["alert"] for rule in alerting_rules()}
