"""``reminder.due``: one event type, emitted by every service that finds reminders in its own data.

The spec is registered here once (``SPEC``, a shared spec); a service that emits reminders lists it
among its own ``SPECS``, so the catalog knows it as one of the type's emitters: it publishes them on
its own exchange through its outbox, consumers bind to each emitter's exchange (``@subscribe`` does,
from the catalog) and every consumer decodes them with this one schema. The rules of what is due are
in each service's domain (returning ``nxshared.core.reminders.Reminder``); the daily timer is
``reminder_timer`` (``REMINDER_CHECK_SECONDS``); ``nxshared.core.reminders.send_reminders`` is the
step of each use case that writes them.
"""

from collections.abc import Iterable

from marshmallow import Schema, fields, validate

from nxshared.core.events import Event
from nxshared.core.reminders import SUBJECT_MAX
from nxshared.events import EventSpec
from nxshared.timers import every

REMINDER_DUE = "reminder.due"
CHECK_SETTING = "REMINDER_CHECK_SECONDS"


class ReminderDueV1(Schema):
    reminder_id = fields.String(required=True, validate=validate.Length(1, 36))
    kind = fields.String(required=True, validate=validate.Length(1, 64))
    project_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 64))
    subject = fields.String(required=True, validate=validate.Length(1, SUBJECT_MAX))
    due_on = fields.Date(required=True)
    owner_org = fields.String(required=True, validate=validate.Length(1, 64))


SPEC = EventSpec.shared(REMINDER_DUE, ReminderDueV1)

reminder_timer = every(CHECK_SETTING)


def count_sent(metrics, sent: Iterable[Event]) -> None:
    """``nx_reminders_emitted{kind}``: reminders written to the outbox, counted after the commit."""
    for evt in sent:
        metrics.reminders_emitted.labels(evt.data["kind"]).inc()
