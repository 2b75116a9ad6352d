"""Public disclosure (Art 25): what a project is, who builds it, its budget, stage, approval and
contract. A classified project never appears, in any field of any response."""

from planning import domain
from planning import repository as repo

CONTRACT_FIELDS = ("contract_no", "vendor", "amount")


def _disclosure(session, project):
    entries = repo.timeline(session, project.project_id)
    approval = next((e.data for e in reversed(entries) if e.event_type == "approval.granted"), None)
    contract = next((e.data for e in reversed(entries) if e.event_type == "contract.registered"), None)
    return {
        "project_id": project.project_id,
        "name": project.name,
        "summary": project.summary,
        "category": project.category,
        "unit": project.unit,
        "construction_mode": project.construction_mode,
        "plan_year": project.plan_year,
        "estimated_investment": str(project.estimated_investment),
        "stage": domain.stage_of(entries) or project.status,
        "approval": {"approval_no": approval.get("approval_no")} if approval else None,
        "contract": {k: contract.get(k) for k in CONTRACT_FIELDS if k in contract} if contract else None,
    }


def project_list(session):
    items = [_disclosure(session, p) for p in repo.projects(session) if not p.classified]
    return {"items": items, "total": len(items)}


def project_detail(session, project_id):
    project = repo.project(session, project_id)
    if project is None or project.classified:
        return None
    return _disclosure(session, project)
