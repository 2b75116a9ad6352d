"""Reviews waiting past their expected time (Art 12) are reminded once: the rule, and the timer on
the suite's clock."""

import datetime as dt
from decimal import Decimal

import pytest
from nameko.testing.services import entrypoint_waiter

from nxshared.core.uow import FakeUnitOfWork
from review import usecases
from review.domain import Review, ReviewStatus
from review.domain.reminders import ReminderRules, review_overdue
from review.service import ReviewService

from .test_service import planned, published, submit

SUBMITTED = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
MONTH = ReminderRules.from_settings(30)


def a_review(status=ReviewStatus.UNDER_REVIEW, submitted_at=SUBMITTED):
    return Review(
        review_id="rev-1",
        project_id="prj-1",
        route="expert_panel",
        status=status.value,
        budget=Decimal("2500000.00"),
        title="智慧教育平台建设方案",
        document_ref=None,
        submitted_by="li@unit:edu",
        submitted_at=submitted_at,
    )


def test_a_review_under_way_past_its_expected_days_is_reminded_on_the_day_it_fell_late():
    assert review_overdue(a_review(), dt.date(2027, 3, 30), MONTH) is None
    late = review_overdue(a_review(), dt.date(2027, 3, 31), MONTH)
    assert (late.kind, late.project_id, late.due_on, late.owner_org) == (
        "review_overdue",
        "prj-1",
        dt.date(2027, 3, 31),
        "data_center",
    )
    assert late.subject == "智慧教育平台建设方案：技术评审已超过30天未完成（第十二条）"
    assert review_overdue(a_review(), dt.date(2027, 5, 1), MONTH) == late  # the same reminder, later


@pytest.mark.parametrize("status", [ReviewStatus.PASSED, ReviewStatus.FAILED, ReviewStatus.FILED])
def test_a_concluded_review_is_not_reminded(status):
    assert review_overdue(a_review(status), dt.date(2027, 6, 1), MONTH) is None


@pytest.mark.parametrize("days", [0, 366, "x"])
def test_the_expected_days_are_a_bounded_setting(days):
    with pytest.raises(ValueError):
        ReminderRules.from_settings(days)


class FakeOpenReviews:
    def __init__(self, *reviews):
        self.reviews = list(reviews)

    def open_reviews_submitted_before(self, day):
        return [r for r in self.reviews if r.submitted_at.date() < day]


def test_the_use_case_sends_each_late_review_once():
    uow = FakeUnitOfWork(FakeOpenReviews(a_review()), source="review")
    for day in (dt.date(2027, 3, 30), dt.date(2027, 3, 31), dt.date(2027, 4, 2)):
        with uow.transaction():
            usecases.send_review_reminders(uow, day, MONTH)
    assert uow.types() == ["reminder.due"]


def test_the_timer_reminds_a_review_under_way_for_a_month_once(container_factory, service_config):
    later = (dt.date.today() + dt.timedelta(days=31)).isoformat()
    config = service_config("review", TODAY=later, REVIEW_EXPECTED_DAYS=30, REMINDER_CHECK_SECONDS=0.05)
    review = container_factory(ReviewService, config)
    review.start()
    pid = planned(review, config)
    submitted = submit(review, pid)
    for _ in range(3):
        with entrypoint_waiter(review, "send_reminders", timeout=10):
            pass
    (reminder,) = published(config, "reminder.due")
    assert reminder.project_id == pid and reminder.event_id == reminder.data["reminder_id"]
    assert reminder.data["kind"] == "review_overdue" and reminder.data["owner_org"] == "data_center"
    assert reminder.data["subject"].startswith(submitted["title"])
