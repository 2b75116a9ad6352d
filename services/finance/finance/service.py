"""The nameko adapter of the finance service: decode, authorize, run the use case in one unit of
work, dump."""

from finance import domain, usecases
from finance import schemas as s
from finance.domain import reminders
from finance.models import metadata  # noqa: F401  (maps the domain classes)
from finance.repository import SqlRepository
from nxshared.catalog import REGISTRY
from nxshared.core.caller import ANY_ORG, ANY_UNIT
from nxshared.core.money import format_money
from nxshared.entrypoints import rpc, subscribe
from nxshared.gauges import BusinessGauges
from nxshared.reminders import count_sent, reminder_timer
from nxshared.service import ServiceBase
from nxshared.settings import Rules
from nxshared.validation import dump, load


def finance_rules(config):
    return domain.FinanceRules.from_settings(config["CLASSIFIED_VISIBLE_TO"])


def finance_reminder_rules(config):
    return reminders.ReminderRules.from_settings(config["OM_REMINDER_DAYS"])


def finance_gauges(session, clock):
    repo = SqlRepository(session)
    for year, total in sorted(repo.approved_by_year().items()):
        yield (
            "nx_finance_approved_budget_yuan",
            "Approved budgets by year of approval",
            {"year": str(year)},
            float(total),
        )
    for year, total in sorted(repo.disbursed_by_year().items()):
        yield "nx_finance_disbursed_yuan", "Disbursed funds by year of disbursement", {"year": str(year)}, float(total)
    ending = repo.contracts_om_ending_between(*domain.om_expiry_window(clock.today()))
    yield "nx_finance_contracts_om_ending_soon", "Contracts whose O&M period ends within 90 days", {}, ending


class FinanceService(ServiceBase):
    name = "finance"
    rules = Rules(finance_rules)
    reminder_rules = Rules(finance_reminder_rules)
    gauges = BusinessGauges(finance_gauges)

    # --- the budget (Art 10, 13, 14) -------------------------------------------------------------

    @rpc(allow=["finance"])
    def review_budget(self, project_id, approved_amount, opinion):
        wanted = load(
            s.BudgetReviewIn, {"project_id": project_id, "approved_amount": approved_amount, "opinion": opinion}
        )
        with self.db.transaction(SqlRepository) as uow:
            project = usecases.review_budget(uow, **wanted, caller=self.auth.caller, now=self.clock.now())
            return dump(s.BudgetOut, project)

    @rpc(allow=["finance"])
    def reject_budget(self, project_id, opinion):
        wanted = load(s.BudgetRejectIn, {"project_id": project_id, "opinion": opinion})
        with self.db.transaction(SqlRepository) as uow:
            project = usecases.reject_budget(uow, **wanted, caller=self.auth.caller, now=self.clock.now())
            return dump(s.BudgetOut, project)

    # --- procurement and contract (Art 15–17) -------------------------------------------------------

    @rpc(allow=[ANY_UNIT, "data_center"])
    def register_procurement(self, project_id, procurement):
        wanted = load(s.ProcurementIn, {"project_id": project_id, "procurement": procurement})
        with self.db.transaction(SqlRepository) as uow:
            registered = usecases.register_procurement(
                uow, **wanted, caller=self.auth.caller, rules=self.rules, now=self.clock.now()
            )
            return dump(s.ProcurementOut, registered)

    @rpc(allow=[ANY_UNIT, "data_center"])
    def register_contract(self, project_id, contract):
        wanted = load(s.ContractIn, {"project_id": project_id, "contract": contract})
        with self.db.transaction(SqlRepository) as uow:
            registered = usecases.register_contract(
                uow,
                **wanted,
                caller=self.auth.caller,
                rules=self.rules,
                today=self.clock.today(),
                now=self.clock.now(),
            )
            return dump(s.ContractOut, registered)

    # --- disbursements (Art 14, 18, 27) -----------------------------------------------------------

    @rpc(allow=["finance"])
    def disburse(self, project_id, amount, purpose):
        wanted = load(s.DisburseIn, {"project_id": project_id, "amount": amount, "purpose": purpose})
        with self.db.transaction(SqlRepository) as uow:
            paid, project = usecases.disburse(uow, **wanted, caller=self.auth.caller, now=self.clock.now())
            return {
                **dump(s.DisbursementOut, paid),
                "disbursed_total": format_money(project.disbursed_total),
                "approved_budget": format_money(project.approved_budget),
            }

    @rpc(allow=[ANY_ORG])
    def get_ledger(self, project_id):
        wanted = load(s.ProjectIdIn, {"project_id": project_id})
        with self.db.reading() as session:
            found = usecases.get_ledger(SqlRepository(session), **wanted, caller=self.auth.caller, rules=self.rules)
            return dump(s.LedgerOut, found)

    # --- what finance learns from planning and approval ----------------------------------------------

    @subscribe(
        "project.planned",
        "change.approved",
        "change.unauthorized_reported",
        "change.unauthorized_resolved",
        source="planning",
    )
    def on_planning_event(self, payload):
        """Art 10, 18: planned projects, estimate changes, unauthorized changes opened and resolved."""
        with self.db.transaction(SqlRepository) as uow:
            usecases.on_planning_event(uow, REGISTRY.decode(payload))

    @subscribe("approval.granted", source="approval")
    def on_approval_granted(self, payload):
        """Art 13: the project is approved; its budget may be reviewed."""
        with self.db.transaction(SqlRepository) as uow:
            usecases.on_approval_granted(uow, REGISTRY.decode(payload))

    # --- reminders (reminder.due) ---------------------------------------------------------------

    @reminder_timer
    def send_reminders(self):
        """Art 15, 16: contracts whose O&M period ends within `OM_REMINDER_DAYS` on the suite's clock, each reminded once."""
        with self.db.transaction(SqlRepository) as uow:
            sent = usecases.send_om_reminders(uow, self.clock.today(), self.reminder_rules)
        count_sent(self.metrics, sent)
