"""The nameko adapter of the review service: decode, authorize, call the domain, persist, emit."""

from decimal import Decimal

from nxshared.catalog import REGISTRY
from nxshared.core.caller import ANY_ORG, ANY_UNIT
from nxshared.core.errors import NotFound
from nxshared.entrypoints import rpc, subscribe
from nxshared.gauges import BusinessGauges
from nxshared.service import ServiceBase
from nxshared.settings import Rules
from nxshared.validation import load
from review import domain
from review import repository as repo
from review import schemas as s
from review.events import CONCLUSION_EVENTS, ReviewSubmitted
from review.models import metadata  # noqa: F401  (maps the domain classes)


def review_rules(config):
    return domain.ReviewRules.from_settings(
        config["EXPERT_PANEL_THRESHOLD"],
        config["FILING_THRESHOLD"],
        config["PANEL_MIN_EXPERTS"],
        config["PANEL_EXPERT_LEVELS"],
    )


def review_gauges(session, now):
    open_by_route = dict(repo.open_by_route(session))
    for route in domain.REVIEWED_ROUTES:
        yield "nx_review_open", "Reviews under way by route", {"route": route}, open_by_route.get(route, 0)
    oldest = repo.oldest_open_submitted_at(session)
    age = 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
    yield "nx_review_oldest_open_age_seconds", "Age of the oldest review under way", {}, age


def planned_project_from(evt):
    data = evt.data
    return domain.PlannedProject(
        project_id=evt.project_id,
        name=data["name"],
        unit=data["unit"],
        construction_mode=data["construction_mode"],
        estimated_investment=Decimal(data["estimated_investment"]),
        requires_construction_plan=data["requires_construction_plan"],
        classified=data["classified"],
        custom_software=data["custom_software"],
    )


class ReviewService(ServiceBase):
    name = "review"
    rules = Rules(review_rules)
    gauges = BusinessGauges(review_gauges)

    # --- what planning tells us (Art 10) --------------------------------------------------------

    @subscribe("project.planned", source="planning")
    def on_project_planned(self, payload):
        evt = REGISTRY.decode(payload)
        with self.db.transaction() as tx:
            if tx.first_time(evt):
                tx.session.merge(planned_project_from(evt))

    # --- submission and filing (Art 10–12) ------------------------------------------------------

    @rpc(allow=[ANY_UNIT, "data_center"])
    def submit_construction_plan(self, project_id, plan):
        wanted = load(s.PlanIn(), plan)
        caller = self.auth.caller
        with self.db.transaction() as tx:
            project = repo.planned_project(tx.session, project_id, lock=True)
            history = repo.reviews_of(tx.session, project_id)
            review = domain.submit_plan(project, history, wanted, caller, self.rules, self.clock.now())
            tx.session.add(review)
            tx.emit(
                ReviewSubmitted(
                    project_id=project_id,
                    actor=caller.actor,
                    review_id=review.review_id,
                    route=review.route,
                    budget=review.budget,
                )
            )
            return s.ReviewOut().dump(review)

    @rpc(allow=[ANY_UNIT, "data_center"])
    def request_filing(self, project_id):
        caller = self.auth.caller
        with self.db.transaction() as tx:
            project = repo.planned_project(tx.session, project_id, lock=True)
            history = repo.reviews_of(tx.session, project_id)
            review = domain.file_project(project, history, caller, self.rules, self.clock.now())
            tx.session.add(review)
            self._emit_conclusion(tx, review)
            return s.ReviewOut().dump(review)

    # --- the expert pool and the review (Art 12) ------------------------------------------------

    @rpc(allow=["data_center"])
    def register_expert(self, expert):
        fields_ = load(s.ExpertIn(), expert)
        with self.db.transaction() as tx:
            created = domain.Expert(expert_id=domain.new_id("exp"), **fields_)
            tx.session.add(created)
            return s.ExpertOut().dump(created)

    @rpc(allow=["data_center"])
    def assign_experts(self, review_id, expert_ids):
        wanted = load(s.PanelIn(), {"expert_ids": expert_ids})
        with self.db.transaction() as tx:
            review = self._review(tx.session, review_id)
            chosen = [self._expert(tx.session, expert_id) for expert_id in wanted["expert_ids"]]
            project = repo.planned_project(tx.session, review.project_id)
            domain.assign_panel(review, chosen, project, self.rules)
            return s.ReviewOut().dump(review)

    @rpc(allow=["data_center"])
    def record_expert_opinion(self, review_id, expert_id, verdict, opinion):
        given = load(s.OpinionIn(), {"expert_id": expert_id, "verdict": verdict, "opinion": opinion})
        with self.db.transaction() as tx:
            review = self._review(tx.session, review_id)
            domain.record_opinion(review, given["expert_id"], given["verdict"], given["opinion"])
            return s.ReviewOut().dump(review)

    @rpc(allow=["data_center"])
    def conclude_review(self, review_id, verdict, opinion):
        decided = load(s.ConclusionIn(), {"verdict": verdict, "opinion": opinion})
        with self.db.transaction() as tx:
            review = self._review(tx.session, review_id)
            domain.conclude(review, decided["verdict"], decided["opinion"], self.auth.caller, self.clock.now())
            self._emit_conclusion(tx, review)
            return s.ReviewOut().dump(review)

    # --- reading --------------------------------------------------------------------------------

    @rpc(allow=[ANY_ORG])
    def get_review(self, review_id):
        with self.db.reading() as session:
            review = repo.review(session, review_id)
            project = repo.planned_project(session, review.project_id) if review else None
            domain.check_visible(self.auth.caller, project)
            return s.ReviewOut().dump(review)

    @rpc(allow=[ANY_ORG])
    def list_reviews(self, project_id):
        """Every review of the project, oldest first: the history survives a failed review."""
        with self.db.reading() as session:
            domain.check_visible(self.auth.caller, repo.planned_project(session, project_id), "PROJECT_NOT_FOUND")
            return s.ReviewOut(many=True).dump(repo.reviews_of(session, project_id))

    def _emit_conclusion(self, tx, review):
        """``review.passed``, ``review.failed`` or ``review.filed``: what approval waits for (Art 13)."""
        tx.emit(
            CONCLUSION_EVENTS[review.status](
                project_id=review.project_id,
                actor=self.auth.caller.actor,
                review_id=review.review_id,
                route=review.route,
                opinion=review.opinion,
            )
        )

    def _review(self, session, review_id):
        found = repo.review(session, review_id, lock=True)
        if found is None:
            raise NotFound("REVIEW_NOT_FOUND", f"评审 {review_id} 不存在")
        return found

    def _expert(self, session, expert_id):
        found = repo.expert(session, expert_id)
        if found is None:
            raise NotFound("EXPERT_NOT_FOUND", f"专家库中没有专家 {expert_id}")
        return found
