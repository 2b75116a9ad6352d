"""Public disclosure (Art 25): what a project is, who builds it, its budget, stage, approval and
contract, one page at a time. A classified project never appears, in any field of any response.
The pages are served by planning's public side, a process of its own (``PAGES``, ``PUBLIC_APP``).
The stage, approval and contract are kept on the project as its timeline grows: a page is two
queries, whatever its size."""

from collections.abc import Mapping
from typing import Any

from nxshared.core.errors import ValidationError
from nxshared.publicside import PublicPages
from nxshared.validation import load
from planning.repository import SqlRepository
from planning.schemas import PublicQuery

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


# --- the public side's pages (served by ``python -m nxshared.publicside``, PUBLIC_APP) ----------


def list_page(repo: SqlRepository, args: Mapping[str, str]) -> dict[str, Any]:
    """``/public/projects?page=&page_size=`` (at most 200 a page), ``total`` in the body."""
    return project_list(repo, **load(PublicQuery, dict(args)))


def detail_page(repo: SqlRepository, args: Mapping[str, str], project_id: str) -> dict[str, Any] | None:
    """``/public/projects/<id>``; None (404) for a project that does not exist or is classified."""
    if args:
        raise ValidationError("INVALID_INPUT", "此页面不接受查询参数")
    return project_detail(repo, project_id)


PAGES = PublicPages(
    routes={"/public/projects": list_page, "/public/projects/<project_id>": detail_page},
    repository=SqlRepository,
    not_found="项目不存在",
)
