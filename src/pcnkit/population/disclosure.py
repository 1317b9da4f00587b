"""Safe outputs: the disclosure control every aggregate passes before it leaves the store.

The rules are those of the research note (shared/domain/population-health.md §5.2, "Platform
safe-output rules"), the strictest of OpenSAFELY's and NHS Digital's HES/ECDS conventions (§5.1):

1. They apply to every aggregate below national level: practice, PCN, neighbourhood, LSOA.
2. 0 stays 0. Counts 1-7 are redacted (shown as `[REDACTED]`). Counts of 8 or more are rounded
   to the nearest 5.
3. Totals are computed from the rounded or redacted cells, never from the raw counts, and
   percentages from the rounded numerator and denominator.

Why: a count of 1-7 can identify people, and rounding to 5 alone is not enough, because with
the older "redact 1-5" rule a shown 5 could be inferred as 6 or 7 (OpenSAFELY moved to 7 for this
reason). A total built from raw counts would let a reader subtract the shown cells and recover a
redacted one, and a percentage built from raw counts would let a reader recover the unrounded
numerator; so both are rebuilt from what is shown.

Counts are whole numbers, so rounding to the nearest 5 never meets a tie (n mod 5 is 0-4: 1 and 2
round down, 3 and 4 round up; 8 -> 10, 12 -> 10, 13 -> 15). A count that is not a whole number is
an error, as is a negative one. Error messages never carry the count itself, since an unsafe
count in a log would defeat the rules.

4. Rates (``safe_rate``) come from the safe numerator and denominator and are suppressed when
   either is redacted. No mean, median, minimum, maximum or other statistic of a few people's
   values is offered at all.

Rule 5 (differencing) is met by construction where pcnkit publishes overlapping tables: every
total is rebuilt from rounded cells, so subtracting shown cells from a total recovers only a sum
of rounded figures, never a raw count; and rounding is deterministic, so a repeated output
rounds the same count the same way. Not done: re-suppressing cells of tables a user builds
themselves from several scopes (e.g. a PCN minus all but one of its practices) - the
rounding to 5 is the protection there, as in OpenSAFELY.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

REDACTED = "[REDACTED]"
REDACT_AT_MOST = 7  # counts 1..7 are redacted
ROUND_TO = 5
PERCENT_PLACES = Decimal("0.1")


@dataclass(frozen=True)
class SafeCount:
    """A count that may be shown: `value` is None when it was redacted.

    `excludes_redacted` is True for a total built from cells some of which were redacted: their
    counts are not in the total, so it understates the true figure.
    """

    value: int | None
    excludes_redacted: bool = False

    @property
    def redacted(self) -> bool:
        return self.value is None

    @property
    def marker(self) -> str:
        """What to show: the number, or `[REDACTED]`."""
        return REDACTED if self.value is None else str(self.value)

    def __str__(self) -> str:
        return self.marker


def _whole(n: object, what: str) -> int:
    if isinstance(n, bool):
        raise ValueError(f"{what} must be a whole number, not true/false")
    try:
        value = operator.index(n)
    except TypeError:
        raise ValueError(f"{what} must be a whole number") from None
    if value < 0:
        raise ValueError(f"{what} cannot be negative")
    return value


def round_to_5(n: int) -> int:
    """The nearest multiple of 5 to a whole number (never a tie)."""
    q, r = divmod(n, ROUND_TO)
    return (q + (r >= 3)) * ROUND_TO


def safe_count(n: object, what: str = "a count") -> SafeCount:
    """One count made safe: 0 stays 0, 1-7 are redacted, 8 or more round to the nearest 5."""
    value = _whole(n, what)
    if value == 0:
        return SafeCount(0)
    if value <= REDACT_AT_MOST:
        return SafeCount(None)
    return SafeCount(round_to_5(value))


def safe_total(cells: Iterable[SafeCount]) -> SafeCount:
    """A total built from already-safe cells, never from raw counts.

    Shown cells are added; redacted cells add nothing and mark the total `excludes_redacted`
    (as does a cell that is itself such a total).
    If every cell is redacted the total is redacted too, rather than shown as a misleading 0.
    The sum of multiples of 5 is a multiple of 5, so the total needs no further rounding.
    """
    cells = list(cells)
    shown = [c.value for c in cells if c.value is not None]
    if cells and not shown:
        return SafeCount(None)
    partial = len(shown) < len(cells) or any(c.excludes_redacted for c in cells)
    return SafeCount(sum(shown), excludes_redacted=partial)


def safe_percent(numerator: SafeCount, denominator: SafeCount) -> Decimal | None:
    """100 x numerator / denominator from the safe (rounded) figures, to one decimal place.

    None when the numerator or denominator is redacted or the denominator is 0. A shown
    denominator is 0 or at least 10, so no rate rests on a denominator of 1-7.
    """
    if numerator.value is None or not denominator.value:
        return None
    percent = Decimal(100) * numerator.value / denominator.value
    return percent.quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


def safe_rate(numerator: SafeCount, denominator: SafeCount, per: int = 1000) -> Decimal | None:
    """`per` x numerator / denominator from the safe figures, to one decimal place; None when
    either is redacted or the denominator is 0."""
    if numerator.value is None or not denominator.value:
        return None
    rate = Decimal(per) * numerator.value / denominator.value
    return rate.quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class SafeTable:
    """A table whose count cells, totals and percentages have all passed the rules.

    `rows` keep their other fields unchanged; each count field holds a SafeCount. With a
    `total_field`, each row's total is rebuilt from its safe cells and each count field gets a
    `<field>_pct` percentage of that total. `totals` is the column-totals row, built the same way
    from the safe cells of every row.
    """

    rows: list[dict[str, object]]
    totals: dict[str, object]
    count_fields: tuple[str, ...]
    total_field: str | None = None

    def shown(self) -> list[dict[str, object]]:
        """The rows as they are displayed: counts as numbers or `[REDACTED]`."""
        return [
            {k: (v.marker if isinstance(v, SafeCount) else v) for k, v in row.items()}
            for row in self.rows
        ]


def _finish(out: dict[str, object], count_fields, total_field) -> None:
    if total_field is None:
        return
    total = safe_total(out[f] for f in count_fields)  # type: ignore[misc]
    out[total_field] = total
    for f in count_fields:
        out[f"{f}_pct"] = safe_percent(out[f], total)  # type: ignore[arg-type]


def safe_table(
    rows: Iterable[Mapping[str, object]],
    count_fields: Iterable[str],
    total_field: str | None = None,
) -> SafeTable:
    """Apply the rules to every count cell of a table and rebuild totals and percentages.

    rows: mappings of field name to value (e.g. one per practice); `count_fields` name the raw
    counts. Other fields (labels) pass through unchanged, so never pass a raw rate, mean or total
    as one of them: give its counts instead. A `total_field` already in the input is ignored and
    rebuilt from the rounded cells, never taken from raw counts.
    """
    fields = tuple(count_fields)
    if not fields:
        raise ValueError("safe_table needs at least one count field")
    if total_field is not None and total_field in fields:
        raise ValueError(f"the total field '{total_field}' cannot also be a count field")
    out_rows: list[dict[str, object]] = []
    for i, row in enumerate(rows, start=1):
        out: dict[str, object] = {
            k: v for k, v in row.items() if k not in fields and k != total_field
        }
        for f in fields:
            if f not in row or row[f] is None:
                raise ValueError(f"row {i}: count field '{f}' is missing")
            out[f] = safe_count(row[f], f"row {i}, field '{f}'")
        _finish(out, fields, total_field)
        out_rows.append(out)
    totals: dict[str, object] = {f: safe_total(r[f] for r in out_rows) for f in fields}  # type: ignore[misc]
    _finish(totals, fields, total_field)
    return SafeTable(out_rows, totals, fields, total_field)
