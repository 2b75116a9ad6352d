"""The public portal and its open data (Art 25), as planning's public side serves them, on a test
container's database (both backends): the pages people read, the OC4IDS and OCDS records validated
against the official schemas, a classified project nowhere, hostile queries refused."""

import csv
import html
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from planning.models import projects, public_totals
from planning.service import PlanningService

from .portal_data import SECRET_NAME, SECRET_RISK, SECRET_SUMMARY, county, declare
from .public import public_get

STANDARDS = Path(__file__).resolve().parent / "standards"
OC4IDS, OCDS = STANDARDS / "oc4ids-0.9.4", STANDARDS / "ocds-1.1.5"


@pytest.fixture
def planning(container_factory, service_config):
    container = container_factory(PlanningService, service_config("planning", TODAY="2026-12-15"))
    container.start()
    return container


@pytest.fixture
def town(planning):
    return county(planning)


def _validator(folder, package, item, item_url):
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed (make setup installs it)")
    from referencing import Registry, Resource

    item_schema = json.loads((folder / item).read_text())
    registry = Registry().with_resource(item_url, Resource.from_contents(item_schema))
    schema = json.loads((folder / package).read_text())
    return jsonschema.Draft4Validator(
        schema, registry=registry, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )


def oc4ids_validator():
    url = "https://standard.open-contracting.org/infrastructure/schema/0__9__4/project-schema.json"
    return _validator(OC4IDS, "project-package-schema.json", "project-schema.json", url)


def ocds_validator():
    url = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"
    return _validator(OCDS, "release-package-schema.json", "release-schema.json", url)


def errors(validator, document):
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def codelist(folder, name):
    with open(folder / "codelists" / f"{name}.csv", encoding="utf-8") as fh:
        return {row["Code"] for row in csv.DictReader(fh)}


# --- the pages ----------------------------------------------------------------------------------


def test_the_list_shows_the_disclosed_projects_newest_first_with_their_count_sum_and_chart(planning, town):
    page = public_get(planning, "/portal/")
    assert page.status_code == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    text = page.text
    assert '<html lang="zh-CN">' in text and "<caption>" in text and '<meta name="viewport"' in text
    assert "共 <strong>4</strong> 个项目，估算总投资 <strong>4,800,000.00 元</strong>" in text
    names = re.findall(r'<a href="/portal/projects/[^"]+">([^<]+)</a>', text)
    assert names[0] == "政务外网扩容（增补）" or names[-1] == "政务外网扩容（增补）"
    assert names[-1] == "政务外网扩容（增补）"  # 2026 after the three of 2027: newest first
    assert names[0] == "网络安全态势感知"  # the last declared of 2027 first
    svg = re.search(r"<svg .*?</svg>", text, re.S).group(0)
    assert "2027 年各类别项目估算投资" in text
    assert [html.unescape(t) for t in re.findall(r'text-anchor="end">([^<]+)<', svg)] == [
        "智慧城市",
        "电子政务",
        "网络安全",
    ]
    assert "250.00 万元" in svg and "120.00 万元" in svg and "80.00 万元" in svg
    assert '<link rel="stylesheet" href="/portal/portal.css">' in text and "<script" not in text
    css = public_get(planning, "/portal/portal.css")
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css") and len(css.data) < 8192
    assert public_get(planning, "/portal").status_code == 308


def test_the_filters_narrow_the_list_its_count_sum_and_chart(planning, town):
    by_year = public_get(planning, "/portal/", {"year": 2026}).text
    assert "共 <strong>1</strong> 个项目，估算总投资 <strong>300,000.00 元</strong>" in by_year
    assert "2026 年各类别项目估算投资" in by_year and "政务外网扩容" in by_year and "智慧教育平台" not in by_year
    by_unit = public_get(planning, "/portal/", {"unit": "unit:health", "year": "", "category": "", "stage": ""}).text
    assert "共 <strong>1</strong> 个项目" in by_unit and "城市运行一网统管" in by_unit
    by_stage = public_get(planning, "/portal/", {"stage": "contracted"}).text
    assert "共 <strong>1</strong> 个项目，估算总投资 <strong>2,500,000.00 元</strong>" in by_stage
    by_category = public_get(planning, "/portal/", {"category": "cybersecurity"}).text
    assert "共 <strong>1</strong> 个项目，估算总投资 <strong>800,000.00 元</strong>" in by_category
    assert '<option value="2026">2026 年</option>' in by_category and '<option value="2027">' in by_category
    none = public_get(planning, "/portal/", {"year": 2030}).text
    assert "共 <strong>0</strong> 个项目" in none and "没有符合条件的公开项目" in none


def test_the_list_is_paged(planning):
    for i in range(23):
        declare(planning, name=f"项目{i:02d}")
    first, second = public_get(planning, "/portal/").text, public_get(planning, "/portal/", {"page": 2}).text
    assert first.count('href="/portal/projects/') == 20 and second.count('href="/portal/projects/') == 3
    assert 'rel="next" href="/portal/?page=2"' in first and 'rel="prev" href="/portal/?page=1"' in second
    filtered = public_get(planning, "/portal/", {"year": 2027, "category": "e_government"}).text
    assert 'rel="next" href="/portal/?year=2027&amp;category=e_government&amp;page=2"' in filtered
    assert "项目22" in first and "项目00" in second  # newest first
    assert "没有符合条件的公开项目" in public_get(planning, "/portal/", {"page": 9}).text


def test_a_project_page_says_what_who_budget_contract_disbursed_and_its_public_timeline(planning, town):
    page = public_get(planning, f"/portal/projects/{town['built']}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    for shown in (
        "智慧教育平台", "建设全县统一的教育管理与服务平台", "unit:edu", "2,500,000.00 元", "2027 年", "1,500,000.00 元",
        "南发改〔2027〕12号", "2,400,000.00 元", "已签订合同（建设中）", "公开招标", "南县数智科技有限公司",
        "HT-2027-001", "2,300,000.00 元", "3 年（至 2030-03-10）", "1,200,000.00 元（占批复预算 50.0%）",
    ):  # fmt: skip
        assert shown in text, shown
    timeline = re.search(r'<table class="timeline">.*?</table>', text, re.S).group(0)
    steps = re.findall(r'<th scope="row">([^<]+)</th><td>([^<]+)</td>', timeline)
    assert steps == [
        ("申报项目", "unit:edu"),
        ("年度计划经县人民政府批准", "县人民政府"),
        ("列入年度计划", "县人民政府"),
        ("技术评审通过", "县信息和数据中心"),
        ("立项批复", "县发展和改革局"),
        ("预算批复", "县财政局"),
        ("完成采购", "unit:edu"),
        ("签订合同", "unit:edu"),
        ("拨付资金", "县财政局"),
        ("拨付资金", "县财政局"),
    ]
    assert "张三" not in text and "tester" not in text and "@" not in text  # no person, only bureaus
    assert f'href="/public/oc4ids/projects/{town["built"]}"' in page.text
    assert f'href="/public/ocds/releases/{town["built"]}"' in page.text


def test_a_classified_project_and_an_unknown_one_are_the_same_404(planning, town):
    hidden = public_get(planning, f"/portal/projects/{town['secret']}")
    unknown = public_get(planning, "/portal/projects/prj-none")
    assert (hidden.status_code, unknown.status_code) == (404, 404)
    assert hidden.data == unknown.data and hidden.headers["ETag"] == unknown.headers["ETag"]
    for path in ("/public/oc4ids/projects/", "/public/ocds/releases/", "/public/projects/"):
        a, b = public_get(planning, path + town["secret"]), public_get(planning, path + "prj-none")
        assert (a.status_code, a.data) == (b.status_code, b.data) == (404, b.data)


# --- open data ----------------------------------------------------------------------------------


def test_the_oc4ids_package_is_valid_and_uses_the_codelists(planning, town):
    body = public_get(planning, "/public/oc4ids/projects").json
    assert errors(oc4ids_validator(), body) == []
    assert body["version"] == "0.9" and len(body["projects"]) == 4
    statuses, sectors, roles = (
        codelist(OC4IDS, "projectStatus"),
        codelist(OC4IDS, "projectSector"),
        codelist(OC4IDS, "partyRole"),
    )
    for project in body["projects"]:
        assert project["status"] in statuses and set(project["sector"]) <= sectors
        assert all(set(party["roles"]) <= roles for party in project["parties"])
    built = next(p for p in body["projects"] if p["identifiers"][0]["id"] == town["built"])
    process = built["contractingProcesses"][0]["summary"]
    assert process["status"] in codelist(OC4IDS, "contractingProcessStatus")
    assert process["tender"]["procurementMethod"] in codelist(OC4IDS, "method")
    assert (built["status"], process["contractValue"]) == ("implementation", {"amount": 2300000.0, "currency": "CNY"})
    assert [(t["id"], t["value"]["amount"]) for t in process["transactions"]] == [("d-1", 700000.0), ("d-2", 500000.0)]
    assert [b["id"] for b in built["budget"]["budgetBreakdowns"][0]["budgetBreakdown"]] == ["2027", "2028"]
    one = public_get(planning, f"/public/oc4ids/projects/{town['built']}").json
    assert errors(oc4ids_validator(), one) == [] and one["projects"] == [built]
    assert public_get(planning, "/public/oc4ids/projects", {"page": 2}).status_code == 404  # a package is never empty


def test_the_ocds_package_is_valid_with_its_award_contract_and_transactions(planning, town):
    body = public_get(planning, "/public/ocds/releases").json
    assert errors(ocds_validator(), body) == []
    assert body["version"] == "1.1" and len(body["releases"]) == 4
    tags, roles = codelist(OCDS, "releaseTag"), codelist(OCDS, "partyRole")
    for release in body["releases"]:
        assert set(release["tag"]) <= tags and release["initiationType"] in codelist(OCDS, "initiationType")
        assert all(set(party["roles"]) <= roles for party in release["parties"])
    built = next(r for r in body["releases"] if r["ocid"].endswith(town["built"]))
    assert built["tender"]["status"] in codelist(OCDS, "tenderStatus")
    assert built["tender"]["procurementMethod"] in codelist(OCDS, "method")
    assert built["awards"][0]["status"] in codelist(OCDS, "awardStatus")
    contract = built["contracts"][0]
    assert contract["status"] in codelist(OCDS, "contractStatus") and contract["id"] == "HT-2027-001"
    transactions = contract["implementation"]["transactions"]
    assert [(t["id"], t["value"], t["payer"]["id"]) for t in transactions] == [
        ("d-1", {"amount": 700000.0, "currency": "CNY"}, "finance"),
        ("d-2", {"amount": 500000.0, "currency": "CNY"}, "finance"),
    ]
    assert built["planning"]["budget"]["amount"] == {"amount": 2400000.0, "currency": "CNY"}
    one = public_get(planning, f"/public/ocds/releases/{town['built']}").json
    assert errors(ocds_validator(), one) == [] and one["releases"] == [built]


def test_the_validation_can_fail():
    """The vendored schemas refuse what they must: a package without its version, a bad status."""
    assert errors(oc4ids_validator(), {"uri": "x", "publisher": {}, "publishedDate": "x", "projects": []})
    project = {"id": "oc4ids-x-1", "status": "underway"}
    package = {"uri": "http://x", "version": "0.9", "publisher": {"name": "p"}, "publishedDate": "2027-01-01T00:00:00Z"}
    assert any("underway" in e for e in errors(oc4ids_validator(), {**package, "projects": [project]}))
    release = {"ocid": "o", "id": "1", "date": "2027-01-01T00:00:00Z", "tag": ["finished"], "initiationType": "tender"}
    assert any("finished" in e for e in errors(ocds_validator(), {**package, "version": "1.1", "releases": [release]}))


# --- never a classified project -----------------------------------------------------------------


def public_urls(planning, town):
    """Every public address, with each filter value a classified project could leak through."""
    urls = [
        "/public/projects", "/public/projects?page_size=200", "/portal/", "/portal/portal.css",
        "/public/oc4ids/projects", "/public/ocds/releases",
        "/portal/?unit=unit:police", "/portal/?category=cybersecurity", "/portal/?year=2027",
        "/portal/?stage=contracted", "/portal/?unit=unit:police&category=cybersecurity&stage=contracted&year=2027",
    ]  # fmt: skip
    for pid in [town["built"], *town["others"], town["secret"], "prj-none"]:
        for base in ("/public/projects/", "/portal/projects/", "/public/oc4ids/projects/", "/public/ocds/releases/"):
            urls.append(base + pid)
    return urls


def test_a_classified_project_appears_in_no_public_answer(planning, town):
    secret = town["secret"]
    for url in public_urls(planning, town):
        path, _, query = url.partition("?")
        answer = public_get(planning, path, query or None)
        assert answer.status_code in (200, 404), url
        text = answer.get_data(as_text=True)
        for leak in (
            secret,
            SECRET_NAME,
            SECRET_SUMMARY,
            *SECRET_RISK,
            "unit:police",
            "9,900,000",
            "9900000",
            "990.00 万元",
        ):
            assert leak not in text, (url, leak)
    police = public_get(planning, "/portal/", {"unit": "unit:police"}).text
    assert "共 <strong>0</strong> 个项目" in police and '<option value="unit:police"' not in police


def test_public_totals_are_kept_with_every_change_and_count_no_classified_project(planning, town):
    """The triggers of migration 0005 against a count over the projects themselves."""
    engine = create_engine(planning.config["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            key = (projects.c.plan_year, projects.c.unit, projects.c.category, projects.c.stage)
            expected = conn.execute(
                select(*key, func.count(), func.sum(projects.c.estimated_investment))
                .where(projects.c.classified.is_(False))
                .group_by(*key)
            ).all()
            kept = conn.execute(select(public_totals).where(public_totals.c.n > 0)).all()
    finally:
        engine.dispose()
    as_set = {(y, u, c, s, n, Decimal(e)) for y, u, c, s, n, e in expected}
    assert {(r.plan_year, r.unit, r.category, r.stage, r.n, r.estimated) for r in kept} == as_set
    assert any(r.stage == "contracted" for r in kept) and not any(r.unit == "unit:police" for r in kept)


# --- hostile queries ------------------------------------------------------------------------------

HOSTILE = [
    {"year": "<script>alert(1)</script>"},
    {"unit": "<script>alert(1)</script>"},
    {"category": '"><img src=x onerror=alert(1)>'},
    {"stage": "</select><script>alert(1)</script>"},
    {"<script>": "1"},
    {"page": "-1"},
    {"page": "0"},
    {"page": "99999999999999999999999"},
    {"page": "1e9"},
    {"year": "x" * 10_000},
    {"unit": "unit:" + "a" * 10_000},
    {"page": "2", "year": "2027", "a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6", "g": "7", "h": "8",
     "i": "9", "j": "10", "k": "11", "l": "12", "m": "13", "n": "14", "o": "15", "p": "16", "q": "17"},
]  # fmt: skip


@pytest.mark.parametrize("path", ["/portal/", "/public/oc4ids/projects", "/public/ocds/releases", "/public/projects"])
def test_a_hostile_query_is_refused_or_escaped_never_a_500(planning, path):
    declare(planning)
    for query in HOSTILE:
        answer = public_get(planning, path, query)
        assert answer.status_code in (400, 414), (path, query, answer.status_code)
        text = answer.get_data(as_text=True)
        assert "<script" not in text and "<img" not in text, (path, query)
    for path_ in ("/portal/projects/<script>alert(1)</script>", "/portal/projects/" + "x" * 300):
        answer = public_get(planning, path_)
        assert answer.status_code in (404, 414) and "<script" not in answer.get_data(as_text=True)
    answer = public_get(planning, f"{path}", {"year": "<b>2027</b>"} if path == "/portal/" else {"page": "<b>"})
    assert answer.status_code == 400 and "<b>" not in answer.get_data(as_text=True)


def test_migration_0005_keeps_what_each_existing_timeline_discloses_and_totals_what_is_public(tmp_path):
    """A database of 0004 with two projects (one classified) and a timeline: after 0005 the open
    one carries its budget, procurement, full contract and total disbursed, and ``public_totals``
    counts it alone."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from nxshared.db import make_engine

    from .test_service import MIGRATIONS, _bulk_rows, _insert_sql, _json_ready

    url = f"sqlite:///{tmp_path / 'planning.db'}"
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    engine = make_engine(url)
    secret, shown = _bulk_rows()[0], _bulk_rows()[1]
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0004")
            for row in (secret, shown):
                row = {**row, "estimated_investment": 10000, "stage": "contracted"}  # Money: cents
                conn.execute(text(_insert_sql("projects", row)), _json_ready(row))
            facts = [
                ("budget.approved", {"approved_amount": "90.00", "estimated_investment": "100.00"}),
                ("procurement.registered", {"method": "inquiry", "supplier": "某公司", "amount": "80.00", "date": "2027-03-01"}),
                ("contract.registered", {"contract_no": "HT-9", "vendor": "某公司", "amount": "80.00", "om_years": 3,
                                         "signed_on": "2027-03-02", "om_ends_on": "2030-03-02"}),
                ("funds.disbursed", {"disbursement_id": "d1", "amount": "30.00", "disbursed_total": "30.00"}),
                ("funds.disbursed", {"disbursement_id": "d2", "amount": "20.00", "disbursed_total": "50.00"}),
            ]  # fmt: skip
            for seq, (event_type, data) in enumerate(facts, start=1):
                entry = {
                    "seq": seq, "event_id": f"e{seq}", "project_id": shown["project_id"], "event_type": event_type,
                    "source": "finance", "occurred_at": f"2027-03-0{seq}T00:00:00+00:00", "actor": "a@finance", "data": data,
                }  # fmt: skip
                conn.execute(text(_insert_sql("timeline", entry)), _json_ready(entry))
            command.upgrade(cfg, "head")
        with engine.connect() as conn:
            migrated = conn.execute(select(projects).where(projects.c.project_id == shown["project_id"])).one()
            totals = conn.execute(select(public_totals)).all()
    finally:
        engine.dispose()
    assert migrated.budget == {"approved_amount": "90.00", "approved_on": "2027-03-01"}
    assert migrated.procurement == {"method": "inquiry", "supplier": "某公司", "amount": "80.00", "date": "2027-03-01"}
    assert (migrated.contract["om_years"], migrated.contract["om_ends_on"], migrated.disbursed) == (
        3,
        "2030-03-02",
        Decimal("50.00"),
    )
    assert [(t.unit, t.stage, t.n, t.estimated) for t in totals] == [
        (shown["unit"], "contracted", 1, Decimal("100.00"))
    ]
