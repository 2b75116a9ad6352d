"""The annual plan as a spreadsheet (issue 24): the sums of ``planning.domain.plan_sheet`` as plain
Python, then the workbook the public side serves at ``/public/plan/<year>.xlsx`` and the one
``get_plan_workbook`` returns, each opened again with openpyxl and its sums checked cell by cell."""

import base64
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from nxshared.core.errors import Forbidden, ValidationError
from nxshared.testing import call
from planning.domain.plan_sheet import line_of, plan_sheet
from planning.plan_workbook import CONTENT_TYPE, FIXED_HEADINGS, HEADER_ROW
from planning.service import PlanningService

from .portal_data import SECRET_NAME, county, declare
from .public import public_get

# --- the sums, without a database -----------------------------------------------------------------


def row(project_id, unit, estimate, *investments, plan_type="annual"):
    return {
        "project_id": project_id,
        "name": f"项目{project_id}",
        "unit": unit,
        "category": "e_government",
        "construction_mode": "self_built",
        "plan_type": plan_type,
        "estimated_investment": Decimal(estimate),
        "annual_investments": [{"year": year, "amount": amount} for year, amount in investments],
    }


def test_projects_are_grouped_by_unit_with_subtotals_a_total_and_every_investment_year():
    lines = map(
        line_of,
        [
            row("p3", "unit:health", "1200000.00", (2027, "1200000.00")),
            row("p1", "unit:edu", "2500000.00", (2027, "1500000.00"), (2028, "1000000.00")),
            row("p2", "unit:edu", "800000.10", (2027, "800000.10")),
            row("p4", "unit:health", "300000.00", (2029, "100000.00"), (2029, "200000.00"), plan_type="supplementary"),
        ],
    )
    sheet = plan_sheet(2027, "approved", lines)
    assert [(g.unit, [line.project_id for line in g.lines]) for g in sheet.groups] == [
        ("unit:edu", ["p1", "p2"]),
        ("unit:health", ["p3", "p4"]),
    ]
    edu, health = sheet.groups
    assert edu.estimated_investment == Decimal("3300000.10")
    assert edu.by_year == {2027: Decimal("2300000.10"), 2028: Decimal("1000000.00")}
    assert health.by_year == {2027: Decimal("1200000.00"), 2029: Decimal("300000.00")}  # one year declared twice
    assert sheet.years == [2027, 2028, 2029]
    assert sheet.estimated_investment == Decimal("4800000.10") and sheet.project_count == 4
    assert sheet.by_year == {2027: Decimal("3500000.10"), 2028: Decimal("1000000.00"), 2029: Decimal("300000.00")}
    assert sheet.plan_status == "县人民政府已审定"


def test_a_plan_without_projects_is_an_empty_sheet_whose_total_is_zero():
    sheet = plan_sheet(2030, None, [])
    assert (sheet.groups, sheet.years, sheet.estimated_investment, sheet.plan_status) == (
        [],
        [],
        Decimal("0"),
        "未编制",
    )


# --- the workbooks, as served ---------------------------------------------------------------------


@pytest.fixture
def planning(container_factory, service_config):
    config = service_config("planning", TODAY="2026-12-15", CLASSIFIED_VISIBLE_TO="smart_office,county_gov")
    container = container_factory(PlanningService, config)
    container.start()
    return container


@pytest.fixture
def town(planning):
    return county(planning)


def read_back(content):
    """The sheet's lines after its heading, as (label cells, amounts by heading) pairs, and every
    cell's text (for what must not be in it)."""
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    headings = rows[HEADER_ROW - 1]
    amounts_at = range(len(FIXED_HEADINGS) - 1, len(headings))
    lines = []
    for values in rows[HEADER_ROW:]:
        amounts = {
            headings[i]: Decimal(str(values[i])).quantize(Decimal("0.01")) for i in amounts_at if values[i] is not None
        }
        lines.append((values[: len(FIXED_HEADINGS) - 1], amounts))
    text = " ".join(str(value) for values in rows for value in values if value is not None)
    return headings, lines, text


def check_sums(lines):
    """Each unit's subtotal line is the sum of its projects' lines, column by column, and the total
    line the sum of every project line; returns the project lines' ids and the total line."""
    projects, pending = [], []
    for labels, amounts in lines[:-1]:
        if labels[0] is not None:  # a project: its number in the first column
            projects.append(labels[1])
            pending.append(amounts)
        else:  # a unit's subtotal
            assert "小计" in labels[1]
            assert amounts == _column_sums(pending), labels[1]
            pending = []
    assert pending == []  # the last unit has its subtotal too
    labels, total = lines[-1]
    assert labels[1].startswith("合计")
    every_project = [amounts for (labels_, amounts) in lines[:-1] if labels_[0] is not None]
    assert total == _column_sums(every_project)
    return projects, total


def _column_sums(lines):
    sums = {"估算投资（元）": Decimal("0.00")}  # every line has an estimate, an empty plan's total too
    for amounts in lines:
        for heading, amount in amounts.items():
            sums[heading] = sums.get(heading, Decimal("0.00")) + amount
    return sums


def test_the_public_plan_workbook_holds_the_planned_projects_with_sums_that_add_up(planning, town):
    answer = public_get(planning, "/public/plan/2027.xlsx")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == CONTENT_TYPE
    headings, lines, text = read_back(answer.data)
    assert headings[-2:] == ("2027年度投资（元）", "2028年度投资（元）")
    projects, total = check_sums(lines)
    assert sorted(projects) == sorted([town["built"], *town["others"][:2]])
    assert total == {
        "估算投资（元）": Decimal("4500000.00"),
        "2027年度投资（元）": Decimal("3500000.00"),
        "2028年度投资（元）": Decimal("1000000.00"),
    }
    assert "县人民政府已审定" in text and "智慧教育平台" in text
    for leak in (town["secret"], SECRET_NAME, "unit:police", "9900000"):
        assert leak not in text


def test_the_public_plan_of_a_year_without_a_plan_or_a_planned_project_is_not_found(planning, town):
    assert public_get(planning, "/public/plan/2029.xlsx").status_code == 404
    assert public_get(planning, "/public/plan/2026.xlsx").status_code == 404  # its supplementary one awaits review


@pytest.mark.parametrize(
    "path", ["/public/plan/abc.xlsx", "/public/plan/1800.xlsx", "/public/plan/" + "9" * 300 + ".xlsx"]
)
def test_a_bad_year_is_refused(planning, path):
    assert public_get(planning, path).status_code in (400, 404, 414)  # not a number: no such page
    assert public_get(planning, "/public/plan/2027.xlsx", {"x": "1"}).status_code == 400


def workbook_for(planning, org, year):
    answer = call(planning, "get_plan_workbook", org, year=year)
    assert answer["content_type"] == CONTENT_TYPE and answer["year"] == year
    return answer, read_back(base64.b64decode(answer["content_base64"]))


def test_the_county_government_sees_every_project_of_the_plan_classified_included(planning, town):
    answer, (_, lines, text) = workbook_for(planning, "county_gov", 2027)
    projects, total = check_sums(lines)
    assert sorted(projects) == sorted([town["built"], *town["others"][:2], town["secret"]])
    assert total["估算投资（元）"] == Decimal("14400000.00") and answer["estimated_investment"] == "14400000.00"
    assert answer["projects"] == 4 and SECRET_NAME in text


def test_a_bureau_that_may_not_see_classified_projects_gets_the_plan_without_them(planning, town):
    answer, (_, lines, text) = workbook_for(planning, "drc", 2027)
    projects, _ = check_sums(lines)
    assert town["secret"] not in projects and SECRET_NAME not in text and answer["projects"] == 3


def test_a_plan_being_concurred_is_in_the_governments_workbook_but_not_yet_public(planning):
    pid = declare(planning)
    call(planning, "compile_annual_plan", "smart_office", year=2027, project_ids=[pid])
    call(planning, "concur_annual_plan", "finance", year=2027)
    answer, (_, lines, text) = workbook_for(planning, "county_gov", 2027)
    assert check_sums(lines)[0] == [pid] and "待财政局、发改局会签" in text
    public = public_get(planning, "/public/plan/2027.xlsx")
    _, public_lines, public_text = read_back(public.data)
    assert check_sums(public_lines)[0] == [] and pid not in public_text and "共 0 个项目" in public_text


def test_only_the_government_and_the_bureaus_may_ask_and_the_year_is_checked(planning):
    with pytest.raises(Forbidden):
        call(planning, "get_plan_workbook", "unit:edu", year=2027)
    for year in ("2027", True, 1800, None):
        with pytest.raises(ValidationError) as err:
            call(planning, "get_plan_workbook", "county_gov", year=year)
        assert "year" in str(err.value)
