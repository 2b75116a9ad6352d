"""The nameko adapter of the planning service: decode, authorize, call the domain, persist, emit."""

from nameko.web.handlers import http

from nxshared.catalog import REGISTRY
from nxshared.core.caller import ANY_ORG, ANY_UNIT
from nxshared.core.errors import NotFound
from nxshared.entrypoints import rpc, subscribe
from nxshared.gauges import BusinessGauges
from nxshared.service import ServiceBase, json_response
from nxshared.settings import Rules
from nxshared.validation import load
from planning import domain, public
from planning import events as ev
from planning import repository as repo
from planning import schemas as s
from planning.models import metadata  # noqa: F401  (maps the domain classes)

BUREAUS_REPORTING_CHANGES = ["smart_office", "data_center", "audit"]
# the services of CONTRACT §Events: the timeline keeps every event each of them emits
TIMELINE_SOURCES = ("planning", "review", "approval", "finance", "security", "audit")


def planning_rules(config):
    return domain.PlanningRules.from_settings(config["DECLARATION_WINDOW"], config["CLASSIFIED_VISIBLE_TO"])


def planned_event(project, actor):
    return ev.ProjectPlanned(
        project_id=project.project_id,
        actor=actor,
        name=project.name,
        unit=project.unit,
        construction_mode=project.construction_mode,
        plan_year=project.plan_year,
        plan_type=project.plan_type,
        estimated_investment=project.estimated_investment,
        requires_construction_plan=project.requires_construction_plan,
        classified=project.classified,
        custom_software=project.custom_software,
        hosted_on_big_data_center=project.hosted_on_big_data_center,
    )


def planning_gauges(session, now):
    for status, count in repo.count_by_status(session):
        yield "nx_planning_projects", "Projects by planning status", {"status": status}, count


class PlanningService(ServiceBase):
    name = "planning"
    rules = Rules(planning_rules)
    gauges = BusinessGauges(planning_gauges)

    # --- declarations -------------------------------------------------------------------------

    @rpc(allow=[ANY_UNIT, "data_center"])
    def declare_project(self, project):
        fields_ = load(s.ProjectDeclaration(), project)
        fields_["annual_investments"] = s.annual_investments_as_json(fields_["annual_investments"])
        caller = self.auth.caller
        with self.db.transaction() as tx:
            created = domain.declare(fields_, caller, self.clock.today(), self.rules, self.clock.now())
            tx.session.add(created)
            tx.emit(
                ev.ProjectDeclared(
                    project_id=created.project_id,
                    actor=caller.actor,
                    name=created.name,
                    unit=created.unit,
                    category=created.category,
                    construction_mode=created.construction_mode,
                    plan_year=created.plan_year,
                    plan_type=created.plan_type,
                    estimated_investment=created.estimated_investment,
                    classified=created.classified,
                )
            )
        return s.ProjectOut().dump(created)

    @rpc(allow=[ANY_ORG])
    def get_project(self, project_id):
        with self.db.reading() as session:
            return s.ProjectOut().dump(self._visible_project(session, project_id))

    @rpc(allow=[ANY_ORG])
    def list_projects(self, year=None, status=None, unit=None, page=1, page_size=50):
        query = load(s.ListQuery(), dict(year=year, status=status, unit=unit, page=page, page_size=page_size))
        caller = self.auth.caller
        with self.db.reading() as session:
            found = repo.projects(session, query["year"], query["status"], query["unit"])
            visible = [p for p in found if domain.can_see(caller, p, self.rules)]
        start = (query["page"] - 1) * query["page_size"]
        items = visible[start : start + query["page_size"]]
        return {"items": s.ProjectOut(many=True).dump(items), "total": len(visible)}

    # --- annual plan (Art 9) --------------------------------------------------------------------

    @rpc(allow=["smart_office"])
    def compile_annual_plan(self, year, project_ids):
        wanted = load(s.PlanIn(), {"year": year, "project_ids": project_ids})
        year = wanted["year"]
        with self.db.transaction() as tx:
            chosen = [self._visible_project(tx.session, pid) for pid in wanted["project_ids"]]
            existing = repo.plan(tx.session, year)
            compiled = domain.compile_plan(year, chosen, existing, self.auth.caller)
            if existing is None:
                tx.session.add(compiled)
            return s.PlanOut().dump(compiled)

    @rpc(allow=["finance", "drc"])
    def concur_annual_plan(self, year):
        with self.db.transaction() as tx:
            plan = repo.plan(tx.session, year)
            if plan is None:
                raise NotFound("PLAN_NOT_FOUND", f"{year} 年度计划尚未编制")
            domain.concur_plan(plan, self.auth.caller)
            return s.PlanOut().dump(plan)

    @rpc(allow=["county_gov"])
    def approve_annual_plan(self, year):
        caller = self.auth.caller
        with self.db.transaction() as tx:
            plan = repo.plan(tx.session, year)
            declared = repo.projects(tx.session, year=year, plan_type="annual")
            planned, not_planned = domain.approve_plan(plan, declared, caller)
            for project in planned:
                tx.emit(planned_event(project, caller.actor))
            for project in not_planned:
                tx.emit(
                    ev.ProjectNotPlanned(
                        project_id=project.project_id,
                        actor=caller.actor,
                        plan_year=year,
                        reason="未列入县人民政府审定的年度建设计划",
                    )
                )
            return s.PlanOut().dump(plan)

    # --- supplementary plan (Art 9) -----------------------------------------------------------

    @rpc(allow=["smart_office"])
    def review_supplementary(self, project_id, decision, opinion):
        decided = load(s.Decision(), {"decision": decision, "opinion": opinion})
        caller = self.auth.caller
        with self.db.transaction() as tx:
            project = self._visible_project(tx.session, project_id)
            domain.review_supplementary(project, decided["decision"], decided["opinion"])
            if project.status == domain.ProjectStatus.NOT_PLANNED.value:
                tx.emit(
                    ev.ProjectNotPlanned(
                        project_id=project_id,
                        actor=caller.actor,
                        plan_year=project.plan_year,
                        reason=decided["opinion"],
                    )
                )
            return s.ProjectOut().dump(project)

    @rpc(allow=["county_gov"])
    def approve_supplementary(self, project_id):
        caller = self.auth.caller
        with self.db.transaction() as tx:
            project = self._visible_project(tx.session, project_id)
            domain.approve_supplementary(project)
            tx.emit(planned_event(project, caller.actor))
            return s.ProjectOut().dump(project)

    # --- change control (Art 18) --------------------------------------------------------------

    @rpc(allow=[ANY_UNIT, "data_center"])
    def request_change(self, project_id, change):
        wanted = load(s.ChangeIn(), change)
        caller = self.auth.caller
        with self.db.transaction() as tx:
            project = self._visible_project(tx.session, project_id)
            domain.check_owner(caller, project)
            created = domain.request_change(project, caller, wanted["description"], wanted["reason"])
            tx.session.add(created)
        return {"change_id": created.change_id, **s.ChangeOut().dump(created)}

    @rpc(allow=["smart_office"])
    def review_change(self, change_id, decision, opinion):
        decided = load(s.Decision(), {"decision": decision, "opinion": opinion})
        caller = self.auth.caller
        with self.db.transaction() as tx:
            change = repo.change(tx.session, change_id)
            if change is None:
                raise NotFound("CHANGE_NOT_FOUND", "变更申请不存在")
            domain.decide_change(change, decided["decision"], decided["opinion"], caller)
            event = ev.ChangeApproved if change.status == "approved" else ev.ChangeRejected
            tx.emit(
                event(
                    project_id=change.project_id,
                    actor=caller.actor,
                    change_id=change.change_id,
                    opinion=change.opinion or "",
                )
            )
            return s.ChangeOut().dump(change)

    @rpc(allow=BUREAUS_REPORTING_CHANGES)
    def report_unauthorized_change(self, project_id, description):
        text = load(s.TextIn(), {"text": description})["text"]
        caller = self.auth.caller
        with self.db.transaction() as tx:
            project = self._visible_project(tx.session, project_id)
            report = domain.report_unauthorized_change(project, text, caller)
            tx.session.add(report)
            tx.emit(
                ev.UnauthorizedChangeReported(
                    project_id=project_id, actor=caller.actor, report_id=report.report_id, description=text
                )
            )
        return {"report_id": report.report_id, "project_id": project_id, "resolved": False}

    @rpc(allow=["smart_office"])
    def resolve_unauthorized_change(self, project_id, opinion):
        text = load(s.TextIn(), {"text": opinion})["text"]
        caller = self.auth.caller
        with self.db.transaction() as tx:
            self._visible_project(tx.session, project_id)
            reports = domain.resolve_unauthorized_changes(
                repo.open_unauthorized_changes(tx.session, project_id), text, caller
            )
            ids = [r.report_id for r in reports]
            tx.emit(
                ev.UnauthorizedChangeResolved(project_id=project_id, actor=caller.actor, report_ids=ids, opinion=text)
            )
        return {"project_id": project_id, "resolved_report_ids": ids}

    @rpc(allow=["smart_office"])
    def list_ip_exceptions(self):
        with self.db.reading() as session:
            return s.IpExceptionOut(many=True).dump(repo.ip_exceptions(session))

    # --- timeline -----------------------------------------------------------------------------

    @rpc(allow=[ANY_ORG])
    def get_timeline(self, project_id):
        with self.db.reading() as session:
            project = self._visible_project(session, project_id)
            entries = repo.timeline(session, project_id)
            return {
                "project_id": project_id,
                "stage": domain.stage_of(entries) or project.status,
                "events": s.TimelineEntryOut(many=True).dump(entries),
            }

    @subscribe(sources=TIMELINE_SOURCES)
    def record_timeline(self, payload):
        """Every event of every service of the contract, known type or not (a newer peer's)."""
        evt = REGISTRY.decode(payload, unknown_types=True)
        if evt.project_id is None:
            return
        with self.db.transaction() as tx:
            if tx.first_time(evt):
                tx.session.add(
                    domain.TimelineEntry(
                        event_id=evt.event_id,
                        project_id=evt.project_id,
                        event_type=evt.event_type,
                        source=evt.source,
                        occurred_at=evt.occurred_at,
                        actor=evt.actor,
                        data=evt.data,
                    )
                )

    @subscribe("contract.ip_exception_reported", source="finance")
    def register_ip_exception(self, payload):
        """Art 17: finance reports contracts whose source code the unit does not own."""
        evt = REGISTRY.decode(payload, unknown_types=True)
        data = load(s.IpExceptionReported(), evt.data)
        with self.db.transaction() as tx:
            if tx.first_time(evt):
                tx.session.merge(
                    domain.IpException(
                        contract_no=data["contract_no"],
                        project_id=evt.project_id,
                        vendor=data["vendor"],
                        source_code_owner=data["source_code_owner"],
                        unit=data["unit"],
                        reported_at=evt.occurred_at,
                    )
                )

    # --- public disclosure (Art 25) -------------------------------------------------------------

    @http("GET", "/public/projects")
    def public_projects(self, request):
        with self.db.reading() as session:
            return json_response(public.project_list(session))

    @http("GET", "/public/projects/<string:project_id>")
    def public_project(self, request, project_id):
        with self.db.reading() as session:
            body = public.project_detail(session, project_id)
        if body is None:
            return json_response({"error": "NOT_FOUND", "message": "项目不存在"}, 404)
        return json_response(body)

    def _visible_project(self, session, project_id):
        found = repo.project(session, project_id)
        domain.check_visible(self.auth.caller, found, self.rules)
        return found
