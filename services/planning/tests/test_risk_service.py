"""The risk rating through the service (both database backends): other services' events rate a
project, ``get_risk`` as ``get_project`` shows it, ``override_risk`` to the smart office only, with
its history, the event on the timeline, the gauge, and the public JSON and portal page."""

import pytest
import requests
from nameko.testing.services import entrypoint_hook
from sqlalchemy import create_engine, select

from nxshared.core.errors import Forbidden, NotFound, Unauthorized, ValidationError
from nxshared.testing import call, deliver, make_event
from planning.models import risk_overrides

from .portal_data import carry
from .public import public_get
from .test_service import declare, planning  # noqa: F401  (the fixture)

INCIDENT = {
    "incident_id": "inc-1",
    "severity": "critical",
    "description": "门户遭篡改",
    "occurred_at": "2026-12-14T08:00:00+00:00",
    "deadline": "2026-12-14T10:00:00+00:00",
}
FAILED_INSPECTION = {"inspection_id": "ins-1", "passed": False, "findings": "弱口令"}


def test_a_project_is_rated_from_the_events_on_its_timeline(planning):  # noqa: F811
    pid = declare(planning)["project_id"]
    assert call(planning, "get_risk", "unit:edu", project_id=pid) == {
        "project_id": pid,
        "rating": 1,
        "computed_rating": 1,
        "reasons": [],
        "override": None,
    }
    deliver(planning, "record_timeline", make_event("incident.reported", pid, INCIDENT))
    deliver(planning, "record_timeline", make_event("inspection.recorded", pid, FAILED_INSPECTION))
    found = call(planning, "get_risk", "smart_office", project_id=pid)
    assert (found["rating"], [r["code"] for r in found["reasons"]]) == (4, ["FAILED_CHECKS", "OPEN_INCIDENTS"])
    assert found["reasons"][1]["evidence"] == {"incidents": [{"incident_id": "inc-1", "severity": "critical"}]}
    resolved = {**INCIDENT, "response": "已恢复", "late": False}
    del resolved["description"], resolved["occurred_at"]
    deliver(planning, "record_timeline", make_event("incident.resolved", pid, resolved))
    assert call(planning, "get_risk", "smart_office", project_id=pid)["rating"] == 2


def test_an_unauthorized_change_raises_the_rating_until_resolved(planning):  # noqa: F811
    pid = declare(planning)["project_id"]
    call(planning, "report_unauthorized_change", "data_center", project_id=pid, description="擅自增加服务器")
    assert call(planning, "get_risk", "audit", project_id=pid)["reasons"][0]["code"] == "UNAUTHORIZED_CHANGE"
    call(planning, "resolve_unauthorized_change", "smart_office", project_id=pid, opinion="已补办")
    assert call(planning, "get_risk", "audit", project_id=pid)["rating"] == 1


def test_the_rating_is_seen_as_the_project_is(planning):  # noqa: F811
    secret = declare(planning, classified=True)["project_id"]
    for org in ("unit:health", "unit:agri"):
        with pytest.raises(NotFound):
            call(planning, "get_risk", org, project_id=secret)
        with pytest.raises(NotFound):
            call(planning, "get_project", org, project_id=secret)
    assert call(planning, "get_risk", "finance", project_id=secret)["rating"] == 1
    assert call(planning, "get_risk", "unit:edu", project_id=secret)["rating"] == 1
    with entrypoint_hook(planning, "get_risk") as hook, pytest.raises(Unauthorized):
        hook(project_id=secret)


def test_the_smart_office_overrides_with_a_comment_kept_with_who_and_when(planning):  # noqa: F811
    pid = declare(planning)["project_id"]
    for org in ("unit:edu", "finance", "drc"):
        with pytest.raises(Forbidden):
            call(planning, "override_risk", org, project_id=pid, rating=3, comment="x")
    first = call(planning, "override_risk", "smart_office", project_id=pid, rating=4, comment="供应商履约能力存疑")
    assert (first["rating"], first["computed_rating"], first["override"]["comment"]) == (4, 1, "供应商履约能力存疑")
    assert first["override"]["by"].endswith("@smart_office") and first["override"]["at"]
    call(planning, "override_risk", "smart_office", project_id=pid, rating=2, comment="已更换供应商")
    found = call(planning, "get_risk", "unit:edu", project_id=pid)
    assert (found["rating"], found["override"]["rating"], found["override"]["comment"]) == (2, 2, "已更换供应商")
    engine = create_engine(planning.config["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            kept = conn.execute(
                select(risk_overrides.c.rating, risk_overrides.c.comment).order_by(risk_overrides.c.seq)
            )
            assert [tuple(row) for row in kept] == [(4, "供应商履约能力存疑"), (2, "已更换供应商")]
    finally:
        engine.dispose()
    events = call(planning, "get_timeline", "smart_office", project_id=pid)["events"]
    overridden = [e for e in events if e["event_type"] == "risk.overridden"]
    assert [e["data"] for e in overridden] == [
        {"rating": 4, "comment": "供应商履约能力存疑", "computed_rating": 1},
        {"rating": 2, "comment": "已更换供应商", "computed_rating": 1},
    ]
    with pytest.raises(NotFound):
        call(planning, "override_risk", "smart_office", project_id="prj-none", rating=3, comment="x")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rating": True, "comment": "x"}, "rating"),
        ({"rating": "3", "comment": "x"}, "rating"),
        ({"rating": 3.0, "comment": "x"}, "rating"),
        ({"rating": 0, "comment": "x"}, "rating"),
        ({"rating": 6, "comment": "x"}, "rating"),
        ({"rating": 3, "comment": "  "}, "comment"),
        ({"rating": 3, "comment": None}, "comment"),
        ({"rating": 3, "comment": "x" * 2001}, "comment"),
    ],
)
def test_an_override_is_refused_naming_the_field_and_nothing_is_kept(planning, kwargs, field):  # noqa: F811
    pid = declare(planning)["project_id"]
    with pytest.raises(ValidationError) as err:
        call(planning, "override_risk", "smart_office", project_id=pid, **kwargs)
    assert field in str(err.value)
    assert call(planning, "get_risk", "smart_office", project_id=pid)["override"] is None


def test_the_gauge_counts_the_projects_by_rating(planning):  # noqa: F811
    calm, troubled, overridden = (declare(planning)["project_id"] for _ in range(3))
    deliver(planning, "record_timeline", make_event("incident.reported", troubled, INCIDENT))
    call(planning, "override_risk", "smart_office", project_id=overridden, rating=5, comment="重点关注")
    text = requests.get(f"http://{planning.config['WEB_SERVER_ADDRESS']}/metrics", timeout=5).text
    for rating, count in (("1", 1), ("3", 1), ("5", 1)):
        assert f'nx_planning_projects_by_risk{{rating="{rating}"}} {count}.0' in text, text


def test_the_public_sees_a_public_projects_rating_and_reasons(planning):  # noqa: F811
    pid = declare(planning)["project_id"]
    carry(planning, pid)
    deliver(planning, "record_timeline", make_event("inspection.recorded", pid, FAILED_INSPECTION))
    call(planning, "override_risk", "smart_office", project_id=pid, rating=3, comment="整改中，持续关注")
    public = public_get(planning, f"/public/projects/{pid}").json["risk"]
    assert public["rating"] == 3 and public["computed_rating"] == 2
    assert [r["code"] for r in public["reasons"]] == ["FAILED_CHECKS"]
    assert set(public["override"]) == {"rating", "comment", "at"}  # not who
    page = public_get(planning, f"/portal/projects/{pid}").get_data(as_text=True)
    assert "风险等级：<strong>3</strong>" in page and "1 次检查未通过（安全检查未通过）" in page
    assert "整改中，持续关注" in page and "smart_office" not in page


def test_migration_0007_rates_each_existing_project_from_its_timeline(tmp_path):
    """A database of 0005 with two projects, one with an open critical incident on its timeline:
    after 0007 (0006 adds the reminders) each has its rating; the downgrade removes the tables."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect, text

    from nxshared.db import make_engine
    from planning.models import risk_ratings

    from .test_service import MIGRATIONS, _bulk_rows, _insert_sql, _json_ready

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    engine = make_engine(f"sqlite:///{tmp_path / 'planning.db'}")
    calm, troubled = _bulk_rows()[1], _bulk_rows()[2]
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0005")
            for row in (calm, troubled):
                row = {**row, "estimated_investment": 10000}  # Money: cents
                conn.execute(text(_insert_sql("projects", row)), _json_ready(row))
            entry = {
                "seq": 1, "event_id": "e1", "project_id": troubled["project_id"], "event_type": "incident.reported",
                "source": "security", "occurred_at": "2027-03-01T00:00:00+00:00", "actor": "a@security",
                "data": {"incident_id": "i1", "severity": "critical"},
            }  # fmt: skip
            conn.execute(text(_insert_sql("timeline", entry)), _json_ready(entry))
            command.upgrade(cfg, "head")
            rated = {r.project_id: r for r in conn.execute(select(risk_ratings))}
            command.downgrade(cfg, "0005")
            assert "risk_ratings" not in inspect(conn).get_table_names()
    finally:
        engine.dispose()
    assert (rated[calm["project_id"]].rating_on_time, rated[calm["project_id"]].reasons) == (1, [])
    found = rated[troubled["project_id"]]
    assert (found.rating_on_time, found.rating_late, found.late_from) == (
        3,
        5,
        "2028-01-01",
    )  # no contract by the end of 2027
    assert [r["code"] for r in found.reasons] == ["OPEN_INCIDENTS"]
