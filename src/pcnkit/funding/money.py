"""Money is Decimal. An amount owed is rounded half-up once, by `to_pence` (or `to_unit` for
allocations rounded to £1 / £100); everything before that step keeps full precision. Spreading a
rounded amount over months (`schedule`) never rounds it again: it takes the differences of the
exact running total in whole pence, so the months always add up to the amount."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

PENNY = Decimal("0.01")
# The largest amount (either sign) one ledger line may hold: the range the ledger has always
# declared (14 digits, 2 of them pence). All England's Network Contract DES is about £2bn a year,
# so anything near this is a broken input, refused before it is written.
LEDGER_LIMIT = Decimal("999999999999.99")


def to_pence(value: Decimal) -> Decimal:
    """Round half-up to the penny: the one rounding step for money."""
    return value.quantize(PENNY, rounding=ROUND_HALF_UP)


def to_unit(value: Decimal, unit: Decimal) -> Decimal:
    """Round half-up to a multiple of `unit` (0.01, 1, 100, ...)."""
    return ((value / unit).quantize(Decimal(1), rounding=ROUND_HALF_UP) * unit).quantize(PENNY)


# No figure pcnkit reads (a rate, a list, an amount of money) has more digits than this, or is
# larger than FIGURE_LIMIT: anything beyond is a broken input, refused before any arithmetic.
FIGURE_DIGITS = 40
FIGURE_LIMIT = Decimal("1e15")


def decimal(text: object, what: str) -> Decimal:
    """Parse a figure written in a rule or input file; floats are refused (they are inexact),
    and so is anything that is not a plain number of sensible size (a list, 1e999999)."""
    if isinstance(text, float):
        raise ValueError(f'{what}: write {text} in quotes so it is read exactly, e.g. "{text}"')
    if isinstance(text, bool) or not isinstance(text, str | int | Decimal):
        raise ValueError(f"{what}: is not a number")
    written = str(text).strip().replace(",", "").lstrip("£")
    if len(written) > FIGURE_DIGITS:
        raise ValueError(f"{what}: '{written[:20]}...' is too long to be a figure")
    try:
        value = Decimal(written)
    except (InvalidOperation, ArithmeticError) as exc:
        raise ValueError(f"{what}: '{text}' is not a number") from exc
    if not value.is_finite():
        raise ValueError(f"{what}: '{text}' is not a number")
    return value


def sized(value: Decimal, what: str) -> Decimal:
    """A figure a scheme or rate file gives, within the range of any real one (so no
    arithmetic on it can overflow): refused (ValueError) beyond FIGURE_LIMIT."""
    if abs(value) >= FIGURE_LIMIT:
        raise ValueError(f"{what}: '{value}' is beyond the range of any real figure")
    return value


def whole_pence(value: Decimal, what: str = "amount") -> int:
    """An amount as whole pence for storage: exact, so refused (ValueError) when it is not a
    whole number of pence, not finite, or beyond ±LEDGER_LIMIT."""
    if not isinstance(value, Decimal | int):
        raise ValueError(f"{what}: {value!r} is not a Decimal amount of money")
    value = Decimal(value)
    if not value.is_finite() or abs(value) > LEDGER_LIMIT:
        raise ValueError(f"{what}: {value} is beyond the ledger's range of ±{money(LEDGER_LIMIT)}")
    pence = value.scaleb(2)
    if pence != pence.to_integral_value():
        raise ValueError(f"{what}: {value} is not a whole number of pence")
    return int(pence)


def money(value: Decimal) -> str:
    """An amount as pcnkit writes it for people (pages, the CLI, messages, the workbook's number
    format): £1,234.56, a negative as £-1,234.56 - the one form, the funding pages' own."""
    return f"£{value:,.2f}"


def money_figure(value: Decimal) -> str:
    """An amount in a formula, as CCG papers print them: pence only when there are any (£1,200,
    £1,200.50), every digit of an exact share finer than a penny; a negative as `money` does."""
    return "£" + figure(value)


def figure(value: Decimal) -> str:
    """A number for formula text: thousands separators, no trailing zeros beyond the pence."""
    if value == value.to_integral_value():
        return f"{value:,.0f}"
    if value == value.quantize(PENNY):
        return f"{value:,.2f}"
    return f"{value.normalize():,f}"


# The workbook's number format for money columns: the same form as `money` (Excel's default
# for a one-part format would write a negative as -£1,234.56).
XLSX_MONEY_FORMAT = '"£"#,##0.00;"£"-#,##0.00'
