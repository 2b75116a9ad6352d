"""An in-memory repository for the use-case tests, with the semantics of ``SqlRepository``."""

from finance.domain import Contract, Disbursement, Procurement, Project, UnauthorizedChange


class FakeRepository:
    def __init__(self) -> None:
        self.projects: dict[str, Project] = {}
        self.procurements: dict[str, Procurement] = {}
        self.contracts: dict[str, Contract] = {}
        self.paid: list[Disbursement] = []  # in the order they were made
        self.reports: dict[str, UnauthorizedChange] = {}

    def project(self, project_id: str) -> Project | None:
        return self.projects.get(project_id)

    def locked_project(self, project_id: str) -> Project | None:
        return self.projects.get(project_id)

    def project_to_learn(self, project_id: str) -> Project:
        return self.projects.setdefault(project_id, Project(project_id))

    def procurement(self, project_id: str) -> Procurement | None:
        return self.procurements.get(project_id)

    def add_procurement(self, procurement: Procurement) -> None:
        self.procurements[procurement.project_id] = procurement

    def contract(self, project_id: str) -> Contract | None:
        return self.contracts.get(project_id)

    def contract_numbered(self, contract_no: str) -> Contract | None:
        return next((c for c in self.contracts.values() if c.contract_no == contract_no), None)

    def add_contract(self, contract: Contract) -> None:
        self.contracts[contract.project_id] = contract

    def disbursements(self, project_id: str) -> list[Disbursement]:
        return [d for d in self.paid if d.project_id == project_id]

    def add_disbursement(self, disbursement: Disbursement) -> None:
        self.paid.append(disbursement)

    def unauthorized_changes(self, project_id: str) -> list[UnauthorizedChange]:
        return [r for r in self.reports.values() if r.project_id == project_id]

    def add_unauthorized_change(self, report: UnauthorizedChange) -> None:
        self.reports[report.report_id] = report
