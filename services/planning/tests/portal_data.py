"""A small county for the portal's tests: disclosed projects of two years and several categories,
one carried from approval to disbursements, and a classified one whose id and name must appear
nowhere public."""

from nxshared.testing import call, deliver, make_event

from .factories import declaration

SECRET_NAME = "绝密指挥调度系统"
SECRET_SUMMARY = "涉密系统概述文字"
SECRET_RISK = ("涉密项目风险说明", "inc-secret-7731")  # the classified project's override comment, incident id


def declare(container, org="unit:edu", **overrides):
    return call(container, "declare_project", org, project=declaration(**overrides))["project_id"]


def county(planning):
    """Declares the county's projects and carries one through its life; returns their ids."""
    built = declare(planning, name="智慧教育平台", category="e_government")
    others = [
        declare(planning, name="城市运行一网统管", category="smart_city", estimated_investment="1200000.00",
                annual_investments=[{"year": 2027, "amount": "1200000.00"}], unit="unit:health", org="unit:health"),
        declare(planning, name="网络安全态势感知", category="cybersecurity", estimated_investment="800000.00",
                annual_investments=[{"year": 2027, "amount": "800000.00"}]),
        declare(planning, name="政务外网扩容（增补）", category="infrastructure", plan_type="supplementary",
                higher_level_requirement="省政务外网改造通知",
                plan_year=2026, estimated_investment="300000.00", annual_investments=[{"year": 2026, "amount": "300000.00"}]),
    ]  # fmt: skip
    secret = declare(
        planning, name=SECRET_NAME, summary=SECRET_SUMMARY, category="cybersecurity", classified=True,
        unit="unit:police", org="unit:police", estimated_investment="9900000.00",
        annual_investments=[{"year": 2027, "amount": "9900000.00"}],
    )  # fmt: skip
    call(planning, "compile_annual_plan", "smart_office", year=2027, project_ids=[built, others[0], others[1], secret])
    call(planning, "concur_annual_plan", "finance", year=2027)
    call(planning, "concur_annual_plan", "drc", year=2027)
    call(planning, "approve_annual_plan", "county_gov", year=2027)
    carry(planning, built)
    carry(planning, secret)  # everything public about a project, on the classified one too
    incident = {"incident_id": SECRET_RISK[1], "severity": "high", "description": "涉密", "occurred_at": "2027-03-01",
                "deadline": "2027-03-02"}  # fmt: skip
    deliver(planning, "record_timeline", make_event("incident.reported", secret, incident))
    call(planning, "override_risk", "smart_office", project_id=secret, rating=5, comment=SECRET_RISK[0])
    return {"built": built, "others": others, "secret": secret}


LIFE = [
    ("review.passed", {"review_id": "r1", "route": "expert_panel", "opinion": "同意"}),
    ("approval.granted", {"approval_no": "南发改〔2027〕12号", "approval_type": "approve", "review_id": "r1", "opinion": "同意"}),
    ("budget.approved", {"approved_amount": "2400000.00", "estimated_investment": "2500000.00", "opinion": "同意"}),
    ("procurement.registered", {"method": "open_tender", "supplier": "南县数智科技有限公司", "amount": "2300000.00", "date": "2027-03-01"}),
    ("contract.registered", {
        "contract_no": "HT-2027-001", "vendor": "南县数智科技有限公司", "amount": "2300000.00", "om_years": 3,
        "om_exemption_basis": None, "source_code_owner": "unit", "signed_on": "2027-03-10", "om_ends_on": "2030-03-10",
    }),
    ("funds.disbursed", {"disbursement_id": "d-1", "amount": "700000.00", "purpose": "首付款", "disbursed_total": "700000.00", "approved_budget": "2400000.00"}),
    ("funds.disbursed", {"disbursement_id": "d-2", "amount": "500000.00", "purpose": "进度款", "disbursed_total": "1200000.00", "approved_budget": "2400000.00"}),
]  # fmt: skip


def carry(planning, project_id):
    """Other services' decisions about the project, as their events bring them (with a person each)."""
    for event_type, data in LIFE:
        deliver(planning, "record_timeline", make_event(event_type, project_id, data, actor="张三@drc"))
