"""Money is a decimal string in yuan with at most two decimals (CONTRACT §Calling).

Only the plain form is money: digits, optionally a point and one or two decimals, below
``MAX_YUAN``. Refused: floats (how cents get lost), signs (``-0``, ``+1``), exponents (``1e3``),
underscores (``1_000``), surrounding spaces, and anything of more than 12 integer digits.
"""

import re
from decimal import Decimal

CENT = Decimal("0.01")
MAX_YUAN = Decimal(10) ** 12  # a sane ceiling: below one trillion yuan; BigInteger cents hold it easily
_PLAIN = re.compile(r"(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?\Z")


def parse_money(value: object) -> Decimal | None:
    """Parse a contract money value (a plain decimal string, a ``Decimal`` or an ``int``); ``None``
    when it is not one."""
    if isinstance(value, bool) or not isinstance(value, (str, Decimal, int)):
        return None
    text = value if isinstance(value, str) else (format(value, "f") if isinstance(value, Decimal) else str(value))
    if not _PLAIN.match(text):
        return None
    amount = Decimal(text)
    return amount.quantize(CENT) if amount < MAX_YUAN else None


def format_money(amount: Decimal | int | str) -> str:
    return str(Decimal(amount).quantize(CENT))
