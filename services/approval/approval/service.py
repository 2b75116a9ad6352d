"""The nameko adapter of the approval service: decode, authorize, run the use case in one unit of
work, dump."""

from approval import domain, usecases
from approval import schemas as s
from approval.models import metadata  # noqa: F401  (maps the domain classes)
from approval.repository import ReviewLedger, SqlReading, SqlRepository
from nxshared.catalog import REGISTRY
from nxshared.core.caller import ANY_ORG, ANY_UNIT
from nxshared.entrypoints import rpc, subscribe
from nxshared.gauges import BusinessGauges
from nxshared.service import ServiceBase
from nxshared.settings import Rules
from nxshared.validation import dump, load


def approval_rules(config):
    return domain.ApprovalRules.from_settings(config["APPROVAL_NO_FORMAT"], config["CLASSIFIED_VISIBLE_TO"])


def approval_gauges(session, clock):
    counts = dict(SqlRepository(session).count_by_status())
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
        wanted = load(s.ApplicationIn, {"project_id": project_id, "approval_type": approval_type})
        with self.db.transaction(SqlRepository) as uow:
            created = usecases.apply(uow, **wanted, caller=self.auth.caller, rules=self.rules, now=self.clock.now())
            return dump(s.ApprovalOut, created)

    @rpc(allow=["drc"])
    def grant_approval(self, project_id, opinion):
        wanted = load(s.DecisionIn, {"project_id": project_id, "opinion": opinion})
        with self.db.transaction(SqlRepository) as uow:
            granted = usecases.grant(
                uow,
                **wanted,
                caller=self.auth.caller,
                rules=self.rules,
                year=self.clock.today().year,
                now=self.clock.now(),
            )
            return dump(s.ApprovalOut, granted)

    @rpc(allow=["drc"])
    def reject_approval(self, project_id, opinion):
        wanted = load(s.DecisionIn, {"project_id": project_id, "opinion": opinion})
        with self.db.transaction(SqlRepository) as uow:
            rejected = usecases.reject(uow, **wanted, caller=self.auth.caller, rules=self.rules, now=self.clock.now())
            return dump(s.ApprovalOut, rejected)

    @rpc(allow=[ANY_ORG])
    def get_approval(self, project_id):
        wanted = load(s.ProjectIdIn, {"project_id": project_id})
        with self.db.reading() as session:
            found = usecases.get(SqlReading(session), **wanted, caller=self.auth.caller, rules=self.rules)
            return dump(s.ApprovalOut, found)

    # --- what approval learns from planning and review -------------------------------------------

    @subscribe("project.planned", source="planning")
    def on_project_planned(self, payload):
        """Art 10: the project is in the annual or supplementary plan."""
        with self.db.transaction(SqlRepository) as uow:
            usecases.on_project_planned(uow, REGISTRY.decode(payload))

    @subscribe("change.approved", source="planning")
    def on_change_approved(self, payload):
        """Art 18: an approved change may alter the project's estimate."""
        with self.db.transaction(SqlRepository) as uow:
            usecases.on_change_approved(uow, REGISTRY.decode(payload))

    @subscribe("review.passed", "review.filed", "review.failed", source="review")
    def on_review_concluded(self, payload):
        """Art 13: record the review; a passing one makes the project's open application ready. On
        every review event's path: decoded before the transaction, which needs no ORM session."""
        evt = REGISTRY.decode(payload)
        with self.db.transaction(ReviewLedger, orm=False) as uow:
            usecases.on_review_concluded(uow, evt)
