"""The nameko adapter of the security service: decode, authorize, run the use case in one unit of
work, dump; and the periodic overdue check on a timer."""

from nxshared.catalog import REGISTRY
from nxshared.clock import Clock
from nxshared.core.caller import ANY_ORG
from nxshared.entrypoints import rpc, subscribe
from nxshared.gauges import BusinessGauges
from nxshared.reminders import count_sent
from nxshared.service import ServiceBase
from nxshared.settings import Rules
from nxshared.timers import every
from nxshared.validation import dump, load
from security import domain, usecases
from security import schemas as s
from security.repository import SqlRepository

OVERDUE_READERS = ["data_center", "smart_office", "audit"]


def security_rules(config):
    return domain.SecurityRules.from_settings(
        config["CLASSIFIED_VISIBLE_TO"], config["INCIDENT_RESPONSE_HOURS"], config["INSPECTION_INTERVAL_DAYS"]
    )


def security_gauges(session, clock):
    repo = SqlRepository(session)
    found = repo.overdue_counts()
    for kind in domain.OverdueKind:
        yield (
            "nx_security_overdue",
            "What the last overdue check found late, by kind",
            {"kind": kind.value},
            found.get(kind, 0),
        )
    open_now = repo.open_incident_counts()
    for severity in domain.Severity:
        yield (
            "nx_security_incidents_open",
            "Open security incidents by severity",
            {"severity": severity.value},
            open_now.get(severity, 0),
        )
    hosted = repo.hosted_by_mlps_status()
    for status in domain.MlpsStatus:
        yield (
            "nx_security_hosted_systems",
            "Planned projects hosted on the Big Data Center by MLPS status",
            {"status": status.value},
            hosted.get(status, 0),
        )
    last = repo.last_check()
    age = -1.0 if last is None else max(0.0, (clock.now() - last).total_seconds())
    yield "nx_security_overdue_check_age_seconds", "Seconds since the last overdue check ran (-1: never)", {}, age


class SecurityService(ServiceBase):
    name = "security"
    rules = Rules(security_rules)
    gauges = BusinessGauges(security_gauges)

    def _now(self):
        """The instant on the suite's clock (``NX_TODAY`` at the real time of day)."""
        return domain.moment(self.clock.today(), self.clock.now())

    # --- MLPS grading and filing (Art 24) ---------------------------------------------------------------

    @rpc(allow=["data_center"])
    def grade_system(self, project_id, level, basis):
        """Art 24: grade (or re-grade) the project's system at MLPS level 1–5, with its basis; a re-graded system must be filed again."""
        wanted = load(s.GradeIn, {"project_id": project_id, "level": level, "basis": basis})
        with self.db.transaction(SqlRepository, orm=False) as uow:
            project = usecases.grade_system(uow, **wanted, caller=self.auth.caller, rules=self.rules, now=self._now())
            return dump(s.GradingOut, project)

    @rpc(allow=["data_center"])
    def file_grading(self, project_id, filing_no, evaluation_agency):
        """Art 24: file the grade with its filing number and the evaluation agency the data center selected; refused before a grade."""
        wanted = load(
            s.FilingIn, {"project_id": project_id, "filing_no": filing_no, "evaluation_agency": evaluation_agency}
        )
        with self.db.transaction(SqlRepository, orm=False) as uow:
            project = usecases.file_grading(uow, **wanted, caller=self.auth.caller, rules=self.rules, now=self._now())
            return dump(s.GradingOut, project)

    # --- inspections and incidents (Art 23) -------------------------------------------------------------

    @rpc(allow=["data_center"])
    def record_inspection(self, project_id, findings, passed):
        """Art 23: record a periodic security inspection; a failed one (`passed` false) names its findings."""
        wanted = load(s.InspectionIn, {"project_id": project_id, "findings": findings, "passed": passed})
        with self.db.transaction(SqlRepository, orm=False) as uow:
            inspection = usecases.record_inspection(
                uow, **wanted, caller=self.auth.caller, rules=self.rules, now=self._now()
            )
            return dump(s.InspectionOut, inspection)

    @rpc(allow=["data_center"])
    def report_incident(self, incident):
        """Art 23: record a security incident; `occurred_at` carries its time zone and is not later than now; the response is due `INCIDENT_RESPONSE_HOURS[severity]` after it occurred (the result's `deadline`)."""
        wanted = load(s.IncidentIn, {"incident": incident})
        with self.db.transaction(SqlRepository, orm=False) as uow:
            reported = usecases.report_incident(
                uow, **wanted, caller=self.auth.caller, rules=self.rules, now=self._now()
            )
            return dump(s.IncidentOut, reported)

    @rpc(allow=["data_center"])
    def resolve_incident(self, incident_id, response):
        """Art 23: record the response that closes an open incident (once); a response after the deadline is marked late in `incident.resolved`."""
        wanted = load(s.ResolveIn, {"incident_id": incident_id, "response": response})
        with self.db.transaction(SqlRepository, orm=False) as uow:
            resolved = usecases.resolve_incident(
                uow, **wanted, caller=self.auth.caller, rules=self.rules, now=self._now()
            )
            return dump(s.IncidentOut, resolved)

    # --- reading ----------------------------------------------------------------------------------------

    @rpc(allow=[ANY_ORG])
    def get_posture(self, project_id):
        """Art 22–24: the project's MLPS grading, last inspection, open incidents and what is late now; for every bureau and the owner (a classified project: the owner and `CLASSIFIED_VISIBLE_TO`)."""
        wanted = load(s.ProjectIdIn, {"project_id": project_id})
        with self.db.reading() as session:
            found = usecases.get_posture(
                SqlRepository(session), **wanted, caller=self.auth.caller, rules=self.rules, now=self._now()
            )
            return dump(s.PostureOut, found)

    @rpc(allow=OVERDUE_READERS)
    def list_overdue(self):
        """Art 22–24: what the last periodic check (`OVERDUE_CHECK_SECONDS`) found late: hosted projects under way without an MLPS filing, inspections due, incidents open past their deadline; `checked_at` is the moment on the suite's clock it looked at."""
        with self.db.reading() as session:
            found = usecases.list_overdue(SqlRepository(session), caller=self.auth.caller, rules=self.rules)
            return dump(s.OverdueListOut, found)

    # --- the periodic check (Art 22–24) -------------------------------------------------------------------

    @every("OVERDUE_CHECK_SECONDS")
    def check_overdue(self):
        """Finds what is late on the suite's clock and keeps it for ``list_overdue`` and the gauges;
        sends the MLPS filings and inspections due as ``reminder.due`` (each once)."""
        with self.db.transaction(SqlRepository, orm=False) as uow:
            _, sent = usecases.check_overdue(uow, rules=self.rules, now=self._now(), ran_at=Clock.now())
        count_sent(self.metrics, sent)

    # --- what security learns from planning, finance and review --------------------------------------------

    @subscribe("project.planned", source="planning")
    def on_project_planned(self, payload):
        """Art 10, 24: a planned project, classified or not, hosted on the Big Data Center or not."""
        with self.db.transaction(SqlRepository, orm=False) as uow:
            usecases.on_project_event(uow, REGISTRY.decode(payload))

    @subscribe("contract.registered", source="finance")
    def on_contract_registered(self, payload):
        """Art 15, 22: the project is under construction; its security is built with it."""
        with self.db.transaction(SqlRepository, orm=False) as uow:
            usecases.on_project_event(uow, REGISTRY.decode(payload))

    @subscribe("acceptance.passed", source="review")
    def on_acceptance_passed(self, payload):
        """Art 21, 22: the project is accepted. Review does not register this event type yet: it is
        read by its envelope (and its data's ``date`` if any), whatever its version."""
        with self.db.transaction(SqlRepository, orm=False) as uow:
            usecases.on_project_event(uow, REGISTRY.decode(payload, unknown_types=True))
