"""Sample events and inputs for review's tests."""


def construction_plan(budget="2500000.00"):
    return {"title": "智慧教育平台建设方案", "document_ref": "doc/edu-2027-01.pdf", "budget": budget}


def expert(name, level="city", employer="unit:njupt"):
    return {"name": name, "level": level, "field": "软件工程", "employer": employer}
