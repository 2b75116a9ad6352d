"""The nameko adapter of the approval service: decode, authorize, call the domain, persist, emit."""

from approval import domain
from approval import repository as repo
from approval import schemas as s
from approval.events import ApprovalApplied, ApprovalGranted, ApprovalRejected
from approval.models import metadata  # noqa: F401  (maps the domain classes)
from nxshared.catalog import REGISTRY
from nxshared.core.caller import ANY_ORG, ANY_UNIT
from nxshared.entrypoints import rpc, subscribe
from nxshared.gauges import BusinessGauges
from nxshared.service import ServiceBase
from nxshared.settings import Rules
from nxshared.validation import load


def approval_rules(config):
    return domain.ApprovalRules.from_settings(config["APPROVAL_NO_FORMAT"])


def approval_gauges(session, now):
    counts = dict(repo.count_by_status(session))
    awaiting = counts.get(domain.ApprovalState.AWAITING_REVIEW.value, 0)
    yield "nx_approval_awaiting_review", "Applications for approval awaiting a passed review", {}, awaiting
    for status in domain.ApprovalState:
        count = counts.get(status.value, 0)
        yield "nx_approval_applications", "Applications for approval by status", {"status": status.value}, count


class ApprovalService(ServiceBase):
    name = "approval"
    rules = Rules(approval_rules)
    gauges = BusinessGauges(approval_gauges)

    # --- applications and decisions (Art 10, 13) -------------------------------------------------

    @rpc(allow=[ANY_UNIT, "data_center"])
    def apply_for_approval(self, project_id, approval_type):
        load(s.ApplicationIn(), {"project_id": project_id, "approval_type": approval_type})
        caller = self.auth.caller
        with self.db.transaction() as tx:
            project = repo.locked_project(tx.session, project_id)
            latest = repo.latest_application(tx.session, project_id)
            reviews = repo.reviews(tx.session, project_id)
            created = domain.apply(project, latest, reviews, approval_type, caller, self.clock.now())
            tx.session.add(created)
            tx.emit(
                ApprovalApplied(
                    project_id=project_id,
                    actor=caller.actor,
                    approval_type=created.approval_type,
                    status=created.status,
                )
            )
        return s.ApprovalOut().dump(created)

    @rpc(allow=["drc"])
    def grant_approval(self, project_id, opinion):
        wanted = load(s.DecisionIn(), {"project_id": project_id, "opinion": opinion})
        caller = self.auth.caller
        with self.db.transaction() as tx:
            repo.locked_project(tx.session, project_id)
            application = repo.latest_application(tx.session, project_id)
            counter = repo.locked_counter(tx.session, self.clock.today().year)
            domain.grant(application, counter, self.rules, wanted["opinion"], caller, self.clock.now())
            tx.emit(
                ApprovalGranted(
                    project_id=project_id,
                    actor=caller.actor,
                    approval_no=application.approval_no,
                    approval_type=application.approval_type,
                    review_id=application.review_id,
                    opinion=application.opinion,
                )
            )
            return s.ApprovalOut().dump(application)

    @rpc(allow=["drc"])
    def reject_approval(self, project_id, opinion):
        wanted = load(s.DecisionIn(), {"project_id": project_id, "opinion": opinion})
        caller = self.auth.caller
        with self.db.transaction() as tx:
            repo.locked_project(tx.session, project_id)
            application = repo.latest_application(tx.session, project_id)
            domain.reject(application, wanted["opinion"], caller, self.clock.now())
            tx.emit(ApprovalRejected(project_id=project_id, actor=caller.actor, opinion=wanted["opinion"]))
            return s.ApprovalOut().dump(application)

    @rpc(allow=[ANY_ORG])
    def get_approval(self, project_id):
        load(s.ProjectIdIn(), {"project_id": project_id})
        with self.db.reading() as session:
            domain.check_visible(self.auth.caller, repo.project(session, project_id))
            application = repo.latest_application(session, project_id)
            domain.check_applied(application)
            return s.ApprovalOut().dump(application)

    # --- what approval learns from planning and review -------------------------------------------

    @subscribe("project.planned", source="planning")
    def on_project_planned(self, payload):
        """Art 10: the project is in the annual or supplementary plan."""
        evt = REGISTRY.decode(payload)
        with self.db.transaction() as tx:
            if tx.first_time(evt):
                domain.learn_planned(repo.locked_project(tx.session, evt.project_id), evt.data)

    @subscribe("review.passed", "review.filed", "review.failed", source="review")
    def on_review_concluded(self, payload):
        """Art 13: record the review; a passing one makes the project's open application ready."""
        evt = REGISTRY.decode(payload)
        with self.db.transaction() as tx:
            if not tx.first_time(evt):
                return
            repo.locked_project(tx.session, evt.project_id)
            repo.record_review(
                tx.session, domain.concluded_review(evt.event_type, evt.project_id, evt.data, evt.occurred_at)
            )
            domain.take_reviews_into_account(
                repo.latest_application(tx.session, evt.project_id), repo.reviews(tx.session, evt.project_id)
            )
