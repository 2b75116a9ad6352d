"""The annual plan as a table (Art 9, Art 25): its projects grouped by unit, each unit's subtotal, the
total, and every project's annual investments by year. The sums are worked out here, to the cent, so
the spreadsheet (``planning.plan_workbook``) only lays them out and a reader's own SUM agrees.

Which projects are in it is the caller's business: the public sees the planned projects of the year
(the approved annual plan and the approved supplementary projects, never a classified one); the
county government and the bureaus also see the annual plan while it is being compiled and concurred,
classified projects only where they may (``usecases.plan_sheet``)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

ZERO = Decimal("0.00")
PLAN_STATUS_NAMES = {
    None: "未编制",
    "compiled": "已编制，待财政局、发改局会签",
    "concurred": "已会签，待县人民政府审定",
    "approved": "县人民政府已审定",
}


@dataclass(frozen=True)
class PlanLine:
    """One project's line: what it is and its money (estimate, and by year)."""

    project_id: str
    name: str
    unit: str
    category: str
    construction_mode: str
    plan_type: str
    estimated_investment: Decimal
    by_year: Mapping[int, Decimal]


@dataclass(frozen=True)
class UnitGroup:
    unit: str
    lines: list[PlanLine]
    estimated_investment: Decimal
    by_year: dict[int, Decimal]


@dataclass(frozen=True)
class PlanSheet:
    year: int
    plan_status: str  # PLAN_STATUS_NAMES' wording
    years: list[int]  # every year an investment falls in, in order: the sheet's year columns
    groups: list[UnitGroup]  # by unit, in unit order
    estimated_investment: Decimal
    by_year: dict[int, Decimal]

    @property
    def project_count(self) -> int:
        return sum(len(group.lines) for group in self.groups)


def line_of(row: Mapping[str, Any]) -> PlanLine:
    """A project's row (as the repository reads it) as a line; an investment declared twice for one
    year (the declaration does not forbid it) is summed."""
    by_year: dict[int, Decimal] = {}
    for item in row["annual_investments"]:
        year = int(item["year"])
        by_year[year] = by_year.get(year, ZERO) + Decimal(str(item["amount"]))
    return PlanLine(
        project_id=row["project_id"],
        name=row["name"],
        unit=row["unit"],
        category=row["category"],
        construction_mode=row["construction_mode"],
        plan_type=row["plan_type"],
        estimated_investment=Decimal(str(row["estimated_investment"])),
        by_year=by_year,
    )


def _sum_by_year(parts: Iterable[Mapping[int, Decimal]]) -> dict[int, Decimal]:
    total: dict[int, Decimal] = {}
    for part in parts:
        for year, amount in part.items():
            total[year] = total.get(year, ZERO) + amount
    return total


def plan_sheet(year: int, plan_status: str | None, lines: Iterable[PlanLine]) -> PlanSheet:
    """The lines grouped by unit (units in order, a unit's projects by id), with the sums."""
    by_unit: dict[str, list[PlanLine]] = {}
    for line in sorted(lines, key=lambda line: (line.unit, line.project_id)):
        by_unit.setdefault(line.unit, []).append(line)
    groups = [
        UnitGroup(
            unit=unit,
            lines=unit_lines,
            estimated_investment=sum((line.estimated_investment for line in unit_lines), ZERO),
            by_year=_sum_by_year(line.by_year for line in unit_lines),
        )
        for unit, unit_lines in by_unit.items()
    ]
    by_year = _sum_by_year(group.by_year for group in groups)
    return PlanSheet(
        year=year,
        plan_status=PLAN_STATUS_NAMES[plan_status],
        years=sorted(by_year),
        groups=groups,
        estimated_investment=sum((group.estimated_investment for group in groups), ZERO),
        by_year=by_year,
    )
