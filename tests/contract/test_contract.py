"""The suite's own contract, ``docs/contract.md``, against the code: every event type and version the
installed services register is documented with exactly its data fields, every ``@rpc`` method with its
keyword arguments and orgs (and nothing is documented that the code does not offer), and the generated
blocks are what ``tests.contract.render`` renders now. ``../shared/spec/CONTRACT.md``, the fixed
minimum kept outside the repository, is read only to check that the document never breaks it."""

import difflib
import inspect
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from nxshared.catalog import REGISTRY
from nxshared.discovery import installed_services
from nxshared.events import SHARED_SOURCE
from nxshared.topology import ALL_EVENTS, installed_subscriptions

from . import render

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
REFERENCE = ROOT.parent / "shared" / "spec" / "CONTRACT.md"
SERVICES = {service.name: service for service in installed_services()}
STALE = f"docs/contract.md differs from the code; regenerate it with: {render.REGENERATE}"


# --- reading the document -------------------------------------------------------------------------


@dataclass(frozen=True)
class DocMethod:
    args: tuple[str, ...]  # as written: "year=None"
    orgs: tuple[str, ...]  # the back-quoted org codes of the "orgs:" line
    available: bool


def doc_section(title: str) -> str:
    match = re.search(rf"^## {title}\b.*?$(.*?)(?=^## |\Z)", DOC, re.M | re.S)
    assert match, f"docs/contract.md has no '## {title}' section"
    return match.group(1)


def by_subsection(section: str) -> dict[str, str]:
    """``### name`` subsections of a section, by name."""
    parts = re.split(r"^### (\S+)\s*$", section, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def doc_methods() -> dict[str, dict[str, DocMethod]]:
    found: dict[str, dict[str, DocMethod]] = {}
    heading = re.compile(r"^#### `(\w+)\(([^)]*)\)`( — not yet available)?\n\n- orgs: (.*)$", re.M)
    for service, text in by_subsection(doc_section("Methods")).items():
        methods = found.setdefault(service, {})
        for name, args, planned, orgs in heading.findall(text):
            assert name not in methods, f"{service}.{name} is documented twice"
            methods[name] = DocMethod(
                args=tuple(a.strip() for a in args.split(",") if a.strip()),
                orgs=tuple(re.findall(r"`([^`]+)`", orgs)),
                available=not planned,
            )
    return found


@dataclass(frozen=True)
class DocEvent:
    source: str
    fields: dict[str, bool] | None  # name -> required; None: not yet emitted


def doc_events() -> dict[tuple[str, str], DocEvent]:
    """``(event type, "v2")`` -> its row; ``(event type, "—")`` for a type not yet emitted."""
    found: dict[tuple[str, str], DocEvent] = {}
    row = re.compile(r"^\| `([a-z_.]+)` \| (v\d+|—) \| (.*) \|$", re.M)
    for source, text in by_subsection(doc_section("Events")).items():
        for event_type, version, cells in row.findall(text):
            assert (event_type, version) not in found, f"{event_type} {version} is documented twice"
            fields = None if version == "—" else dict(_field(cell) for cell in cells.split("<br>"))
            found[(event_type, version)] = DocEvent(source, fields)
    return found


def _field(cell: str) -> tuple[str, bool]:
    name = re.match(r"`(\w+)`: ", cell)
    assert name, f"unreadable data field {cell!r}"
    flag = max(cell.rfind(" (required"), cell.rfind(" (optional"))
    assert flag > 0 and cell.endswith(")"), f"data field {cell!r} says neither required nor optional"
    return name.group(1), cell[flag:].startswith(" (required")


def code_methods(service: str) -> dict[str, object]:
    return render.rpc_methods(SERVICES[service].load())


# --- the generated blocks -------------------------------------------------------------------------


def test_the_generated_blocks_are_what_the_code_says_now():
    wanted = render.rendered(DOC)
    if wanted != DOC:
        diff = "".join(
            list(difflib.unified_diff(DOC.splitlines(True), wanted.splitlines(True), "docs", "code", n=1))[:60]
        )
        pytest.fail(f"{STALE}\n{diff}")


def test_the_document_says_how_to_regenerate_it():
    assert render.REGENERATE in DOC.split("\n## ", 1)[0]


# --- events ---------------------------------------------------------------------------------------


def test_every_registered_event_version_is_documented_with_exactly_its_fields():
    documented = doc_events()
    for spec in REGISTRY.specs.values():
        for version, schema in spec.schemas.items():
            row = documented.get((spec.event_type, f"v{version}"))
            assert row is not None, f"{spec.event_type} v{version} is not in docs/contract.md. {STALE}"
            assert row.source == spec.source, f"{spec.event_type} is documented under {row.source}"
            fields = {name: field.required for name, field in schema().fields.items()}
            assert row.fields == fields, f"{spec.event_type} v{version}: documented {row.fields}, code {fields}"


def test_every_documented_event_is_registered_or_marked_not_yet_emitted():
    for (event_type, version), row in doc_events().items():
        if row.fields is None:
            assert event_type not in REGISTRY.specs, f"{event_type} is emitted now. {STALE}"
            continue
        assert event_type in REGISTRY.specs, f"{event_type} is documented but no installed service registers it"
        spec = REGISTRY.spec(event_type)
        assert spec.source == row.source, f"{event_type} is registered by {spec.source}, documented under {row.source}"
        assert int(version[1:]) in spec.schemas, f"{event_type} {version} is documented but not registered"


def test_the_timeline_subscribes_to_every_source_of_the_document():
    timeline = next(s for s in installed_subscriptions() if s.handler == "record_timeline")
    sources = {row.source for row in doc_events().values()} - {SHARED_SOURCE}  # a heading, not a service
    assert set(timeline.bindings) == {(source, ALL_EVENTS) for source in sources}


# --- methods --------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_rpc_method_is_documented_with_its_arguments_and_orgs(service):
    documented = doc_methods().get(service, {})
    methods = code_methods(service)
    assert methods, f"{service} has no @rpc method"
    for name, method in methods.items():
        entry = documented.get(name)
        assert entry is not None and entry.available, f"{service}.{name} is not in docs/contract.md. {STALE}"
        params = list(inspect.signature(method).parameters.values())[1:]
        args = tuple(p.name if p.default is p.empty else f"{p.name}={p.default!r}" for p in params)
        assert entry.args == args, f"{service}.{name}{args} is documented as {entry.args}. {STALE}"
        assert entry.orgs == tuple(method.allowed_orgs), (
            f"{service}.{name} allows {method.allowed_orgs}, documented {entry.orgs}. {STALE}"
        )


def test_every_documented_method_is_offered_or_marked_not_yet_available():
    for service, methods in doc_methods().items():
        offered = code_methods(service) if service in SERVICES else {}
        for name, entry in methods.items():
            if entry.available:
                assert name in offered, f"{service}.{name} is documented but {service} does not offer it"
            else:
                assert name not in offered, f"{service}.{name} is offered now. {STALE}"


# --- CONTRACT.md, the fixed minimum outside the repository ----------------------------------------


def reference() -> str:
    if not REFERENCE.exists():
        pytest.skip(f"{REFERENCE} is not at hand: the check against the fixed minimum contract is skipped")
    return REFERENCE.read_text(encoding="utf-8")


def reference_events():
    section = reference().split("## Events", 1)[1]
    for source, types in re.findall(r"^\| (\w+) \| (.+) \|$", section, re.M):
        if source != "source":
            yield from ((source, t) for t in re.findall(r"`([a-z_.]+)`", types))


def reference_methods():
    methods = reference().split("## Methods", 1)[1].split("\n## ", 1)[0]
    for service, text in by_subsection(methods).items():
        for name, args in re.findall(r"`(\w+)\(([^)]*)\)`", text):
            yield service, name, tuple(a.strip() for a in args.split(",") if a.strip())


def test_the_document_keeps_every_event_type_of_the_contract_with_its_source():
    events = list(reference_events())
    assert events, "no event types read from CONTRACT.md"
    documented = {event_type: row.source for (event_type, _), row in doc_events().items()}
    for source, event_type in events:
        assert documented.get(event_type) == source, f"CONTRACT.md's {source} {event_type} is not documented so"


def test_the_document_keeps_every_method_of_the_contract_with_its_arguments():
    methods = list(reference_methods())
    assert methods, "no methods read from CONTRACT.md"
    documented = doc_methods()
    for service, name, args in methods:
        entry = documented.get(service, {}).get(name)
        assert entry is not None, f"CONTRACT.md's {service}.{name} is not in docs/contract.md"
        names = tuple(a.split("=")[0] for a in entry.args)
        kept = names[: len(args)]
        assert kept == tuple(a.split("=")[0] for a in args), f"{service}.{name}: {entry.args} breaks CONTRACT {args}"
        added = entry.args[len(args) :]  # the document only adds: optional arguments after the contract's
        assert all("=" in a for a in added), f"{service}.{name}: {added} added to CONTRACT {args} without a default"
        for arg in args:
            if "=" in arg:
                assert arg in entry.args, f"{service}.{name}: CONTRACT's default {arg} is not kept"
