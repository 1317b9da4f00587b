"""2019/20 entitlements from the registry (ePCN December 2019 membership, lists at 1 January
2019) against the Havering paper's table, for the BHR demo extract and for all England."""

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import load
from pcnkit.demo import demo_data
from pcnkit.funding.entitlements import entitlements
from pcnkit.funding.populations import from_registry
from pcnkit.funding.reconcile import read_statement, reconcile
from pcnkit.funding.rules import apply_scenario, rules_for

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "funding"
RULES = rules_for("2019/20")
# Practices moved between these PCNs between the July 2019 paper and ePCN December 2019;
# Havering Marshall's paper list includes Dr Joseph's surgery (F82639), which ePCN leaves out;
# and F82676 left B&D New West on 3 February 2020, so its share stops from March.
MOVED = {"U86966", "U55387", "U11211", "U50107", "U26744"}


def paper_core():
    with open(FIXTURES / "bhr_2019_20_paper.csv", newline="") as f:
        return {r["pcn_code"]: Decimal(r["core_pcn_funding"]) for r in csv.DictReader(f)}


def bhr_lines(ws, area="BHR"):
    with ws.sessions() as s:
        pops = from_registry(s, RULES.start, RULES.list_reference_date, area, RULES.membership_from)
    return pops, entitlements(pops, RULES)


def test_bhr_core_funding_within_1_percent_of_the_paper(sqlite_workspace):
    load(sqlite_workspace, demo_data())
    _, lines = bhr_lines(sqlite_workspace)
    mine = {}
    for x in lines:
        if x.stream == "core_pcn_funding":
            mine[x.pcn_code] = mine.get(x.pcn_code, Decimal(0)) + x.amount
    paper = paper_core()
    assert set(mine) == set(paper)
    close = {c for c in paper if abs(mine[c] - paper[c]) / paper[c] < Decimal("0.01")}
    assert close == set(paper) - MOVED
    assert max(abs(mine[c] - paper[c]) / paper[c] for c in close) < Decimal("0.001")


def test_the_moved_pcns_are_explained_by_their_lists(sqlite_workspace):
    load(sqlite_workspace, demo_data())
    _, lines = bhr_lines(sqlite_workspace)
    scenario = apply_scenario(RULES, FIXTURES / "havering-paper-2019-20.yaml")
    found = reconcile(
        lines, read_statement(FIXTURES / "bhr_2019_20_paper.csv", RULES), RULES, scenario
    )
    core = {e.pcn_code: e for e in found if e.stream == "core_pcn_funding"}
    marshall = core["U50107"]
    assert marshall.implied_population == Decimal("48242.00")
    assert "pcnkit used 45,600.00" in marshall.explanation
    cd = next(e for e in found if e.pcn_code == "U51307" and e.stream == "clinical_director")
    assert "rate £0.514, not £0.51430" in cd.explanation


def test_a_practice_leaving_moves_its_share_from_the_next_month(sqlite_workspace):
    load(sqlite_workspace, demo_data())
    pops, lines = bhr_lines(sqlite_workspace)
    new_west = [x for x in lines if x.pcn_code == "U26744" and x.stream == "core_pcn_funding"]
    assert len(new_west) == 2  # membership changed during the year
    first, second = sorted(new_west, key=lambda x: x.first_month)
    assert first.first_month == dt.date(2019, 4, 1)
    assert second.first_month == dt.date(
        first.last_month.year + first.last_month.month // 12, first.last_month.month % 12 + 1, 1
    )
    assert first.population > second.population
    left = set(pops.members[first.last_month]["U26744"]) - set(
        pops.members[second.first_month]["U26744"]
    )
    assert left == {"F82676"}


@pytest.mark.england
def test_all_england_2019_20(england):
    ws, _ = england
    _, lines = bhr_lines(ws, area=None)
    pcns = {x.pcn_code for x in lines}
    assert 1_240 <= len(pcns) <= 1_260
    core = sum(x.amount for x in lines if x.stream == "core_pcn_funding")
    # £1.50 x about 58.5 million patients in PCNs (QOF 2018/19 lists)
    assert Decimal("85000000") < core < Decimal("92000000")
    paper = paper_core()
    mine = {}
    for x in lines:
        if x.stream == "core_pcn_funding" and x.pcn_code in paper:
            mine[x.pcn_code] = mine.get(x.pcn_code, Decimal(0)) + x.amount
    close = {c for c in paper if abs(mine[c] - paper[c]) / paper[c] < Decimal("0.01")}
    assert close == set(paper) - MOVED
