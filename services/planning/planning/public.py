"""Public disclosure (Art 25): what a project is, who builds it, its budget, stage, approval and
contract, one page at a time. A classified project never appears, in any field of any response:
every read below goes through ``SqlRepository.public_…``, which never returns one.

The pages are served by planning's public side, a process of its own (``PAGES``, ``PUBLIC_APP``):

- ``/public/projects`` and ``/public/projects/<id>``: JSON (the contract's);
- ``/portal/`` and ``/portal/projects/<id>``: the portal people read, HTML in Chinese
  (``planning.portal.views``);
- ``/public/oc4ids/projects[/<id>]`` and ``/public/ocds/releases[/<id>]``: open data in OC4IDS 0.9
  and OCDS 1.1 (``planning.portal.opendata``).

The stage, approval, budget, procurement, contract and total disbursed are kept on the project as
its timeline grows, the counts and sums in ``public_totals``: a page is a few queries, whatever
the number of projects."""

from collections.abc import Mapping
from typing import Any

from nxshared.core.errors import ValidationError
from nxshared.publicside import Body, PublicPages
from nxshared.validation import load
from planning import plan_workbook, usecases
from planning.portal import opendata, views
from planning.portal.labels import DECISIONS
from planning.portal.opendata import Site
from planning.repository import SqlRepository
from planning.schemas import OpenDataQuery, PortalQuery, PublicQuery, YearIn
from planning.usecases import PublicFilters

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
OPEN_DATA_PAGE = 50  # projects (releases) a package holds
PUBLIC_EVENTS = tuple(DECISIONS)  # what a public timeline, a record's date and its transactions read


def _disclosure(row: Mapping[str, Any]) -> dict[str, Any]:
    return {**{name: row[name] for name in DISCLOSED}, "estimated_investment": str(row["estimated_investment"])}


def project_list(repo: SqlRepository, page: int = 1, page_size: int = 50) -> dict[str, Any]:
    rows, total = repo.public_page((page - 1) * page_size, page_size)
    return {"items": [_disclosure(row) for row in rows], "total": total, "page": page, "page_size": page_size}


def project_detail(repo: SqlRepository, project_id: str, site: Site) -> dict[str, Any] | None:
    row = repo.public_project(project_id)
    return None if row is None else {**_disclosure(row), "risk": public_risk(repo, project_id, site)}


def public_risk(repo: SqlRepository, project_id: str, site: Site) -> dict[str, Any]:
    """A public project's risk rating and its reasons; an override's comment and day, not who."""
    view = usecases.risk_of(repo, project_id, site.clock.today())
    kept = view.override
    return {
        "rating": view.rating,
        "computed_rating": view.computed.rating,
        "reasons": [r.as_dict() for r in view.computed.reasons],
        "override": None
        if kept is None
        else {"rating": kept.rating, "comment": kept.comment, "at": kept.at.isoformat()},
    }


def _no_query(args: Mapping[str, str]) -> None:
    if args:
        raise ValidationError("INVALID_INPUT", "此页面不接受查询参数")


# --- JSON (the contract's pages) ----------------------------------------------------------------


def list_page(repo: SqlRepository, args: Mapping[str, str], site: Site) -> dict[str, Any]:
    """``/public/projects?page=&page_size=`` (at most 200 a page), ``total`` in the body."""
    return project_list(repo, **load(PublicQuery, dict(args)))


def detail_page(repo: SqlRepository, args: Mapping[str, str], site: Site, project_id: str) -> dict[str, Any] | None:
    """``/public/projects/<id>``; None (404) for a project that does not exist or is classified."""
    _no_query(args)
    return project_detail(repo, project_id, site)


# --- the portal ---------------------------------------------------------------------------------


def _html(content: bytes, status: int = 200) -> Body:
    return Body(content, views.HTML, status)


def _portal_query(args: Mapping[str, str]) -> dict[str, Any]:
    """The form's fields; an empty one (its "all" choice) is no filter."""
    return load(PortalQuery, {name: value for name, value in args.items() if value != ""})


def portal_list(repo: SqlRepository, args: Mapping[str, str], site: Site) -> Body:
    """``/portal/?year=&unit=&category=&stage=&page=``: the disclosed projects, newest first."""
    try:
        query = _portal_query(args)
    except ValidationError as exc:
        return _html(views.refused_page(exc.message, site), 400)
    page = query.pop("page")
    filters = PublicFilters(**query)
    items = [dict(row) for row in repo.public_newest(filters, (page - 1) * views.PAGE_SIZE, views.PAGE_SIZE)]
    return _html(views.list_page(items, repo.public_totals(), filters, page, site))


def portal_project(repo: SqlRepository, args: Mapping[str, str], site: Site, project_id: str) -> Body:
    """``/portal/projects/<id>``: one page for a project that does not exist or is classified (404)."""
    if args:
        return _html(views.refused_page("此页面不接受查询参数", site), 400)
    row = repo.public_project(project_id)
    if row is None:
        return _html(views.not_found_page(site), 404)
    entries = repo.public_timelines([project_id], PUBLIC_EVENTS)[project_id]
    return _html(views.project_page(dict(row), entries, public_risk(repo, project_id, site), site))


def portal_stylesheet(repo: SqlRepository, args: Mapping[str, str], site: Site) -> Body:
    return Body(views.stylesheet(), views.CSS)


# --- open data ----------------------------------------------------------------------------------


def _open_data(repo: SqlRepository, args: Mapping[str, str], site: Site, path: str, package) -> dict[str, Any] | None:
    page = load(OpenDataQuery, dict(args))["page"]
    rows = repo.public_newest(PublicFilters(), (page - 1) * OPEN_DATA_PAGE, OPEN_DATA_PAGE)
    if not rows:
        return None  # a package holds at least one project (both schemas): past the last page, 404
    timelines = repo.public_timelines([row["project_id"] for row in rows], PUBLIC_EVENTS)
    return package(rows, timelines, site, f"{path}?page={page}")


def _one_record(repo: SqlRepository, args: Mapping[str, str], site: Site, path: str, package) -> dict[str, Any] | None:
    _no_query(args)
    project_id = path.rsplit("/", 1)[-1]
    row = repo.public_project(project_id)
    if row is None:
        return None
    return package([row], repo.public_timelines([project_id], PUBLIC_EVENTS), site, path)


def oc4ids_projects(repo: SqlRepository, args: Mapping[str, str], site: Site) -> dict[str, Any] | None:
    """``/public/oc4ids/projects?page=``: an OC4IDS 0.9 project package of 50 projects, newest first."""
    return _open_data(repo, args, site, "/public/oc4ids/projects", opendata.oc4ids_package)


def oc4ids_project(repo: SqlRepository, args: Mapping[str, str], site: Site, project_id: str) -> dict[str, Any] | None:
    """``/public/oc4ids/projects/<id>``: the package of that one project."""
    return _one_record(repo, args, site, f"/public/oc4ids/projects/{project_id}", opendata.oc4ids_package)


def ocds_releases(repo: SqlRepository, args: Mapping[str, str], site: Site) -> dict[str, Any] | None:
    """``/public/ocds/releases?page=``: an OCDS 1.1 release package, one compiled release a project."""
    return _open_data(repo, args, site, "/public/ocds/releases", opendata.ocds_package)


def ocds_release(repo: SqlRepository, args: Mapping[str, str], site: Site, project_id: str) -> dict[str, Any] | None:
    """``/public/ocds/releases/<id>``: the package of that one project's release."""
    return _one_record(repo, args, site, f"/public/ocds/releases/{project_id}", opendata.ocds_package)


# --- the plan as a spreadsheet ------------------------------------------------------------------


def plan_workbook_page(repo: SqlRepository, args: Mapping[str, str], site: Site, year: int) -> Body | None:
    """``/public/plan/<year>.xlsx``: the year's planned projects as an Excel workbook; 404 when the
    year has neither a plan nor a planned project the public may see."""
    _no_query(args)
    wanted = load(YearIn, {"year": year})["year"]
    sheet = usecases.public_plan_sheet(repo, wanted)
    if sheet is None:
        return None
    return Body(
        plan_workbook.workbook_bytes(sheet, plan_workbook.plan_title(wanted, public=True)), plan_workbook.CONTENT_TYPE
    )


PAGES = PublicPages(
    routes={
        "/public/projects": list_page,
        "/public/projects/<project_id>": detail_page,
        "/portal/": portal_list,
        "/portal/projects/<project_id>": portal_project,
        "/portal/portal.css": portal_stylesheet,
        "/public/oc4ids/projects": oc4ids_projects,
        "/public/oc4ids/projects/<project_id>": oc4ids_project,
        "/public/ocds/releases": ocds_releases,
        "/public/ocds/releases/<project_id>": ocds_release,
        "/public/plan/<int:year>.xlsx": plan_workbook_page,
    },
    repository=SqlRepository,
    not_found="项目不存在",
    site=Site.from_settings,
)
