"""Reminders (``reminder.due``) of contracts whose O&M period ends soon (Art 15, 16).

A contract whose O&M period ends within ``OM_REMINDER_DAYS`` (90 by default: the window of the
``nx_finance_contracts_om_ending_soon`` gauge) is reminded to the unit that owns the project, which
must arrange what follows; due on the day the period ends: one reminder per contract and end day
(``nxshared.core.reminders``).
"""

import datetime as dt
from dataclasses import dataclass

from finance.domain.contracts import om_expiry_window
from finance.domain.entities import OM_EXPIRY_DAYS, Contract, Project
from nxshared.core.reminders import Reminder, days_setting

OM_ENDING = "om_ending"
OM_DAYS_MAX = 366
UNKNOWN_OWNER = "finance"  # a project finance has not heard is planned: finance itself follows it up


@dataclass(frozen=True)
class ReminderRules:
    om_within_days: int = OM_EXPIRY_DAYS

    @classmethod
    def from_settings(cls, om_within_days: object) -> "ReminderRules":
        return cls(days_setting("OM_REMINDER_DAYS", om_within_days, 1, OM_DAYS_MAX))

    def window(self, today: dt.date) -> tuple[dt.date, dt.date]:
        return om_expiry_window(today, self.om_within_days)


def om_ending(contract: Contract, project: Project | None, today: dt.date, rules: ReminderRules) -> Reminder | None:
    """Art 15, 16: the contract's O&M period ends within the window (today included)."""
    first, last = rules.window(today)
    if not first <= contract.om_ends_on <= last:
        return None
    ends = contract.om_ends_on
    subject = f"合同{contract.contract_no}（{contract.vendor}）的运维期将于{ends.year}年{ends.month}月{ends.day}日届满"
    owner = project.unit if project is not None and project.unit else UNKNOWN_OWNER
    return Reminder(OM_ENDING, subject, ends, owner, contract.project_id)
