"""Public disclosure (Art 25): what a project is, who builds it, its budget, stage, approval and
contract, one page at a time. A classified project never appears, in any field of any response.
The stage, approval and contract are kept on the project as its timeline grows: a page is two
queries, whatever its size."""

from typing import Any

from planning.domain.declaration import Project
from planning.repository import SqlRepository


def _disclosure(project: Project) -> dict[str, Any]:
    return {
        "project_id": project.project_id,
        "name": project.name,
        "summary": project.summary,
        "category": project.category,
        "unit": project.unit,
        "construction_mode": project.construction_mode,
        "plan_year": project.plan_year,
        "estimated_investment": str(project.estimated_investment),
        "stage": project.stage,
        "approval": project.approval,
        "contract": project.contract,
    }


def project_list(repo: SqlRepository, page: int = 1, page_size: int = 50) -> dict[str, Any]:
    items, total = repo.public_page((page - 1) * page_size, page_size)
    return {"items": [_disclosure(p) for p in items], "total": total, "page": page, "page_size": page_size}


def project_detail(repo: SqlRepository, project_id: str) -> dict[str, Any] | None:
    project = repo.project(project_id)
    if project is None or project.classified:
        return None
    return _disclosure(project)
