"""The annual plan as an Excel workbook (openpyxl): one sheet, the title and the plan's state, then
each unit's projects followed by its subtotal, and the total; a column for the estimate and one per
year an investment falls in. Amounts are numbers (two decimals, thousands separated), so the county
can add, filter and print it as it does its own sheets; the sums are ``PlanSheet``'s own."""

import io
from collections.abc import Iterator, Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from planning.domain.plan_sheet import PlanLine, PlanSheet
from planning.portal.labels import CATEGORY, CONSTRUCTION_MODE, org_name

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY = "#,##0.00"
PLAN_TYPE = {"annual": "年度计划", "supplementary": "增补"}
FIXED_HEADINGS = ["序号", "项目编号", "项目名称", "建设单位", "类别", "建设方式", "计划类型", "估算投资（元）"]
FIXED_WIDTHS = [6, 20, 40, 18, 12, 10, 10, 18]
YEAR_WIDTH = 16
HEADER_ROW = 3  # the title is row 1, the plan's state row 2: what a reader (and the test) skips
BOLD = Font(bold=True)
SUBTOTAL_FILL = PatternFill("solid", fgColor="EEEEEE")


def plan_title(year: int, public: bool = False) -> str:
    return f"{year}年度信息化项目建设计划{'（公开）' if public else ''}"


def headings(sheet: PlanSheet) -> list[str]:
    return [*FIXED_HEADINGS, *(f"{year}年度投资（元）" for year in sheet.years)]


def workbook_bytes(sheet: PlanSheet, title: str) -> bytes:
    """The workbook's bytes (write-only: its rows are streamed, not kept as cell objects)."""
    book = Workbook(write_only=True)
    ws = book.create_sheet(f"{sheet.year}年度计划")
    _lay_out(ws, sheet)
    ws.append([_cell(ws, title, font=Font(bold=True, size=14))])
    ws.append([f"状态：{sheet.plan_status}；共 {sheet.project_count} 个项目"])
    ws.append([_cell(ws, heading, font=BOLD) for heading in headings(sheet)])
    for row in _rows(ws, sheet):
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _lay_out(ws: Worksheet, sheet: PlanSheet) -> None:
    """Column widths and the frozen heading: set before the first row, as write-only sheets require."""
    for index, width in enumerate([*FIXED_WIDTHS, *(YEAR_WIDTH for _ in sheet.years)], start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = f"A{HEADER_ROW + 1}"


def _rows(ws: Worksheet, sheet: PlanSheet) -> Iterator[list]:
    number = 0
    for group in sheet.groups:
        for line in group.lines:
            number += 1
            yield [number, *_describe(line), *_money(ws, line.estimated_investment, line.by_year, sheet.years)]
        label = f"{org_name(group.unit)} 小计（{len(group.lines)} 项）"
        yield _total_row(ws, label, group.estimated_investment, group.by_year, sheet.years, SUBTOTAL_FILL)
    yield _total_row(ws, f"合计（{sheet.project_count} 项）", sheet.estimated_investment, sheet.by_year, sheet.years)


def _describe(line: PlanLine) -> list[str]:
    return [
        line.project_id,
        line.name,
        org_name(line.unit),
        CATEGORY.get(line.category, line.category),
        CONSTRUCTION_MODE.get(line.construction_mode, line.construction_mode),
        PLAN_TYPE.get(line.plan_type, line.plan_type),
    ]


def _money(ws: Worksheet, estimate: Decimal, by_year, years: Sequence[int], **style) -> list[WriteOnlyCell]:
    """The estimate and each year's amount; a year without an investment is an empty cell, not 0."""
    amounts = [estimate, *(by_year.get(year) for year in years)]
    return [_cell(ws, amount, number_format=MONEY, **style) for amount in amounts]


def _total_row(ws, label: str, estimate: Decimal, by_year, years, fill=None) -> list:
    style = {"font": BOLD, **({"fill": fill} if fill else {})}
    blanks = [_cell(ws, None, **style) for _ in range(len(FIXED_HEADINGS) - 3)]
    return [
        _cell(ws, None, **style),
        _cell(ws, label, **style),
        *blanks,
        *_money(ws, estimate, by_year, years, **style),
    ]


def _cell(ws: Worksheet, value, font=None, fill=None, number_format=None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if number_format is not None:
        cell.number_format = number_format
        cell.alignment = Alignment(horizontal="right")
    return cell
