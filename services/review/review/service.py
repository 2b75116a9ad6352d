"""The nameko adapter of the review service: decode, authorize, run the use case in a unit of work, dump."""

from nxshared.catalog import REGISTRY
from nxshared.core.caller import ANY_ORG, ANY_UNIT
from nxshared.entrypoints import rpc, subscribe
from nxshared.gauges import BusinessGauges
from nxshared.reminders import count_sent, reminder_timer
from nxshared.service import ServiceBase
from nxshared.settings import Rules
from nxshared.validation import dump, load
from review import domain, usecases
from review import schemas as s
from review.delivery_repository import DeliveryRepository
from review.domain import reminders
from review.models import metadata  # noqa: F401  (maps the domain classes)
from review.repository import SqlRepository


def review_rules(config):
    return domain.ReviewRules.from_settings(
        config["EXPERT_PANEL_THRESHOLD"],
        config["FILING_THRESHOLD"],
        config["PANEL_MIN_EXPERTS"],
        config["PANEL_EXPERT_LEVELS"],
        config["CLASSIFIED_VISIBLE_TO"],
        config["DUPLICATE_LIST_SCORE"],
        config["DUPLICATE_ACK_SCORE"],
        config["DUPLICATE_LIST_MAX"],
    )


def review_reminder_rules(config):
    return reminders.ReminderRules.from_settings(config["REVIEW_EXPECTED_DAYS"])


def review_gauges(session, clock):
    repo = SqlRepository(session)
    open_by_route = repo.open_by_route()
    for route in domain.REVIEWED_ROUTES:
        yield "nx_review_open", "Reviews under way by route", {"route": route}, open_by_route.get(route, 0)
    oldest = repo.oldest_open_submitted_at()
    age = 0.0 if oldest is None else max(0.0, (clock.now() - oldest).total_seconds())
    yield "nx_review_oldest_open_age_seconds", "Age of the oldest review under way", {}, age


class ReviewService(ServiceBase):
    name = "review"
    rules = Rules(review_rules)
    reminder_rules = Rules(review_reminder_rules)
    gauges = BusinessGauges(review_gauges)

    # --- what planning tells us (Art 10, 18) ----------------------------------------------------

    @subscribe("project.planned", source="planning")
    def on_project_planned(self, payload):
        evt = REGISTRY.decode(payload)
        with self.db.transaction(SqlRepository) as uow:
            usecases.record_planned(uow, evt)

    @subscribe("project.declared", "project.not_planned", source="planning")
    def on_project_declared(self, payload):
        """Art 12: what the county declared (and left out of the plan), for the duplicate check."""
        with self.db.transaction(SqlRepository) as uow:
            usecases.record_known_project(uow, REGISTRY.decode(payload))

    @subscribe("change.approved", source="planning")
    def on_change_approved(self, payload):
        evt = REGISTRY.decode(payload)
        with self.db.transaction(SqlRepository) as uow:
            usecases.record_estimate_change(uow, evt)

    # --- what acceptance depends on, from the bureaus that own it (Art 13, 15–18, 24) -------------

    @subscribe("approval.granted", source="approval")
    def on_approval_granted(self, payload):
        """Art 13: the project is approved; its supervisor and test reports may be recorded."""
        with self.db.transaction(DeliveryRepository, orm=False) as uow:
            usecases.on_delivery_fact(uow, REGISTRY.decode(payload))

    @subscribe("contract.registered", source="finance")
    def on_contract_registered(self, payload):
        """Art 15–17: the project's contract is registered."""
        with self.db.transaction(DeliveryRepository, orm=False) as uow:
            usecases.on_delivery_fact(uow, REGISTRY.decode(payload))

    @subscribe("change.unauthorized_reported", "change.unauthorized_resolved", source="planning")
    def on_unauthorized_change(self, payload):
        """Art 18: a change made without approval blocks acceptance until it is resolved."""
        with self.db.transaction(DeliveryRepository, orm=False) as uow:
            usecases.on_delivery_fact(uow, REGISTRY.decode(payload))

    @subscribe("mlps.graded", "mlps.filed", source="security")
    def on_mlps(self, payload):
        """Art 24: a hosted project's MLPS grade, and its filing."""
        with self.db.transaction(DeliveryRepository, orm=False) as uow:
            usecases.on_delivery_fact(uow, REGISTRY.decode(payload))

    # --- submission and filing (Art 10–12) ------------------------------------------------------

    @rpc(allow=[ANY_UNIT, "data_center"])
    def submit_construction_plan(self, project_id, plan):
        wanted = load(s.SubmissionIn, {"project_id": project_id, "plan": plan})
        with self.db.transaction(SqlRepository) as uow:
            review = usecases.submit_construction_plan(uow, self.auth.caller, self.rules, self.clock.now(), **wanted)
            return dump(s.ReviewOut, review)

    @rpc(allow=[ANY_UNIT, "data_center"])
    def request_filing(self, project_id):
        project_id = load(s.ProjectRef, {"project_id": project_id})["project_id"]
        with self.db.transaction(SqlRepository) as uow:
            review = usecases.request_filing(uow, self.auth.caller, self.rules, self.clock.now(), project_id)
            return dump(s.ReviewOut, review)

    # --- the expert pool and the review (Art 12) ------------------------------------------------

    @rpc(allow=["data_center"])
    def register_expert(self, expert):
        wanted = load(s.ExpertIn, expert)
        with self.db.transaction(SqlRepository) as uow:
            return dump(s.ExpertOut, usecases.register_expert(uow, **wanted))

    @rpc(allow=["data_center"])
    def assign_experts(self, review_id, expert_ids):
        wanted = load(s.PanelIn, {"review_id": review_id, "expert_ids": expert_ids})
        with self.db.transaction(SqlRepository) as uow:
            review = usecases.assign_experts(uow, self.auth.caller, self.rules, **wanted)
            return dump(s.ReviewOut, review)

    @rpc(allow=["data_center"])
    def record_expert_opinion(self, review_id, expert_id, verdict, opinion):
        given = load(
            s.OpinionIn, {"review_id": review_id, "expert_id": expert_id, "verdict": verdict, "opinion": opinion}
        )
        with self.db.transaction(SqlRepository) as uow:
            review = usecases.record_expert_opinion(uow, self.auth.caller, self.rules, **given)
            return dump(s.ReviewOut, review)

    @rpc(allow=["data_center"])
    def conclude_review(self, review_id, verdict, opinion):
        decided = load(s.ConclusionIn, {"review_id": review_id, "verdict": verdict, "opinion": opinion})
        with self.db.transaction(SqlRepository) as uow:
            review = usecases.conclude_review(uow, self.auth.caller, self.rules, self.clock.now(), **decided)
            return dump(s.ReviewOut, review)

    @rpc(allow=["data_center"])
    def acknowledge_duplicates(self, project_id, comment):
        given = load(s.AcknowledgementIn, {"project_id": project_id, "comment": comment})
        with self.db.transaction(SqlRepository) as uow:
            review = usecases.acknowledge_duplicates(uow, self.auth.caller, self.rules, self.clock.now(), **given)
            return dump(s.ReviewOut, review)

    # --- delivery and acceptance (Art 18–21, 24) -------------------------------------------------

    @rpc(allow=[ANY_UNIT, "data_center"])
    def register_supervisor(self, project_id, supervisor):
        wanted = load(s.SupervisorIn, {"project_id": project_id, "supervisor": supervisor})
        with self.db.transaction(DeliveryRepository, orm=False) as uow:
            registered = usecases.register_supervisor(uow, self.auth.caller, self.rules, self.clock.now(), **wanted)
            return dump(s.SupervisorOut, registered)

    @rpc(allow=[ANY_UNIT, "data_center"])
    def submit_test_report(self, project_id, report):
        wanted = load(s.TestReportIn, {"project_id": project_id, "report": report})
        with self.db.transaction(DeliveryRepository, orm=False) as uow:
            submitted = usecases.submit_test_report(uow, self.auth.caller, self.rules, self.clock.now(), **wanted)
            return dump(s.TestReportOut, submitted)

    @rpc(allow=[ANY_UNIT, "data_center"])
    def request_acceptance_precheck(self, project_id):
        project_id = load(s.ProjectRef, {"project_id": project_id})["project_id"]
        with self.db.transaction(DeliveryRepository, orm=False) as uow:
            precheck = usecases.request_acceptance_precheck(
                uow, self.auth.caller, self.rules, self.clock.now(), project_id
            )
            return dump(s.PrecheckOut, precheck)

    @rpc(allow=["data_center"])
    def conclude_acceptance_precheck(self, project_id, verdict, opinion):
        decided = load(s.PrecheckConclusionIn, {"project_id": project_id, "verdict": verdict, "opinion": opinion})
        with self.db.transaction(DeliveryRepository, orm=False) as uow:
            precheck = usecases.conclude_acceptance_precheck(
                uow, self.auth.caller, self.rules, self.clock.now(), **decided
            )
            return dump(s.PrecheckOut, precheck)

    @rpc(allow=[ANY_UNIT, "data_center"])
    def record_acceptance(self, project_id, acceptance):
        wanted = load(s.AcceptanceIn, {"project_id": project_id, "acceptance": acceptance})
        with self.db.transaction(DeliveryRepository, orm=False) as uow:
            recorded = usecases.record_acceptance(
                uow, self.auth.caller, self.rules, self.clock.today(), self.clock.now(), **wanted
            )
            return dump(s.AcceptanceOut, recorded)

    @rpc(allow=[ANY_ORG])
    def get_acceptance_readiness(self, project_id):
        project_id = load(s.ProjectRef, {"project_id": project_id})["project_id"]
        with self.db.reading() as session:
            found = usecases.get_acceptance_readiness(
                DeliveryRepository(session), self.auth.caller, self.rules, project_id
            )
            return dump(s.ReadinessOut, found)

    # --- reading --------------------------------------------------------------------------------

    @rpc(allow=[ANY_ORG])
    def get_review(self, review_id):
        review_id = load(s.ReviewRef, {"review_id": review_id})["review_id"]
        with self.db.reading() as session:
            return dump(
                s.ReviewOut, usecases.get_review(SqlRepository(session), self.auth.caller, self.rules, review_id)
            )

    @rpc(allow=[ANY_ORG])
    def list_reviews(self, project_id):
        project_id = load(s.ProjectRef, {"project_id": project_id})["project_id"]
        with self.db.reading() as session:
            reviews = usecases.list_reviews(SqlRepository(session), self.auth.caller, self.rules, project_id)
            return dump(s.ReviewOut, reviews, many=True)

    # --- reminders (reminder.due) ---------------------------------------------------------------

    @reminder_timer
    def send_reminders(self):
        """Art 12: reviews under way longer than `REVIEW_EXPECTED_DAYS` on the suite's clock, each reminded once."""
        with self.db.transaction(SqlRepository) as uow:
            sent = usecases.send_review_reminders(uow, self.clock.today(), self.reminder_rules)
        count_sent(self.metrics, sent)
