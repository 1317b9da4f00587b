"""2019/20 entitlements from the registry (ePCN December 2019 membership, lists at 1 January
2019) against the Havering paper's table, for the BHR demo extract and for all England."""

import csv
import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import load
from pcnkit.demo import demo_data
from pcnkit.funding.entitlements import entitlements
from pcnkit.funding.populations import from_registry
from pcnkit.funding.reconcile import read_statement, reconcile
from pcnkit.funding.rules import apply_scenario, rules_for
from pcnkit.store import open_workspace

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "funding"
RULES = rules_for("2019/20")
# A practice (about 2,450 patients) moved from B&D West to B&D North between the July 2019
# paper and ePCN December 2019, and F82676 left B&D New West on 3 February 2020, so its share
# stops from March. (Havering Marshall and B&D East agree once the demo's recorded mergers of
# F82639 into F82009 and Y02583 into Y02575 count the absorbed lists.)
MOVED = {"U55387", "U11211", "U26744"}


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
    west = core["U11211"]
    assert west.implied_population == Decimal("43299.00")
    assert "pcnkit used 40,842.00" in west.explanation
    assert core["U50107"].verdict == "inconsistent"  # the paper's own Marshall columns disagree
    cd = next(e for e in found if e.pcn_code == "U51307" and e.stream == "clinical_director")
    assert "rate £0.514, not £0.51430" in cd.explanation


def test_a_merged_practice_list_counts_with_its_successor(sqlite_workspace):
    load(sqlite_workspace, demo_data())
    _, lines = bhr_lines(sqlite_workspace)
    npp = [x for x in lines if x.practice_code == "F82639"]
    assert npp and {x.payee_code for x in npp} == {"F82009"}
    core = next(x for x in lines if x.pcn_code == "U50107" and x.stream == "core_pcn_funding")
    assert core.population == Decimal("48232") and "taken on by F82009" in core.note


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
def test_all_england_2019_20(england, tmp_path):
    """England's files plus BHR's local definitions (where its mergers are recorded), loaded
    into a copy of the shared England workspace."""
    ws, _ = england
    copy = tmp_path / "england.db"
    shutil.copyfile(ws.path / "pcnkit.db", copy)
    ws = open_workspace(tmp_path, url=f"sqlite:///{copy}")
    load(ws, demo_data() / "bhr-definitions.yaml")
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
