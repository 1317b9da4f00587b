"""2019/20 entitlements from the registry (ePCN December 2019 membership, lists at 1 January
2019) against the Havering paper's table, for the BHR demo extract and for all England."""

import csv
import datetime as dt
import shutil
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import load
from pcnkit.demo import demo_data
from pcnkit.funding import ledger
from pcnkit.funding.entitlements import Total, entitlements, total
from pcnkit.funding.populations import from_registry
from pcnkit.funding.reconcile import as_at, as_at_totals, read_statement, reconcile
from pcnkit.funding.rules import STATUS_WORDS, apply_scenario, rules_for
from pcnkit.funding.schedule import by_month, monthly, schedule
from pcnkit.funding.summary import GroupTotal, by_pcn, group_totals, unconfirmed
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
        pops = from_registry(s, RULES, area)
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


# --- the library functions every shell (CLI, web, demo) builds its rows from ----------------


@pytest.fixture(scope="module")
def bhr_paid(tmp_path_factory):
    """BHR's registry with 2019/20 paid through July 2019 (the first core funding payment)."""
    folder = tmp_path_factory.mktemp("bhr-paid")
    ws = open_workspace(folder, url=f"sqlite:///{folder / 'pcnkit.db'}")
    load(ws, demo_data())
    pops, lines = bhr_lines(ws)
    with ws.transaction() as s:
        ledger.run_month(s, RULES, lines, dt.date(2019, 7, 1), "test")
    yield ws, pops, lines
    ws.dispose()


def test_from_registry_reads_the_year_and_lists_date_its_rules_name(bhr_paid):
    ws, pops, _ = bhr_paid
    assert (pops.year_start, pops.reference_date) == (RULES.start, RULES.list_reference_date)
    with ws.sessions() as s:
        south = from_registry(s, RULES, "U00367")
        everyone = from_registry(s, RULES)
    assert south.pcn_codes() == ["U00367"]
    assert "U00367" in pops.pcn_codes() and len(pops.pcn_codes()) == 15
    assert set(everyone.pcn_codes()) >= set(pops.pcn_codes())
    # April to September are paid on the membership of 1 October 2019 (`membership_from`)
    april, october = dt.date(2019, 4, 1), dt.date(2019, 10, 1)
    assert RULES.membership_from == october
    assert south.members[april] == south.members[october]


def test_unconfirmed_names_each_unconfirmed_stream_once(bhr_paid):
    _, _, lines = bhr_paid
    found = unconfirmed(lines)
    expected = {(x.stream, x.stream_name, x.status) for x in lines if not x.confirmed}
    assert expected, "2019/20 has streams public sources do not confirm"
    assert [(u.stream, u.name, u.status) for u in found] == sorted(expected)
    assert all(u.words == STATUS_WORDS[u.status] for u in found)
    assert unconfirmed([x for x in lines if x.confirmed]) == []


def test_group_totals_add_each_group_by_stream(bhr_paid):
    _, _, lines = bhr_paid
    groups = group_totals(lines, by_pcn)
    assert list(groups) == list(dict.fromkeys(x.pcn_code for x in lines))  # first met first
    south = groups["U00367"]
    core = [x.amount for x in lines if x.pcn_code == "U00367" and x.stream == "core_pcn_funding"]
    assert south.stream("core_pcn_funding").amount == sum(core, Decimal(0))
    assert south.stream("no_such_stream") == Total(Decimal(0))
    assert south.total == total([x for x in lines if x.pcn_code == "U00367"])
    assert south.pcns == {"U00367"}
    assert sum((g.total.amount for g in groups.values()), Decimal(0)) == total(lines).amount
    # a stream whose input is not loaded adds nothing known, and the total says it is missing
    dead = GroupTotal(
        [replace(x, amount=None) if x.stream == "core_pcn_funding" else x for x in south.lines]
    )
    assert "core_pcn_funding" not in dead.known()
    assert dead.known()["clinical_director"] == south.known()["clinical_director"]
    assert dead.stream("core_pcn_funding").amount is None and not dead.total.complete


def test_monthly_gives_each_payment_month_and_the_service_months_it_covers(bhr_paid):
    _, _, lines = bhr_paid
    payments = schedule(lines, RULES)
    months = monthly(payments)
    assert [(m.payment_month, m.amount) for m in months] == list(by_month(payments).items())
    july = next(m for m in months if m.payment_month == dt.date(2019, 7, 1))
    assert july.service_months == tuple(dt.date(2019, m, 1) for m in (4, 5, 6, 7))
    assert sum((m.amount for m in months), Decimal(0)) == sum(
        (p.amount for p in payments), Decimal(0)
    )


def test_lines_paid_are_an_organisations_ledger_lines_up_to_a_date(bhr_paid):
    ws, _, _ = bhr_paid
    with ws.sessions() as s:
        assert ledger.lines_paid(s, RULES.year, dt.date(2019, 6, 30), pcn_code="U00367") == []
        pcn = ledger.lines_paid(s, RULES.year, dt.date(2019, 7, 1), pcn_code="U00367")
        practice = ledger.lines_paid(s, RULES.year, dt.date(2019, 7, 1), practice_code="F82002")
        other_year = ledger.lines_paid(s, "2020/21", dt.date(2021, 1, 1), pcn_code="U00367")
    assert pcn and all("U00367" in (r["pcn_code"], r["payee_code"]) for r in pcn)
    assert {r["payment_month"] for r in pcn} == {dt.date(2019, 7, 1)}
    assert list(pcn[0]) == list(ledger.LINE_COLUMNS)
    assert practice and all("F82002" in (r["practice_code"], r["payee_code"]) for r in practice)
    assert {r["practice_code"] for r in practice} <= {r["practice_code"] for r in pcn}
    assert other_year == []


def test_as_at_totals_set_what_was_paid_against_what_was_due(bhr_paid):
    ws, _, lines = bhr_paid
    mine = [x for x in lines if x.pcn_code == "U00367"]
    with ws.sessions() as s:
        rows = as_at(s, mine, RULES, dt.date(2019, 7, 31))
    sums = as_at_totals(rows)
    assert sums.complete and sums.entitlement == total(mine).amount
    assert sums.due == sums.paid > 0  # July was paid exactly as scheduled
    assert sums.outstanding == sums.entitlement - sums.paid
    # a row that cannot be calculated leaves the entitlement incomplete and owes nothing known
    unknown = replace(rows[0], entitlement=None)
    partial = as_at_totals([unknown, *rows[1:]])
    assert not partial.complete
    assert partial.entitlement == sums.entitlement - rows[0].entitlement
    assert partial.outstanding == sums.outstanding - rows[0].outstanding
    assert partial.paid == sums.paid


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
