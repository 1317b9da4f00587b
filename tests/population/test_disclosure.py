"""Disclosure control: the platform's safe-output rules (research note
shared/domain/population-health.md §5.2) applied to counts, totals and percentages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pcnkit.population.disclosure import (
    REDACTED,
    SafeCount,
    safe_count,
    safe_percent,
    safe_table,
    safe_total,
)


def test_zero_stays_zero() -> None:
    assert safe_count(0) == SafeCount(0)
    assert not safe_count(0).redacted


@pytest.mark.parametrize("n", range(1, 8))
def test_one_to_seven_are_redacted(n: int) -> None:
    count = safe_count(n)
    assert count.redacted
    assert count.value is None
    assert count.marker == REDACTED == "[REDACTED]"
    assert str(count) == REDACTED


@pytest.mark.parametrize(
    ("n", "shown"),
    [(8, 10), (9, 10), (10, 10), (11, 10), (12, 10), (13, 15), (14, 15), (15, 15), (17, 15)],
)
def test_eight_or_more_round_to_the_nearest_5(n: int, shown: int) -> None:
    assert safe_count(n) == SafeCount(shown)


def test_whole_counts_never_tie() -> None:
    # The note says "nearest 5" without a tie rule; whole numbers are never halfway
    # (n mod 5 is 0-4), so none is needed: 2 above a multiple rounds down, 3 above rounds up.
    for n in range(8, 1000):
        value = safe_count(n).value
        assert value % 5 == 0
        assert abs(value - n) <= 2
    assert safe_count(1002).value == 1000
    assert safe_count(1003).value == 1005


def test_never_rounds_into_the_redacted_range() -> None:
    assert min(safe_count(n).value for n in range(8, 50)) == 10


def test_negative_is_an_error_that_does_not_repeat_the_count() -> None:
    with pytest.raises(ValueError, match="cannot be negative") as info:
        safe_count(-3)
    assert "3" not in str(info.value)


@pytest.mark.parametrize("n", [2.5, 12.5, Decimal("12.5"), "12", True, None])
def test_non_whole_counts_are_errors(n: object) -> None:
    with pytest.raises(ValueError, match="whole number"):
        safe_count(n)


def test_table_cells_8_12_3_and_total_from_rounded_cells() -> None:
    table = safe_table(
        [
            {"practice": "A", "count": 8},
            {"practice": "B", "count": 12},
            {"practice": "C", "count": 3},
        ],
        ["count"],
    )
    assert [r["count"] for r in table.rows] == [SafeCount(10), SafeCount(10), SafeCount(None)]
    assert [r["practice"] for r in table.rows] == ["A", "B", "C"]
    # 10 + 10, the redacted cell adding nothing: not the raw 8 + 12 + 3 = 23 (-> 25).
    assert table.totals["count"] == SafeCount(20, excludes_redacted=True)
    assert table.shown() == [
        {"practice": "A", "count": "10"},
        {"practice": "B", "count": "10"},
        {"practice": "C", "count": REDACTED},
    ]


def test_row_totals_are_rebuilt_and_raw_totals_ignored() -> None:
    table = safe_table(
        [{"pcn": "X", "fit": 8, "frail": 12, "severe": 3, "all": 23}],
        ["fit", "frail", "severe"],
        total_field="all",
    )
    row = table.rows[0]
    assert row["all"] == SafeCount(20, excludes_redacted=True)
    assert (row["fit"], row["frail"], row["severe"]) == (
        SafeCount(10),
        SafeCount(10),
        SafeCount(None),
    )


def test_percentages_use_rounded_numerator_and_denominator() -> None:
    table = safe_table(
        [{"practice": "A", "yes": 13, "no": 24}],  # raw 13/37 = 35.1%
        ["yes", "no"],
        total_field="total",
    )
    row = table.rows[0]
    assert row["total"] == SafeCount(40)  # 15 + 25, not round(37) = 35
    assert row["yes_pct"] == Decimal("37.5")  # 15/40
    assert row["no_pct"] == Decimal("62.5")  # 25/40


def test_percentages_of_redacted_or_zero_cells() -> None:
    table = safe_table(
        [
            {"practice": "A", "yes": 0, "no": 20},
            {"practice": "B", "yes": 5, "no": 20},
            {"practice": "C", "yes": 3, "no": 2},
            {"practice": "D", "yes": 0, "no": 0},
        ],
        ["yes", "no"],
        total_field="total",
    )
    a, b, c, d = table.rows
    assert a["yes_pct"] == Decimal("0.0") and a["no_pct"] == Decimal("100.0")
    assert b["yes_pct"] is None  # redacted numerator
    assert b["total"] == SafeCount(20, excludes_redacted=True)
    assert c["total"] == SafeCount(None)  # every cell redacted: not shown as 0
    assert c["yes_pct"] is None and c["no_pct"] is None
    assert d["total"] == SafeCount(0) and d["yes_pct"] is None  # no denominator


def test_column_totals_and_their_percentages() -> None:
    table = safe_table(
        [{"g": "A", "yes": 8, "no": 12}, {"g": "B", "yes": 13, "no": 3}],
        ["yes", "no"],
        total_field="total",
    )
    assert table.totals["yes"] == SafeCount(25)  # 10 + 15
    assert table.totals["no"] == SafeCount(10, excludes_redacted=True)  # 10 + redacted
    assert table.totals["total"] == SafeCount(35, excludes_redacted=True)
    assert table.totals["yes_pct"] == Decimal("71.4")  # 25/35
    assert "g" not in table.totals


def test_safe_total_and_percent_helpers() -> None:
    assert safe_total([]) == SafeCount(0)
    assert safe_total([SafeCount(0), SafeCount(10)]) == SafeCount(10)
    assert safe_percent(SafeCount(10), SafeCount(30)) == Decimal("33.3")
    assert safe_percent(SafeCount(20), SafeCount(30)) == Decimal("66.7")
    assert safe_percent(SafeCount(10), SafeCount(None)) is None


def test_table_errors_name_row_and_field_but_not_the_value() -> None:
    with pytest.raises(ValueError, match=r"row 2, field 'n' cannot be negative"):
        safe_table([{"n": 4}, {"n": -7}], ["n"])
    with pytest.raises(ValueError, match="row 1: count field 'm' is missing"):
        safe_table([{"n": 4}], ["n", "m"])
    with pytest.raises(ValueError, match="cannot also be a count field"):
        safe_table([{"n": 4}], ["n"], total_field="n")
    with pytest.raises(ValueError, match="at least one count field"):
        safe_table([{"n": 4}], [])
