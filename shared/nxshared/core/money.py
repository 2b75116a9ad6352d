"""Money is a decimal string in yuan with at most two decimals (CONTRACT §Calling)."""

from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")


def parse_money(value):
    """Parse a contract money string; ``None`` when it is not one. Floats are refused: they are
    how cents get lost."""
    if isinstance(value, bool) or not isinstance(value, (str, Decimal, int)):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount != amount.quantize(CENT) or amount < 0:
        return None
    return amount.quantize(CENT)


def format_money(amount):
    return str(Decimal(amount).quantize(CENT))
