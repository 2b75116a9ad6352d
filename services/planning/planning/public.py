"""Public disclosure (Art 25): what a project is, who builds it, its budget, stage, approval and
contract, one page at a time. A classified project never appears, in any field of any response.
The stage, approval and contract are kept on the project as its timeline grows: a page is two
queries, whatever its size."""

from collections.abc import Mapping
from typing import Any

from planning.repository import SqlRepository

DISCLOSED = (
    "project_id",
    "name",
    "summary",
    "category",
    "unit",
    "construction_mode",
    "plan_year",
    "stage",
    "approval",
    "contract",
)


def _disclosure(row: Mapping[str, Any]) -> dict[str, Any]:
    return {**{name: row[name] for name in DISCLOSED}, "estimated_investment": str(row["estimated_investment"])}


def project_list(repo: SqlRepository, page: int = 1, page_size: int = 50) -> dict[str, Any]:
    rows, total = repo.public_page((page - 1) * page_size, page_size)
    return {"items": [_disclosure(row) for row in rows], "total": total, "page": page, "page_size": page_size}


def project_detail(repo: SqlRepository, project_id: str) -> dict[str, Any] | None:
    row = repo.public_project(project_id)
    return None if row is None else _disclosure(row)
