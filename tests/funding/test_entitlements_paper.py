"""Acceptance: the 2019/20 Network Contract DES table for all 15 BHR PCNs in "Primary Care
Network Development in Havering" (July 2019) reproduced to the penny, from lists derived from
the table, under the paper's scenario (clinical director at £0.514)."""

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from pcnkit.funding.entitlements import entitlements, exact_totals
from pcnkit.funding.populations import from_csv
from pcnkit.funding.reconcile import read_statement, reconcile
from pcnkit.funding.rules import apply_scenario, rules_for
from pcnkit.funding.schedule import schedule

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "funding"
STREAMS = ("core_pcn_funding", "clinical_director", "extended_hours", "network_participation")
# The paper computed Havering Marshall's extended hours and clinical director on 45,614 patients
# but its core funding on 48,242 (2,628 more: about the 2,657 of Dr Joseph's surgery, F82639,
# whose list North Street took on). The reconciliation must find this; see the last tests.
MARSHALL, MARSHALL_EH_CD_LIST = "U50107", 45_614


def paper_rows():
    with open(FIXTURES / "bhr_2019_20_paper.csv", newline="") as f:
        return list(csv.DictReader(f))


def _run(folder, marshall_list=None):
    """Lists derived from the table: registered = core / £1.50 (whole numbers), weighted =
    network participation / £1.761 to four places (any value within ±0.003 gives the penny)."""
    lists = folder / f"lists-{marshall_list}.csv"
    with open(lists, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["pcn_code", "registered", "weighted"])
        for r in paper_rows():
            registered = Decimal(r["core_pcn_funding"]) / Decimal("1.50")
            weighted = (Decimal(r["network_participation"]) / Decimal("1.761")).quantize(
                Decimal("0.0001")
            )
            assert registered == registered.to_integral_value()
            if marshall_list and r["pcn_code"] == MARSHALL:
                registered = marshall_list
            w.writerow([r["pcn_code"], registered, weighted])
    rules = apply_scenario(rules_for("2019/20"), FIXTURES / "havering-paper-2019-20.yaml")
    pops = from_csv(lists, rules.start, rules.list_reference_date)
    return rules, entitlements(pops, rules)


@pytest.fixture(scope="module")
def paper_lines(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("paper"))


@pytest.fixture(scope="module")
def as_published(tmp_path_factory):
    """The paper's own inputs: Marshall's extended hours and CD on 45,614 patients."""
    rules, lines = _run(tmp_path_factory.mktemp("paper"))
    _, marshall = _run(tmp_path_factory.mktemp("marshall"), MARSHALL_EH_CD_LIST)
    swap = {"extended_hours", "clinical_director"}
    keep = [x for x in lines if not (x.pcn_code == MARSHALL and x.stream in swap)]
    return rules, keep + [x for x in marshall if x.pcn_code == MARSHALL and x.stream in swap]


def test_every_pcn_to_the_penny(as_published):
    _, lines = as_published
    got = {(x.pcn_code, x.stream): x.amount for x in lines}
    for r in paper_rows():
        for stream in STREAMS:
            assert got[(r["pcn_code"], stream)] == Decimal(r[stream]), (r["pcn_name"], stream)


def test_borough_and_grand_totals_to_the_penny(as_published):
    """The paper's borough totals are sums of unrounded amounts, rounded once."""
    _, lines = as_published
    borough = {r["pcn_code"]: r["borough"] for r in paper_rows()}
    with open(FIXTURES / "bhr_2019_20_paper_totals.csv", newline="") as f:
        totals = list(csv.DictReader(f))
    for t in totals:
        mine = [x for x in lines if borough[x.pcn_code] == t["borough"]]
        for stream in STREAMS:
            exact = exact_totals([x for x in mine if x.stream == stream])
            assert exact == Decimal(t[stream]), (t["borough"], stream)


def test_the_scenario_shows_the_official_figure_and_the_difference(paper_lines):
    rules, lines = paper_lines
    cd = next(x for x in lines if x.pcn_code == "U51307" and x.stream == "clinical_director")
    assert (cd.rate, cd.official_rate) == (Decimal("0.514"), Decimal("0.51430"))
    assert cd.official_amount == Decimal("25446.02")  # 49,477 x £0.51430
    assert cd.difference == Decimal("-14.84")
    assert "truncated" in cd.note and rules.scenario == "Havering paper, July 2019"


def test_unconfirmed_figures_are_marked(paper_lines):
    _, lines = paper_lines
    status = {x.stream: (x.confirmed, x.status) for x in lines}
    assert status["core_pcn_funding"] == (True, "C2")
    assert status["extended_hours"] == (False, "U")
    assert status["network_participation"] == (False, "X")


def test_core_funding_is_paid_from_july_with_april_to_july_catch_up(paper_lines):
    rules, lines = paper_lines
    core = [x for x in lines if x.pcn_code == "U51307" and x.stream == "core_pcn_funding"]
    payments = schedule(core, rules)
    first = payments[0]
    assert first.payment_month == dt.date(2019, 7, 1)
    assert [m.month for m in first.service_months] == [4, 5, 6, 7]
    assert first.amount == Decimal("24738.50")  # 4/12 of £74,215.50
    assert len(payments) == 9 and payments[-1].payment_month == dt.date(2020, 3, 1)
    assert sum(p.amount for p in payments) == Decimal("74215.50")
    cd = [x for x in lines if x.pcn_code == "U51307" and x.stream == "clinical_director"]
    cd_payments = schedule(cd, rules)
    assert cd_payments[0].service_months == [dt.date(2019, 7, 1)]
    assert sum(p.amount for p in cd_payments) == Decimal("25431.18")


def test_reconciliation_finds_where_the_table_is_inconsistent(paper_lines):
    """With one list per PCN (core / £1.50), every figure agrees except Marshall's extended hours
    and clinical director, which the reconciliation traces to a different list."""
    rules, lines = paper_lines
    found = reconcile(lines, read_statement(FIXTURES / "bhr_2019_20_paper.csv", rules), rules)
    disagree = {(e.pcn_code, e.stream): e for e in found if e.verdict != "agrees"}
    assert set(disagree) == {(MARSHALL, "extended_hours"), (MARSHALL, "clinical_director")}
    eh = disagree[(MARSHALL, "extended_hours")]
    assert eh.verdict == "inconsistent"
    assert eh.implied_population == Decimal("45614.00")
    assert "core_pcn_funding implies 48,242.00" in eh.explanation
    assert eh.difference == Decimal("50129.79") - Decimal("53017.96")


def test_reconciliation_names_the_official_rate(tmp_path):
    """Against the official rules, the paper's clinical director figures are explained by the
    rate: £0.514 was used where the DES says £0.51430."""
    rules = rules_for("2019/20")
    lists = tmp_path / "lists.csv"
    lists.write_text("pcn_code,registered,weighted\nU51307,49477,42502.6008\n")
    lines = entitlements(from_csv(lists, rules.start, rules.list_reference_date), rules)
    statement = tmp_path / "statement.csv"
    statement.write_text("pcn_code,stream,amount\nU51307,clinical_director,25431.18\n")
    (e,) = reconcile(lines, read_statement(statement, rules), rules)
    assert e.calculated == Decimal("25446.02") and e.verdict == "population"
    scenario = apply_scenario(rules, FIXTURES / "havering-paper-2019-20.yaml")
    (e,) = reconcile(lines, read_statement(statement, rules), rules, alternatives=scenario)
    assert e.verdict == "rate"
    assert "scenario 'Havering paper, July 2019' rate £0.514, not £0.51430" in e.explanation
