"""Reminders (``reminder.due``) of reviews that wait past their expected time (Art 12).

A technical review is expected to be concluded within ``REVIEW_EXPECTED_DAYS`` of its submission;
one still under review after that is reminded to the data center, which concludes it, due on the
day it fell late: one reminder per review (``nxshared.core.reminders``).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from nxshared.core.reminders import Reminder, days_setting
from review.domain.entities import Review, ReviewStatus

REVIEW_OVERDUE = "review_overdue"
CONCLUDED_BY = "data_center"
EXPECTED_DAYS_MAX = 365


@dataclass(frozen=True)
class ReminderRules:
    expected_days: int

    @classmethod
    def from_settings(cls, expected_days: object) -> "ReminderRules":
        return cls(days_setting("REVIEW_EXPECTED_DAYS", expected_days, 1, EXPECTED_DAYS_MAX))

    def submitted_before(self, today: dt.date) -> dt.date:
        """Reviews submitted before this day are late on ``today``."""
        return today - dt.timedelta(days=self.expected_days - 1)


def review_overdue(review: Review, today: dt.date, rules: ReminderRules) -> Reminder | None:
    """Art 12: a review still under review ``expected_days`` after its submission."""
    due = review.submitted_at.date() + dt.timedelta(days=rules.expected_days)
    if review.status != ReviewStatus.UNDER_REVIEW or due > today:
        return None
    subject = f"{review.title}：技术评审已超过{rules.expected_days}天未完成（第十二条）"
    return Reminder(REVIEW_OVERDUE, subject, due, CONCLUDED_BY, review.project_id)


def review_reminders(reviews: Iterable[Review], today: dt.date, rules: ReminderRules) -> list[Reminder]:
    found = (review_overdue(review, today, rules) for review in reviews)
    return [reminder for reminder in found if reminder is not None]
