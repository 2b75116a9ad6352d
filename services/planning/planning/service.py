"""The nameko adapter of the planning service: decode, authorize, run the use case in one unit of
work, dump. The rules are in ``planning.domain``, the use cases in ``planning.usecases``. The public
pages (Art 25) are not served here but by planning's public side (``planning.public.PAGES``)."""

import base64

from nxshared.catalog import REGISTRY
from nxshared.core.caller import ANY_ORG, ANY_UNIT
from nxshared.entrypoints import rpc, subscribe
from nxshared.gauges import BusinessGauges
from nxshared.reminders import count_sent, reminder_timer
from nxshared.service import ServiceBase
from nxshared.settings import Rules
from nxshared.validation import dump, load
from planning import plan_workbook, usecases
from planning import schemas as s
from planning.domain.declaration import PlanningRules
from planning.domain.reminders import ReminderRules
from planning.models import metadata  # noqa: F401  (maps the domain classes)
from planning.repository import DeclarationLedger, ReminderLedger, SqlRepository, TimelineLedger

BUREAUS_REPORTING_CHANGES = ["smart_office", "data_center", "audit"]
PLAN_READERS = ["county_gov", "smart_office", "finance", "drc", "data_center", "audit"]
# the services of CONTRACT §Events: the timeline keeps every event each of them emits. Planning puts
# its own on the timeline in the transaction that decides them (``own_recorded``): the broker routes
# them to a queue that keeps none, so the relay's mandatory publish still finds them a route
# (project.declared has no other consumer) and none comes back to be read for nothing.
TIMELINE_SOURCES = ("planning", "review", "approval", "finance", "security", "audit")


def planning_rules(config):
    return PlanningRules.from_settings(config["DECLARATION_WINDOW"], config["CLASSIFIED_VISIBLE_TO"], config)


def planning_reminder_rules(config):
    return ReminderRules.from_settings(config["REMINDER_LEAD_DAYS"])


def planning_gauges(session, clock):
    repo = SqlRepository(session)
    for status, count in repo.count_by_status():
        yield "nx_planning_projects", "Projects by planning status", {"status": status}, count
    for rating, count in repo.count_by_risk(clock.today()):
        yield "nx_planning_projects_by_risk", "Projects by risk rating (1 low – 5 high)", {"rating": str(rating)}, count


class PlanningService(ServiceBase):
    name = "planning"
    rules = Rules(planning_rules)
    reminder_rules = Rules(planning_reminder_rules)
    gauges = BusinessGauges(planning_gauges)

    # --- declarations -------------------------------------------------------------------------

    @rpc(allow=[ANY_UNIT, "data_center"])
    def declare_project(self, project):
        fields_ = load(s.ProjectDeclaration, project)
        fields_["annual_investments"] = s.annual_investments_as_json(fields_["annual_investments"])
        with self.db.transaction(DeclarationLedger, orm=False) as uow:
            created = usecases.declare_project(
                uow, fields_, self.auth.caller, self.clock.today(), self.clock.now(), self.rules
            )
        return dump(s.ProjectOut, created)

    @rpc(allow=[ANY_ORG])
    def get_project(self, project_id):
        project_id = load(s.ProjectIdIn, {"project_id": project_id})["project_id"]
        with self.db.reading() as session:
            found = usecases.get_project(SqlRepository(session), project_id, self.auth.caller, self.rules)
        return dump(s.ProjectOut, found)

    @rpc(allow=[ANY_ORG])
    def list_projects(self, year=None, status=None, unit=None, page=1, page_size=50):
        query = load(s.ListQuery, dict(year=year, status=status, unit=unit, page=page, page_size=page_size))
        with self.db.reading() as session:
            found = usecases.list_projects(SqlRepository(session), self.auth.caller, self.rules, **query)
        return {"items": dump(s.ProjectOut, found.items, many=True), "total": found.total}

    # --- annual plan (Art 9) --------------------------------------------------------------------

    @rpc(allow=["smart_office"])
    def compile_annual_plan(self, year, project_ids):
        wanted = load(s.PlanIn, {"year": year, "project_ids": project_ids})
        with self.db.transaction(SqlRepository) as uow:
            plan = usecases.compile_annual_plan(
                uow, wanted["year"], wanted["project_ids"], self.auth.caller, self.rules
            )
        return dump(s.PlanOut, plan)

    @rpc(allow=["finance", "drc"])
    def concur_annual_plan(self, year):
        year = load(s.YearIn, {"year": year})["year"]
        with self.db.transaction(SqlRepository) as uow:
            plan = usecases.concur_annual_plan(uow, year, self.auth.caller, self.rules)
        return dump(s.PlanOut, plan)

    @rpc(allow=["county_gov"])
    def approve_annual_plan(self, year):
        year = load(s.YearIn, {"year": year})["year"]
        with self.db.transaction(SqlRepository) as uow:
            plan = usecases.approve_annual_plan(uow, year, self.auth.caller, self.rules)
        return dump(s.PlanOut, plan)

    @rpc(allow=PLAN_READERS)
    def get_plan_workbook(self, year):
        """The year's plan as an Excel workbook (base64), for the county government and the bureaus."""
        year = load(s.YearIn, {"year": year})["year"]
        with self.db.reading() as session:
            sheet = usecases.annual_plan_sheet(SqlRepository(session), year, self.auth.caller, self.rules)
        content = plan_workbook.workbook_bytes(sheet, plan_workbook.plan_title(year))
        return {
            "year": year,
            "file_name": f"{year}年度计划.xlsx",
            "content_type": plan_workbook.CONTENT_TYPE,
            "content_base64": base64.b64encode(content).decode("ascii"),
            "projects": sheet.project_count,
            "estimated_investment": str(sheet.estimated_investment),
        }

    # --- supplementary plan (Art 9) -----------------------------------------------------------

    @rpc(allow=["smart_office"])
    def review_supplementary(self, project_id, decision, opinion):
        project_id = load(s.ProjectIdIn, {"project_id": project_id})["project_id"]
        decided = load(s.Decision, {"decision": decision, "opinion": opinion})
        with self.db.transaction(SqlRepository) as uow:
            project = usecases.review_supplementary(
                uow, project_id, decided["decision"], decided["opinion"], self.auth.caller, self.rules
            )
        return dump(s.ProjectOut, project)

    @rpc(allow=["county_gov"])
    def approve_supplementary(self, project_id):
        project_id = load(s.ProjectIdIn, {"project_id": project_id})["project_id"]
        with self.db.transaction(SqlRepository) as uow:
            project = usecases.approve_supplementary(uow, project_id, self.auth.caller, self.rules)
        return dump(s.ProjectOut, project)

    # --- change control (Art 18) --------------------------------------------------------------

    @rpc(allow=[ANY_UNIT, "data_center"])
    def request_change(self, project_id, change):
        project_id = load(s.ProjectIdIn, {"project_id": project_id})["project_id"]
        wanted = load(s.ChangeIn, change)
        with self.db.transaction(SqlRepository) as uow:
            created = usecases.request_change(uow, project_id, wanted, self.auth.caller, self.rules)
        return {"change_id": created.change_id, **dump(s.ChangeOut, created)}

    @rpc(allow=["smart_office"])
    def review_change(self, change_id, decision, opinion):
        change_id = load(s.ChangeIdIn, {"change_id": change_id})["change_id"]
        decided = load(s.Decision, {"decision": decision, "opinion": opinion})
        with self.db.transaction(SqlRepository) as uow:
            change = usecases.review_change(uow, change_id, decided["decision"], decided["opinion"], self.auth.caller)
        return dump(s.ChangeOut, change)

    @rpc(allow=BUREAUS_REPORTING_CHANGES)
    def report_unauthorized_change(self, project_id, description):
        project_id = load(s.ProjectIdIn, {"project_id": project_id})["project_id"]
        text = load(s.TextIn, {"text": description})["text"]
        with self.db.transaction(SqlRepository) as uow:
            report = usecases.report_unauthorized_change(uow, project_id, text, self.auth.caller, self.rules)
        return {"report_id": report.report_id, "project_id": report.project_id, "resolved": report.resolved}

    @rpc(allow=["smart_office"])
    def resolve_unauthorized_change(self, project_id, opinion):
        project_id = load(s.ProjectIdIn, {"project_id": project_id})["project_id"]
        text = load(s.TextIn, {"text": opinion})["text"]
        with self.db.transaction(SqlRepository) as uow:
            reports = usecases.resolve_unauthorized_change(uow, project_id, text, self.auth.caller, self.rules)
        return {"project_id": project_id, "resolved_report_ids": [r.report_id for r in reports]}

    @rpc(allow=["smart_office"])
    def list_ip_exceptions(self):
        with self.db.reading() as session:
            register = usecases.list_ip_exceptions(SqlRepository(session))
        return dump(s.IpExceptionOut, register, many=True)

    # --- timeline -----------------------------------------------------------------------------

    @rpc(allow=[ANY_ORG])
    def get_timeline(self, project_id):
        project_id = load(s.ProjectIdIn, {"project_id": project_id})["project_id"]
        with self.db.reading() as session:
            found = usecases.get_timeline(SqlRepository(session), project_id, self.auth.caller, self.rules)
        return {
            "project_id": found.project_id,
            "stage": found.stage,
            "events": dump(s.TimelineEntryOut, found.entries, many=True),
        }

    # --- risk rating (issue 24) ---------------------------------------------------------------

    @rpc(allow=[ANY_ORG])
    def get_risk(self, project_id):
        """Issue 24: the project's risk rating, 1 (low) to 5 (high), as of today, with the reasons
        that raised it (`COST_OVERRUN`, `SCHEDULE_LATE`, `UNAUTHORIZED_CHANGE`, `FAILED_CHECKS`,
        `OPEN_INCIDENTS`, each `{code, text, evidence}`) and the smart office's latest override
        (`rating` is then the override's, `computed_rating` the computed one); visible to whoever
        may see the project (as `get_project`)."""
        project_id = load(s.ProjectIdIn, {"project_id": project_id})["project_id"]
        with self.db.reading() as session:
            found = usecases.get_risk(
                SqlRepository(session), project_id, self.auth.caller, self.clock.today(), self.rules
            )
        return dump(s.RiskOut, s.risk_fields(found))

    @rpc(allow=["smart_office"])
    def override_risk(self, project_id, rating, comment):
        """Issue 24: the smart office rates the project in place of the computed rating, with a
        comment; every override is kept with who and when, the latest wins; emits
        `risk.overridden`."""
        project_id = load(s.ProjectIdIn, {"project_id": project_id})["project_id"]
        wanted = load(s.RiskOverrideIn, {"rating": rating, "comment": comment})
        with self.db.transaction(SqlRepository) as uow:
            found = usecases.override_risk(
                uow, project_id, wanted["rating"], wanted["comment"], self.auth.caller,
                self.clock.today(), self.clock.now(), self.rules,
            )  # fmt: skip
        return dump(s.RiskOut, s.risk_fields(found))

    @subscribe(sources=TIMELINE_SOURCES, own_recorded=True)
    def record_timeline(self, payload):
        """Every event of every other service of the contract, known type or not (a newer peer's).
        Planning's own are put on the timeline by the use case that emits them and are not
        delivered here; one still queued from before that (a version that had them delivered)
        is recorded unless the timeline has it."""
        evt = REGISTRY.decode(payload, unknown_types=True)
        if evt.source == self.name:
            with self.db.reading() as session:
                if usecases.on_timeline_already(SqlRepository(session), evt):
                    return
        with self.db.transaction(TimelineLedger, orm=False) as uow:  # on every other service's event's path
            usecases.record_timeline(uow, evt, self.rules.risk)

    @subscribe("contract.ip_exception_reported", source="finance")
    def register_ip_exception(self, payload):
        """Art 17: finance reports contracts whose source code the unit does not own."""
        evt = REGISTRY.decode(payload, unknown_types=True)
        data = load(s.IpExceptionReported, evt.data)
        with self.db.transaction(SqlRepository) as uow:
            usecases.register_ip_exception(uow, evt, data)

    # --- reminders (every service's reminder.due; the declaration window's, Art 8) ---------------

    @rpc(allow=[ANY_ORG])
    def list_reminders(self, due_from=None, due_to=None, kind=None, project_id=None, page=1, page_size=50):
        """What every service's daily timer found due (`reminder.due`), by due day: a project's reminders to whoever sees the project (a unit its own; a classified one only to `CLASSIFIED_VISIBLE_TO`), the declaration window's to everyone; `due_from`/`due_to` are ISO days, inclusive."""
        query = load(
            s.ReminderQuery,
            dict(due_from=due_from, due_to=due_to, kind=kind, project_id=project_id, page=page, page_size=page_size),
        )
        filters = usecases.ReminderFilters(query["due_from"], query["due_to"], query["kind"], query["project_id"])
        with self.db.reading() as session:
            found = usecases.list_reminders(
                ReminderLedger(session.connection()),
                self.auth.caller,
                self.rules,
                filters,
                query["page"],
                query["page_size"],
            )
        return {"items": dump(s.ReminderOut, found.items, many=True), "total": found.total}

    @reminder_timer
    def send_window_reminders(self):
        """Art 8: the declaration window opening or closing within `REMINDER_LEAD_DAYS`, on the suite's clock, sent once."""
        with self.db.transaction(ReminderLedger, orm=False) as uow:
            sent = usecases.send_window_reminders(uow, self.clock.today(), self.rules, self.reminder_rules)
        count_sent(self.metrics, sent)

    @subscribe("reminder.due", own_recorded=True)
    def record_reminder(self, payload):
        """Every other service's reminders, kept for `list_reminders` (planning's own are kept by the timer that sends them)."""
        with self.db.transaction(ReminderLedger, orm=False) as uow:
            usecases.record_reminder(uow, REGISTRY.decode(payload))
