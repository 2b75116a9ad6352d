"""Planning's service tests: the real container on a real broker (per-test vhost) and database."""

import time
from contextlib import contextmanager

import eventlet
import pytest
from nameko.extensions import Entrypoint
from nameko.testing.services import entrypoint_waiter
from nameko.testing.utils import get_extension
from sqlalchemy import create_engine, select, text

from nxshared.core.errors import Forbidden, NotFound, RuleViolation, Unauthorized
from nxshared.testing import bearer, call
from planning.models import annual_plans
from planning.service import PlanningService

from .factories import declaration


@pytest.fixture
def planning(container_factory, service_config):
    container = container_factory(PlanningService, service_config("planning", TODAY="2026-12-15"))
    container.start()
    return container


def declare(container, org="unit:edu", **overrides):
    return call(container, "declare_project", org, project=declaration(**overrides))


def test_declare_then_get(planning):
    created = declare(planning)
    assert created["status"] == "declared"
    assert created["estimated_investment"] == "2500000.00"
    got = call(planning, "get_project", "unit:edu", project_id=created["project_id"])
    assert got["name"] == "智慧教育平台"


def test_refused_declaration_changes_nothing(planning):
    with pytest.raises(RuleViolation) as err:
        declare(planning, estimated_investment="2500000.01")
    assert str(err.value).startswith("ANNUAL_PLAN_MISMATCH: ")
    assert call(planning, "list_projects", "smart_office")["total"] == 0


def test_no_token_is_unauthorized(planning):
    from nameko.testing.services import entrypoint_hook

    with entrypoint_hook(planning, "list_projects") as hook, pytest.raises(Unauthorized):
        hook()


def test_unit_may_not_declare_for_another_unit(planning):
    with pytest.raises(Forbidden):
        declare(planning, org="unit:health")


def test_units_see_only_their_own_projects(planning):
    created = declare(planning)
    with pytest.raises(NotFound):
        call(planning, "get_project", "unit:health", project_id=created["project_id"])
    assert call(planning, "list_projects", "unit:health")["total"] == 0


def test_annual_plan_compile_concur_approve_emits_planned(planning):
    chosen = declare(planning)
    other = declare(planning, name="另一个项目")
    call(planning, "compile_annual_plan", "smart_office", year=2027, project_ids=[chosen["project_id"]])
    call(planning, "concur_annual_plan", "finance", year=2027)
    call(planning, "concur_annual_plan", "drc", year=2027)
    with entrypoint_waiter(
        planning,
        "record_timeline",
        timeout=10,
        callback=lambda ctx, res, exc: ctx.args[0]["event_type"] == "project.not_planned",
    ):
        plan = call(planning, "approve_annual_plan", "county_gov", year=2027)
    assert plan["status"] == "approved"
    assert call(planning, "get_project", "smart_office", project_id=chosen["project_id"])["status"] == "planned"
    assert call(planning, "get_project", "smart_office", project_id=other["project_id"])["status"] == "not_planned"


def test_malformed_input_names_each_bad_field(planning):
    from nxshared.core.errors import ValidationError

    with pytest.raises(ValidationError) as err:
        declare(planning, estimated_investment=2500000.0, category="toys")
    assert "estimated_investment" in str(err.value) and "category" in str(err.value)


def test_supplementary_review_then_county_approval_plans_it(planning):
    created = declare(
        planning,
        plan_type="supplementary",
        plan_year=2026,
        higher_level_requirement="省厅通知",
        annual_investments=[{"year": 2026, "amount": "2500000.00"}],
    )
    pid = created["project_id"]
    with pytest.raises(Forbidden):
        call(planning, "approve_supplementary", "smart_office", project_id=pid)
    call(planning, "review_supplementary", "smart_office", project_id=pid, decision="approve", opinion="同意")
    with entrypoint_waiter(
        planning,
        "record_timeline",
        timeout=10,
        callback=lambda ctx, res, exc: ctx.args[0]["event_type"] == "project.planned",
    ):
        assert call(planning, "approve_supplementary", "county_gov", project_id=pid)["status"] == "planned"
    timeline = call(planning, "get_timeline", "unit:edu", project_id=pid)
    assert timeline["stage"] == "planned"


def test_two_concurrences_at_once_are_both_counted(planning, db_backend):
    """One locking rule: finance and DRC concurring at the same moment are both counted. On
    PostgreSQL another transaction holds the plan's row until both calls wait for it, so each would
    read the plan without the other's concurrence, were the plan not loaded locked (FOR UPDATE).
    On SQLite each unit of work is a write transaction from its start, which serialises them."""
    pid = declare(planning)["project_id"]
    call(planning, "compile_annual_plan", "smart_office", year=2027, project_ids=[pid])
    outcomes = []

    def both_done(worker_ctx, result, exc_info):
        outcomes.append(exc_info)
        return len(outcomes) == 2

    engine = create_engine(planning.config["DATABASE_URL"])
    try:
        with (
            _plan_row_held(engine, 2027, db_backend == "postgresql") as release,
            entrypoint_waiter(planning, "concur_annual_plan", timeout=10, callback=both_done),
        ):
            concur = get_extension(planning, Entrypoint, method_name="concur_annual_plan")
            for org in ("finance", "drc"):
                planning.spawn_worker(concur, (), {"year": 2027}, context_data={"authorization": bearer(org)})
            release(waiters=2)
        with engine.connect() as conn:
            plan = conn.execute(select(annual_plans).where(annual_plans.c.year == 2027)).one()
    finally:
        engine.dispose()
    assert outcomes == [None, None]
    assert (sorted(plan.concurred_by), plan.status) == (["drc", "finance"], "concurred")


@contextmanager
def _plan_row_held(engine, year, hold):
    """Holds the plan's row in a transaction of its own (when ``hold``); ``release(waiters=n)``
    lets it go once ``n`` other transactions wait for a lock."""
    if not hold:
        yield lambda waiters: None
        return
    with engine.connect() as holder:
        held = holder.begin()
        holder.execute(text("SELECT year FROM annual_plans WHERE year = :year FOR UPDATE"), {"year": year})

        def release(waiters):
            _wait_until(lambda: _lock_waiters(engine) == waiters)
            held.rollback()

        yield release


def _lock_waiters(engine):
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    with engine.connect() as conn:
        return conn.execute(text(query)).scalar_one()


def _wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        eventlet.sleep(0.02)


def _planned_project(planning):
    created = declare(planning)
    pid = created["project_id"]
    call(planning, "compile_annual_plan", "smart_office", year=2027, project_ids=[pid])
    call(planning, "concur_annual_plan", "finance", year=2027)
    call(planning, "concur_annual_plan", "drc", year=2027)
    call(planning, "approve_annual_plan", "county_gov", year=2027)
    return pid


def test_change_request_is_reviewed_by_the_smart_office(planning):
    pid = _planned_project(planning)
    with pytest.raises(NotFound):
        call(planning, "request_change", "unit:health", project_id=pid, change={"description": "x"})
    with pytest.raises(Forbidden):
        call(planning, "request_change", "data_center", project_id=pid, change={"description": "x"})
    change = call(planning, "request_change", "unit:edu", project_id=pid, change={"description": "增加移动端"})
    decided = call(
        planning, "review_change", "smart_office", change_id=change["change_id"], decision="approve", opinion="同意"
    )
    assert decided["status"] == "approved"


def test_unauthorized_change_reported_and_resolved(planning):
    pid = _planned_project(planning)
    with pytest.raises(Forbidden):
        call(planning, "report_unauthorized_change", "unit:edu", project_id=pid, description="x")
    call(planning, "report_unauthorized_change", "data_center", project_id=pid, description="擅自增加服务器")
    resolved = call(planning, "resolve_unauthorized_change", "smart_office", project_id=pid, opinion="已补办")
    assert len(resolved["resolved_report_ids"]) == 1
    from nxshared.core.errors import Conflict

    with pytest.raises(Conflict):
        call(planning, "resolve_unauthorized_change", "smart_office", project_id=pid, opinion="again")


def test_ip_exception_register_is_fed_by_finance_events(planning, service_config):
    from nameko.standalone.events import event_dispatcher

    pid = _planned_project(planning)
    # finance is not installed here: its event as it travels, envelope and data v1
    payload = {
        "event_id": "evt-ip-1",
        "event_type": "contract.ip_exception_reported",
        "version": 1,
        "occurred_at": "2026-12-15T08:00:00+00:00",
        "source": "finance",
        "project_id": pid,
        "actor": "f@unit:edu",
        "data": {"contract_no": "HT-1", "vendor": "某公司", "source_code_owner": "vendor", "unit": "unit:edu"},
    }
    with entrypoint_waiter(planning, "register_ip_exception", timeout=10):
        event_dispatcher(planning.config)("finance", payload["event_type"], payload)
    register = call(planning, "list_ip_exceptions", "smart_office")
    assert [(r["contract_no"], r["source_code_owner"]) for r in register] == [("HT-1", "vendor")]
    with pytest.raises(Forbidden):
        call(planning, "list_ip_exceptions", "finance")


def test_public_pages_never_show_a_classified_project(planning):
    import requests

    open_one = declare(planning)["project_id"]
    secret = declare(planning, classified=True, name="涉密项目名称")["project_id"]
    base = f"http://{planning.config['WEB_SERVER_ADDRESS']}"
    listing = requests.get(f"{base}/public/projects", timeout=5)
    assert [p["project_id"] for p in listing.json()["items"]] == [open_one]
    assert secret not in listing.text and "涉密项目名称" not in listing.text
    assert requests.get(f"{base}/public/projects/{secret}", timeout=5).status_code == 404
    assert requests.get(f"{base}/public/projects/{open_one}", timeout=5).json()["stage"] == "declared"


def test_metrics_and_health_are_served(planning):
    import requests

    declare(planning)
    with pytest.raises(RuleViolation):
        declare(planning, estimated_investment="1.00")
    base = f"http://{planning.config['WEB_SERVER_ADDRESS']}"
    text = requests.get(f"{base}/metrics", timeout=5).text
    assert 'nx_rpc_duration_seconds_count{method="declare_project",outcome="ok"} 1.0' in text
    assert 'nx_rpc_refusals_total{code="ANNUAL_PLAN_MISMATCH",method="declare_project"} 1.0' in text
    assert 'nx_planning_projects{status="declared"} 1.0' in text
    assert requests.get(f"{base}/health", timeout=5).json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "consumers": "ok",
    }


def test_list_projects_filters_and_pages(planning):
    for _ in range(3):
        declare(planning)
    page = call(planning, "list_projects", "smart_office", year=2027, page=2, page_size=2)
    assert page["total"] == 3 and len(page["items"]) == 1
    assert call(planning, "list_projects", "smart_office", status="planned")["total"] == 0
