"""Planning's service tests: the real container on a real broker (per-test vhost) and database."""

import pytest
from nameko.testing.services import entrypoint_waiter

from nxshared.errors import Forbidden, NotFound, RuleViolation, Unauthorized
from nxshared.testing import call
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
