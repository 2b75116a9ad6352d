"""Contracts whose O&M period ends soon (Art 15, 16) are reminded once: the rule, and the timer on
the suite's clock."""

import datetime as dt
from decimal import Decimal

import pytest
from nameko.testing.services import entrypoint_waiter

from finance import usecases
from finance.domain import Contract, Project
from finance.domain.reminders import ReminderRules, om_ending
from finance.service import FinanceService
from nxshared.core.uow import FakeUnitOfWork

from .test_service import contracted, emitted

TODAY = dt.date(2027, 3, 1)
QUARTER = ReminderRules.from_settings(90)


def a_contract(om_ends_on=dt.date(2027, 5, 1)):
    return Contract(
        project_id="prj-1",
        contract_no="HT-1",
        vendor="某科技公司",
        amount=Decimal("1800000.00"),
        om_years=3,
        om_exemption_basis=None,
        source_code_owner="unit",
        signed_on=dt.date(2024, 5, 1),
        om_ends_on=om_ends_on,
        registered_by="li@unit:edu",
        registered_at=dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
    )


EDU = Project("prj-1", planned=True, name="智慧教育平台", unit="unit:edu")


def test_an_om_period_ending_within_the_setting_is_reminded_to_the_unit_on_its_last_day():
    reminder = om_ending(a_contract(), EDU, TODAY, QUARTER)
    assert (reminder.kind, reminder.project_id, reminder.due_on, reminder.owner_org) == (
        "om_ending",
        "prj-1",
        dt.date(2027, 5, 1),
        "unit:edu",
    )
    assert reminder.subject == "合同HT-1（某科技公司）的运维期将于2027年5月1日届满"
    assert om_ending(a_contract(dt.date(2027, 5, 30)), EDU, TODAY, QUARTER) is not None  # the 90th day
    assert om_ending(a_contract(dt.date(2027, 5, 31)), EDU, TODAY, QUARTER) is None
    assert om_ending(a_contract(dt.date(2027, 2, 28)), EDU, TODAY, QUARTER) is None  # already ended
    assert om_ending(a_contract(dt.date(2027, 5, 31)), EDU, TODAY, ReminderRules.from_settings(91)) is not None


def test_a_contract_of_a_project_finance_has_not_heard_of_is_finance_s_to_follow():
    assert om_ending(a_contract(), None, TODAY, QUARTER).owner_org == "finance"


@pytest.mark.parametrize("days", [0, 367, "x"])
def test_the_days_are_a_bounded_setting(days):
    with pytest.raises(ValueError):
        ReminderRules.from_settings(days)


class FakeContracts:
    def contracts_ending_between(self, first, last):
        return [(a_contract(), EDU)] if first <= dt.date(2027, 5, 1) <= last else []


def test_the_use_case_sends_each_contract_once():
    uow = FakeUnitOfWork(FakeContracts(), source="finance")
    for day in (dt.date(2027, 1, 30), TODAY, TODAY, dt.date(2027, 4, 1)):
        with uow.transaction():
            usecases.send_om_reminders(uow, day, QUARTER)
    assert uow.types() == ["reminder.due"]


def test_the_timer_reminds_a_contract_ending_within_90_days_once(container_factory, service_config):
    finance = container_factory(
        FinanceService, service_config("finance", TODAY="2027-03-01", REMINDER_CHECK_SECONDS=0.05)
    )
    finance.start()
    contracted(finance, signed_on="2024-04-01")  # three years of O&M: ends 2027-04-01
    contracted(finance, project_id="prj-later", signed_on="2027-01-10")
    for _ in range(3):
        with entrypoint_waiter(finance, "send_reminders", timeout=10):
            pass
    (reminder,) = emitted(finance, "reminder.due")
    assert reminder["event_id"] == reminder["data"]["reminder_id"]
    assert (reminder["data"]["kind"], reminder["data"]["due_on"], reminder["data"]["owner_org"]) == (
        "om_ending",
        "2027-04-01",
        "unit:edu",
    )
