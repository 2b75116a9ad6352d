"""How ``codewalk`` reads a service's code, on a small package written for the test."""

import textwrap
import uuid

from . import codewalk

DOMAIN = """
    from nxshared.core.errors import Conflict, NotFound


    def check_visible(project, code="THING_NOT_FOUND"):
        if project is None:
            raise NotFound(code, "不存在或无权查看")


    def refusal(state):
        return Conflict("STATE_CONFLICT", f"当前状态为 {state}（第九条）")


    def transition(state):
        if state != "open":
            raise refusal(state)


    class Repository:
        def locked(self, key):
            raise NotFound("ROW_NOT_FOUND", "无此记录")


    def never_called():
        raise Conflict("NEVER_CALLED", "不会出现")
"""

SCHEMAS = """
    from marshmallow import Schema, fields


    class NoteIn(Schema):
        note = fields.String(required=True)


    class ThingOut(Schema):
        thing_id = fields.String()
"""

SERVICE = """
    from nxshared.validation import dump, load

    from . import domain
    from . import schemas as s


    class Service:
        def act(self, thing_id, note):
            wanted = load(s.NoteIn, {"note": note})
            domain.check_visible(None, "PROJECT_NOT_FOUND")
            self._step()
            uow.repo.locked(thing_id)
            return dump(s.ThingOut, wanted)

        def _step(self):
            domain.transition("closed")
"""


def probe_package(tmp_path, monkeypatch):
    name = f"cwprobe_{uuid.uuid4().hex[:8]}"
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    for module, text in (("domain", DOMAIN), ("schemas", SCHEMAS), ("service", SERVICE)):
        (package / f"{module}.py").write_text(textwrap.dedent(text), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_refusals_follow_calls_helpers_methods_and_codes_passed_down(tmp_path, monkeypatch):
    name = probe_package(tmp_path, monkeypatch)
    found = codewalk.refusals(codewalk.Function(f"{name}.service", "Service.act"), name)
    assert {(r.exc_type, r.code) for r in found} == {
        ("ValidationError", "INVALID_INPUT"),  # nxshared.validation.load
        ("NotFound", "PROJECT_NOT_FOUND"),  # the literal passed for the code parameter, not its default
        ("Conflict", "STATE_CONFLICT"),  # made by a helper, raised by its caller
        ("NotFound", "ROW_NOT_FOUND"),  # a method of the package called on an untyped object
    }
    assert ("Conflict", "STATE_CONFLICT", "当前状态为 …（第九条）") in {(r.exc_type, r.code, r.message) for r in found}


def test_arguments_and_results_are_read_from_load_and_dump(tmp_path, monkeypatch):
    name = probe_package(tmp_path, monkeypatch)
    act = codewalk.Function(f"{name}.service", "Service.act")
    loaded = codewalk.argument_schemas(act)
    assert set(loaded) == {"note"}
    assert (loaded["note"].schema.__name__, loaded["note"].field_name) == ("NoteIn", "note")
    assert [shape.schema.__name__ for shape in codewalk.returned_shapes(act)] == ["ThingOut"]
