"""ARRS budgets and reimbursement, checked against the figures in our source documents.

The BHR (Barking & Dagenham, Havering, Redbridge) PCN paper of 24 July 2019
(../shared/seeds/003_349a549e38aa1b59.txt, "Funding to support Primary Care by PCN") prints a
Social Prescriber and a Clinical Pharmacist column for 15 PCNs, with borough totals. ARRS cannot
be changed by a scenario file (scenarios override streams only), so the paper's assumptions are
built here directly:

- Social prescriber £34,113.00 per PCN (£68,226 for Havering South, over 100,000 patients): a
  band 5 link worker whose annual cost equals the 2019/20 maximum £34,113, claimed for 12 months.
  The paper says the figures assume staff in post July 2019 - March 2020, but 9 months would give
  £25,584.75; the printed figure is the 12-month one.
- Clinical pharmacist "48,231": the borough totals (£241,153.50 for 5 posts, £289,384.20 for 6)
  show the unrounded figure is £48,230.70 = 70% x £91,868 x 9/12 (equally 70% x £68,901 x 12/12)
  with the national maximum NOT applied. With the maximum (£37,810 a year, already the 70%
  figure) the engine gives 9/12 of it, £28,357.50; the paper's figure exceeds even the full-year
  national maximum, which is why the paper overstates ARRS.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import pytest

from pcnkit.dates import months_between
from pcnkit.errors import InputError
from pcnkit.funding.arrs import (
    NO_STAFF,
    StaffMember,
    budget,
    every_pcn,
    read_staff_csv,
    reimbursement,
    schedule,
)
from pcnkit.funding.money import to_pence
from pcnkit.funding.populations import Populations, PracticeLists
from pcnkit.funding.rules import parse_rules, rules_file, rules_for
from pcnkit.provenance import Provenance

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
BHR_SEED = SEEDS / "003_349a549e38aa1b59.txt"

# The paper's table: PCN, PCN support (£1.50 per registered patient per year) and the other
# printed columns (extended hours, clinical director, practice participation), by borough.
# Registered list = PCN support / 1.50 (49,477 for Cranbrook, exactly).
BHR = {
    "Redbridge": [
        ("Cranbrook", "54,375.22", "25,431.18", "74,215.50", "74,847.08"),
        ("Fairlop", "68,207.24", "31,900.38", "93,094.50", "100,575.09"),
        ("Loxford", "68,013.81", "31,809.92", "92,830.50", "94,411.03"),
        ("Seven Kings", "80,534.72", "37,665.92", "109,920.00", "111,302.90"),
        ("Wanstead & Woodford", "88,501.37", "41,391.91", "120,793.50", "127,316.39"),
    ],
    "B&D": [
        ("East", "43,885.27", "20,525.05", "59,898.00", "63,515.47"),
        ("East One", "40,953.14", "19,153.70", "55,896.00", "63,165.74"),
        ("New West", "34,427.27", "16,101.56", "46,989.00", "49,684.49"),
        ("North", "47,491.09", "22,211.48", "64,819.50", "73,685.22"),
        ("North West", "36,052.70", "16,861.77", "49,207.50", "54,315.00"),
        ("West", "47,585.60", "22,255.69", "64,948.50", "69,479.92"),
    ],
    "Havering": [
        ("Havering Crest", "46,849.27", "21,911.31", "63,943.50", "73,487.11"),
        ("Marshall", "50,129.79", "23,445.60", "72,363.00", "81,337.88"),
        ("North", "91,430.21", "42,761.72", "124,791.00", "143,958.31"),
        ("South", "117,267.70", "54,845.86", "160,056.00", "181,727.94"),
    ],
}
# Borough total rows as printed: extended hours, clinical director, social prescriber, clinical
# pharmacist, PCN support, practice participation; then the borough's grand total.
BHR_TOTALS = {
    "Redbridge": (
        ("359,632.36", "168,199.30", "170,565.00", "241,153.50", "490,854.00", "508,452.49"),
        "1,938,856.65",
    ),
    "B&D": (
        ("250,395.06", "117,109.25", "204,678.00", "289,384.20", "341,758.50", "373,845.84"),
        "1,577,170.85",
    ),
    "Havering": (
        ("305,676.96", "142,964.47", "170,565.00", "241,153.50", "421,153.50", "480,511.24"),
        "1,762,024.67",
    ),
}
SP_TOTAL, CP_TOTAL = 2, 3  # positions in a borough total row
# Havering South's 17 practices and lists from the paper's "South Primary Care Network" slide.
SOUTH_PRACTICES = {
    "F82008": 14549, "F82624": 3798, "F82614": 3190, "F82619": 2001, "F82002": 6288,
    "F82028": 8448, "F82006": 11824, "F82033": 3776, "F82609": 4522, "F82055": 6909,
    "F82607": 5058, "F82627": 5191, "F82666": 4264, "F82674": 5155, "F82649": 4653,
    "F82053": 4230, "F82022": 12424,
}  # fmt: skip

Y1920 = dt.date(2019, 4, 1)
Y2021 = dt.date(2020, 4, 1)
JUL19 = dt.date(2019, 7, 1)


def d(text: str) -> D:
    return D(text.replace(",", ""))


def code(name: str) -> str:
    return "".join(ch for ch in name.upper() if ch.isalnum())[:12]


def populations(year_start: dt.date, pcns: dict[str, dict[str, tuple]]) -> Populations:
    """PCN -> practice -> (registered, weighted); the same members every month of the year."""
    practices, members = {}, {}
    for pcn, lists in pcns.items():
        members[pcn] = list(lists)
        for practice, (registered, weighted) in lists.items():
            p = PracticeLists(practice, practice)
            for measure, value in (("registered", registered), ("weighted", weighted)):
                if value is not None:
                    p.values[measure] = D(str(value))
                    p.dates[measure] = dt.date(year_start.year, 1, 1)
                    p.sources[measure] = Provenance("test", 1)
            practices[practice] = p
    months = months_between(year_start, dt.date(year_start.year + 1, 3, 1))
    return Populations(
        year_start,
        dt.date(year_start.year, 1, 1),
        {p: p for p in pcns},
        practices,
        {m: {p: list(c) for p, c in members.items()} for m in months},
        origin="test populations",
    )


def bhr_populations() -> Populations:
    pcns = {}
    for borough, rows in BHR.items():
        for name, *_, support, _npp in rows:
            pcn = code(f"{borough[:3]}{name}")
            pcns[pcn] = {pcn + "P": (d(support) / D("1.50"), None)}
    return populations(Y1920, pcns)


def one_pcn(registered=49477, weighted="42502.60", year=Y1920, pcn="P1") -> Populations:
    return populations(year, {pcn: {pcn + "A": (registered, weighted)}})


def member(role, cost, start=JUL19, end=None, wte="1", pcn="P1", **kw) -> StaffMember:
    return StaffMember(pcn, role, D(wte), start, end, D(str(cost)), **kw)


CP, SPLW = "clinical_pharmacist", "social_prescribing_link_worker"


# --- the source document --------------------------------------------------------------------


def test_bhr_figures_copied_from_the_seed_document():
    """The tables above are the paper's (skipped when ../shared is not beside the repo)."""
    if not BHR_SEED.is_file():
        pytest.skip(f"{BHR_SEED} is not available")
    text = BHR_SEED.read_text(encoding="utf-8")
    for rows in BHR.values():
        for name, hours, director, support, npp in rows:
            sp = "68,226.00" if name == "South" else "34,113.00"
            cp = "96,461" if name == "South" else "48,231"
            assert f"{name}\t{hours}\t{director}\t{sp}\t{cp}\t{support}\t{npp}" in text
    for borough, (row, grand) in BHR_TOTALS.items():
        assert f"{borough} Total\t" + "\t".join(f"£{v}" for v in row) in text
        assert f"£{grand}" in text
    assert "Social Prescriber Based on Band 5 19/20 Salary" in text
    assert "Clinical Pharmacist based on 70% reimbursement" in text
    assert "in post from July 2019 – March 2020" in text
    for practice, size in SOUTH_PRACTICES.items():
        assert f"{practice}\t" in text and f"\t{size}\n" in text


# --- budgets ---------------------------------------------------------------------------------


def test_2019_20_budget_for_a_pcn_under_100k_is_53942_25():
    b = budget(rules_for("2019/20"), "P1", one_pcn(49477))
    assert b.amount == D("53942.25")  # Practice Index [S6]: "£53,942"
    assert b.months == 9 and b.first_month == JUL19 and b.last_month == dt.date(2020, 3, 1)
    assert b.role_limits == {CP: 1, SPLW: 1}
    assert "37,810" in b.formula and "34,113" in b.formula and "9/12" in b.formula
    assert b.rule_id == "2019/20/arrs" and b.confirmed
    assert b.population == 49477 and b.population_basis == "registered"


def test_2019_20_budget_doubles_for_havering_south_over_100k():
    pops = populations(Y1920, {"SOUTH": {c: (n, None) for c, n in SOUTH_PRACTICES.items()}})
    b = budget(rules_for("2019/20"), "SOUTH", pops)
    assert b.population == 106280  # the paper's "List size: 106,280"
    assert b.amount == 2 * D("53942.25") == D("107884.50")
    assert b.role_limits == {CP: 2, SPLW: 2}
    assert "two of each" in b.formula
    # exactly 100,000 is not "over 100k", and a quoted threshold is read as a number
    assert budget(rules_for("2019/20"), "P1", one_pcn(100000)).amount == D("53942.25")
    quoted = rules_for("2019/20")
    quoted = replace(quoted, arrs=replace(quoted.arrs, double_above="100000"))
    assert budget(quoted, "P1", one_pcn(100001)).amount == D("107884.50")


def test_budget_for_an_unknown_pcn_is_a_located_error():
    with pytest.raises(InputError, match="NOPE has no member practices"):
        budget(rules_for("2019/20"), "NOPE", one_pcn())


# --- the BHR paper, column by column ---------------------------------------------------------


def paper_rules(months: int = 12, cp_cap: bool = True):
    """2019/20 rules bent to the paper's assumptions: the scheme's months, and optionally no
    national clinical pharmacist maximum."""
    rules = rules_for("2019/20")
    arrs = replace(rules.arrs, start=months_between(Y1920, dt.date(2020, 3, 1))[12 - months])
    if not cp_cap:
        roles = dict(arrs.roles)
        roles[CP] = replace(roles[CP], max_per_wte=None)
        arrs = replace(arrs, roles=roles)
    return replace(rules, arrs=arrs)


def bhr_staff(role: str, cost: str, start: dt.date) -> list[StaffMember]:
    """One post of `role` in every PCN, two in Havering South (over 100,000)."""
    staff = []
    for borough, rows in BHR.items():
        for name, *_ in rows:
            pcn = code(f"{borough[:3]}{name}")
            for n in range(2 if name == "South" else 1):
                staff.append(member(role, cost, start, pcn=pcn, name=f"{name} {n + 1}"))
    return staff


def bhr_column(rules, staff) -> dict[str, dict[str, D]]:
    pops = bhr_populations()
    out: dict[str, dict[str, D]] = {}
    for borough, rows in BHR.items():
        for name, *_ in rows:
            pcn = code(f"{borough[:3]}{name}")
            out.setdefault(borough, {})[name] = reimbursement(rules, staff, pcn, pops).total
    return out


def test_paper_social_prescriber_is_the_12_month_maximum_not_9():
    honest = bhr_column(rules_for("2019/20"), bhr_staff(SPLW, "34113", JUL19))
    assert honest["Redbridge"]["Cranbrook"] == D("25584.75")  # 34,113 x 9/12
    assert honest["Havering"]["South"] == D("51169.50")

    paper = bhr_column(paper_rules(months=12), bhr_staff(SPLW, "34113", Y1920))
    for borough, rows in paper.items():
        for name, total in rows.items():
            assert total == (D("68226.00") if name == "South" else D("34113.00")), name
        assert sum(rows.values()) == d(BHR_TOTALS[borough][0][SP_TOTAL])


def test_paper_clinical_pharmacist_exceeds_the_national_maximum():
    # 48,230.70 (the borough totals' precision) = 70% x 91,868 x 9/12 with no national cap
    assert D("0.70") * D("91868") * 9 / 12 == D("48230.70") == D("0.70") * D("68901")
    uncapped = bhr_column(paper_rules(months=9, cp_cap=False), bhr_staff(CP, "91868", JUL19))
    for borough, rows in uncapped.items():
        for name, total in rows.items():
            assert total == (D("96461.40") if name == "South" else D("48230.70")), name
        assert sum(rows.values()) == d(BHR_TOTALS[borough][0][CP_TOTAL])
    # the same figure as 12 months of a £68,901 post
    twelve = bhr_column(paper_rules(months=12, cp_cap=False), bhr_staff(CP, "68901", Y1920))
    assert twelve["Redbridge"]["Cranbrook"] == D("48230.70")

    # with the national maximum the engine gives 9/12 of £37,810, the 70% figure
    capped = reimbursement(rules_for("2019/20"), [member(CP, "91868")], "P1", one_pcn()).lines[0]
    assert capped.claimable == D("28357.50") and capped.capped
    assert capped.cap == D("37810") * 9 / 12
    assert capped.formula.startswith("min(70% x £91,868/12, £37,810 x 1 WTE/12) x 9 months")
    assert "capped at the 2019/20 maximum £37,810.00" in capped.note
    # the reconciliation point: the paper's 9-month figure exceeds the full-year maximum
    assert D("48230.70") > D("37810") > capped.claimable


def test_paper_grand_totals_use_the_unrounded_pharmacist_figure():
    """Each borough's grand total is the sum of its total row, whose pharmacist cell is
    £48,230.70 a post; the displayed 48,231 would not add up. (The rows are displayed rounded:
    Redbridge's clinical director cells add to 168,199.31 against a printed 168,199.30.)"""
    cp = bhr_column(paper_rules(months=9, cp_cap=False), bhr_staff(CP, "91868", JUL19))
    for borough, (row, grand) in BHR_TOTALS.items():
        assert sum(d(v) for v in row) == d(grand), borough
        posts = len(BHR[borough]) + (borough == "Havering")  # South has two
        assert sum(cp[borough].values()) == posts * D("48230.70") == d(row[CP_TOTAL])
        assert posts * 48231 != d(row[CP_TOTAL])


# --- reimbursement rules ----------------------------------------------------------------------


def test_2019_20_pharmacist_maximum_caps_the_70_percent_not_the_cost():
    rules = rules_for("2019/20")
    line = reimbursement(rules, [member(CP, "50000")], "P1", one_pcn()).lines[0]
    # 70% x 50,000 x 9/12, under the 37,810 x 9/12 cap; capping the cost first would give 19,850
    assert line.claimable == D("26250.00") and not line.capped
    assert line.reimbursement_rate == D("0.70") and line.max_per_wte == D("37810")
    assert line.rule_id == "2019/20/arrs/clinical_pharmacist" and line.confirmed
    assert line.source == rules.arrs.roles[CP].source
    part_time = reimbursement(rules, [member(CP, "40000", wte="0.5")], "P1", one_pcn())
    # 70% x 40,000 = 28,000 a year > 37,810 x 0.5 = 18,905: capped at the WTE share
    assert part_time.lines[0].claimable == to_pence(D("18905") * 9 / 12) == D("14178.75")
    assert part_time.lines[0].capped


def test_headroom_is_the_budget_the_pcn_loses_if_it_does_not_recruit():
    rules = rules_for("2019/20")
    result = reimbursement(rules, [member(SPLW, "34113")], "P1", one_pcn())
    assert result.total == D("25584.75")
    assert result.budget.amount == D("53942.25")
    assert result.headroom == D("28357.50")  # the unfilled pharmacist post
    nobody = reimbursement(rules, [], "P1", one_pcn())
    assert nobody.total == 0 and nobody.headroom == D("53942.25")
    assert nobody.schedule() == []


def test_2019_20_role_limit_one_post_under_100k_two_over():
    rules = rules_for("2019/20")
    staff = [
        member(SPLW, "34113", name="first"),
        member(SPLW, "34113", start=dt.date(2019, 8, 1), name="second"),
    ]
    result = reimbursement(rules, staff, "P1", one_pcn())
    first, second = result.lines
    assert first.claimable == D("25584.75") and not first.wte_limited
    assert second.claimable == 0 and second.wte_limited
    assert "limit of 1 WTE" in second.note
    assert result.total <= result.budget.amount

    big = one_pcn(registered=106704)  # Havering South in the funding table
    three = [*staff, member(SPLW, "34113", start=dt.date(2019, 9, 1), name="third")]
    lines = reimbursement(rules, three, "P1", big).lines
    assert [line.claimable for line in lines] == [D("25584.75"), D("22742.00"), D("0.00")]
    assert [line.wte_limited for line in lines] == [False, False, True]


def test_role_limit_is_in_wte_and_earlier_starters_claim_first():
    rules = rules_for("2019/20")
    staff = [
        member(SPLW, "20000", wte="0.6", start=dt.date(2019, 9, 1), name="later"),
        member(SPLW, "20000", wte="0.6", name="earlier"),
    ]
    later, earlier = reimbursement(rules, staff, "P1", one_pcn()).lines
    assert earlier.claimable == D("15000.00") and not earlier.wte_limited
    # 0.4 of 0.6 WTE from September: 20,000 x 2/3 x 7/12
    assert later.exact.quantize(D("0.01")) == D("7777.78") and later.wte_limited


def test_months_are_counted_when_in_post_on_the_first():
    rules = rules_for("2019/20")
    pops = one_pcn()
    cases = [
        (dt.date(2019, 7, 1), None, 9),
        (dt.date(2019, 7, 2), None, 8),  # starts after 1 July: claimed from August
        (dt.date(2019, 4, 1), None, 9),  # in post before the scheme: only its months
        (dt.date(2019, 7, 1), dt.date(2020, 1, 15), 7),  # in post on 1 January: January counts
        (dt.date(2019, 7, 1), dt.date(2019, 12, 31), 6),
        (dt.date(2019, 1, 1), dt.date(2019, 6, 30), 0),  # left before the scheme began
        (dt.date(2020, 4, 1), None, 0),
    ]
    for start, end, months in cases:
        line = reimbursement(rules, [member(SPLW, "24000", start, end)], "P1", pops).lines[0]
        assert line.months == months, (start, end)
        assert line.claimable == D(2000 * months), (start, end)
        assert line.cost == D(2000 * months)
    empty = reimbursement(rules, [member(SPLW, "24000", dt.date(2020, 4, 1))], "P1", pops)
    assert "not in post" in empty.lines[0].note and empty.lines[0].first_month is None


def test_payment_schedule_lags_a_month_and_adds_up_exactly():
    rules = rules_for("2019/20")
    staff = [member(CP, "91868"), member(SPLW, "30000", start=dt.date(2019, 10, 1))]
    result = reimbursement(rules, staff, "P1", one_pcn())
    payments = schedule(result)
    assert payments == result.schedule()
    assert sum(p.amount for p in payments) == result.total == D("28357.50") + D("15000.00")
    first = payments[0]
    assert (first.service_months, first.payment_month) == ([JUL19], dt.date(2019, 8, 1))
    assert first.stream == CP and first.pcn_code == first.payee_code == "P1"
    assert all(p.payment_month.month == p.service_months[0].month % 12 + 1 for p in payments)
    assert payments[-1].payment_month == dt.date(2020, 4, 1)
    cp = [p.amount for p in payments if p.stream == CP]
    # 37,810 / 12 = 3,150.8333...: running totals give pennies that add up to the total
    assert len(cp) == 9 and set(cp) == {D("3150.83"), D("3150.84")}
    assert sum(cp) == D("28357.50")
    for line in result.lines:
        assert sum(line.monthly.values()) == line.claimable


def test_planned_recruits_are_reported_separately():
    rules = rules_for("2019/20")
    staff = [
        member(SPLW, "34113"),
        member(CP, "60000", start=dt.date(2019, 10, 1), planned=True, name="to recruit"),
    ]
    without = reimbursement(rules, staff, "P1", one_pcn())
    assert without.total == D("25584.75") and without.planned is None
    assert [line.role for line in without.lines] == [SPLW]
    assert any("1 planned recruit" in n for n in without.notes)

    result = reimbursement(rules, staff, "P1", one_pcn(), include_planned=True)
    assert result.total == without.total and result.headroom == D("28357.50")
    assert [line.name for line in result.planned.lines] == ["to recruit"]
    assert result.planned.adds == D("37810") * 6 / 12 == D("18905.00")
    assert result.planned.total == D("44489.75")
    assert result.planned.headroom == D("9452.50")
    assert sum(p.amount for p in result.schedule()) == result.total


def test_a_planned_recruit_does_not_displace_staff_in_post_from_the_role_limit():
    rules = rules_for("2019/20")
    staff = [
        member(SPLW, "34113", start=dt.date(2019, 4, 1), planned=True, name="planned"),
        member(SPLW, "34113", start=dt.date(2019, 7, 1), name="in post"),
    ]
    result = reimbursement(rules, staff, "P1", one_pcn(), include_planned=True)
    assert result.total == D("25584.75")
    assert result.planned.adds == 0 and result.planned.lines[0].wte_limited


def test_unknown_role_names_it_and_lists_the_years_roles():
    staff = [member("physician_associate", "40000", row=3, file="staff.csv")]
    with pytest.raises(InputError) as err:
        reimbursement(rules_for("2019/20"), staff, "P1", one_pcn())
    e = err.value
    assert e.file == "staff.csv" and e.row == 3 and e.column == "role"
    assert "'physician_associate' is not an ARRS role in 2019/20" in e.problem
    assert CP in e.action and SPLW in e.action
    # another PCN's staff are not this PCN's business
    assert reimbursement(rules_for("2019/20"), staff, "P2", one_pcn(pcn="P2")).total == 0


def test_a_year_without_arrs_rules_is_reported():
    rules = replace(rules_for("2019/20"), arrs=None)
    with pytest.raises(InputError, match="has no ARRS rules"):
        reimbursement(rules, [], "P1", one_pcn())


# --- 2020/21: a weighted-population budget ---------------------------------------------------

INLINE_2020_21 = """
year: 2020/21
version: 1
authored_by: a test
reviewed: {date: 2026-11-23, by: another test}
next_review: 2027-04-01
list_reference_date: 2020-01-01
streams: []
arrs:
  method: per_weighted_patient
  rate_per_weighted_patient: "7.131"
  payment_lag: 1
  status: S
  source: "[S12]"
  roles:
    - {id: clinical_pharmacist, name: Clinical pharmacist, reimbursement_rate: "1.00",
       max_per_wte: "55670", status: C2, source: "[S4], [S16]"}
    - {id: social_prescribing_link_worker, name: Social prescribing link worker,
       reimbursement_rate: "1.00", max_per_wte: "35389", status: C, source: "[S17]"}
    - {id: care_coordinator, name: Care coordinator, reimbursement_rate: "1.00", status: U,
       source: "maximum not confirmed"}
"""


@pytest.fixture(params=["rules file", "inline"])
def rules_2020_21(request):
    """The 2020/21 rules file (when it exists) and the same figures written inline."""
    if request.param == "inline":
        return parse_rules(INLINE_2020_21, "inline 2020-21")
    if not rules_file("2020/21").is_file():
        pytest.skip("src/pcnkit/funding/rules/2020-21.yaml is not written yet")
    return rules_for("2020/21")


def test_2020_21_budget_is_rate_times_weighted_population(rules_2020_21):
    pops = one_pcn(weighted="42502.60", year=Y2021)
    b = budget(rules_2020_21, "P1", pops)
    assert b.amount == D("303086.04")  # 7.131 x 42,502.60 = 303,086.0406
    assert b.population == D("42502.60") and b.population_basis == "weighted"
    assert b.role_limits == {} and b.months == 12
    assert not b.confirmed  # £7.131 is from one secondary source
    assert b.rule_id == "2020/21/arrs" and "7.131" in b.formula and "12/12" in b.formula


def test_2020_21_total_is_capped_at_the_budget_in_month_order(rules_2020_21):
    pops = one_pcn(weighted="10000", year=Y2021)  # budget 71,310.00
    staff = [member(CP, "60000", dt.date(2020, 4, 1)), member(CP, "55670", dt.date(2020, 4, 1))]
    result = reimbursement(rules_2020_21, staff, "P1", pops)
    assert result.budget.amount == D("71310.00")
    assert result.budget_capped and result.total == D("71310.00") and result.headroom == 0
    payments = result.schedule()
    assert sum(p.amount for p in payments) == D("71310.00")
    # 2 x 55,670 / 12 = 9,278.33 a month: seven months fit, the eighth is cut, then nothing
    by_month: dict[dt.date, D] = {}
    for p in payments:
        (month,) = p.service_months
        by_month[month] = by_month.get(month, D(0)) + p.amount
    assert len(by_month) == 8 and by_month[dt.date(2020, 11, 1)] < D("9278.33")
    assert all(line.capped for line in result.lines[:1])  # 60,000 > 55,670
    assert sum(line.budget_cut for line in result.lines) + result.total == 2 * D("55670")


def test_2020_21_role_without_a_maximum_is_claimed_uncapped_and_unconfirmed(rules_2020_21):
    pops = one_pcn(weighted="42502.60", year=Y2021)
    staff = [member("care_coordinator", "24000", dt.date(2020, 4, 1))]
    result = reimbursement(rules_2020_21, staff, "P1", pops)
    line = result.lines[0]
    assert line.claimable == D("24000.00") and line.max_per_wte is None and not line.confirmed
    assert "no maximum configured" in line.note and not result.confirmed
    assert line.rule_id == "2020/21/arrs/care_coordinator"


# --- reading a staff list ---------------------------------------------------------------------

GOOD = """pcn_code,role,wte,start,end,annual_cost,name,planned
p1,Clinical pharmacist,1.0,2019-07-01,,"£54,014",Asha,
P1,social_prescribing_link_worker,0.8,01/08/2019,31/03/2020,27290,Ben,no
P1,clinical_pharmacist,0.5,20191101,,27000,,yes
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "staff.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_read_staff_csv(tmp_path):
    staff = read_staff_csv(write(tmp_path, GOOD))
    assert [s.role for s in staff] == [CP, SPLW, CP]
    a, b, c = staff
    assert a.pcn_code == "P1" and a.annual_cost == D("54014") and a.wte == D("1.0")
    assert a.end is None and a.name == "Asha" and not a.planned and a.row == 2
    assert b.start == dt.date(2019, 8, 1) and b.end == dt.date(2020, 3, 31)
    assert c.planned and c.start == dt.date(2019, 11, 1) and c.file.endswith("staff.csv")
    minimal = "pcn_code,role,wte,start,end,annual_cost\nP1,clinical_pharmacist,1,2019-07-01,,1\n"
    assert read_staff_csv(write(tmp_path, minimal))[0].name == ""


HEADER = "pcn_code,role,wte,start,end,annual_cost,name,planned\n"


@pytest.mark.parametrize(
    ("row", "column", "problem"),
    [
        ("P1,clinical_pharmacist,0,2019-07-01,,30000,,", "wte", "not a whole-time equivalent"),
        ("P1,clinical_pharmacist,2.5,2019-07-01,,30000,,", "wte", "not a whole-time equivalent"),
        ("P1,clinical_pharmacist,-1,2019-07-01,,30000,,", "wte", "not a whole-time equivalent"),
        ("P1,clinical_pharmacist,full,2019-07-01,,30000,,", "wte", "not a number"),
        ("P1,clinical_pharmacist,1,2019-07-01,,-5,,", "annual_cost", "is negative"),
        ("P1,clinical_pharmacist,1,2019-07-01,,lots,,", "annual_cost", "not a number"),
        ("P1,clinical_pharmacist,1,2019-07-01,2019-06-30,30000,,", "end", "before the start"),
        ("P1,clinical_pharmacist,1,July 2019,,30000,,", "start", "not a date"),
        ("P1,clinical_pharmacist,1,2019-07-01,2019-13-01,30000,,", "end", "month must be"),
        ("P1,clinical_pharmacist,1,,,30000,,", "start", "is blank"),
        ("P1,,1,2019-07-01,,30000,,", "role", "is blank"),
        ("P 1,clinical_pharmacist,1,2019-07-01,,30000,,", "pcn_code", "not a PCN code"),
        ("P1,clinical_pharmacist,1,2019-07-01,,30000,,maybe", "planned", "not yes or no"),
    ],
)
def test_read_staff_csv_bad_cells_are_located(tmp_path, row, column, problem):
    good = "P1,social_prescribing_link_worker,1,2019-07-01,,30000,,\n"
    with pytest.raises(InputError) as err:
        read_staff_csv(write(tmp_path, HEADER + good + row + "\n"))
    e = err.value
    assert e.file.endswith("staff.csv") and e.row == 3 and e.column == column
    assert problem in e.problem


def test_read_staff_csv_names_missing_columns(tmp_path):
    with pytest.raises(InputError) as err:
        read_staff_csv(write(tmp_path, "pcn_code,role,start\nP1,clinical_pharmacist,2019-07-01\n"))
    assert "'wte', 'end', 'annual_cost'" in err.value.problem
    assert "pcn_code,role,wte,start,end,annual_cost" in err.value.action


def test_read_staff_csv_truncated_row_is_located(tmp_path):
    with pytest.raises(InputError) as err:
        read_staff_csv(write(tmp_path, HEADER + "P1,clinical_pharmacist,1\n"))
    assert err.value.row == 2 and err.value.column == "start"


# --- every PCN, with or without staff recorded -----------------------------------------------


def test_every_pcn_without_a_roster_has_its_whole_budget_as_headroom():
    pops = populations(Y1920, {"P1": {"P1A": (49477, None)}, "P2": {"P2A": (120000, None)}})
    found = every_pcn(rules_for("2019/20"), pops, None)
    assert not found.roster and found.left_out == {}
    by = {r.pcn_code: r for r in found.results}
    assert set(by) == {"P1", "P2"}
    assert by["P1"].budget.amount == D("53942.25") and by["P1"].headroom == D("53942.25")
    assert by["P2"].headroom == D("107884.50")  # over 100,000: two of each
    for r in found.results:
        assert r.total == 0 and r.lines == [] and not r.staff_recorded
        assert r.staff_text == NO_STAFF and any("does not mean no staff" in n for n in r.notes)


def test_every_pcn_keeps_the_claims_of_pcns_with_staff():
    pops = populations(Y1920, {"P1": {"P1A": (49477, None)}, "P2": {"P2A": (30000, None)}})
    rules = rules_for("2019/20")
    staff = [member(SPLW, "34113"), member(CP, "91868")]
    found = every_pcn(rules, pops, staff)
    by = {r.pcn_code: r for r in found.results}
    alone = reimbursement(rules, staff, "P1", pops)
    assert by["P1"].total == alone.total == D("53942.25") and by["P1"].headroom == 0
    assert by["P1"].staff_recorded and by["P1"].staff_text == "2 posts recorded"
    assert by["P2"].total == 0 and by["P2"].headroom == D("53942.25")
    assert found.roster and not by["P2"].staff_recorded


def test_every_pcn_roster_pcn_outside_the_populations():
    pops = one_pcn()
    staff = [member(SPLW, "34113", pcn="ELSEWHERE")]
    with pytest.raises(InputError, match="ELSEWHERE has no member practices"):
        every_pcn(rules_for("2019/20"), pops, staff)
    found = every_pcn(rules_for("2019/20"), pops, staff, area_only=True)
    assert found.outside == 1 and [r.pcn_code for r in found.results] == ["P1"]
    assert found.results[0].headroom == D("53942.25")


def test_every_pcn_leaves_out_a_pcn_with_no_members_in_the_scheme_months():
    pops = one_pcn()
    # P9's only practice left before July 2019, when the 2019/20 scheme began
    pops.practices["P9A"] = pops.practices["P1A"]
    for month in pops.members:
        if month < JUL19:
            pops.members[month]["P9"] = ["P9A"]
    found = every_pcn(rules_for("2019/20"), pops)
    assert [r.pcn_code for r in found.results] == ["P1"]
    assert "no member practices between 2019-07 and 2020-03" in found.left_out["P9"]


def test_a_roster_with_only_a_header_is_a_roster_with_no_staff(tmp_path):
    path = write(tmp_path, HEADER)
    assert read_staff_csv(path) == []
    found = every_pcn(rules_for("2019/20"), one_pcn(), read_staff_csv(path))
    assert found.roster and found.results[0].headroom == D("53942.25")
    assert found.results[0].staff_text == NO_STAFF
