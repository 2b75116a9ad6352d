"""Reminders (``reminder.due``) of audit cases open too long (Art 26).

A case still open ``AUDIT_CASE_OPEN_DAYS`` after it was opened is reminded to audit, due on the day
it fell late: one reminder per case (``nxshared.core.reminders``).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from audit.domain.entities import Case, CaseStatus
from nxshared.core.reminders import Reminder, days_setting

CASE_OPEN_TOO_LONG = "audit_case_open_too_long"
CLOSED_BY = "audit"
OPEN_DAYS_MAX = 3650


@dataclass(frozen=True)
class ReminderRules:
    open_days: int

    @classmethod
    def from_settings(cls, open_days: object) -> "ReminderRules":
        return cls(days_setting("AUDIT_CASE_OPEN_DAYS", open_days, 1, OPEN_DAYS_MAX))


def case_open_too_long(case: Case, today: dt.date, rules: ReminderRules) -> Reminder | None:
    """Art 26: an audit case open ``open_days`` after it was opened."""
    due = case.opened_at.date() + dt.timedelta(days=rules.open_days)
    if case.status != CaseStatus.OPEN or due > today:
        return None
    subject = f"审计案件{case.case_id}已开立超过{rules.open_days}天未结案（第二十六条）"
    return Reminder(CASE_OPEN_TOO_LONG, subject, due, CLOSED_BY, case.project_id)


def case_reminders(cases: Iterable[Case], today: dt.date, rules: ReminderRules) -> list[Reminder]:
    found = (case_open_too_long(case, today, rules) for case in cases)
    return [reminder for reminder in found if reminder is not None]
