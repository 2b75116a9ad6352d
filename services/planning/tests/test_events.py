"""planning's event versions: ``project.planned`` v1 (before plan types) still decodes."""

from nxshared.catalog import REGISTRY

PLANNED_V2 = {
    "name": "n",
    "unit": "unit:edu",
    "construction_mode": "self_built",
    "plan_year": 2027,
    "plan_type": "supplementary",
    "estimated_investment": "10.00",
    "requires_construction_plan": True,
    "classified": False,
    "custom_software": True,
    "hosted_on_big_data_center": True,
}


def envelope(version, data):
    return {
        "event_id": "e1",
        "event_type": "project.planned",
        "version": version,
        "occurred_at": "2026-12-15T00:00:00+00:00",
        "source": "planning",
        "project_id": "p1",
        "actor": "a@county_gov",
        "data": data,
    }


def test_project_planned_v1_is_upcast_to_v2_as_an_annual_plan_entry():
    added_in_v2 = ("plan_type", "name", "custom_software", "hosted_on_big_data_center")
    evt = REGISTRY.decode(envelope(1, {k: v for k, v in PLANNED_V2.items() if k not in added_in_v2}))
    assert evt.version == 2
    assert evt.data["plan_type"] == "annual"
    assert evt.data["custom_software"] is False


def test_project_planned_v2_decodes_as_sent():
    assert REGISTRY.decode(envelope(2, PLANNED_V2)).data == PLANNED_V2


DECLARED_V1 = {
    "name": "智慧校园平台",
    "unit": "unit:edu",
    "category": "platform",
    "construction_mode": "self_built",
    "plan_year": 2027,
    "plan_type": "annual",
    "estimated_investment": "10.00",
    "classified": False,
}


def test_project_declared_v1_is_upcast_to_v2_without_a_summary():
    evt = REGISTRY.decode({**envelope(1, DECLARED_V1), "event_type": "project.declared"})
    assert (evt.version, evt.data["summary"]) == (2, "")


def test_project_declared_v2_carries_the_summary_review_compares_plans_with():
    sent = {**DECLARED_V1, "summary": "全县中小学统一身份认证"}
    evt = REGISTRY.decode({**envelope(2, sent), "event_type": "project.declared"})
    assert evt.data == sent
