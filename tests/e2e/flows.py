"""Steps of a project's life through the contract, shared by the end-to-end tests."""

from nxshared.demo import sample_project

from .conftest import wait_for

PLAN_YEAR = 2027  # the suite runs with NX_TODAY=2026-12-15, inside the declaration window


def declare(suite, **overrides):
    project = sample_project(PLAN_YEAR)
    project.update(plan_type="annual", higher_level_requirement=None, name="智慧教育平台")
    project.update(
        annual_investments=[{"year": PLAN_YEAR, "amount": overrides.get("estimated_investment", "2500000.00")}]
    )
    project.update(overrides)
    return suite.rpc("unit:edu", "planning", "declare_project", project=project)["project_id"]


def plan(suite, *project_ids):
    suite.rpc("smart_office", "planning", "compile_annual_plan", year=PLAN_YEAR, project_ids=list(project_ids))
    suite.rpc("finance", "planning", "concur_annual_plan", year=PLAN_YEAR)
    suite.rpc("drc", "planning", "concur_annual_plan", year=PLAN_YEAR)
    return suite.rpc("county_gov", "planning", "approve_annual_plan", year=PLAN_YEAR)


def stage_becomes(suite, project_id, stage, timeout=30):
    return wait_for(
        lambda: suite.rpc("smart_office", "planning", "get_timeline", project_id=project_id)["stage"] == stage,
        timeout,
        f"stage {stage}",
    )


def timeline_types(suite, project_id):
    return [
        e["event_type"] for e in suite.rpc("smart_office", "planning", "get_timeline", project_id=project_id)["events"]
    ]
