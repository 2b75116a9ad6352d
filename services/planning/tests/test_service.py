"""Planning's service tests: the real container on a real broker (per-test vhost) and database."""

import datetime as dt
import time
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import eventlet
import pytest
from nameko.extensions import Entrypoint
from nameko.testing.services import EntrypointWaiterTimeout, entrypoint_waiter
from nameko.testing.utils import get_extension
from sqlalchemy import create_engine, func, select, text

from nxshared.core.errors import Forbidden, NotFound, RuleViolation, Unauthorized, ValidationError
from nxshared.db import OUTBOX
from nxshared.testing import bearer, call, deliver, make_event, schema_drift
from planning.models import annual_plans, projects
from planning.service import PlanningService

from .factories import declaration
from .public import public_get

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


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
    plan = call(planning, "approve_annual_plan", "county_gov", year=2027)
    assert plan["status"] == "approved"
    assert call(planning, "get_project", "smart_office", project_id=chosen["project_id"])["status"] == "planned"
    assert call(planning, "get_project", "smart_office", project_id=other["project_id"])["status"] == "not_planned"
    # on the timeline in the same transaction, not when the broker brings the events back
    timeline = call(planning, "get_timeline", "unit:edu", project_id=chosen["project_id"])
    assert timeline["stage"] == "planned"
    assert [e["event_type"] for e in timeline["events"]] == [
        "project.declared",
        "plan.compiled",
        "plan.concurred",
        "plan.concurred",
        "plan.approved",
        "project.planned",
    ]
    assert {e["actor"] for e in timeline["events"]} >= {"tester@finance", "tester@county_gov"}


def test_malformed_input_names_each_bad_field(planning):
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
    open_one = declare(planning)["project_id"]
    secret = declare(planning, classified=True, name="涉密项目名称")["project_id"]
    listing = public_get(planning, "/public/projects")
    assert [p["project_id"] for p in listing.json["items"]] == [open_one]
    assert secret not in listing.text and "涉密项目名称" not in listing.text
    hidden = public_get(planning, f"/public/projects/{secret}")
    assert hidden.status_code == 404 and secret not in hidden.text
    assert hidden.json == {"error": "NOT_FOUND", "message": "项目不存在"}  # as an unknown one (contract)
    assert public_get(planning, "/public/projects/prj-none").json == hidden.json
    assert public_get(planning, f"/public/projects/{open_one}").json["stage"] == "declared"


def test_the_public_side_reads_the_database_read_only(planning):
    """PostgreSQL: every transaction read-only; SQLite: opened ``mode=ro``."""
    from nxshared.publicside import read_only_engine

    declare(planning)
    engine = read_only_engine(planning.config["DATABASE_URL"])
    try:
        with pytest.raises(Exception, match="read-only|readonly"), engine.connect() as conn:
            conn.execute(text("DELETE FROM projects"))
    finally:
        engine.dispose()
    assert public_get(planning, "/public/projects").json["total"] == 1


def test_the_public_side_comes_back_by_itself_after_losing_its_database_connections(planning):
    """Its connections cut (a database restart, a failover): the next read reconnects, nothing restarts."""
    from werkzeug.test import Client

    from nxshared.publicside import PublicApp
    from planning.public import PAGES

    declare(planning)
    app = PublicApp(PAGES, planning.config["DATABASE_URL"], {"PUBLIC_CACHE_SECONDS": 0})
    client = Client(app)
    try:
        assert client.get("/public/projects").json["total"] == 1
        if app.engine.dialect.name == "postgresql":
            admin = create_engine(planning.config["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"))
            with admin.connect() as conn:
                cut = conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).scalar()
            admin.dispose()
            assert cut >= 1
        app.check()
        assert app.health.database_state() == "ok"
        assert client.get("/public/projects").json["total"] == 1
    finally:
        app.engine.dispose()


def test_the_service_itself_serves_no_public_page(planning):
    import requests

    assert requests.get(f"http://{planning.config['WEB_SERVER_ADDRESS']}/public/projects", timeout=5).status_code == 404


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
    assert requests.get(f"{base}/health", timeout=5).json() == {"status": "ok", "database": "ok", "consumers": "ok"}


def test_list_projects_filters_and_pages(planning):
    for _ in range(3):
        declare(planning)
    page = call(planning, "list_projects", "smart_office", year=2027, page=2, page_size=2)
    assert page["total"] == 3 and len(page["items"]) == 1
    assert call(planning, "list_projects", "smart_office", status="planned")["total"] == 0


# --- bad input: a ValidationError naming the field, nothing stored (issue 7) ----------------------


def _rows(planning, table, *where):
    engine = create_engine(planning.config["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
    finally:
        engine.dispose()


def _refused_naming(planning, field, method, org, **kwargs):
    with pytest.raises(ValidationError) as err:
        call(planning, method, org, **kwargs)
    assert field in str(err.value), str(err.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "名" * 201),
        ("name", "   "),
        ("basis", "x" * 5001),
        ("summary", "\t\n "),
        ("funding_source", "x" * 201),
        ("higher_level_requirement", "x" * 5001),
        ("exemption_basis", "x" * 5001),
        ("unit", "unit:edu\n"),
        ("unit", "drc"),
        ("plan_year", 1999),
        ("annual_investments", [{"year": 2027, "amount": "1.00"}] * 21),
        ("annual_investments", [{"year": 2026, "amount": "2500000.00"}]),
        ("annual_investments", [{"year": 2038, "amount": "2500000.00"}]),
        ("standalone_infrastructure", ["network"] * 5),
    ],
)
def test_a_bad_declaration_is_refused_naming_the_field_and_nothing_is_stored(planning, field, value):
    with pytest.raises(ValidationError) as err:
        declare(planning, **{field: value})
    assert field in str(err.value), str(err.value)
    assert _rows(planning, projects) == 0


def test_investment_years_may_reach_ten_years_after_the_plan_year(planning):
    spread = [{"year": 2027, "amount": "2000000.00"}, {"year": 2037, "amount": "500000.00"}]
    assert declare(planning, annual_investments=spread)["status"] == "declared"


def test_a_project_compiled_twice_into_a_plan_is_refused_naming_project_ids(planning):
    pid = declare(planning)["project_id"]
    _refused_naming(planning, "project_ids", "compile_annual_plan", "smart_office", year=2027, project_ids=[pid, pid])
    _refused_naming(planning, "project_ids", "compile_annual_plan", "smart_office", year=2027, project_ids=["p"] * 501)
    _refused_naming(planning, "project_ids", "compile_annual_plan", "smart_office", year=2027, project_ids=["x" * 65])
    assert _rows(planning, annual_plans) == 0


@pytest.mark.parametrize(
    ("method", "org", "kwargs", "field"),
    [
        ("compile_annual_plan", "smart_office", {"year": "2027", "project_ids": ["p"]}, "year"),
        ("concur_annual_plan", "finance", {"year": 10**30}, "year"),
        ("approve_annual_plan", "county_gov", {"year": None}, "year"),
        ("list_projects", "smart_office", {"year": 1999}, "year"),
        ("list_projects", "smart_office", {"status": "x" * 100}, "status"),
        ("list_projects", "smart_office", {"unit": "x" * 100}, "unit"),
        ("list_projects", "smart_office", {"page_size": 201}, "page_size"),
        ("get_project", "smart_office", {"project_id": "x" * 65}, "project_id"),
        ("get_timeline", "smart_office", {"project_id": ["p"]}, "project_id"),
        ("review_change", "smart_office", {"change_id": " c", "decision": "approve", "opinion": ""}, "change_id"),
        (
            "review_supplementary",
            "smart_office",
            {"project_id": "p", "decision": "approve", "opinion": "x" * 5001},
            "opinion",
        ),
        ("report_unauthorized_change", "data_center", {"project_id": "p", "description": " "}, "text"),
        ("request_change", "unit:edu", {"project_id": "p", "change": {"description": "x" * 5001}}, "description"),
        (
            "request_change",
            "unit:edu",
            {"project_id": "p", "change": {"description": "扩容", "estimated_investment": "0.00"}},
            "estimated_investment",
        ),
    ],
)
def test_every_method_refuses_bad_input_naming_the_field(planning, method, org, kwargs, field):
    _refused_naming(planning, field, method, org, **kwargs)


# --- Art 27: long actors on the timeline (PostgreSQL too) -------------------------------------------


def test_an_event_with_a_190_character_actor_is_recorded(planning):
    pid = declare(planning)["project_id"]
    actor = "p" * 180 + "@unit:edu"
    actor += "x" * (190 - len(actor))
    payload = make_event("review.submitted", pid, {"review_id": "r1", "route": "expert_panel", "budget": "1.00"})
    deliver(planning, "record_timeline", {**payload, "actor": actor})
    events = call(planning, "get_timeline", "unit:edu", project_id=pid)["events"]
    assert [(e["event_type"], e["actor"]) for e in events][-1] == ("review.submitted", actor)


def test_the_migrated_schema_matches_the_models(service_config):
    """0002 widens the actor columns, adds the plan's concurrences, the change's estimate, the
    disclosure on the project and the lists' indexes: the migrated tables are the models'."""
    from planning.models import metadata

    assert schema_drift(service_config("planning")["DATABASE_URL"], metadata) == []


# --- Art 18: a change carrying a new estimate -------------------------------------------------------


def test_an_approved_change_with_a_new_estimate_is_announced_with_it(planning):
    pid = _planned_project(planning)
    change = call(
        planning,
        "request_change",
        "unit:edu",
        project_id=pid,
        change={"description": "扩容", "estimated_investment": "3000000.00"},
    )
    assert change["estimated_investment"] == "3000000.00" and change["requested_by"] == "tester@unit:edu"
    call(planning, "review_change", "smart_office", change_id=change["change_id"], decision="approve", opinion="同意")
    assert call(planning, "get_project", "unit:edu", project_id=pid)["estimated_investment"] == "3000000.00"
    events = call(planning, "get_timeline", "unit:edu", project_id=pid)["events"]
    assert events[-1]["event_type"] == "change.approved"
    assert events[-1]["data"]["estimated_investment"] == "3000000.00"


# --- Art 8, 9: a plan once approved takes no annual declarations ------------------------------------


def test_declaring_into_an_approved_annual_plan_is_refused(planning):
    _planned_project(planning)
    with pytest.raises(RuleViolation) as err:
        declare(planning)
    assert str(err.value).startswith("ANNUAL_PLAN_CLOSED: ")


# --- lists in SQL (issue 8): visibility, filters, order, page and count in the query ---------------

BULK = 3000
UNITS = ("unit:edu", "unit:health", "unit:agri")


def _bulk_rows():
    """``BULK`` projects as ``declare_project`` writes them: three units, every 7th classified,
    every 11th unified, two plan years, a few planned with an approval number."""
    start = dt.datetime(2026, 12, 11, tzinfo=dt.UTC)
    rows = []
    for i in range(BULK):
        planned = i % 5 == 0
        rows.append(
            {
                "project_id": f"prj-{i:012d}",
                "name": f"项目{i}",
                "unit": UNITS[i % 3],
                "category": "e_government",
                "construction_mode": "unified" if i % 11 == 0 else "self_built",
                "investment_mode": "government",
                "plan_year": 2027 + i % 2,
                "plan_type": "annual",
                "basis": "依据",
                "summary": "概述",
                "estimated_investment": Decimal("100.00"),
                "funding_source": "县级财政",
                "annual_investments": [{"year": 2027, "amount": "100.00"}],
                "classified": i % 7 == 0,
                "hosted_on_big_data_center": True,
                "standalone_infrastructure": [],
                "requires_construction_plan": True,
                "custom_software": False,
                "status": "planned" if planned else "declared",
                "declared_by": f"p@{UNITS[i % 3]}",
                "declared_at": start + dt.timedelta(seconds=(i * 7919) % BULK),
                "stage": "approved" if planned else "declared",
                "approval": {"approval_no": f"A-{i}"} if planned else None,
            }
        )
    return rows


@pytest.fixture
def bulk_planning(container_factory, service_config):
    config = service_config("planning", TODAY="2026-12-15", CLASSIFIED_VISIBLE_TO="smart_office,county_gov")
    container = container_factory(PlanningService, config)
    container.start()
    engine = create_engine(config["DATABASE_URL"])
    try:
        with engine.begin() as conn:
            conn.execute(projects.insert(), _bulk_rows())
    finally:
        engine.dispose()
    return container


def _expected(rows, sees, **filters):
    wanted = [r for r in rows if sees(r) and all(r[k] == v for k, v in filters.items())]
    return [r["project_id"] for r in sorted(wanted, key=lambda r: (r["plan_year"], r["declared_at"], r["project_id"]))]


def _ids(page):
    return [p["project_id"] for p in page["items"]]


def test_lists_of_thousands_of_projects_come_paged_counted_and_scoped_from_the_query(bulk_planning):
    rows = _bulk_rows()
    own = _expected(rows, lambda r: r["unit"] == "unit:edu")
    page = call(bulk_planning, "list_projects", "unit:edu", page=3, page_size=200)
    assert (page["total"], _ids(page)) == (len(own), own[400:600])

    public = _expected(rows, lambda r: not r["classified"])
    drc = call(bulk_planning, "list_projects", "drc", page=2, page_size=200)
    assert (drc["total"], _ids(drc)) == (len(public), public[200:400])

    center = _expected(rows, lambda r: not r["classified"] or r["construction_mode"] == "unified")
    last = call(bulk_planning, "list_projects", "data_center", page=len(center) // 200 + 1, page_size=200)
    assert (last["total"], _ids(last)) == (len(center), center[len(center) // 200 * 200 :])

    office = _expected(rows, lambda r: True, plan_year=2028, status="planned", unit="unit:health")
    found = call(bulk_planning, "list_projects", "smart_office", year=2028, status="planned", unit="unit:health")
    assert (found["total"], _ids(found)) == (len(office), office[:50])

    listing = public_get(bulk_planning, "/public/projects", {"page": 4, "page_size": 200}).json
    assert (listing["total"], _ids(listing)) == (len(public), public[600:800])
    by_id = {r["project_id"]: r for r in rows}
    assert all(p["stage"] == by_id[p["project_id"]]["stage"] for p in listing["items"])
    assert all(p["approval"] == by_id[p["project_id"]]["approval"] for p in listing["items"])
    assert public_get(bulk_planning, "/public/projects", {"page_size": 201}).status_code == 400


def test_the_public_list_is_paged_and_shows_the_stage_kept_on_the_project(planning):
    declare(planning, classified=True)
    others = [declare(planning)["project_id"] for _ in range(2)]
    pid = _planned_project(planning)
    first = public_get(planning, "/public/projects", {"page_size": 2}).json
    second = public_get(planning, "/public/projects", {"page": 2, "page_size": 2}).json
    assert (first["total"], first["page"], first["page_size"]) == (3, 1, 2)
    assert sorted(_ids(first) + _ids(second)) == sorted([pid, *others])
    shown = {p["project_id"]: p["stage"] for p in first["items"] + second["items"]}
    assert shown[pid] == "planned"
    payload = make_event(
        "approval.granted",
        pid,
        {"approval_no": "南发改〔2027〕1号", "approval_type": "approve", "review_id": "r1", "opinion": "同意"},
    )
    deliver(planning, "record_timeline", payload)
    detail = public_get(planning, f"/public/projects/{pid}").json
    assert (detail["stage"], detail["approval"]) == ("approved", {"approval_no": "南发改〔2027〕1号"})


def test_an_event_arriving_after_a_later_one_keeps_the_later_disclosure(planning):
    """Through the database (both backends): the latest event moves the disclosure on from what the
    project shows; one that occurred earlier than one recorded already leaves it as the whole
    timeline says."""
    pid = _planned_project(planning)
    granted = make_event("approval.granted", pid, {"approval_no": "A-1", "approval_type": "approve", "review_id": "r1"})
    deliver(planning, "record_timeline", granted)
    assert _shown(planning, pid) == ("approved", {"approval_no": "A-1"})
    earlier = dt.datetime.fromisoformat(granted["occurred_at"]) - dt.timedelta(microseconds=1)
    passed = make_event("review.passed", pid, {"review_id": "r1", "route": "expert_panel", "opinion": "同意"})
    deliver(planning, "record_timeline", {**passed, "occurred_at": earlier.isoformat()})
    assert _shown(planning, pid) == ("approved", {"approval_no": "A-1"})
    events = call(planning, "get_timeline", "unit:edu", project_id=pid)["events"]
    assert [e["event_type"] for e in events][-2:] == ["review.passed", "approval.granted"]
    again = make_event("approval.granted", pid, {"approval_no": "A-2", "approval_type": "approve", "review_id": "r2"})
    deliver(planning, "record_timeline", again)
    assert _shown(planning, pid) == ("approved", {"approval_no": "A-2"})


def _shown(planning, pid):
    engine = create_engine(planning.config["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            query = select(projects.c.stage, projects.c.approval).where(projects.c.project_id == pid)
            return tuple(conn.execute(query).one())
    finally:
        engine.dispose()


def test_planning_s_own_events_are_on_the_timeline_at_once_and_never_delivered_back(planning):
    """Its own events are recorded by the use case, published (routed, so not held back), and not
    brought back to ``record_timeline``; one still queued from a version that had them delivered
    is dropped when the timeline has it."""
    with pytest.raises(EntrypointWaiterTimeout), entrypoint_waiter(planning, "record_timeline", timeout=2):
        pid = declare(planning)["project_id"]
        _wait_until(lambda: _rows(planning, OUTBOX, OUTBOX.c.sent_at.is_(None)) == 0)
    (declared,) = call(planning, "get_timeline", "unit:edu", project_id=pid)["events"]
    assert (declared["event_type"], declared["source"], declared["actor"]) == (
        "project.declared",
        "planning",
        "tester@unit:edu",
    )

    payload = make_event("project.declared", pid, declaration_data(), actor="tester@unit:edu")
    with entrypoint_waiter(planning, "record_timeline", timeout=10):
        _into_work_queue(planning, "record_timeline", {**payload, "event_id": declared["event_id"]})
    assert len(call(planning, "get_timeline", "unit:edu", project_id=pid)["events"]) == 1


def _into_work_queue(container, handler, payload):
    """Straight into the handler's work queue, as a message queued there before an upgrade."""
    from kombu import Connection, Producer

    queue = f"nx.{container.service_name}.{handler}"
    with Connection(container.config["AMQP_URI"]) as conn:
        Producer(conn.channel()).publish(payload, exchange=f"nx.{container.service_name}.requeue", routing_key=queue)


def declaration_data():
    return {
        "name": "智慧教育平台",
        "unit": "unit:edu",
        "category": "e_government",
        "construction_mode": "self_built",
        "plan_year": 2027,
        "plan_type": "annual",
        "estimated_investment": "2500000.00",
        "classified": False,
    }


def test_migration_0002_keeps_what_each_existing_timeline_says(tmp_path):
    """A database of 0001 with a project and its timeline: after 0002 the project carries the
    stage, approval and contract its timeline says, and the old actors fit the wider columns."""
    from alembic import command
    from alembic.config import Config

    from nxshared.db import make_engine

    url = f"sqlite:///{tmp_path / 'planning.db'}"
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0001")
            row = {**_bulk_rows()[1], "status": "planned"}
            for added in ("stage", "approval"):
                row.pop(added)
            conn.execute(text(_insert_sql("projects", row)), _json_ready(row))
            for seq, (event_type, data) in enumerate(
                [
                    ("project.planned", {}),
                    ("approval.granted", {"approval_no": "A-9", "opinion": "同意"}),
                    ("contract.registered", {"contract_no": "HT-9", "vendor": "某公司", "amount": "1.00"}),
                ],
                start=1,
            ):
                entry = {
                    "seq": seq,
                    "event_id": f"e{seq}",
                    "project_id": row["project_id"],
                    "event_type": event_type,
                    "source": "x",
                    "occurred_at": f"2026-12-1{seq}T00:00:00+00:00",
                    "actor": "a@x",
                    "data": data,
                }
                conn.execute(text(_insert_sql("timeline", entry)), _json_ready(entry))
            command.upgrade(cfg, "head")
        with engine.connect() as conn:
            migrated = conn.execute(select(projects).where(projects.c.project_id == row["project_id"])).one()
    finally:
        engine.dispose()
    assert (migrated.stage, migrated.approval, migrated.contract) == (
        "contracted",
        {"approval_no": "A-9"},
        {"contract_no": "HT-9", "vendor": "某公司", "amount": "1.00"},
    )


def _insert_sql(table, row):
    return f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"


def _json_ready(row):
    import json

    return {
        k: json.dumps(v) if isinstance(v, list | dict) else str(v) if isinstance(v, Decimal) else v
        for k, v in row.items()
    }
