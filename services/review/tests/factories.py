"""Sample events and inputs for review's tests."""

import uuid

from nxshared.catalog import REGISTRY
from nxshared.clock import Clock


def planned_event(project_id=None, **overrides):
    """A ``project.planned`` event as planning emits it (data v2)."""
    data = {
        "name": "智慧教育平台",
        "unit": "unit:edu",
        "construction_mode": "self_built",
        "plan_year": 2027,
        "plan_type": "annual",
        "estimated_investment": "2500000.00",
        "requires_construction_plan": True,
        "classified": False,
        "custom_software": True,
        "hosted_on_big_data_center": True,
    }
    data.update(overrides)
    return REGISTRY.make(
        "project.planned",
        source="planning",
        project_id=project_id or f"prj-{uuid.uuid4().hex[:12]}",
        actor="gov@county_gov",
        data=data,
        occurred_at=Clock.now(),
    )


def construction_plan(budget="2500000.00"):
    return {"title": "智慧教育平台建设方案", "document_ref": "doc/edu-2027-01.pdf", "budget": budget}


def expert(name, level="city", employer="univ:njupt"):
    return {"name": name, "level": level, "field": "软件工程", "employer": employer}
