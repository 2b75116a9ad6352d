"""The generated parts of ``docs/contract.md``, rendered from the installed services' code.

    .venv/bin/python -m tests.contract.render           # rewrite the generated blocks in place
    .venv/bin/python -m tests.contract.render --check   # exit 1 when docs/contract.md is stale

A generated block sits between ``<!-- generated:NAME -->`` and ``<!-- end generated:NAME -->``; the
prose around the blocks is written by hand and kept as it is. What the code does not say yet is
kept here: the methods and event types of CONTRACT.md that no installed service offers yet, listed
as "not yet available" / "not yet emitted" until a service registers them.
"""

import argparse
import inspect
import json
import re
import sys
from pathlib import Path

from marshmallow import fields, validate

from nxshared import auth, validation
from nxshared.catalog import REGISTRY
from nxshared.core import caller, money
from nxshared.discovery import installed_services
from nxshared.events import MONEY
from nxshared.topology import ALL_EVENTS, installed_subscriptions

from . import codewalk

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "contract.md"
REGENERATE = ".venv/bin/python -m tests.contract.render"

# the services of CONTRACT.md, in its order; another installed service comes after them
CONTRACT_SERVICES = ("planning", "review", "approval", "finance", "security", "audit")
EXC_TYPES = codewalk.ERROR_CLASSES
NOT_YET_AVAILABLE = "not yet available"
NOT_YET_EMITTED = "not yet emitted"

# CONTRACT.md's methods that no installed service offers yet: signature and the roles it names
PLANNED_METHODS = {
    "review": [
        ("register_supervisor(project_id, supervisor)", "owner"),
        ("submit_test_report(project_id, report)", "owner"),
        ("request_acceptance_precheck(project_id)", "owner"),
        ("conclude_acceptance_precheck(project_id, verdict, opinion)", "data_center"),
        ("record_acceptance(project_id, acceptance)", "owner"),
    ],
    "finance": [
        ("review_budget(project_id, approved_amount, opinion)", "finance"),
        ("reject_budget(project_id, opinion)", "finance"),
        ("register_procurement(project_id, procurement)", "owner"),
        ("register_contract(project_id, contract)", "owner"),
        ("disburse(project_id, amount, purpose)", "finance"),
        ("get_ledger(project_id)", "any org that sees the project"),
    ],
    "security": [
        ("grade_system(project_id, level, basis)", "data_center"),
        ("file_grading(project_id, filing_no, evaluation_agency)", "data_center"),
        ("report_incident(incident)", "data_center"),
        ("resolve_incident(incident_id, response)", "data_center"),
        ("record_inspection(project_id, findings, passed)", "data_center"),
        ("get_posture(project_id)", "any org that sees the project"),
    ],
    "audit": [
        ("get_trail(project_id)", "audit, smart_office, owner"),
        ("verify_trail(project_id)", "audit, smart_office, owner"),
        ("list_cases(status=None)", "audit"),
        ("record_finding(case_id, severity, description)", "audit"),
        ("close_case(case_id, conclusion)", "audit"),
    ],
}

# CONTRACT.md's event types that no installed service registers yet, by source
PLANNED_EVENTS = {
    "review": ["supervisor.registered", "test_report.submitted", "acceptance.prechecked", "acceptance.passed"],
    "finance": [
        "budget.approved",
        "budget.rejected",
        "procurement.registered",
        "contract.registered",
        "contract.ip_exception_reported",
        "funds.disbursed",
    ],
    "security": ["mlps.graded", "mlps.filed", "incident.reported", "incident.resolved", "inspection.recorded"],
    "audit": ["audit.opened", "audit.closed"],
}


# --- what the code says ---------------------------------------------------------------------------


def services_in_order() -> list[str]:
    installed = [s.name for s in installed_services()]
    extra = sorted(set(installed) - set(CONTRACT_SERVICES))
    return [*CONTRACT_SERVICES, *extra]


def rpc_methods(service_cls) -> dict[str, object]:
    """The ``@rpc`` methods of a service class, in the order they are defined."""
    found = {}
    for cls in reversed(service_cls.__mro__):
        for name, member in vars(cls).items():
            if callable(member) and hasattr(member, "allowed_orgs"):
                found[name] = member
    return found


def signature(name: str, method) -> str:
    params = list(inspect.signature(method).parameters.values())[1:]
    args = [p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}" for p in params]
    return f"{name}({', '.join(args)})"


def orgs_text(allowed) -> str:
    names = {caller.ANY_ORG: "`*` (any valid token)", caller.ANY_UNIT: "`unit:*` (any unit)"}
    return ", ".join(names.get(org, f"`{org}`") for org in allowed)


def event_sources() -> list[str]:
    sources = {spec.source for spec in REGISTRY.specs.values()} | set(PLANNED_EVENTS)
    return [s for s in services_in_order() if s in sources] + sorted(sources - set(services_in_order()))


# --- describing marshmallow fields ----------------------------------------------------------------


def field_type(field: fields.Field, flags: bool = True) -> str:
    """A field's type and limits in the doc's words, e.g. ``text ≤ 200 chars, not blank``; ``flags``
    says of each field of a nested object whether it is required (input) or not (output)."""
    parts: list[str] = []
    if isinstance(field, validation.MoneyField):
        parts.append("money")
    elif isinstance(field, validation.OrgCode):
        parts.append("unit org code (`unit:<code>`)" if field.units_only else "org code")
    elif isinstance(field, validation.Text):
        parts.append(f"text ≤ {field.max_length} chars")
        if field.required:
            parts.append("not blank")
    elif isinstance(field, fields.Nested):
        nested = field.schema
        inner = ", ".join(
            f"`{n}`: {field_type(f, flags)}{_flag(f) if flags else _nullable(f)}" for n, f in nested.fields.items()
        )
        parts.append(f"{{{inner}}}")
    elif isinstance(field, fields.List):
        inner = field_type(field.inner, flags)
        parts.append(f"list of ({inner})" if "," in inner else f"list of {inner}")
    elif isinstance(field, fields.Dict):
        parts.append("object")
    elif isinstance(field, fields.Boolean):
        parts.append("bool")
    elif isinstance(field, fields.Integer):
        parts.append("integer")
    elif isinstance(field, (fields.Decimal, fields.Float, fields.Number)):
        parts.append("number")
    elif isinstance(field, fields.DateTime):
        parts.append("timestamp (ISO 8601)")
    elif isinstance(field, fields.Date):
        parts.append("date `YYYY-MM-DD`")
    elif isinstance(field, fields.String):
        parts.append("money" if MONEY in _validators(field) else "string")
    else:
        parts.append(type(field).__name__)
    parts += [_limit(v, isinstance(field, fields.List)) for v in _validators(field)]
    return ", ".join(p for p in parts if p)


def _validators(field: fields.Field) -> list:
    found = field.validators if isinstance(field.validators, list) else list(field.validators)
    return found


def _limit(validator, is_list: bool) -> str:
    if validator is MONEY:
        return ""
    if isinstance(validator, validate.OneOf):
        return "one of " + "|".join(f"`{c}`" for c in validator.choices)
    if isinstance(validator, validate.Length):
        unit = " items" if is_list else " chars"
        low, high = validator.min, validator.max
        if low is not None and high is not None:
            return f"{low}..{high}{unit}"
        if low is not None:
            return "not empty" if low == 1 and not is_list else f"≥ {low}{unit}"
        return f"≤ {high}{unit}" if high is not None else ""
    if isinstance(validator, validate.Range):
        low, high = validator.min, validator.max
        if low is not None and high is not None:
            return f"{low}..{high}"
        return f"≥ {low}" if low is not None else f"≤ {high}"
    if isinstance(validator, validate.Regexp):
        if validator.regex.pattern == r"\S(.*\S)?\Z":
            return "no surrounding spaces"
        return f"matching `{validator.regex.pattern}`"
    return type(validator).__name__


def _flag(field: fields.Field) -> str:
    """``(required)``, or what a missing field is taken to be."""
    nullable = ", or null" if field.allow_none else ""
    if field.required:
        return f" (required{nullable})"
    default = field.load_default
    if default is None or default is fields.missing_:
        return f" (optional{nullable})"
    value = default() if callable(default) else default
    return f" (optional, default `{json.dumps(value, ensure_ascii=False)}`{nullable})"


def field_line(name: str, field: fields.Field) -> str:
    return f"`{name}`: {field_type(field)}{_flag(field)}"


# --- the blocks -----------------------------------------------------------------------------------


def block_bounds() -> str:
    rows = [
        ("names, titles, vendors, companies", f"≤ {validation.NAME_MAX} chars"),
        ("ids, org codes, document and contract numbers", f"≤ {validation.CODE_MAX} chars, no surrounding spaces"),
        ("basis, summary, opinions, descriptions", f"≤ {validation.TEXT_MAX} chars"),
        ("required text", "not blank (whitespace only is blank)"),
        ("lists of ids in one call", f"≤ {validation.LIST_MAX} items"),
        ("years", f"{validation.YEAR_MIN}..{validation.YEAR_MAX}"),
        ("money", f"plain decimal string, ≤ 2 decimals, below {money.MAX_YUAN:,.0f} yuan"),
        ("org codes", f"{', '.join(f'`{b}`' for b in caller.BUREAUS)} or `unit:<code>` (lower case)"),
        ("token `sub`", f"printable text ≤ {auth.MAX_SUB_LENGTH} chars"),
        ("token", f"≤ {auth.MAX_TOKEN_LENGTH} chars"),
    ]
    return _table(("input", "bound"), rows)


def block_common_errors() -> str:
    found = (
        codewalk.module_refusals("nxshared.auth")
        | codewalk.module_refusals("nxshared.entrypoints")
        | codewalk.module_refusals("nxshared.intake")
    )
    return _refusal_table(found)


def _refusal_table(found) -> str:
    by_code: dict[tuple[str, str], list[str]] = {}
    for refusal in sorted(found, key=_refusal_order):
        messages = by_code.setdefault((refusal.code, refusal.exc_type), [])
        if refusal.message not in messages:
            messages.append(refusal.message)
    rows = [(f"`{code}`", f"`{exc}`", " / ".join(msgs)) for (code, exc), msgs in by_code.items()]
    return _table(("code", "exc_type", "message (中文说明)"), rows)


def _refusal_order(refusal: codewalk.Refusal):
    return (EXC_TYPES.index(refusal.exc_type), refusal.code, refusal.message)


def block_methods() -> str:
    installed = {s.name: s for s in installed_services()}
    out: list[str] = []
    for name in services_in_order():
        service = installed.get(name)
        planned = PLANNED_METHODS.get(name, [])
        if service is None and not planned:
            continue
        out.append(f"### {name}\n")
        offered, tables = _service_methods(name, service) if service else ({}, [])
        if service is None:
            out.append(f"The `{name}` service is {NOT_YET_AVAILABLE}; CONTRACT.md names these methods.\n")
        out += offered.values()
        for sig, roles in planned:
            if sig.split("(")[0] not in offered:
                out.append(f"#### `{sig}` — {NOT_YET_AVAILABLE}\n\n- orgs: {roles} (CONTRACT.md)\n")
        out += tables
    return "\n".join(out)


def _service_methods(name: str, service) -> tuple[dict[str, str], list[str]]:
    """Each offered method's entry by name, then the tables of the shapes returned and the codes."""
    cls = service.load()
    package = service.target.split(".")[0]
    entries: dict[str, str] = {}
    shapes: list[type] = []
    refused: set[codewalk.Refusal] = set()
    for method_name, method in rpc_methods(cls).items():
        fn = codewalk.Function(cls.__module__, f"{cls.__name__}.{method_name}")
        lines = [f"#### `{signature(method_name, method)}`\n", f"- orgs: {orgs_text(method.allowed_orgs)}"]
        doc = inspect.getdoc(inspect.unwrap(method))
        if doc:
            lines.append(f"- what: {' '.join(doc.split())}")
        lines += _arguments(method, codewalk.argument_schemas(fn))
        results = codewalk.returned_shapes(fn)
        lines.append(f"- result: {' or '.join(_shape_text(r, shapes) for r in results) or 'nothing'}")
        found = codewalk.refusals(fn, package)
        refused |= found
        lines.append(f"- errors: {_codes_text(found)}")
        entries[method_name] = "\n".join(lines) + "\n"
    tables = []
    if shapes:
        tables.append(f"#### What {name} returns\n")
        tables.append("\n".join(f"- `{s.__name__}`: " + _out_fields(s) for s in shapes) + "\n")
    if refused:
        tables.append(f"#### Error codes of {name}\n")
        tables.append(_refusal_table(refused) + "\n")
    return entries, tables


def _arguments(method, loaded: dict[str, codewalk.Loaded]) -> list[str]:
    params = list(inspect.signature(method).parameters.values())[1:]
    if not params:
        return ["- arguments: none"]
    lines = ["- arguments:"]
    for param in params:
        how = loaded.get(param.name)
        if how is None:
            what = "id string" if param.name.endswith("_id") else "value"
            lines.append(f"  - `{param.name}`: {what} (not checked by an input schema)")
        elif how.field_name is None:
            lines.append(f"  - `{param.name}`: object (`{how.schema.__name__}`)")
            lines += _object_fields(how.schema(), "    ")
        else:
            lines += _field_lines(param.name, how.schema().fields[how.field_name], "  ")
    return lines


def _field_lines(name: str, field: fields.Field, indent: str) -> list[str]:
    """One argument or object field; an object (a nested schema) with its fields below it."""
    if isinstance(field, fields.Nested) and not field.many:
        return [f"{indent}- `{name}`: object{_flag(field)}", *_object_fields(field.schema, indent + "  ")]
    return [f"{indent}- {field_line(name, field)}"]


def _object_fields(schema, indent: str) -> list[str]:
    return [line for n, f in schema.fields.items() for line in _field_lines(n, f, indent)]


def _shape_text(shape: codewalk.Shape, shapes: list[type]) -> str:
    if shape.schema is not None:
        if shape.schema not in shapes:
            shapes.append(shape.schema)
        return f"list of `{shape.schema.__name__}`" if shape.many else f"`{shape.schema.__name__}`"
    if shape.keys is not None:
        parts = []
        for key, value in shape.keys:
            text = _shape_text(value, shapes)
            parts.append(f"…fields of {text}" if key == "**" else (f"`{key}`" if value.other else f"`{key}`: {text}"))
        return "{" + ", ".join(parts) + "}"
    return "a value"


def _out_fields(schema: type) -> str:
    return ", ".join(f"`{n}` {field_type(f, flags=False)}{_nullable(f)}" for n, f in schema().fields.items())


def _nullable(field: fields.Field) -> str:
    return " or null" if field.allow_none else ""


def _codes_text(found) -> str:
    if not found:
        return "only the common ones"
    groups: dict[str, list[str]] = {}
    for refusal in sorted(found, key=_refusal_order):
        codes = groups.setdefault(refusal.exc_type, [])
        if refusal.code not in codes:
            codes.append(refusal.code)
    return " · ".join(f"`{exc}`: " + ", ".join(f"`{c}`" for c in codes) for exc, codes in groups.items())


def block_events() -> str:
    out: list[str] = []
    for source in event_sources():
        rows = []
        for spec in REGISTRY.specs.values():
            if spec.source != source:
                continue
            for version in sorted(spec.schemas):
                schema = spec.schemas[version]()
                cells = "<br>".join(field_line(n, f) for n, f in schema.fields.items()) or "(no data)"
                rows.append((f"`{spec.event_type}`", f"v{version}", cells))
        for event_type in PLANNED_EVENTS.get(source, []):
            if event_type not in REGISTRY.specs:
                rows.append((f"`{event_type}`", "—", NOT_YET_EMITTED))
        out.append(f"### {source}\n")
        out.extend(_shared_note(spec) for spec in REGISTRY.specs.values() if spec.source == source and spec.is_shared)
        out.append(_table(("event type", "version", "data fields"), rows) + "\n")
    return "\n".join(out)


def _shared_note(spec) -> str:
    emitters = ", ".join(REGISTRY.emitters_of(spec.event_type))
    return (
        f"`{spec.event_type}` is one type that several services emit, each on its own exchange "
        f"`<source>.events`: {emitters}. Its schema is registered once (`nxshared`).\n"
    )


def block_subscriptions() -> str:
    rows = []
    for sub in installed_subscriptions():
        consumed = []
        for source, key in sub.bindings:
            consumed.append(f"every event of {source}" if key == ALL_EVENTS else f"`{key}` ({source})")
        rows.append((f"{sub.service}", f"`{sub.handler}`", ", ".join(consumed)))
    return _table(("service", "handler", "consumes"), rows)


def _table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


BLOCKS = {
    "bounds": block_bounds,
    "common-errors": block_common_errors,
    "methods": block_methods,
    "events": block_events,
    "subscriptions": block_subscriptions,
}


# --- the document ---------------------------------------------------------------------------------


def block_pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- generated:{name} -->\n)(.*?)(<!-- end generated:{name} -->)", re.S)


def rendered(text: str) -> str:
    """``text`` (the document) with every generated block as the code says it now."""
    for name, render in BLOCKS.items():
        pattern = block_pattern(name)
        if not pattern.search(text):
            raise ValueError(f"docs/contract.md has no <!-- generated:{name} --> block")
        body = render().strip("\n")
        text = pattern.sub(lambda m, body=body: f"{m.group(1)}\n{body}\n\n{m.group(3)}", text)
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/contract.md is stale")
    args = parser.parse_args(argv)
    current = DOC.read_text(encoding="utf-8")
    wanted = rendered(current)
    if args.check:
        if wanted != current:
            print(f"docs/contract.md is stale; regenerate it with: {REGENERATE}", file=sys.stderr)
            return 1
        return 0
    if wanted != current:
        DOC.write_text(wanted, encoding="utf-8")
        print("docs/contract.md regenerated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
