"""The portal's pages, rendered on the server (Jinja2, autoescaped: every value a project carries
is text, never markup) in Chinese, with no script: the list of disclosed projects with its filters,
count, sum and chart, and each project's page with its public timeline."""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape

from planning.domain.timeline import STAGES, PublicEntry
from planning.portal import labels
from planning.portal.opendata import Site
from planning.usecases import PublicFilters

PAGE_SIZE = 20
CHINA = dt.timezone(dt.timedelta(hours=8))
HTML = "text/html; charset=utf-8"
CSS = "text/css; charset=utf-8"

# the chart's geometry (SVG user units): a row per category, a bar of at most BAR_MAX
LABEL_WIDTH, BAR_MAX, ROW, BAR = 104, 360, 30, 18
CHART_WIDTH = LABEL_WIDTH + BAR_MAX + 150


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("planning.portal", "templates"),
        autoescape=select_autoescape(["html", "svg"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(yuan=yuan, wan=wan, china_date=china_date)
    env.globals.update(CATEGORY=labels.CATEGORY, STAGE=labels.STAGE, org_name=labels.org_name)
    return env


@cache
def stylesheet() -> bytes:
    return resources.files("planning.portal").joinpath("static/portal.css").read_bytes()


def render(template: str, **context: Any) -> bytes:
    return environment().get_template(template).render(**context).encode()


def yuan(amount: Any) -> str:
    """``2500000`` → ``2,500,000.00 元``."""
    return "—" if amount is None else f"{Decimal(str(amount)):,.2f} 元"


def wan(amount: Any) -> str:
    """In 万元 (ten thousands of yuan), as the county's plans state investments."""
    return f"{Decimal(str(amount)) / 10000:,.2f} 万元"


def china_date(moment: Any) -> str:
    """An event's time (ISO 8601 with an offset) as the day it was in China."""
    when = moment if isinstance(moment, dt.datetime) else dt.datetime.fromisoformat(str(moment))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(CHINA).date().isoformat()


# --- the list ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    amount: Decimal
    count: int
    y: int
    width: int


def _matches(row: Mapping[str, Any], filters: PublicFilters, skip: str = "") -> bool:
    wanted = {"plan_year": filters.year, "unit": filters.unit, "category": filters.category, "stage": filters.stage}
    return all(value is None or name == skip or row[name] == value for name, value in wanted.items())


def chart(totals: Sequence[Mapping[str, Any]], filters: PublicFilters) -> tuple[int | None, list[Bar]]:
    """The year's estimates by category (the filtered year, else the latest), over the other filters
    but the category: one bar per category that has projects, scaled to the largest."""
    years = [row["plan_year"] for row in totals]
    year = filters.year if filters.year is not None else max(years, default=None)
    sums: dict[str, list] = {}
    for row in totals:
        if row["plan_year"] == year and _matches(row, filters, skip="category"):
            kept = sums.setdefault(row["category"], [Decimal(0), 0])
            kept[0] += row["estimated"]
            kept[1] += row["n"]
    ordered = [(c, *sums[c]) for c in labels.CATEGORY if c in sums] + [
        (c, *v) for c, v in sums.items() if c not in labels.CATEGORY
    ]
    largest = max((amount for _, amount, _ in ordered), default=Decimal(0))
    bars = [
        Bar(
            label=labels.CATEGORY.get(category, category),
            amount=amount,
            count=count,
            y=i * ROW,
            width=max(1, int(BAR_MAX * amount / largest)) if largest > 0 else 1,
        )
        for i, (category, amount, count) in enumerate(ordered)
    ]
    return year, bars


def choices(totals: Sequence[Mapping[str, Any]]) -> dict[str, list]:
    """The values each filter offers: those the disclosed projects have (never a classified one's)."""
    present = {name: {row[name] for row in totals} for name in ("plan_year", "unit", "category", "stage")}
    return {
        "year": sorted(present["plan_year"], reverse=True),
        "unit": sorted(present["unit"]),
        "category": [c for c in labels.CATEGORY if c in present["category"]],
        "stage": [s for s in STAGES if s in present["stage"]],
    }


def list_page(
    items: Sequence[Mapping[str, Any]],
    totals: Sequence[Mapping[str, Any]],
    filters: PublicFilters,
    page: int,
    site: Site,
) -> bytes:
    shown = [row for row in totals if _matches(row, filters)]
    count = sum(row["n"] for row in shown)
    estimated = sum((row["estimated"] for row in shown), Decimal(0))
    pages = max(1, -(-count // PAGE_SIZE))
    query = {
        k: v
        for k, v in (
            ("year", filters.year),
            ("unit", filters.unit),
            ("category", filters.category),
            ("stage", filters.stage),
        )
        if v is not None
    }

    def page_url(n: int) -> str:
        return "/portal/?" + urlencode({**query, "page": n})

    year, bars = chart(totals, filters)
    return render(
        "list.html",
        items=items,
        filters=filters,
        choices=choices(totals),
        count=count,
        estimated=estimated,
        page=page,
        pages=pages,
        previous_url=page_url(page - 1) if page > 1 else None,
        next_url=page_url(page + 1) if page < pages else None,
        chart_year=year,
        bars=bars,
        chart={"width": CHART_WIDTH, "height": max(ROW, len(bars) * ROW), "label": LABEL_WIDTH, "bar": BAR},
        site=site,
    )


# --- a project --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One line of a project's public timeline."""

    date: str
    label: str
    by: str
    detail: str | None


def steps(row: Mapping[str, Any], entries: Sequence[PublicEntry]) -> list[Step]:
    out = []
    for entry in entries:
        decision = labels.DECISIONS.get(entry.event_type)
        if decision is None:
            continue
        detail = None
        if decision.detail is not None and entry.data.get(decision.detail) is not None:
            raw = entry.data[decision.detail]
            detail = yuan(raw) if decision.detail in labels.MONEY_DETAILS else str(raw)
        out.append(Step(china_date(entry.occurred_at), decision.label, labels.who(decision.by, row["unit"]), detail))
    return out


def project_page(row: Mapping[str, Any], entries: Sequence[PublicEntry], risk: Mapping[str, Any], site: Site) -> bytes:
    budget = row["budget"] or {}
    approved = budget.get("approved_amount")
    disbursed = row["disbursed"]
    share = None
    if disbursed is not None and approved:
        share = f"{Decimal(str(disbursed)) * 100 / Decimal(str(approved)):.1f}%"
    return render(
        "project.html",
        p=row,
        steps=steps(row, entries),
        approved=approved,
        share=share,
        method=labels.PROCUREMENT_METHOD,
        construction=labels.CONSTRUCTION_MODE,
        risk=risk,
        site=site,
    )


def not_found_page(site: Site) -> bytes:
    """The same page for a project that does not exist and for one the public may not see."""
    return render(
        "error.html", title="项目不存在", message="没有找到这个项目。它可能不存在，或不属于公开范围。", site=site
    )


def refused_page(message: str, site: Site) -> bytes:
    return render("error.html", title="请求有误", message=message, site=site)
