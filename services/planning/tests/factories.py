"""Sample declarations for planning's tests."""


def declaration(**overrides):
    base = {
        "name": "智慧教育平台",
        "unit": "unit:edu",
        "category": "e_government",
        "construction_mode": "self_built",
        "investment_mode": "government",
        "plan_year": 2027,
        "plan_type": "annual",
        "higher_level_requirement": None,
        "basis": "县教育信息化三年行动计划",
        "summary": "建设全县统一的教育管理与服务平台",
        "estimated_investment": "2500000.00",
        "funding_source": "县级财政",
        "annual_investments": [{"year": 2027, "amount": "1500000.00"}, {"year": 2028, "amount": "1000000.00"}],
        "classified": False,
        "hosted_on_big_data_center": True,
        "standalone_infrastructure": [],
        "infrastructure_exemption": None,
        "exemption_basis": None,
        "requires_construction_plan": True,
        "custom_software": True,
    }
    base.update(overrides)
    return base
