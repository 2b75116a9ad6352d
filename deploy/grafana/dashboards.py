"""Grafana dashboards as code: plain dashboard JSON written from the panels below.

    python deploy/grafana/dashboards.py --write    # deploy/grafana/dashboards/*.json
    python deploy/grafana/dashboards.py --check    # exit 1 when a file is stale (a test runs this)

``nx-suite.json``: the suite at a glance (each process up, RPC rate, latency and refusals, the event
hop, outbox backlog and age, dead letters, the event loop, the public side). ``nx-<service>.json``:
one per installed service (each bureau's): its own calls and events, then its business gauges
(``BUSINESS`` below; a service not listed there gets the first part only). Every expression reads
the metrics the services export (tests/ops checks the names, and that a running Prometheus accepts
each expression). Grafana loads them through ``deploy/grafana/provisioning`` (docker-compose.yml).
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "deploy" / "grafana" / "dashboards"
sys.path.insert(0, str(ROOT / "shared"))

from nxshared.discovery import installed_services  # noqa: E402

DATASOURCE = {"type": "prometheus", "uid": "nx-prometheus"}
JOB = 'job="nx"'


def q(expr, legend=""):
    return {"expr": expr, "legend": legend}


def panel(title, *queries, unit="short", kind="timeseries", width=12):
    return {"title": title, "queries": list(queries), "unit": unit, "kind": kind, "width": width}


def overview_panels():
    rate = "[5m]"
    return [
        panel("Processes up 进程在线", q(f"up{{{JOB}}}", "{{process}}"), kind="stat", width=24),
        panel(
            "RPC calls per second 每秒调用",
            q(f"sum by (service) (rate(nx_rpc_duration_seconds_count{{{JOB}}}{rate}))", "{{service}}"),
            unit="reqps",
        ),
        panel(
            "RPC latency p95 调用耗时",
            q(
                f"histogram_quantile(0.95, sum by (service, le) (rate(nx_rpc_duration_seconds_bucket{{{JOB}}}{rate})))",
                "{{service}}",
            ),
            unit="s",
        ),
        panel(
            "RPC refusals by code 拒绝的调用",
            q(f"sum by (service, code) (rate(nx_rpc_refusals_total{{{JOB}}}{rate}))", "{{service}} {{code}}"),
            unit="reqps",
        ),
        panel(
            "Token refusals 令牌拒绝",
            q(f"sum by (service, reason) (rate(nx_token_refusals_total{{{JOB}}}{rate}))", "{{service}} {{reason}}"),
            unit="reqps",
        ),
        panel(
            "Event hop: handler latency p95 事件处理耗时",
            q(
                "histogram_quantile(0.95, sum by (service, le) "
                f"(rate(nx_event_handler_duration_seconds_bucket{{{JOB}}}{rate})))",
                "{{service}}",
            ),
            unit="s",
        ),
        panel(
            "Events published and consumed 事件发布与消费",
            q(f"sum by (service) (rate(nx_events_published_total{{{JOB}}}{rate}))", "{{service}} published"),
            q(
                f"sum by (service, outcome) (rate(nx_events_consumed_total{{{JOB}}}{rate}))",
                "{{service}} {{outcome}}",
            ),
            unit="ops",
        ),
        panel("Outbox backlog 发件箱积压", q(f"nx_outbox_backlog{{{JOB}}}", "{{process}}")),
        panel(
            "Oldest unsent event 最早未发布事件", q(f"nx_outbox_oldest_age_seconds{{{JOB}}}", "{{process}}"), unit="s"
        ),
        panel(
            "Dead letters, last hour 死信（一小时）",
            q(
                f"sum by (service, handler) (increase(nx_events_dead_lettered_total{{{JOB}}}[1h]))",
                "{{service}} {{handler}}",
            ),
        ),
        panel(
            "Deliveries refused before a worker 拒收的投递",
            q(f"sum by (service, reason) (rate(nx_messages_rejected_total{{{JOB}}}{rate}))", "{{service}} {{reason}}"),
            q(
                f"sum by (service, reason) (rate(nx_outbox_publish_failures_total{{{JOB}}}{rate}))",
                "{{service}} publish {{reason}}",
            ),
            unit="ops",
        ),
        panel(
            "Event loop lag p99 事件循环延迟",
            q(
                f"histogram_quantile(0.99, sum by (process, le) (rate(nx_event_loop_lag_seconds_bucket{{{JOB}}}{rate})))",
                "{{process}}",
            ),
            q(f"sum by (process) (increase(nx_event_loop_stalls_total{{{JOB}}}{rate}))", "{{process}} stalls / 5m"),
            unit="s",
        ),
        panel(
            "Public pages by status 公开页面",
            q(f"sum by (process, status) (rate(nx_public_requests_total{{{JOB}}}{rate}))", "{{process}} {{status}}"),
            q(
                f'sum by (process) (rate(nx_public_cache_total{{{JOB}, result="hit"}}{rate})) / '
                f"sum by (process) (rate(nx_public_cache_total{{{JOB}}}{rate}))",
                "{{process}} cache hit ratio",
            ),
            unit="reqps",
        ),
    ]


def service_panels(name):
    sel = f'{JOB}, service="{name}"'
    rate = "[5m]"
    return [
        panel("Up 在线", q(f"up{{{sel}}}", "{{process}}"), kind="stat", width=6),
        panel("Outbox backlog 发件箱积压", q(f"nx_outbox_backlog{{{sel}}}", "{{process}}"), kind="stat", width=6),
        panel(
            "Parked, last day 死信（一天）",
            q(f"sum (increase(nx_events_dead_lettered_total{{{sel}}}[1d]))", "parked"),
            kind="stat",
            width=6,
        ),
        panel(
            "Event loop stalls, last hour 事件循环阻塞",
            q(f"sum (increase(nx_event_loop_stalls_total{{{sel}}}[1h]))", "stalls"),
            kind="stat",
            width=6,
        ),
        panel(
            "Calls per second by method 按方法调用",
            q(f"sum by (method) (rate(nx_rpc_duration_seconds_count{{{sel}}}{rate}))", "{{method}}"),
            unit="reqps",
        ),
        panel(
            "Latency p95 by method 按方法耗时",
            q(
                f"histogram_quantile(0.95, sum by (method, le) (rate(nx_rpc_duration_seconds_bucket{{{sel}}}{rate})))",
                "{{method}}",
            ),
            unit="s",
        ),
        panel(
            "Refusals by method and code 拒绝的调用",
            q(f"sum by (method, code) (rate(nx_rpc_refusals_total{{{sel}}}{rate}))", "{{method}} {{code}}"),
            unit="reqps",
        ),
        panel(
            "Events handled by handler 事件处理",
            q(
                f"sum by (handler, outcome) (rate(nx_event_handler_duration_seconds_count{{{sel}}}{rate}))",
                "{{handler}} {{outcome}}",
            ),
            unit="ops",
        ),
    ]


BUSINESS = {
    "planning": [
        panel(
            "Projects by status 项目按状态",
            q(f"sum by (status) (nx_planning_projects{{{JOB}}})", "{{status}}"),
        ),
        panel(
            "Projects by risk rating 项目风险评级（1 低 – 5 高）",
            q(f"sum by (rating) (nx_planning_projects_by_risk{{{JOB}}})", "rating {{rating}}"),
        ),
    ],
    "review": [
        panel("Reviews under way by route 在审评审", q(f"nx_review_open{{{JOB}}}", "{{route}}")),
        panel(
            "Oldest review under way, days 最久在审（天）",
            q(f"nx_review_oldest_open_age_seconds{{{JOB}}} / 86400", "days"),
            unit="d",
        ),
    ],
    "approval": [
        panel("Applications by status 立项申请", q(f"nx_approval_applications{{{JOB}}}", "{{status}}")),
        panel(
            "Awaiting a passed review 待评审通过", q(f"nx_approval_awaiting_review{{{JOB}}}", "awaiting"), kind="stat"
        ),
    ],
    "finance": [
        panel(
            "Approved budgets by year 批复预算",
            q(f"nx_finance_approved_budget_yuan{{{JOB}}}", "{{year}}"),
            unit="currencyCNY",
        ),
        panel("Disbursed by year 已拨付", q(f"nx_finance_disbursed_yuan{{{JOB}}}", "{{year}}"), unit="currencyCNY"),
        panel(
            "O&M contracts ending within 90 days 90 天内到期运维合同",
            q(f"nx_finance_contracts_om_ending_soon{{{JOB}}}", "contracts"),
            kind="stat",
        ),
    ],
    "security": [
        panel("Overdue by kind 逾期事项", q(f"nx_security_overdue{{{JOB}}}", "{{kind}}")),
        panel("Open incidents by severity 未关闭安全事件", q(f"nx_security_incidents_open{{{JOB}}}", "{{severity}}")),
        panel(
            "Hosted systems by MLPS status 托管系统等保状态", q(f"nx_security_hosted_systems{{{JOB}}}", "{{status}}")
        ),
        panel(
            "Since the last overdue check 距上次逾期检查",
            q(f"nx_security_overdue_check_age_seconds{{{JOB}}}", "seconds"),
            kind="stat",
            unit="s",
        ),
    ],
    "audit": [
        panel("Trail entries 审计轨迹条目", q(f"nx_audit_trail_entries{{{JOB}}}", "entries")),
        panel(
            "Entries the latest checkpoint covers 最新检查点覆盖条目",
            q(f"nx_audit_checkpoint_entries{{{JOB}}}", "covered"),
        ),
        panel("Audit cases by status (Art 26) 审计案件", q(f"nx_audit_cases{{{JOB}}}", "{{status}}")),
        panel(
            "Latest checkpoint number 最新检查点编号", q(f"nx_audit_checkpoint_root{{{JOB}}}", "{{root}}"), kind="stat"
        ),
    ],
}


def _grafana_panel(number, spec, x, y):
    return {
        "id": number,
        "type": spec["kind"],
        "title": spec["title"],
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": spec["width"], "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": spec["unit"]}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}} if spec["kind"] == "timeseries" else {},
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": t["expr"], "legendFormat": t["legend"]}
            for i, t in enumerate(spec["queries"])
        ],
    }


def dashboard(uid, title, tags, panels):
    placed, x, y = [], 0, 0
    for number, spec in enumerate(panels, start=1):
        if x + spec["width"] > 24:
            x, y = 0, y + 8
        placed.append(_grafana_panel(number, spec, x, y))
        x += spec["width"]
    return {
        "uid": uid,
        "title": title,
        "tags": tags,
        "timezone": "browser",
        "schemaVersion": 39,
        "editable": False,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": []},
        "panels": placed,
    }


def dashboards():
    found = {"nx-suite": dashboard("nx-suite", "NX suite 套件总览", ["nx"], overview_panels())}
    for service in installed_services():
        name = service.name
        panels = service_panels(name) + BUSINESS.get(name, [])
        found[f"nx-{name}"] = dashboard(f"nx-{name}", f"NX {name}", ["nx", name], panels)
    return found


def expressions(board):
    """Every expression of a dashboard's panels (tests/ops checks them)."""
    return [target["expr"] for p in board["panels"] for target in p["targets"]]


def rendered():
    return {
        OUT / f"{uid}.json": json.dumps(board, ensure_ascii=False, indent=2) + "\n"
        for uid, board in dashboards().items()
    }


def main(argv):
    files = rendered()
    if argv == ["--write"]:
        OUT.mkdir(parents=True, exist_ok=True)
        for path, text in files.items():
            path.write_text(text, encoding="utf-8")
        return 0
    if argv == ["--check"]:
        stale = [p.name for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
        extra = sorted({p.name for p in OUT.glob("*.json")} - {p.name for p in files})
        if stale or extra:
            print(f"stale: {', '.join(stale + extra)} (python deploy/grafana/dashboards.py --write)")
            return 1
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
