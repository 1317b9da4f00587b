"""ARRS utilisation: actual PCN Workforce payments against the ARRS budget, per PCN, per ICS and
for England, with made-up payments and real PCNs' budgets.

The budgets are the published 2019/20 ones: £53,942.25 for a PCN under 100,000 patients (the
BHR paper's Cranbrook, 49,477 registered) and twice that, £107,884.50, for Havering South
(106,280 registered on the paper's practice slide). 2019/20 had no PCN Workforce payments
column; the payments here are invented to exercise the arithmetic.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from pcnkit.dates import months_between
from pcnkit.errors import InputError
from pcnkit.funding.census import RoleCount, RolesInPost
from pcnkit.funding.populations import Populations, PracticeLists
from pcnkit.funding.rules import parse_rules, rules_for
from pcnkit.funding.utilisation import (
    BUDGET_INCOMPLETE,
    BUDGET_UNKNOWN,
    NO_BUDGET,
    NO_RECORD,
    PAID_UNKNOWN,
    share,
    utilisation,
)
from pcnkit.provenance import Provenance

Y1920, Y2021 = dt.date(2019, 4, 1), dt.date(2020, 4, 1)
CRANBROOK, SOUTH, OTHER = "U51307", "U00367", "U99999"
SOUTH_LISTS = [14549, 3798, 3190, 2001, 6288, 8448, 11824, 3776, 4522, 6909]
SOUTH_LISTS += [5058, 5191, 4264, 5155, 4653, 4230, 12424]  # 17 practices, 106,280


def populations(start: dt.date, pcns: dict[str, list[tuple]]) -> Populations:
    """PCN -> [(registered, weighted)] per practice, the same members all year."""
    practices, members = {}, {}
    for pcn, lists in pcns.items():
        members[pcn] = []
        for i, (registered, weighted) in enumerate(lists):
            code = f"{pcn}{i:02d}"
            p = PracticeLists(code, code)
            for measure, value in (("registered", registered), ("weighted", weighted)):
                if value is not None:
                    p.values[measure] = D(str(value))
                    p.dates[measure] = dt.date(start.year, 1, 1)
                    p.sources[measure] = Provenance("test", 1)
            practices[code] = p
            members[pcn].append(code)
    months = months_between(start, dt.date(start.year + 1, 3, 1))
    return Populations(
        start,
        dt.date(start.year, 1, 1),
        {p: f"{p} PCN" for p in pcns},
        practices,
        {m: {p: list(c) for p, c in members.items()} for m in months},
        origin="test populations",
    )


@pytest.fixture
def bhr():
    pops = populations(
        Y1920,
        {
            CRANBROOK: [(49477, None)],
            SOUTH: [(n, None) for n in SOUTH_LISTS],
            OTHER: [(30000, None)],
        },
    )
    return rules_for("2019/20"), pops


def test_a_real_pcns_budget_against_a_made_up_payment(bhr):
    rules, pops = bhr
    found = utilisation(rules, pops, {CRANBROOK: D("40456.69"), SOUTH: D("107884.50")})
    by = {p.pcn_code: p for p in found.pcns}
    c = by[CRANBROOK]
    assert c.budget == D("53942.25")  # (37,810 + 34,113) x 9/12, [S6] "£53,942"
    assert c.paid == D("40456.69") and c.used == D("0.7500")
    assert c.unclaimed == D("13485.56") and c.over == 0 and c.reason is None
    s = by[SOUTH]
    assert s.budget == D("107884.50") and s.used == D("1.0000") and s.unclaimed == 0
    assert c.confirmed and s.confirmed and c.status == "C2"
    row = c.as_row()
    assert row["budget"] == D("53942.25") and row["used"] == D("0.7500")
    assert row["unclaimed"] == D("13485.56") and row["reason"] == ""


def test_an_unknown_payment_cannot_be_calculated_never_zero_percent(bhr):
    rules, pops = bhr
    found = utilisation(
        rules,
        pops,
        {CRANBROOK: None, SOUTH: D("0")},
        paid_reasons={CRANBROOK: "no practice received its network payments in 2019/20"},
    )
    by = {p.pcn_code: p for p in found.pcns}
    c = by[CRANBROOK]
    assert c.used is None and c.unclaimed is None and c.paid is None
    assert c.left_out == PAID_UNKNOWN
    assert c.reason == f"{PAID_UNKNOWN}: no practice received its network payments in 2019/20"
    assert c.budget == D("53942.25")  # the budget is still shown
    # a PCN paid nothing at all did use 0%: a known zero is not an unknown
    assert by[SOUTH].used == 0 and by[SOUTH].unclaimed == D("107884.50")
    # OTHER is in the populations but no payment names it
    assert by[OTHER].left_out == NO_RECORD and by[OTHER].used is None
    n = found.national
    assert n.pcns == 1 and n.left_out == {PAID_UNKNOWN: 1, NO_RECORD: 1}
    assert n.budget == D("107884.50") and n.used == 0
    default = next(
        p for p in utilisation(rules, pops, {CRANBROOK: None}).pcns if p.pcn_code == CRANBROOK
    )
    assert "paid outside GP practices" in default.reason


def test_over_claims_floor_unclaimed_at_zero_and_are_flagged(bhr):
    rules, pops = bhr
    paid = {CRANBROOK: D("60000.00"), SOUTH: D("53942.25"), OTHER: D("0")}
    found = utilisation(rules, pops, paid)
    c = next(p for p in found.pcns if p.pcn_code == CRANBROOK)
    assert c.unclaimed == 0 and c.over == D("6057.75") and c.used == D("1.1123")
    assert any("paid £6,057.75 more than the calculated budget £53,942.25" in n for n in c.notes)
    n = found.national
    # one PCN's over-claim does not offset another's unclaimed money
    assert n.unclaimed == D("53942.25") + D("53942.25")
    assert n.over == D("6057.75") and n.over_claims == 1
    assert n.budget == D("53942.25") * 4 and n.paid == D("113942.25")
    assert n.used == share(D("113942.25"), D("215769.00")) == D("0.5281")


def test_ics_sums_and_the_national_total(bhr):
    rules, pops = bhr
    paid = {CRANBROOK: D("26971.13"), SOUTH: D("80913.38"), OTHER: None}
    groups = {CRANBROOK: "QMF", SOUTH: "QMF", OTHER: "QWE"}
    found = utilisation(rules, pops, paid, groups=groups, group_names={"QMF": "North East London"})
    qmf, qwe = found.groups["QMF"], found.groups["QWE"]
    assert qmf.name == "North East London" and qmf.pcns == 2
    assert qmf.budget == D("161826.75") and qmf.paid == D("107884.51")
    assert qmf.unclaimed == D("53942.24") and qmf.used == D("0.6667")
    assert qwe.pcns == 0 and qwe.used is None and qwe.left_out == {PAID_UNKNOWN: 1}
    n = found.national
    assert (n.code, n.pcns, n.budget, n.paid) == ("ENG", 2, qmf.budget, qmf.paid)
    assert n.left_out_total == 1
    assert found.confirmed and found.status == "C2"


def test_a_pcn_paid_but_not_in_the_populations(bhr):
    rules, pops = bhr
    found = utilisation(rules, pops, {"U12345": D("1000")})
    stray = next(p for p in found.pcns if p.pcn_code == "U12345")
    assert stray.budget is None and stray.used is None and stray.left_out == NO_BUDGET
    assert stray.paid == D("1000") and not stray.confirmed


RULES_2020_21 = """
year: 2020/21
version: 1
authored_by: a test
reviewed: {date: 2026-11-23, by: another test}
next_review: 2027-04-01
list_reference_date: 2020-01-01
streams: []
arrs:
  method: per_weighted_patient
  %s
  payment_lag: 1
  status: S
  source: "[S12]"
  note: "one secondary source"
  roles:
    - {id: clinical_pharmacist, name: Clinical pharmacist, reimbursement_rate: "1.00",
       max_per_wte: "55670", status: C2, source: "[S4], [S16]"}
"""


def test_unconfirmed_budget_is_labelled_and_unknown_budget_left_out():
    pops = populations(Y2021, {"P1": [(40000, "42502.60")], "P2": [(1000, None)]})
    rules = parse_rules(RULES_2020_21 % 'rate_per_weighted_patient: "7.131"', "inline")
    found = utilisation(rules, pops, {"P1": D("151543.02"), "P2": D("100")})
    p1, p2 = found.pcns
    assert p1.budget == D("303086.04") and p1.used == D("0.5000")  # 7.131 x 42,502.60
    assert not p1.confirmed and p1.status == "S" and not found.confirmed
    assert any("budget not confirmed" in n for n in p1.notes) and found.note
    assert p2.left_out == BUDGET_INCOMPLETE and "no weighted list for P200" in p2.reason
    unknown = parse_rules((RULES_2020_21 % "").replace("status: S", "status: U"), "inline")
    none = utilisation(unknown, pops, {"P1": D("1")}).pcns[0]
    assert none.budget is None and none.left_out == BUDGET_UNKNOWN and none.used is None


def test_roles_in_post_sit_beside_each_pcn(bhr):
    rules, pops = bhr
    census = RolesInPost(CRANBROOK, "Cranbrook", dt.date(2020, 3, 31), "QMF", "NEL", "f", 2)
    census.roles["Pharmacist"] = RoleCount("Pharmacist", "clinical_pharmacist", 1, 0, D("0.8"))
    census.roles["Manager"] = RoleCount("Manager", None, 1, 0, D("1"))
    found = utilisation(
        rules, pops, {CRANBROOK: D("1"), SOUTH: D("2")}, in_post={CRANBROOK: census}
    )
    by = {p.pcn_code: p for p in found.pcns}
    row = by[CRANBROOK].as_row()
    assert row["arrs_fte_in_post"] == D("0.8") and row["census_date"] == dt.date(2020, 3, 31)
    assert row["ics"] == "QMF"  # from the census when no registry grouping is given
    assert any("not in the workforce census" in n for n in by[SOUTH].notes)
    assert found.national.arrs_fte == D("0.8") and found.national.in_census == 1
    assert found.census_note == "roles in post as at 31 March 2020, in 2019/20"
    later = utilisation(rules_for("2020/21"), pops, {}, in_post={CRANBROOK: census})
    assert later.census_note.endswith("outside 2020/21: compare with care")


def test_a_year_without_arrs_rules_is_a_located_error(bhr):
    _, pops = bhr
    rules = parse_rules(RULES_2020_21.split("arrs:")[0], "inline no arrs")
    with pytest.raises(InputError, match="has no ARRS rules"):
        utilisation(rules, pops, {})
