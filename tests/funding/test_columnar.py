"""The columnar pass (entitlements in columns, the compact schedule table) on memberships that
change within the year: the runs it builds, the sums it reuses across streams, and a schedule
table that pays exactly what each line's own instalments pay, months in the year's order."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest

from pcnkit.funding.entitlements import entitlements
from pcnkit.funding.populations import Populations, PracticeLists
from pcnkit.funding.rules import rules_for
from pcnkit.funding.schedule import instalments, schedule_table
from pcnkit.provenance import Provenance

RULES = rules_for("2023/24")
APR, JUN, JUL, SEP, OCT = (dt.date(2023, m, 1) for m in (4, 6, 7, 9, 10))
DEC, JAN, FEB, MAR = dt.date(2023, 12, 1), *(dt.date(2024, m, 1) for m in (1, 2, 3))
# U00002's members in its three runs
RUNS = (("A", "B", "D"), ("A", "D"), ("A", "C", "D"))
LISTS = {"A": 1000, "B": 2000, "C": 4000, "D": 8000, "E": 16000, "F": 3000, "G": 500}


def practice(code, listed=dt.date(2023, 1, 1)):
    p = PracticeLists(code, f"Practice {code}")
    for n, basis in enumerate(("registered", "weighted", "adjusted")):
        p.values[basis] = Decimal(LISTS[code]) + Decimal(n) / 7  # sums that are not whole
        p.dates[basis] = listed
        p.sources[basis] = Provenance("the lists", 1, as_of=listed)
    return p


@pytest.fixture(scope="module")
def pops():
    """U00001 (first in code order) only from October, so the year's first plan pays from
    then; U00002 changes members twice and holds D in two adjacent spans; in U00003 G leaves
    a month before the year ends and F's list is stale."""
    spans = [
        ("U00001", "E", OCT, MAR),
        ("U00002", "A", APR, MAR),
        ("U00002", "B", APR, SEP),
        ("U00002", "C", JAN, MAR),
        ("U00002", "D", APR, JUN),
        ("U00002", "D", JUL, MAR),
        ("U00003", "F", APR, MAR),
        ("U00003", "G", APR, FEB),
    ]
    practices = {c: practice(c) for c in "ABCDEG"}
    practices["F"] = practice("F", listed=dt.date(2022, 1, 1))
    return Populations(
        RULES.start,
        RULES.list_reference_date,
        {"U00001": "First PCN", "U00002": "Second PCN", "U00003": "Third PCN"},
        practices,
        members={},
        payees={"U00003": "F"},
        spans=spans,
    )


@pytest.fixture(scope="module")
def lines(pops):
    return entitlements(pops, RULES)


def test_pcn_runs_follow_membership_changes(lines):
    core = [x for x in lines if x.stream == "core_pcn_funding" and x.pcn_code == "U00002"]
    assert [(x.first_month, x.last_month, x.months) for x in core] == [
        (APR, SEP, 6),
        (OCT, DEC, 3),
        (JAN, MAR, 3),
    ]
    third = [x for x in lines if x.stream == "core_pcn_funding" and x.pcn_code == "U00003"]
    assert [(x.last_month, x.months, x.population) for x in third] == [
        (FEB, 11, Decimal(3500)),
        (MAR, 1, Decimal(3000)),
    ]
    # A and D all year (D's two spans meet), B to September, C from January
    assert [x.population for x in core] == [Decimal(11000), Decimal(9000), Decimal(13000)]


def test_practice_runs_join_adjacent_spans(lines):
    own = {
        (x.pcn_code, x.practice_code): (x.first_month, x.last_month, x.months)
        for x in lines
        if x.stream == "network_participation"
    }
    assert own == {
        ("U00001", "E"): (OCT, MAR, 6),
        ("U00002", "A"): (APR, MAR, 12),
        ("U00002", "B"): (APR, SEP, 6),
        ("U00002", "C"): (JAN, MAR, 3),
        ("U00002", "D"): (APR, MAR, 12),
        ("U00003", "F"): (APR, MAR, 12),
        ("U00003", "G"): (APR, FEB, 11),
    }


def test_streams_on_one_basis_share_the_sum_and_each_applies_its_rate(lines):
    by_stream = defaultdict(list)
    for x in lines:
        if x.pcn_code == "U00002" and x.practice_code is None and x.basis == "adjusted":
            by_stream[x.stream].append(x)
    assert len(by_stream) >= 2
    adjusted = [sum((practice(c).values["adjusted"] for c in run), Decimal(0)) for run in RUNS]
    assert {tuple(x.population for x in mine) for mine in by_stream.values()} == {tuple(adjusted)}
    for mine in by_stream.values():
        for x in mine:
            assert x.exact == x.population * x.rate * x.months / 12
            assert x.amount == x.exact.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")


def test_notes_say_no_payee_stale_lists_and_the_payee(lines):
    second = next(x for x in lines if x.pcn_code == "U00002" and x.practice_code is None)
    assert second.payee_code == "U00002"
    assert "no nominated payee recorded" in second.note
    third = next(x for x in lines if x.pcn_code == "U00003" and x.practice_code is None)
    assert (third.payee_code, third.payee_name) == ("F", "Practice F")
    assert "1 list(s) dated more than six months before the reference date" in third.note
    assert third.stream == "core_pcn_funding"
    assert third.inputs == "registered list as at 1 January 2022, 1 January 2023 (the lists)"
    assert "no nominated payee" not in third.note
    mine = next(x for x in lines if x.practice_code == "E")
    assert (mine.payee_code, mine.payee_name, mine.practice_name) == ("E", *["Practice E"] * 2)
    assert "no nominated payee" not in mine.note


def test_schedule_table_pays_each_lines_instalments_in_the_years_month_order(lines):
    expected: dict[tuple, dict] = {}
    seen: dict[dt.date, int] = {}
    for line in lines:
        for when, _months, amount in instalments(line, RULES):
            seen.setdefault(when, len(seen))
            key = (line.payee_code, line.pcn_code, line.practice_code, line.stream)
            row = expected.setdefault(key, {})
            row[when] = row.get(when, 0) + int(amount * 100)
    table = schedule_table(lines, RULES)
    assert table == {k: {w: p for w, p in row.items() if p} for k, row in expected.items()}
    # the first line paid is U00001's, from October: the year's months are not in date order,
    # and a row lists its months in the year's order, as every row of the table does
    assert next(iter(seen)) >= OCT
    assert list(seen) != sorted(seen)
    for row in table.values():
        assert list(row) == sorted(row, key=seen.get)
    # each line's months add up to its amount; rows with several runs add them up
    for key, row in table.items():
        mine = [x for x in lines if (x.payee_code, x.pcn_code, x.practice_code, x.stream) == key]
        assert sum(row.values()) == sum(int(x.amount * 100) for x in mine if x.amount is not None)
