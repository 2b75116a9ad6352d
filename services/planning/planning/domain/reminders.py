"""Reminders: the declaration window's opening and closing (Art 8), found by planning's daily timer,
and the reminders of every service (``reminder.due``) as ``list_reminders`` shows them.

The window is the setting ``DECLARATION_WINDOW``; ``REMINDER_LEAD_DAYS`` says how many days ahead
its opening and its closing are reminded. Each reminder is due on the day the window opens or
closes, so however often the timer runs it is one reminder (``nxshared.core.reminders``). A window
reminder is about no project: every caller sees it. A project's reminder is seen by whoever sees
the project (``declaration.in_scope``).
"""

import datetime as dt
from dataclasses import dataclass

from nxshared.core.errors import ValidationError
from nxshared.core.events import Event
from nxshared.core.reminders import Reminder, days_setting
from planning.domain.declaration import MonthDay, PlanningRules, declared_plan_year

WINDOW_OPENING = "declaration_window_opening"
WINDOW_CLOSING = "declaration_window_closing"
WINDOW_OWNER = "smart_office"  # runs the annual declaration (Art 8)
LEAD_DAYS_MAX = 60


@dataclass(frozen=True)
class ReminderRules:
    lead_days: int

    @classmethod
    def from_settings(cls, lead_days: int | str) -> "ReminderRules":
        return cls(days_setting("REMINDER_LEAD_DAYS", lead_days, 0, LEAD_DAYS_MAX))


@dataclass(frozen=True)
class StoredReminder:
    """A ``reminder.due`` as planning keeps it for ``list_reminders``: its data and who sent it."""

    reminder_id: str
    kind: str
    project_id: str | None
    subject: str
    due_on: dt.date
    owner_org: str
    source: str
    occurred_at: str


def window_reminders(today: dt.date, rules: PlanningRules, reminders: ReminderRules) -> list[Reminder]:
    """Art 8: the window opens within ``lead_days`` (and is not open today), or it is open and
    closes within ``lead_days`` (today included)."""
    start, end = rules.window_start, rules.window_end
    if declared_plan_year(today, start, end) is None:
        opens = _next_day(today + dt.timedelta(days=1), start)
        if (opens - today).days > reminders.lead_days:
            return []
        year = declared_plan_year(opens, start, end)
        return [Reminder(WINDOW_OPENING, f"{year}年度项目申报窗口将于{_md(opens)}开启（第八条）", opens, WINDOW_OWNER)]
    closes = _next_day(today, end)
    if (closes - today).days > reminders.lead_days:
        return []
    year = declared_plan_year(today, start, end)
    return [Reminder(WINDOW_CLOSING, f"{year}年度项目申报窗口将于{_md(closes)}截止（第八条）", closes, WINDOW_OWNER)]


def stored_of(evt: Event) -> StoredReminder:
    """A ``reminder.due`` (decoded: its data as v1 says) as ``list_reminders`` keeps it."""
    data = evt.data
    return StoredReminder(
        reminder_id=data["reminder_id"],
        kind=data["kind"],
        project_id=data.get("project_id"),
        subject=data["subject"],
        due_on=dt.date.fromisoformat(str(data["due_on"])),
        owner_org=data["owner_org"],
        source=evt.source,
        occurred_at=evt.occurred_at,
    )


def _next_day(since: dt.date, month_day: MonthDay) -> dt.date:
    """The first ``MM-DD`` on or after ``since`` (a 02-29 waits for a leap year)."""
    for year in range(since.year, since.year + 9):
        try:
            day = dt.date(year, *month_day)
        except ValueError:
            continue
        if day >= since:
            return day
    raise ValueError(f"no {month_day} after {since}")


def _md(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def check_due_range(due_from: dt.date | None, due_to: dt.date | None) -> None:
    if due_from is not None and due_to is not None and due_to < due_from:
        raise ValidationError("INVALID_INPUT", "输入不合法：due_to: 不能早于 due_from")
