"""Audit cases open too long (Art 26) are reminded once: the rule, and the timer on the suite's clock."""

import datetime as dt

import pytest
from nameko.testing.services import entrypoint_waiter
from sqlalchemy import select

from audit import usecases
from audit.domain import Case
from audit.domain.reminders import ReminderRules, case_open_too_long
from audit.models import outbox
from audit.service import AuditService
from nxshared.core.uow import FakeUnitOfWork

from .test_service import accepted, query

OPENED = dt.datetime(2027, 6, 1, 9, 0, tzinfo=dt.UTC)
QUARTER = ReminderRules.from_settings(90)


def a_case(status="open"):
    return Case("aud-1", "prj-1", status, OPENED, "evt-acc")


def test_a_case_open_past_the_setting_is_reminded_to_audit_on_the_day_it_fell_late():
    assert case_open_too_long(a_case(), dt.date(2027, 8, 29), QUARTER) is None
    late = case_open_too_long(a_case(), dt.date(2027, 8, 30), QUARTER)
    assert (late.kind, late.project_id, late.due_on, late.owner_org) == (
        "audit_case_open_too_long",
        "prj-1",
        dt.date(2027, 8, 30),
        "audit",
    )
    assert late.subject == "审计案件aud-1已开立超过90天未结案（第二十六条）"
    assert case_open_too_long(a_case(), dt.date(2028, 1, 1), QUARTER) == late


def test_a_closed_case_is_not_reminded():
    assert case_open_too_long(a_case("closed"), dt.date(2028, 1, 1), QUARTER) is None


@pytest.mark.parametrize("days", [0, 3651, "x"])
def test_the_days_are_a_bounded_setting(days):
    with pytest.raises(ValueError):
        ReminderRules.from_settings(days)


class FakeCases:
    def cases(self, status):
        return [a_case()] if status == "open" else []


def test_the_use_case_sends_each_case_once():
    uow = FakeUnitOfWork(FakeCases(), source="audit")
    for day in (dt.date(2027, 8, 29), dt.date(2027, 8, 30), dt.date(2027, 9, 30)):
        with uow.transaction():
            usecases.send_case_reminders(uow, day, QUARTER)
    assert uow.types() == ["reminder.due"]


def test_the_timer_reminds_a_case_open_too_long_once(container_factory, service_config):
    later = (dt.date.today() + dt.timedelta(days=91)).isoformat()
    config = service_config("audit", TODAY=later, AUDIT_CASE_OPEN_DAYS=90, REMINDER_CHECK_SECONDS=0.05)
    audit = container_factory(AuditService, config)
    audit.start()
    acceptance = accepted(audit)
    for _ in range(3):
        with entrypoint_waiter(audit, "send_reminders", timeout=10):
            pass
    rows = query(config, select(outbox.c.payload).where(outbox.c.event_type == "reminder.due"))
    [(reminder,)] = rows
    assert (
        reminder["project_id"] == acceptance["project_id"] and reminder["event_id"] == reminder["data"]["reminder_id"]
    )
    assert reminder["data"]["kind"] == "audit_case_open_too_long" and reminder["data"]["owner_org"] == "audit"
