"""The conditions of acceptance (Art 13, 15–21, 24), each with a stable code and a Chinese message.

Acceptance is the gate to operation (Art 21). Before it the unit reports the finished project to
the data center, whose pre-check refuses it with **every** condition still unmet, not the first one
(RULES §Testing and acceptance). The conditions, each with a stable code, in this order:

- ``approval`` — the DRC granted the project's approval (Art 13);
- ``contract`` — its contract is registered with finance (Art 15–17);
- ``supervisor`` — a qualified supervisor is registered (Art 19);
- ``product`` — a project without custom software: a product test report or manual (Art 20);
- ``third_party_software`` — custom software: a third party's test report (Art 20);
- ``source_code``, ``database``, ``network_security`` — a major project, **Decision:** one whose
  review passed by an expert panel: third-party reports on each (Art 20);
- ``mlps_filing`` — a project hosted on the Big Data Center: its MLPS grade filed (Art 24);
- ``unauthorized_change`` — no change carried out without approval left unresolved (Art 18).

A test report counts when the latest of its kind passed (**Decision:** a failed one counts as
missing until a passing one of that kind arrives; a later failed re-test makes it missing again).
The same list is what ``readiness`` shows, what a pre-check request and a passed conclusion are
refused with, and what a passed acceptance is checked against again: a condition that became unmet
after the pre-check (an unauthorized change reported since, a re-graded system) holds it back.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from nxshared.core.errors import RuleViolation
from review.domain.delivery import MLPS_FILED, Delivery, ReportKind, TestReport
from review.domain.entities import PlannedProject, ReviewRoute, ReviewStatus

MAJOR_REPORTS = (ReportKind.SOURCE_CODE, ReportKind.DATABASE, ReportKind.NETWORK_SECURITY)
REPORT_NAMES = {
    ReportKind.PRODUCT: "硬件及成熟软件产品的测评报告或说明书",
    ReportKind.THIRD_PARTY_SOFTWARE: "定制开发软件的第三方检测报告",
    ReportKind.SOURCE_CODE: "源代码的第三方检测报告",
    ReportKind.DATABASE: "数据库系统的第三方检测报告",
    ReportKind.NETWORK_SECURITY: "网络和信息安全保密的第三方检测报告",
}


@dataclass(frozen=True)
class Unmet:
    """One condition of acceptance not met yet: its stable code and what is missing, in Chinese."""

    code: str
    message: str


@dataclass(frozen=True)
class Readiness:
    project_id: str
    unmet: list[Unmet]

    @property
    def ready(self) -> bool:
        return not self.unmet


def is_major(outcomes: Iterable[tuple[str, str]]) -> bool:
    """Art 20 Decision: a major project is one whose review passed by an expert panel (Art 12);
    ``outcomes`` are the ``(route, status)`` of the project's reviews."""
    return (ReviewRoute.EXPERT_PANEL.value, ReviewStatus.PASSED.value) in set(outcomes)


def passing_kinds(report_results: Mapping[str, bool]) -> set[str]:
    """Art 20 Decision: the kinds whose latest report passed."""
    return {kind for kind, passed in report_results.items() if passed}


def keep_result(delivery: Delivery, report: TestReport) -> None:
    """Art 20 Decision: the latest report of a kind is the one that counts, passed or not."""
    delivery.report_results = {**delivery.report_results, report.kind: report.passed}


def unmet_conditions(project: PlannedProject, delivery: Delivery, major: bool) -> list[Unmet]:
    """Every condition of acceptance the project does not meet yet, in the order of the codes
    (Art 13, 15–21, 24); empty when it may be pre-checked and accepted."""
    unmet = []
    if not delivery.approved:
        unmet.append(Unmet("approval", "项目尚未取得立项批复（第十三条）"))
    if delivery.contract_no is None:
        unmet.append(Unmet("contract", "项目尚未登记建设合同（第十五条至第十七条）"))
    if delivery.supervisor is None:
        unmet.append(
            Unmet(
                "supervisor",
                "项目尚未登记具备信息系统工程监理资质的监理单位及持有执业资格证书的监理项目负责人（第十九条）",
            )
        )
    unmet += _missing_reports(project, delivery, major)
    if project.hosted_on_big_data_center and delivery.mlps_status != MLPS_FILED:
        unmet.append(Unmet("mlps_filing", "依托县大数据中心建设的项目尚未完成等级保护定级备案（第二十四条）"))
    open_reports = delivery.open_unauthorized_changes()
    if open_reports:
        unmet.append(
            Unmet(
                "unauthorized_change",
                f"项目存在擅自变更（{'、'.join(open_reports)}），处理完毕前不予验收（第十八条）",
            )
        )
    return unmet


def _missing_reports(project: PlannedProject, delivery: Delivery, major: bool) -> list[Unmet]:
    """Art 20: the reports the project needs whose latest one did not pass, or that are missing."""
    needed = [ReportKind.THIRD_PARTY_SOFTWARE if project.custom_software else ReportKind.PRODUCT]
    if major:
        needed += MAJOR_REPORTS
    passing = passing_kinds(delivery.report_results)
    qualifier = "重大项目" if major else "项目"
    return [
        Unmet(kind.value, f"{qualifier}尚缺合格的{REPORT_NAMES[kind]}（第二十条）")
        for kind in needed
        if kind.value not in passing
    ]


def check_conditions_met(unmet: list[Unmet]) -> None:
    """Art 18–21, 24: refused with every unmet condition at once, each with its code."""
    if unmet:
        listed = "；".join(f"[{u.code}] {u.message}" for u in unmet)
        raise RuleViolation(
            "ACCEPTANCE_CONDITIONS_UNMET",
            f"验收条件尚有 {len(unmet)} 项未满足：{listed}",
            "Art 18, Art 19, Art 20, Art 21, Art 24",
        )
