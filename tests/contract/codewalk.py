"""Reading a service's code without running it, for the contract document.

For an RPC method: which refusals it can raise (the errors it makes, ``NotFound("CODE", …)``, and
those of every function it calls in its own package or in ``nxshared``, following literal codes
passed down as arguments), which input schema loads each of its arguments (``load(s.PlanIn, plan)``
or ``load(s.X, {"field": argument})``) and what it returns (``dump(s.ReviewOut, …)``, ``many=True``
for a list).

A call on an object whose type is not known statically (``uow.repo.project(…)``) is followed into
every method of that name in the service's package: a refusal may be listed that a particular call
path cannot reach, never the other way round for the code shapes the services use.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
from dataclasses import dataclass, field
from functools import cache

ERROR_CLASSES = ("ValidationError", "Unauthorized", "Forbidden", "NotFound", "Conflict", "RuleViolation")
ERRORS_MODULE = "nxshared.core.errors"
SHARED = "nxshared"


@dataclass(frozen=True, order=True)
class Refusal:
    exc_type: str
    code: str
    message: str  # the Chinese explanation, ``…`` where it is filled in at run time


@dataclass
class Module:
    name: str
    tree: ast.Module
    imports: dict[str, str] = field(default_factory=dict)  # local name -> qualified name
    functions: dict[str, ast.FunctionDef] = field(default_factory=dict)  # "f" or "Class.method"
    classes: dict[str, list[ast.expr]] = field(default_factory=dict)  # class -> base expressions


@dataclass(frozen=True)
class Function:
    module: str
    qualname: str  # "f" or "Class.method"

    @property
    def cls(self) -> str | None:
        return self.qualname.split(".")[0] if "." in self.qualname else None

    @property
    def node(self) -> ast.FunctionDef:
        return module(self.module).functions[self.qualname]


@cache
def module(name: str) -> Module | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    with open(spec.origin, encoding="utf-8") as source:
        tree = ast.parse(source.read(), spec.origin)
    found = Module(name, tree)
    package = name if spec.submodule_search_locations else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    found.imports[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    found.imports[head] = head
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                found.imports[alias.asname or alias.name] = f"{base}.{alias.name}"
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found.functions[node.name] = node
        elif isinstance(node, ast.ClassDef):
            found.classes[node.name] = node.bases
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    found.functions[f"{node.name}.{item.name}"] = item
    return found


def qualified(expr: ast.expr, mod: Module) -> str | None:
    """The dotted name an expression refers to (``s.PlanIn`` -> ``review.schemas.PlanIn``)."""
    if isinstance(expr, ast.Name):
        if expr.id in mod.imports:
            return mod.imports[expr.id]
        if expr.id in mod.classes or expr.id in mod.functions:
            return f"{mod.name}.{expr.id}"
        return None
    if isinstance(expr, ast.Attribute):
        base = qualified(expr.value, mod)
        return f"{base}.{expr.attr}" if base else None
    return None


def lookup(name: str, _depth: int = 0) -> Function | None:
    """The function or method a qualified name designates, following re-exports."""
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        mod = module(".".join(parts[:cut]))
        if mod is None:
            continue
        rest = parts[cut:]
        if ".".join(rest) in mod.functions:
            return Function(mod.name, ".".join(rest))
        if rest[0] in mod.imports and _depth < 5:
            return lookup(".".join([mod.imports[rest[0]], *rest[1:]]), _depth + 1)
        return None
    return None


def error_class(name: str | None) -> str | None:
    if name is None:
        return None
    head, _, last = name.rpartition(".")
    if last in ERROR_CLASSES and head.startswith(SHARED):
        return last
    return None


@cache
def package_methods(package: str) -> dict[str, tuple[Function, ...]]:
    """Every method defined in the package's modules, by name (for calls on untyped objects)."""
    found: dict[str, list[Function]] = {}
    for mod in package_modules(package):
        for qualname in mod.functions:
            if "." in qualname and not qualname.rsplit(".", 1)[1].startswith("__"):
                found.setdefault(qualname.rsplit(".", 1)[1], []).append(Function(mod.name, qualname))
    return {name: tuple(functions) for name, functions in found.items()}


def package_modules(package: str) -> list[Module]:
    root = importlib.import_module(package)
    names = [package]
    if hasattr(root, "__path__"):
        names += [info.name for info in pkgutil.walk_packages(root.__path__, f"{package}.")]
    return [m for m in (module(n) for n in sorted(names)) if m is not None]


def _in_scope(fn: Function, package: str) -> bool:
    top = fn.module.split(".")[0]
    return top in (package, SHARED)


def _callees(fn: Function, call: ast.Call, package: str) -> list[Function]:
    mod = module(fn.module)
    target = call.func
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
        own = _method_of_class(fn.module, fn.cls, target.attr) if fn.cls else None
        if own is not None:
            return [own]
    name = qualified(target, mod)
    if name is not None:
        found = lookup(name)
        return [found] if found is not None and _in_scope(found, package) else []
    if isinstance(target, ast.Attribute):
        return list(package_methods(package).get(target.attr, ()))
    return []


def _method_of_class(module_name: str, cls: str, method: str, _depth: int = 0) -> Function | None:
    mod = module(module_name)
    if mod is None or cls not in mod.classes:
        return None
    if f"{cls}.{method}" in mod.functions:
        return Function(module_name, f"{cls}.{method}")
    for base in mod.classes[cls]:
        name = qualified(base, mod)
        if name and _depth < 5:
            base_mod, _, base_cls = name.rpartition(".")
            found = _method_of_class(base_mod, base_cls, method, _depth + 1)
            if found is not None:
                return found
    return None


def _params(node: ast.FunctionDef) -> list[ast.arg]:
    return [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]


def _bind(callee: Function, call: ast.Call) -> frozenset[tuple[str, str]]:
    """The literal string arguments of a call, by the callee's parameter names."""
    params = [p.arg for p in _params(callee.node)]
    if params and params[0] in ("self", "cls") and callee.cls:
        params = params[1:]
    bound = {}
    for param, arg in zip(params, call.args, strict=False):
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            bound[param] = arg.value
    for kw in call.keywords:
        if kw.arg and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
            bound[kw.arg] = kw.value.value
    return frozenset(bound.items())


def _defaults(node: ast.FunctionDef) -> dict[str, object]:
    positional = [*node.args.posonlyargs, *node.args.args]
    found = {}
    for param, default in zip(positional[len(positional) - len(node.args.defaults) :], node.args.defaults, strict=True):
        if isinstance(default, ast.Constant):
            found[param.arg] = default.value
    for param, default in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True):
        if isinstance(default, ast.Constant):
            found[param.arg] = default.value
    return found


def message_text(expr: ast.expr | None) -> str:
    if isinstance(expr, ast.Subscript):  # f"…"[:2000]
        return message_text(expr.value)
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "…" for v in expr.values)
    return "…"


def _own_nodes(node: ast.FunctionDef):
    """The nodes of a function's body, not those of functions defined inside it."""
    stack = list(node.body)
    while stack:
        current = stack.pop()
        yield current
        for child in ast.iter_child_nodes(current):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                stack.append(child)


def refusals(fn: Function, package: str) -> set[Refusal]:
    """Every refusal ``fn`` can raise, itself or through the functions it calls."""
    return _refusals(fn, package, frozenset(), frozenset())


def _refusals(fn: Function, package: str, bound: frozenset, visiting: frozenset) -> set[Refusal]:
    key = (fn, bound)
    if key in visiting:
        return set()
    visiting = visiting | {key}
    literals = {**_defaults(fn.node), **dict(bound)}
    mod = module(fn.module)
    found: set[Refusal] = set()
    for node in _own_nodes(fn.node):
        if not isinstance(node, ast.Call):
            continue
        exc_type = error_class(qualified(node.func, mod))
        if exc_type is None:
            for callee in _callees(fn, node, package):
                found |= _refusals(callee, package, _bind(callee, node), visiting)
            continue
        code, message = _code_and_message(node)
        if isinstance(code, ast.Constant) and isinstance(code.value, str):
            found.add(Refusal(exc_type, code.value, message_text(message)))
        elif isinstance(code, ast.Name) and isinstance(literals.get(code.id), str):
            found.add(Refusal(exc_type, literals[code.id], message_text(message)))
    return found


def _code_and_message(call: ast.Call) -> tuple[ast.expr | None, ast.expr | None]:
    """The ``code`` and ``message`` arguments of an error's construction."""
    kwargs = {kw.arg: kw.value for kw in call.keywords}
    code = call.args[0] if call.args else kwargs.get("code")
    message = call.args[1] if len(call.args) > 1 else kwargs.get("message")
    return code, message


def module_refusals(name: str) -> set[Refusal]:
    """Every refusal made with a literal code anywhere in one module (e.g. ``nxshared.auth``)."""
    mod = module(name)
    found = set()
    for node in ast.walk(mod.tree):
        if isinstance(node, ast.Call) and (exc_type := error_class(qualified(node.func, mod))):
            code, message = _code_and_message(node)
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                found.add(Refusal(exc_type, code.value, message_text(message)))
    return found


# --- arguments and results ------------------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    """What validates an argument: a whole input schema, or one field of one."""

    schema: type
    field_name: str | None = None


def _schema_class(expr: ast.expr, mod: Module) -> type | None:
    """The marshmallow schema class ``s.PlanIn`` names, else None."""
    name = qualified(expr, mod)
    if name is None or "." not in name:
        return None
    module_name, _, cls_name = name.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), cls_name)
    except (ImportError, AttributeError):
        return None
    return cls if hasattr(cls, "_declared_fields") else None


def argument_schemas(fn: Function) -> dict[str, Loaded]:
    """The parameters of an entrypoint that it loads through ``nxshared.validation.load``."""
    mod = module(fn.module)
    params = {p.arg for p in _params(fn.node)}
    found: dict[str, Loaded] = {}
    for node in _own_nodes(fn.node):
        if not (isinstance(node, ast.Call) and qualified(node.func, mod) == "nxshared.validation.load"):
            continue
        if len(node.args) < 2:
            continue
        schema = _schema_class(node.args[0], mod)
        if schema is None:
            continue
        data = node.args[1]
        if isinstance(data, ast.Name) and data.id in params:
            found.setdefault(data.id, Loaded(schema))
        pairs = []
        if isinstance(data, ast.Dict):
            pairs = [(k.value, v) for k, v in zip(data.keys, data.values, strict=True) if isinstance(k, ast.Constant)]
        elif isinstance(data, ast.Call) and isinstance(data.func, ast.Name) and data.func.id == "dict":
            pairs = [(kw.arg, kw.value) for kw in data.keywords if kw.arg]
        for key, value in pairs:
            if isinstance(value, ast.Name) and value.id in params:
                found.setdefault(value.id, Loaded(schema, key))
    return found


@dataclass(frozen=True)
class Shape:
    """What a method returns: an output schema (or a list of them), a dict, or something else."""

    schema: type | None = None
    many: bool = False
    keys: tuple[tuple[str, Shape], ...] | None = None  # a dict literal; "**" for a spread
    other: bool = False


def returned_shapes(fn: Function) -> list[Shape]:
    mod = module(fn.module)
    shapes: list[Shape] = []
    for node in _own_nodes(fn.node):
        if isinstance(node, ast.Return) and node.value is not None:
            shape = _shape(node.value, mod)
            if shape not in shapes:
                shapes.append(shape)
    return shapes


def _shape(expr: ast.expr, mod: Module) -> Shape:
    if isinstance(expr, ast.Call) and qualified(expr.func, mod) == "nxshared.validation.dump" and expr.args:
        schema = _schema_class(expr.args[0], mod)
        if schema is not None:
            many = any(
                kw.arg == "many" and isinstance(kw.value, ast.Constant) and kw.value.value for kw in expr.keywords
            )
            return Shape(schema=schema, many=many)
    if isinstance(expr, ast.Dict):
        keys = []
        for key, value in zip(expr.keys, expr.values, strict=True):
            if key is None:
                keys.append(("**", _shape(value, mod)))
            elif isinstance(key, ast.Constant):
                keys.append((str(key.value), _shape(value, mod)))
        return Shape(keys=tuple(keys))
    return Shape(other=True)
