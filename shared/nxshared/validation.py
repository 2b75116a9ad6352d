"""Loading RPC input with marshmallow, refusing with the contract's ValidationError."""

import marshmallow

from nxshared.core.errors import ValidationError


def _flatten(messages, prefix=""):
    for field, problem in sorted(messages.items(), key=lambda kv: str(kv[0])):
        name = f"{prefix}{field}"
        if isinstance(problem, dict):
            yield from _flatten(problem, f"{name}.")
        else:
            text = "; ".join(problem) if isinstance(problem, list) else str(problem)
            yield f"{name}: {text}"


def load(schema, data):
    """Validate ``data`` with ``schema``; a ValidationError names every bad field."""
    if not isinstance(data, dict):
        raise ValidationError("INVALID_INPUT", "参数必须是对象（JSON object）")
    try:
        return schema.load(data)
    except marshmallow.ValidationError as exc:
        detail = "; ".join(_flatten(exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}))
        raise ValidationError("INVALID_INPUT", f"输入不合法：{detail}") from None


class MoneyField(marshmallow.fields.Field):
    """A contract money string ("2000000.00") loaded as a Decimal, dumped as a string."""

    default_error_messages = {"invalid": '金额须为不超过两位小数的非负十进制字符串，如 "2000000.00"'}

    def _deserialize(self, value, attr, data, **kwargs):
        from nxshared.core.money import parse_money

        amount = parse_money(value)
        if amount is None:
            raise self.make_error("invalid")
        return amount

    def _serialize(self, value, attr, obj, **kwargs):
        from nxshared.core.money import format_money

        return None if value is None else format_money(value)
