"""What the portal calls things, in Chinese: categories, stages, bureaus, and the decisions of a
project's public timeline. A public timeline names the bureau that decided and the day, never the
person (Art 25): an entry's ``actor`` is not shown, nor any field but the ones named here."""

from dataclasses import dataclass

CATEGORY = {
    "infrastructure": "基础设施",
    "smart_city": "智慧城市",
    "e_government": "电子政务",
    "cybersecurity": "网络安全",
    "software_development": "软件开发",
    "operations": "运行维护",
    "consulting": "咨询服务",
    "other": "其他",
}

STAGE = {
    "declared": "已申报",
    "planned": "已列入计划",
    "not_planned": "未列入计划",
    "under_review": "技术评审中",
    "reviewed": "技术评审通过",
    "review_failed": "技术评审未通过",
    "approved": "已立项",
    "approval_rejected": "立项未获批准",
    "budgeted": "预算已批复",
    "budget_rejected": "预算未获批复",
    "contracted": "已签订合同（建设中）",
    "prechecked": "已通过验收预检",
    "acceptance_failed": "验收未通过",
    "accepted": "已验收",
    "audited": "已审计",
}

BUREAU = {
    "smart_office": "县智慧办",
    "data_center": "县信息和数据中心",
    "drc": "县发展和改革局",
    "finance": "县财政局",
    "audit": "县审计局",
    "county_gov": "县人民政府",
}

CONSTRUCTION_MODE = {"unified": "统建", "self_built": "自建"}

PROCUREMENT_METHOD = {
    "open_tender": "公开招标",
    "invited_tender": "邀请招标",
    "competitive_negotiation": "竞争性谈判",
    "competitive_consultation": "竞争性磋商",
    "single_source": "单一来源采购",
    "inquiry": "询价",
    "framework_agreement": "框架协议采购",
}

UNIT = "unit"  # the decision is the building unit's own


@dataclass(frozen=True)
class Decision:
    """A public timeline entry: what was decided, by which body (a bureau's code, or ``UNIT``)."""

    label: str
    by: str
    detail: str | None = None  # the one field of the event's data the entry shows, if any


DECISIONS = {
    "project.declared": Decision("申报项目", UNIT),
    "plan.approved": Decision("年度计划经县人民政府批准", "county_gov"),
    "project.planned": Decision("列入年度计划", "county_gov"),
    "project.not_planned": Decision("未列入年度计划", "county_gov"),
    "review.submitted": Decision("提交技术评审", UNIT),
    "review.passed": Decision("技术评审通过", "data_center"),
    "review.filed": Decision("技术方案备案", "data_center"),
    "review.failed": Decision("技术评审未通过", "data_center"),
    "approval.granted": Decision("立项批复", "drc", "approval_no"),
    "approval.rejected": Decision("立项未获批准", "drc"),
    "budget.approved": Decision("预算批复", "finance", "approved_amount"),
    "budget.rejected": Decision("预算未获批复", "finance"),
    "procurement.registered": Decision("完成采购", UNIT, "amount"),
    "contract.registered": Decision("签订合同", UNIT, "amount"),
    "change.approved": Decision("项目变更获批准", "smart_office"),
    "change.rejected": Decision("项目变更未获批准", "smart_office"),
    "funds.disbursed": Decision("拨付资金", "finance", "amount"),
    "acceptance.passed": Decision("通过验收，可投入运行", UNIT),
    "acceptance.failed": Decision("验收未通过", UNIT),
    "audit.opened": Decision("审计立项", "audit"),
    "audit.closed": Decision("审计完成", "audit"),
}

MONEY_DETAILS = {"approved_amount", "amount"}


def who(by: str, unit: str) -> str:
    """The body that decided: the bureau's name, or the building unit's code."""
    return unit if by == UNIT else BUREAU.get(by, by)


def org_name(org: str) -> str:
    return BUREAU.get(org, org)
