"""Outcome payments for groups of practices (seed 001): the scheme as data, each practice's
aspiration payment, each network's collective payment released by the targets it meets, with
indicator values from the assurance figures or a CSV; never £0.00 for a value not held."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import pytest

from conftest import load
from pcnkit.assurance.observations import ObservationBatch, ObservationRecord
from pcnkit.assurance.store import store_batches
from pcnkit.dates import Period
from pcnkit.demo import demo_data
from pcnkit.errors import InputError
from pcnkit.funding import outcomes
from pcnkit.funding.entitlements import NO_PAYEE
from pcnkit.yamlfile import parse_yaml

REGISTRY = """\
pcnkit: definitions
publisher: test
as_of: 2024-01-01
organisations:
  - {code: A00001, kind: practice, name: Alpha Surgery}
  - {code: A00002, kind: practice, name: Beta Surgery}
  - {code: A00003, kind: practice, name: Gamma Surgery}
  - {code: A00004, kind: practice, name: Delta Surgery}
  - code: U00001
    kind: pcn
    name: North PCN
    members:
      - {code: A00001, from: 2023-01-01}
      - {code: A00002, from: 2023-01-01}
  - code: U00002
    kind: pcn
    name: South PCN
    members:
      - {code: A00003, from: 2023-01-01}
      - {code: A00004, from: 2023-01-01}
  - code: PL-1
    kind: place
    name: The Place
    members:
      - {code: U00001, from: 2023-01-01}
      - {code: U00002, from: 2023-01-01}
roles:
  - {pcn: U00001, role: nominated_payee, payee: A00001, from: 2023-01-01}
"""
# A00004 has no list: its aspiration payment cannot be calculated
LISTS = {"A00001": 1000, "A00002": 9000, "A00003": 2000}

SCHEME = """\
pcnkit: outcome-scheme
name: Test scheme
source: Developing primary care in Barnet (2012)
period: {start: 2024-04-01, end: 2025-03-31}
list_reference_date: 2024-04-01
sign_up:
  basis: registered
  rate: "1.50"
  status: C
  source: the scheme's agreement
collective:
  basis: registered
  rate: "2"
  release: per_target
  status: C
  source: the scheme's agreement
  targets:
    - indicator: telephony_answered
      at_least: "60"
      share: "0.5"
      status: C
      source: the scheme's agreement
    - indicator: frail_admissions
      title: Emergency admissions of frail patients
      unit: per 1,000
      at_most: "20"
      share: "0.5"
      status: U
      source: an illustrative threshold
"""
VALUES = """\
org_code,indicator,period_end,value
U00001,frail_admissions,2024-12-31,30
U00001,frail_admissions,2025-03-31,18.5
U00002,frail_admissions,2025-03-31,25
U00001,frail_admissions,2025-06-30,1
"""
AS_OF = dt.date(2025, 3, 31)


def telephony(code: str, inbound: int, answered: int) -> list[ObservationRecord]:
    feb = Period(dt.date(2025, 2, 1), dt.date(2025, 2, 28))
    return [
        ObservationRecord(code, "practice", "inbound", feb, D(inbound), row=2),
        ObservationRecord(code, "practice", "answered", feb, D(answered), row=2),
    ]


@pytest.fixture
def ws(tmp_path, sqlite_workspace):
    (tmp_path / "defs.yaml").write_text(REGISTRY)
    (tmp_path / "lists.csv").write_text(
        "practice_code,as_of,registered\n"
        + "".join(f"{code},2024-01-15,{n}\n" for code, n in LISTS.items())
    )
    load(sqlite_workspace, tmp_path / "defs.yaml", tmp_path / "lists.csv")
    batch = ObservationBatch(
        "telephony.csv",
        "test",
        "cloud-telephony",
        "Cloud Based Telephony data in General Practice",
        "b" * 64,
        dt.date(2025, 2, 1),
        "NHS England",
    )
    # North: 220 of 400 calls answered (55%); South: 80 of 100 (80%)
    batch.observations = telephony("A00001", 100, 70) + telephony("A00002", 300, 150)
    batch.observations += telephony("A00003", 100, 80)
    batch.rows = len(batch.observations)
    with sqlite_workspace.transaction() as session:
        store_batches(session, [batch])
    return sqlite_workspace


def scheme(text: str = SCHEME, name: str = "scheme.yaml") -> outcomes.Scheme:
    return outcomes.parse_scheme(parse_yaml(text, name), name)


def values_file(tmp_path: Path, text: str = VALUES) -> outcomes.Values:
    path = tmp_path / "values.csv"
    path.write_text(text)
    return outcomes.read_values(path)


def run(ws, tmp_path, text: str = SCHEME, values: str | None = VALUES, area: str = "PL-1"):
    with ws.sessions() as session:
        return outcomes.evaluate(
            session,
            scheme(text),
            area,
            AS_OF,
            values_file(tmp_path, values) if values is not None else None,
        )


def line(found: outcomes.Outcomes, payment: str, code: str) -> outcomes.OutcomeLine:
    (hit,) = [
        x for x in found.lines if x.payment == payment and (x.practice_code or x.pcn_code) == code
    ]
    return hit


def test_each_signed_up_practice_is_paid_its_aspiration_payment(ws, tmp_path):
    found = run(ws, tmp_path)
    alpha = line(found, "sign_up", "A00001")
    assert alpha.amount == D("1500.00") and alpha.payee_code == "A00001"
    assert alpha.formula == "1,000 x £1.50 = 1500.0000, rounded half-up to £1,500.00"
    assert "registered list as at 15 January 2024" in alpha.inputs
    assert line(found, "sign_up", "A00002").amount == D("13500.00")
    assert line(found, "sign_up", "A00003").amount == D("3000.00")
    delta = line(found, "sign_up", "A00004")
    assert delta.amount is None
    assert delta.reason.startswith("cannot be calculated: registered list not held for A00004")


def test_the_collective_payment_releases_the_share_of_each_target_met(ws, tmp_path):
    found = run(ws, tmp_path)
    north = line(found, "collective", "U00001")
    # telephony 55% misses 60% by 5 points; frail admissions 18.5 (the latest value in the
    # period, not December's 30 nor June's, after the as-of date) meets at most 20
    calls, frail = north.targets
    assert (calls.met, calls.margin) == (False, D("-5"))
    assert "55% for February 2025 against at least 60% (releases 50%)" in calls.text
    assert "not met, short by 5 percentage points" in calls.text
    assert "Cloud Based Telephony data in General Practice" in calls.text
    assert (frail.met, frail.margin, frail.value.value) == (True, D("1.5"), D("18.5"))
    assert "values.csv, row 3" in frail.text and "met by 1.5 per 1,000" in frail.text
    assert north.share == D("0.5") and north.population == D(10000)
    assert north.amount == D("10000.00")
    assert north.formula == "10,000 x £2 x 50% released = 10000.0000, rounded half-up to £10,000.00"
    assert north.reason == "part released: not met for Calls answered"
    assert north.payee_code == "A00001"
    south = line(found, "collective", "U00002")
    # South's pot is on the lists held (A00004's is not, and the line says so)
    assert south.population == D(2000) and south.amount == D("2000.00")
    assert "leaves out A00004" in south.note and NO_PAYEE in south.note
    assert south.payee_code == "U00002"
    # a threshold not met is £0 with a reason only when nothing is released; the total adds up
    assert found.total.amount == D("1500") + D("13500") + D("3000") + D("10000") + D("2000")
    assert found.total.gaps and "A00004" in found.total.gaps[0]


def test_an_indicator_without_a_value_is_not_calculated_never_zero(ws, tmp_path):
    found = run(
        ws,
        tmp_path,
        values="org_code,indicator,period_end,value\nU00001,frail_admissions,2025-03-31,18.5\n",
    )
    south = line(found, "collective", "U00002")
    assert south.amount is None and south.exact is None
    assert south.reason == (
        "cannot be calculated: frail_admissions has no value for South PCN (U00002) "
        "in 1 April 2024 to 31 March 2025"
    )
    assert south.as_row()["amount"] is None and south.as_row()["calculated"] is False
    assert any("South PCN" in gap for gap in found.total.gaps)
    assert found.subtotal("collective").amount == D("10000.00")


def test_an_indicator_neither_in_the_csv_nor_in_the_assurance_says_where_to_give_it(ws, tmp_path):
    found = run(ws, tmp_path, values=None)
    north = line(found, "collective", "U00001")
    assert north.amount is None
    assert "frail_admissions has no value for North PCN (U00001)" in north.reason
    assert "give its values in a --values CSV" in north.reason


def test_release_all_pays_nothing_unless_every_target_is_met(ws, tmp_path):
    text = SCHEME.replace("release: per_target", "release: all").replace('      share: "0.5"\n', "")
    found = run(ws, tmp_path, text)
    north = line(found, "collective", "U00001")
    assert north.amount == D("0.00") and north.share == 0
    assert north.reason == "£0.00: threshold not met (Calls answered)"
    assert north.formula.endswith("rounded half-up to £0.00")
    # with every target met the whole pot is paid
    easy = text.replace('at_least: "60"', 'at_least: "50"').replace(
        'at_most: "20"', 'at_most: "30"'
    )
    assert line(run(ws, tmp_path, easy), "collective", "U00001").amount == D("20000.00")


def test_only_the_practices_that_signed_up_are_paid(ws, tmp_path):
    text = SCHEME.replace(
        '  basis: registered\n  rate: "1.50"',
        '  practices: [A00002, Z99999]\n  basis: registered\n  rate: "1.50"',
    )
    found = run(ws, tmp_path, text)
    assert [x.practice_code for x in found.lines if x.payment == "sign_up"] == ["A00002"]
    # the collective pot counts the group's signed-up practices only
    assert line(found, "collective", "U00001").population == D(9000)
    assert any("no member practice signed up" in n and "U00002" in n for n in found.notes)
    assert any("Z99999" in n for n in found.notes)


def test_each_amount_is_rounded_once_half_up(ws, tmp_path):
    text = SCHEME.replace('rate: "1.50"', 'rate: "0.000125"')
    alpha = line(run(ws, tmp_path, text), "sign_up", "A00001")
    assert alpha.exact == D("0.125") and alpha.amount == D("0.13")


def test_a_fixed_sum_per_practice_and_a_pcn_area(ws, tmp_path):
    text = SCHEME.replace('  basis: registered\n  rate: "1.50"', '  basis: fixed\n  rate: "500"')
    found = run(ws, tmp_path, text, area="U00002")
    assert {x.pcn_code for x in found.lines} == {"U00002"}
    delta = line(found, "sign_up", "A00004")  # a fixed sum needs no list
    assert delta.amount == D("500.00") and delta.formula.startswith("£500 = 500")


def test_unconfirmed_figures_are_named(ws, tmp_path):
    found = run(ws, tmp_path)
    assert found.unconfirmed == [("Emergency admissions of frail patients threshold", "U")]
    north = line(found, "collective", "U00001")
    assert north.confirmed is False and north.status == "U"
    assert line(found, "sign_up", "A00001").confirmed is True


# --- the shipped example: seed 001's figures -----------------------------------------------

EXAMPLE = demo_data() / "funding" / "outcomes-barnet-model-2025-26.yaml"


def test_the_example_scheme_carries_seed_001s_published_figures():
    s = outcomes.read_scheme(EXAMPLE)
    # "£11.7m will be invested in primary care and community services in Barnet over three
    # years; £2.9m in 2012/13"
    assert s.budget.amount == D("2900000") and s.budget.programme_total == D("11700000")
    assert s.budget.status == "C" and "Developing primary care in Barnet" in s.budget.source
    # "split between an aspiration payment to individual practices, and an additional payment
    # based on collective achievement of outcomes across the group": the paper publishes no
    # rate, so the example's rates are marked as not confirmed
    assert s.sign_up.name == "Aspiration payment" and s.practices is None
    assert s.collective.name == "Collective outcome payment"
    assert (s.sign_up.status, s.collective.status) == ("U", "U")
    # BHR's own 2021 aspirations (seed 000) as thresholds: 75% online access, 95% CQC
    thresholds = {t.indicator: (t.threshold, t.status) for t in s.targets}
    assert thresholds["oc_patients_with_access"] == (D("75"), "C")
    assert thresholds["cqc_good_outstanding_patients"] == (D("95"), "C")
    assert sum(t.share for t in s.targets) == 1


def test_the_budget_is_compared_with_the_areas_payments(ws, tmp_path):
    text = SCHEME + (
        'budget: {amount: "2900000", programme_total: "11700000", period: 2012/13, '
        "status: C, source: seed 001}\n"
    )
    found = run(ws, tmp_path, text)
    words = found.budget_words()
    assert words.startswith("Scheme budget £2,900,000.00 for 2012/13 (of £11,700,000.00)")
    assert "payments come to £30,000.00 (incomplete)" in words
    # with every target met: sign-up payments (A00004's not held, so none) ... not calculable
    assert found.most is None


# --- bad scheme files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, column, problem",
    [
        (("pcnkit: outcome-scheme\n", ""), None, "does not start with 'pcnkit: outcome-scheme'"),
        (('at_least: "60"', 'at_leas: "60"'), "scheme.collective.targets[0].at_leas", "not a key"),
        (
            ('share: "0.5"\n      status: C', 'share: "0.4"\n      status: C'),
            "scheme.collective.targets",
            "add up to 0.9, not 1",
        ),
        (('rate: "1.50"', "rate: 1.50"), "scheme.sign_up.rate", "write 1.5 in quotes"),
        (('rate: "1.50"', 'rate: "-1"'), "scheme.sign_up.rate", "is negative"),
        (
            ('basis: registered\n  rate: "1.50"', 'basis: beds\n  rate: "1.50"'),
            "scheme.sign_up.basis",
            "'beds' is not one of",
        ),
        (("end: 2025-03-31", "end: 2025-02-30"), "scheme.period.end", "is not a date"),
        (("end: 2025-03-31", "end: 2023-03-31"), "scheme.period.end", "is before the start"),
        (
            ('at_most: "20"', 'at_most: "20"\n      at_least: "1"'),
            "scheme.collective.targets[1].at_least",
            "exactly one threshold",
        ),
        (
            ("indicator: frail_admissions", "indicator: telephony_answered"),
            "scheme.collective.targets[1].indicator",
            "twice",
        ),
        (
            ("      status: U\n", "      status: maybe\n"),
            "scheme.collective.targets[1].status",
            "'maybe' is not one of",
        ),
    ],
)
def test_a_bad_scheme_names_the_file_the_key_and_the_fix(change, column, problem):
    with pytest.raises(InputError) as caught:
        scheme(SCHEME.replace(*change))
    err = caught.value
    assert err.file == "scheme.yaml" and err.column == column
    assert problem in str(err)
    assert err.action


def test_a_scheme_that_is_not_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(SCHEME.replace("  targets:\n", "  targets: [\n"))
    with pytest.raises(InputError) as caught:
        outcomes.read_scheme(path)
    assert caught.value.file == str(path) and caught.value.row is not None


@pytest.mark.parametrize(
    "text, row, column, problem",
    [
        ("org_code,indicator,value\nU00001,x,1\n", None, None, "no column 'period_end'"),
        (
            "org_code,indicator,period_end,value\nU00001,x,31/03/2025,1\n",
            2,
            "period_end",
            "is not a date",
        ),
        (
            "org_code,indicator,period_end,value\nU00001,x,2025-03-31,high\n",
            2,
            "value",
            "is not a number",
        ),
        (
            "org_code,indicator,period_end,value\nU00001,x,2025-03-31,1\nU00001,x,2025-03-31,2\n",
            3,
            "indicator",
            "also on row 2",
        ),
    ],
)
def test_a_bad_values_file_names_the_row_and_column(tmp_path, text, row, column, problem):
    with pytest.raises(InputError) as caught:
        values_file(tmp_path, text)
    err = caught.value
    assert (err.row, err.column) == (row, column)
    assert problem in str(err)


def test_a_list_much_older_than_the_reference_date_is_noted(ws, tmp_path):
    text = SCHEME.replace("list_reference_date: 2024-04-01", "list_reference_date: 2024-12-01")
    found = run(ws, tmp_path, text)
    alpha = line(found, "sign_up", "A00001")
    # the 15 January 2024 list is still used (the latest held), but the line says it is old
    assert alpha.amount == D("1500.00")
    assert (
        "1 list(s) dated more than six months before the list reference date 1 December 2024"
        in (alpha.note)
    )
    assert "2 list(s) dated more than six months" in line(found, "collective", "U00001").note
