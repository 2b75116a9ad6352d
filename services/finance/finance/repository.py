"""Finance's storage on SQLAlchemy: what the use cases load and add (``usecases.Repository``) and the
queries behind the business gauges.

**The lock.** Every change to a project's money first takes the project's row with
``locked_project`` (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the unit of work is a write
transaction from its first statement, which serialises writers). The running total of
disbursements lives on that row, so two disbursements of the same project are decided one after
the other, the second seeing the first's total.
"""

import datetime as dt
from decimal import Decimal

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from finance.domain import Contract, Disbursement, Procurement, Project, Stage, UnauthorizedChange
from finance.models import projects
from nxshared.tables import Money, insert_if_absent

NEW_PROJECT = insert_if_absent(projects, "project_id")  # knowing nothing yet: the columns' defaults
BUDGETED = [Stage.BUDGETED.value, Stage.PROCURED.value, Stage.CONTRACTED.value]


class SqlRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- projects ----------------------------------------------------------------------------------

    def project(self, project_id: str) -> Project | None:
        return self.session.get(Project, project_id)

    def locked_project(self, project_id: str) -> Project | None:
        return self.session.get(Project, project_id, with_for_update=True)

    def project_to_learn(self, project_id: str) -> Project:
        """The project's row, created (knowing nothing yet) if absent, locked: an event about a
        project finance has not heard of yet starts its record."""
        self.session.connection().execute(NEW_PROJECT, {"project_id": project_id})
        project = self.session.get(Project, project_id, with_for_update=True)
        assert project is not None
        return project

    # --- procurement, contract, disbursements -------------------------------------------------------

    def procurement(self, project_id: str) -> Procurement | None:
        return self.session.get(Procurement, project_id)

    def add_procurement(self, procurement: Procurement) -> None:
        self.session.add(procurement)

    def contract(self, project_id: str) -> Contract | None:
        return self.session.get(Contract, project_id)

    def contract_numbered(self, contract_no: str) -> Contract | None:
        return self.session.scalars(select(Contract).where(Contract.contract_no == contract_no)).first()

    def add_contract(self, contract: Contract) -> None:
        self.session.add(contract)

    def disbursements(self, project_id: str) -> list[Disbursement]:
        """A project's disbursements, oldest first."""
        query = (
            select(Disbursement)
            .where(Disbursement.project_id == project_id)
            .order_by(Disbursement.disbursed_at, Disbursement.disbursement_id)
        )
        return list(self.session.scalars(query))

    def add_disbursement(self, disbursement: Disbursement) -> None:
        self.session.add(disbursement)

    # --- unauthorized changes (Art 18) -------------------------------------------------------------

    def unauthorized_changes(self, project_id: str) -> list[UnauthorizedChange]:
        query = select(UnauthorizedChange).where(UnauthorizedChange.project_id == project_id)
        return list(self.session.scalars(query))

    def add_unauthorized_change(self, report: UnauthorizedChange) -> None:
        self.session.merge(report)

    # --- business gauges -----------------------------------------------------------------------------

    def approved_by_year(self) -> dict[int, Decimal]:
        """Approved budgets by the year they were approved."""
        year = extract("year", Project.budget_decided_at)
        query = (
            select(year, func.sum(Project.approved_budget, type_=Money()))
            .where(Project.stage.in_(BUDGETED))
            .group_by(year)
        )
        return {int(y): total for y, total in self.session.execute(query)}

    def disbursed_by_year(self) -> dict[int, Decimal]:
        """Disbursements by the year they were made."""
        year = extract("year", Disbursement.disbursed_at)
        query = select(year, func.sum(Disbursement.amount, type_=Money())).group_by(year)
        return {int(y): total for y, total in self.session.execute(query)}

    def contracts_ending_between(self, first: dt.date, last: dt.date) -> list[tuple[Contract, Project | None]]:
        """The contracts whose O&M period ends from ``first`` to ``last``, with their projects."""
        query = select(Contract).where(Contract.om_ends_on.between(first, last)).order_by(Contract.om_ends_on)
        return [(c, self.session.get(Project, c.project_id)) for c in self.session.scalars(query)]

    def contracts_om_ending_between(self, first: dt.date, last: dt.date) -> int:
        query = select(func.count()).select_from(Contract).where(Contract.om_ends_on.between(first, last))
        return int(self.session.scalar(query) or 0)
