"""Reminders in planning: the declaration window's (Art 8) found by its timer, and every service's
``reminder.due`` kept for ``list_reminders`` and put on the project's timeline."""

import datetime as dt

import pytest
from nameko.testing.services import entrypoint_waiter
from sqlalchemy import create_engine, select

from nxshared.core.errors import ValidationError
from nxshared.core.uow import FakeUnitOfWork
from nxshared.db import OUTBOX
from nxshared.testing import call, make_event
from planning import usecases
from planning.domain import declaration, reminders
from planning.domain.reminders import ReminderRules
from planning.service import PlanningService

from .factories import declaration as sample_declaration

RULES = declaration.PlanningRules.from_settings("12-11..12-20", "smart_office,county_gov")
WEEK = ReminderRules.from_settings(7)


def found(today, rules=RULES, lead=WEEK):
    return [(r.kind, r.due_on.isoformat(), r.subject) for r in reminders.window_reminders(today, rules, lead)]


# --- the rule (Art 8) --------------------------------------------------------------------------------


def test_the_window_s_opening_is_reminded_within_the_lead_days():
    opening = [("declaration_window_opening", "2026-12-11", "2027年度项目申报窗口将于12月11日开启（第八条）")]
    assert found(dt.date(2026, 12, 4)) == opening
    assert found(dt.date(2026, 12, 10)) == opening
    assert found(dt.date(2026, 12, 3)) == []  # eight days ahead
    assert found(dt.date(2026, 6, 1)) == []


def test_the_window_s_closing_is_reminded_while_it_is_open_and_near_its_end():
    closing = [("declaration_window_closing", "2026-12-20", "2027年度项目申报窗口将于12月20日截止（第八条）")]
    assert found(dt.date(2026, 12, 11)) == []  # open, closing in nine days
    assert found(dt.date(2026, 12, 13)) == closing
    assert found(dt.date(2026, 12, 20)) == closing  # its last day
    assert found(dt.date(2026, 12, 21)) == []


def test_a_window_across_the_year_end_is_reminded_in_both_years():
    wrapped = declaration.PlanningRules.from_settings("12-25..01-05", "smart_office")
    assert found(dt.date(2026, 12, 20), wrapped) == [
        ("declaration_window_opening", "2026-12-25", "2027年度项目申报窗口将于12月25日开启（第八条）")
    ]
    assert found(dt.date(2027, 1, 2), wrapped) == [
        ("declaration_window_closing", "2027-01-05", "2027年度项目申报窗口将于1月5日截止（第八条）")
    ]


def test_the_same_reminder_found_on_two_days_has_one_id():
    (first,) = reminders.window_reminders(dt.date(2026, 12, 5), RULES, WEEK)
    (again,) = reminders.window_reminders(dt.date(2026, 12, 9), RULES, WEEK)
    assert first.reminder_id("planning") == again.reminder_id("planning")
    assert first.reminder_id("planning") != first.reminder_id("review")
    assert first.project_id is None and first.owner_org == "smart_office"


@pytest.mark.parametrize("days", [-1, 61, "x"])
def test_the_lead_days_are_a_bounded_setting(days):
    with pytest.raises(ValueError):
        ReminderRules.from_settings(days)


def test_a_due_range_that_ends_before_it_starts_is_refused_naming_the_field():
    with pytest.raises(ValidationError, match="due_to"):
        reminders.check_due_range(dt.date(2026, 12, 2), dt.date(2026, 12, 1))


# --- the use cases ----------------------------------------------------------------------------------


class FakeLedger:
    def __init__(self):
        self.kept = {}

    def add_reminder(self, reminder):
        self.kept.setdefault(reminder.reminder_id, reminder)


def test_the_window_reminder_is_sent_and_kept_once_however_often_the_timer_runs():
    uow = FakeUnitOfWork(FakeLedger(), source="planning")
    for day in (dt.date(2026, 12, 5), dt.date(2026, 12, 5), dt.date(2026, 12, 8)):
        with uow.transaction():
            usecases.send_window_reminders(uow, day, RULES, WEEK)
    assert uow.types() == ["reminder.due"]
    assert [r.kind for r in uow.repo.kept.values()] == ["declaration_window_opening"]


# --- the service: timer, list, timeline ---------------------------------------------------------------


@pytest.fixture
def planning(container_factory, service_config):
    config = service_config(
        "planning", TODAY="2026-12-15", REMINDER_CHECK_SECONDS=0.05, CLASSIFIED_VISIBLE_TO="smart_office,county_gov"
    )
    container = container_factory(PlanningService, config)
    container.start()
    return container


def listed(container, org, **filters):
    page = call(container, "list_reminders", org, **filters)
    return [(r["kind"], r["project_id"], r["source"]) for r in page["items"]], page["total"]


def reminders_in_outbox(config):
    engine = create_engine(config["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return [p for (p,) in conn.execute(select(OUTBOX.c.payload).where(OUTBOX.c.event_type == "reminder.due"))]
    finally:
        engine.dispose()


def review_reminder(project_id, kind="review_overdue", due_on="2026-12-14"):
    data = {
        "reminder_id": f"00000000-0000-5000-8000-{abs(hash((project_id, kind))) % 10**12:012d}",
        "kind": kind,
        "project_id": project_id,
        "subject": "智慧教育平台：技术评审超过预期时限",
        "due_on": due_on,
        "owner_org": "smart_office",
    }
    return make_event("reminder.due", project_id, data, actor=None, source="review")


def deliver_to_both(container, payload):
    """Publish a review reminder and wait until the list and the timeline have it."""
    from nameko.standalone.events import event_dispatcher

    def this_event(worker_ctx, result, exc_info):
        return worker_ctx.args[0].get("event_id") == payload["event_id"]

    with (
        entrypoint_waiter(container, "record_reminder", timeout=10, callback=this_event),
        entrypoint_waiter(container, "record_timeline", timeout=10, callback=this_event),
    ):
        event_dispatcher(container.config)(payload["source"], payload["event_type"], payload)


def test_the_timer_sends_the_window_s_closing_once_and_everyone_lists_it(planning):
    for _ in range(3):  # the timer runs again and again
        with entrypoint_waiter(planning, "send_window_reminders", timeout=10):
            pass
    (sent,) = reminders_in_outbox(planning.config)
    assert sent["project_id"] is None and sent["event_id"] == sent["data"]["reminder_id"]
    assert sent["data"]["due_on"] == "2026-12-20" and sent["data"]["kind"] == "declaration_window_closing"
    for org in ("smart_office", "unit:edu", "audit"):
        assert listed(planning, org) == ([("declaration_window_closing", None, "planning")], 1)
    metrics = call_metrics(planning)
    assert 'nx_reminders_emitted_total{kind="declaration_window_closing"} 1.0' in metrics


def call_metrics(container):
    import requests

    return requests.get(f"http://{container.config['WEB_SERVER_ADDRESS']}/metrics", timeout=5).text


def test_another_service_s_reminder_is_listed_to_who_sees_the_project_and_leaves_the_stage(planning):
    edu = call(planning, "declare_project", "unit:edu", project=sample_declaration())["project_id"]
    secret = call(planning, "declare_project", "unit:edu", project=sample_declaration(classified=True))["project_id"]
    deliver_to_both(planning, review_reminder(edu))
    deliver_to_both(planning, review_reminder(secret))
    deliver_to_both(planning, review_reminder(secret))  # a redelivery changes nothing
    mine = {("review_overdue", edu, "review"), ("review_overdue", secret, "review")}
    assert set(listed(planning, "unit:edu", kind="review_overdue")[0]) == mine
    assert listed(planning, "unit:health", kind="review_overdue") == ([], 0)
    assert listed(planning, "county_gov", kind="review_overdue")[1] == 2  # CLASSIFIED_VISIBLE_TO
    assert listed(planning, "audit", kind="review_overdue")[0] == [("review_overdue", edu, "review")]
    assert listed(planning, "smart_office", project_id=edu)[1] == 1
    assert listed(planning, "smart_office", kind="review_overdue", due_from="2026-12-15")[1] == 0
    assert listed(planning, "smart_office", kind="review_overdue", due_to="2026-12-14")[1] == 2
    timeline = call(planning, "get_timeline", "unit:edu", project_id=edu)
    assert [e["event_type"] for e in timeline["events"]] == ["project.declared", "reminder.due"]
    assert timeline["stage"] == "declared"


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"due_from": "2026-13-01"}, "due_from"),
        ({"due_from": "2026-12-02", "due_to": "2026-12-01"}, "due_to"),
        ({"kind": "Window Opening"}, "kind"),
        ({"project_id": " p"}, "project_id"),
        ({"page_size": 201}, "page_size"),
    ],
)
def test_bad_filters_are_refused_naming_the_field(planning, filters, field):
    with pytest.raises(ValidationError, match=field):
        call(planning, "list_reminders", "smart_office", **filters)
