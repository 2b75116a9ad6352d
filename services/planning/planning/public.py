"""Public disclosure (Art 25): what a project is, who builds it, its budget, stage, approval and
contract. A classified project never appears, in any field of any response."""

from typing import Any

from planning.domain.declaration import Project
from planning.domain.timeline import stage_of
from planning.repository import SqlRepository

CONTRACT_FIELDS = ("contract_no", "vendor", "amount")


def _disclosure(repo: SqlRepository, project: Project) -> dict[str, Any]:
    entries = repo.timeline(project.project_id)
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
        "stage": stage_of(entries) or project.status,
        "approval": {"approval_no": approval.get("approval_no")} if approval else None,
        "contract": {k: contract.get(k) for k in CONTRACT_FIELDS if k in contract} if contract else None,
    }


def project_list(repo: SqlRepository) -> dict[str, Any]:
    items = [_disclosure(repo, p) for p in repo.projects() if not p.classified]
    return {"items": items, "total": len(items)}


def project_detail(repo: SqlRepository, project_id: str) -> dict[str, Any] | None:
    project = repo.project(project_id)
    if project is None or project.classified:
        return None
    return _disclosure(repo, project)
