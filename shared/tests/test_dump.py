"""``nxshared.validation.dump`` returns exactly what marshmallow's ``dump`` returns, for every schema
of every installed service, from objects and from dicts, with values, with None, with attributes
missing, one or many."""

import datetime as dt
import importlib
import inspect
from decimal import Decimal
from types import SimpleNamespace

import marshmallow
import pytest
from marshmallow import fields

from nxshared.discovery import installed_services
from nxshared.validation import MoneyField, _direct_fields, dump


def schemas():
    found = {}
    for service in installed_services():
        module = importlib.import_module(f"{service.name}.schemas")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, marshmallow.Schema) and cls.__module__ == module.__name__:
                found[f"{service.name}.{name}"] = cls
    return found


def sample(field):
    if isinstance(field, fields.Nested):
        return sample_data(field.schema)
    if isinstance(field, fields.List):
        return [sample(field.inner), sample(field.inner)]
    for kind, value in (
        (MoneyField, Decimal("12.30")),
        (fields.DateTime, dt.datetime(2026, 12, 15, 8, 30, tzinfo=dt.UTC)),
        (fields.Date, dt.date(2026, 12, 15)),
        (fields.Boolean, True),
        (fields.Integer, 7),
        (fields.Dict, {"year": 2027, "amount": "1.00"}),
    ):
        if isinstance(field, kind):
            return value
    return "文本"


def sample_data(schema):
    return {name: sample(field) for name, field in schema.dump_fields.items()}


def variants(schema):
    full = sample_data(schema)
    names = list(full)
    yield full
    yield dict.fromkeys(names)  # every value None
    yield {name: full[name] for name in names[::2]}  # every other one missing


@pytest.mark.parametrize("name, schema_cls", sorted(schemas().items()))
def test_dump_is_marshmallow_s_dump(name, schema_cls):
    reference = schema_cls()
    for data in variants(reference):
        for obj in (data, SimpleNamespace(**data)):
            assert dump(schema_cls, obj) == reference.dump(obj)
        objects = [SimpleNamespace(**data), data]
        assert dump(schema_cls, objects, many=True) == schema_cls(many=True).dump(objects)


def test_the_short_path_serves_the_output_schemas():
    """Not a vacuous equality: the services' output schemas take the short path."""
    direct = {name for name, cls in schemas().items() if _direct_fields(cls) is not None}
    assert {"planning.ProjectOut", "review.ReviewOut", "approval.ApprovalOut", "finance.LedgerOut"} <= direct


def test_a_schema_with_a_dump_hook_is_left_to_marshmallow():
    class Hooked(marshmallow.Schema):
        name = fields.String()

        @marshmallow.post_dump
        def shout(self, data, **kwargs):
            return {k: v.upper() for k, v in data.items()}

    assert _direct_fields(Hooked) is None
    assert dump(Hooked, {"name": "li"}) == {"name": "LI"}
