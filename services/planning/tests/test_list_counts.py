"""Issue 8: a list's ``total`` is summed from ``project_counts``, which the database's triggers keep
(migration 0003). Here the totals stay exact, for each scope and filter, as projects are declared,
change status and pass through the annual plan; and under concurrent declarations."""

import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from nameko.extensions import Entrypoint
from nameko.testing.services import entrypoint_waiter
from nameko.testing.utils import get_extension
from sqlalchemy import create_engine, func, select, text

from nxshared.testing import bearer, call
from planning.models import project_counts, projects
from planning.schemas import PAGE_SIZE_MAX
from planning.service import PlanningService

from .factories import declaration
from .public import public_get

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"

# smart_office sees every classified project; data_center the unified ones (Art 11); audit none
CLASSIFIED_VISIBLE_TO = "smart_office,county_gov,finance,drc"
ORGS = ("unit:edu", "unit:health", "unit:none", "smart_office", "data_center", "audit")
FILTERS = (
    {},
    {"year": 2027},
    {"year": 2026},
    {"status": "declared"},
    {"status": "planned"},
    {"status": "not_planned"},
    {"unit": "unit:edu"},
    {"unit": "unit:health"},
    {"year": 2027, "status": "planned", "unit": "unit:edu"},
    {"year": 2026, "status": "planned", "unit": "unit:health"},
)


@pytest.fixture
def planning(container_factory, service_config):
    config = service_config("planning", TODAY="2026-12-15", CLASSIFIED_VISIBLE_TO=CLASSIFIED_VISIBLE_TO, max_workers=20)
    container = container_factory(PlanningService, config)
    container.start()
    return container


def declare(container, org="unit:edu", unit=None, **overrides):
    project = declaration(unit=unit or org, **overrides)
    return call(container, "declare_project", org, project=project)["project_id"]


def supplementary(container, org, **overrides):
    return declare(
        container,
        org,
        plan_type="supplementary",
        plan_year=2026,
        higher_level_requirement="省厅通知",
        annual_investments=[{"year": 2026, "amount": "2500000.00"}],
        **overrides,
    )


def assert_totals_exact(container, expected_public):
    """Each scope and filter: the total is how many projects the same list holds (read from
    ``projects`` in one page), the public list's too; and every count row is its projects'."""
    for org in ORGS:
        for filters in FILTERS:
            listed = call(container, "list_projects", org, page_size=PAGE_SIZE_MAX, **filters)
            assert listed["total"] == len(listed["items"]), (org, filters)
    public = public_get(container, "/public/projects", {"page_size": PAGE_SIZE_MAX}).json
    assert public["total"] == len(public["items"]) == expected_public
    assert counted(container) == grouped(container)


def _key(table):
    return [table.c.unit, table.c.plan_year, table.c.status, table.c.classified, table.c.construction_mode]


def counted(container):
    with _engine(container) as engine, engine.connect() as conn:
        rows = conn.execute(select(*_key(project_counts), project_counts.c.n).where(project_counts.c.n != 0))
        return {tuple(row[:-1]): row[-1] for row in rows}


def grouped(container):
    with _engine(container) as engine, engine.connect() as conn:
        rows = conn.execute(select(*_key(projects), func.count()).group_by(*_key(projects)))
        return {tuple(row[:-1]): row[-1] for row in rows}


@contextmanager
def _engine(container):
    engine = create_engine(container.config["DATABASE_URL"])
    try:
        yield engine
    finally:
        engine.dispose()


def test_totals_stay_exact_through_declarations_status_changes_and_the_plan(planning):
    edu = [declare(planning), declare(planning), declare(planning, classified=True)]
    health = [
        declare(planning, "unit:health"),
        declare(planning, "unit:health", classified=True, construction_mode="unified"),
        declare(planning, "data_center", unit="unit:health", construction_mode="unified"),
    ]
    extra = [supplementary(planning, "unit:health"), supplementary(planning, "unit:edu", classified=True)]
    assert_totals_exact(planning, expected_public=5)
    assert call(planning, "list_projects", "audit")["total"] == 5
    assert call(planning, "list_projects", "data_center")["total"] == 6
    assert call(planning, "list_projects", "smart_office", page=2, page_size=3)["total"] == 8
    assert call(planning, "list_projects", "smart_office", page=9, page_size=3) == {"items": [], "total": 8}

    for pid in extra:  # supplementary: declared → planned (Art 10)
        call(planning, "review_supplementary", "smart_office", project_id=pid, decision="approve", opinion="同意")
        assert_totals_exact(planning, expected_public=5)
        call(planning, "approve_supplementary", "county_gov", project_id=pid)
        assert_totals_exact(planning, expected_public=5)
    assert call(planning, "list_projects", "smart_office", status="planned")["total"] == 2

    chosen = [edu[0], edu[2], health[1]]  # the annual plan: its projects planned, the others not (Art 9)
    call(planning, "compile_annual_plan", "smart_office", year=2027, project_ids=chosen)
    assert_totals_exact(planning, expected_public=5)
    call(planning, "concur_annual_plan", "finance", year=2027)
    call(planning, "concur_annual_plan", "drc", year=2027)
    call(planning, "approve_annual_plan", "county_gov", year=2027)
    assert_totals_exact(planning, expected_public=5)
    office = {
        s: call(planning, "list_projects", "smart_office", year=2027, status=s)["total"]
        for s in ("planned", "not_planned", "declared")
    }
    assert office == {"planned": 3, "not_planned": 3, "declared": 0}
    assert call(planning, "list_projects", "unit:edu", status="planned")["total"] == 3


def test_concurrent_declarations_are_all_counted(planning, db_backend):
    """20 declarations of one new (unit, year, status, …) row at once. On PostgreSQL another
    transaction holds that row's key until all 20 wait for it, then lets go: the first to go on
    inserts the row, the others' upserts add to it. SQLite serialises its write transactions."""
    outcomes = []

    def all_done(worker_ctx, result, exc_info):
        outcomes.append(exc_info)
        return len(outcomes) == 20

    with (
        _engine(planning) as engine,
        _key_held(engine, db_backend == "postgresql") as release,
        entrypoint_waiter(planning, "declare_project", timeout=30, callback=all_done),
    ):
        entrypoint = get_extension(planning, Entrypoint, method_name="declare_project")
        for _ in range(20):
            planning.spawn_worker(
                entrypoint,
                (),
                {"project": declaration(unit="unit:conc")},
                context_data={"authorization": bearer("unit:conc")},
            )
        release(waiters=20)
    assert outcomes == [None] * 20
    assert call(planning, "list_projects", "unit:conc")["total"] == 20
    assert call(planning, "list_projects", "smart_office", unit="unit:conc", status="declared")["total"] == 20
    assert counted(planning) == grouped(planning)


class _key_held:
    """An uncommitted count row of the declarations' key, in a transaction of its own (when
    ``hold``): each declaration's upsert waits for it; ``release(waiters=n)`` rolls it back once
    ``n`` transactions wait."""

    def __init__(self, engine, hold):
        self.engine, self.hold = engine, hold

    def __enter__(self):
        if not self.hold:
            return lambda waiters: None
        self.conn = self.engine.connect()
        self.held = self.conn.begin()
        row = declaration(unit="unit:conc")
        self.conn.execute(
            project_counts.insert().values(
                unit="unit:conc",
                plan_year=row["plan_year"],
                status="declared",
                classified=False,
                construction_mode=row["construction_mode"],
                n=0,
            )
        )
        return self.release

    def release(self, waiters):
        deadline = time.monotonic() + 20
        while _lock_waiters(self.engine) < waiters and time.monotonic() < deadline:
            time.sleep(0.02)
        self.held.rollback()

    def __exit__(self, *exc):
        if self.hold:
            self.conn.close()


def _lock_waiters(engine):
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    with engine.connect() as conn:
        return conn.execute(text(query)).scalar_one()


def test_counts_follow_any_write_to_projects_and_the_migration_counts_what_is_there(planning):
    """The triggers follow writes no use case makes (a unit or classification changed, a row
    deleted); 0003 counts the projects already there; its downgrade removes it all."""
    pid = declare(planning)
    with _engine(planning) as engine:
        with engine.begin() as conn:
            row = dict(conn.execute(select(projects).where(projects.c.project_id == pid)).mappings().one())
            copies = [
                {**row, "project_id": f"copy-{i}", "unit": "unit:health", "classified": i % 2 == 0} for i in range(4)
            ]
            conn.execute(projects.insert(), copies)
            conn.execute(projects.update().where(projects.c.project_id == "copy-0").values(unit="unit:edu"))
            conn.execute(projects.update().where(projects.c.project_id == "copy-1").values(status="planned"))
            conn.execute(projects.update().where(projects.c.project_id == "copy-3").values(name="改名"))
            conn.execute(projects.delete().where(projects.c.project_id == "copy-2"))
        assert counted(planning) == grouped(planning)
        assert_totals_exact(planning, expected_public=3)
        with engine.begin() as conn:
            _migrate(conn, "downgrade", "0002")
            conn.execute(projects.update().where(projects.c.project_id == "copy-0").values(classified=False))
            _migrate(conn, "upgrade", "head")
    assert counted(planning) == grouped(planning)
    assert_totals_exact(planning, expected_public=4)


def _migrate(conn, direction, revision):
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    getattr(command, direction)(cfg, revision)
