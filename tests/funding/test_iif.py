"""The IIF / CAIP what-if: indicators from the rules files with their sources, the linear scale
between thresholds, the patients needed to reach the upper threshold (checked on the published
personalised care adjustment example), and money that is never shown for unconfirmed inputs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from conftest import load
from pcnkit.demo import demo_data
from pcnkit.errors import BadValue
from pcnkit.funding.iif import iif_what_if, parse_pairs, patients_needed, points_earned
from pcnkit.funding.money import to_pence
from pcnkit.funding.pcn_population import pcn_population
from pcnkit.funding.populations import from_csv, from_registry
from pcnkit.funding.rules import STATUSES, rules_for
from pcnkit.store.db import open_workspace

PCN = "U00367"  # Havering South, in the BHR demo registry


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("iif")
    ws = open_workspace(folder, url=f"sqlite:///{folder / 'pcnkit.db'}")
    load(ws, demo_data())
    yield ws
    ws.dispose()


def _indicator(year: str, ind: str):
    return next(i for i in rules_for(year).iif.indicators if i.id == ind)


def test_2021_22_flu_indicators_as_published():
    # Pulse Intelligence's table; 40 + 88 + 14 = the 142 flu points of [S20]
    got = {i.id: (i.lower, i.upper, i.points) for i in rules_for("2021/22").iif.indicators}
    assert got == {
        "VI-01": (Decimal(80), Decimal(86), 40),
        "VI-02": (Decimal(57), Decimal(90), 88),
        "VI-03": (Decimal(45), Decimal(82), 14),
    }
    assert sum(p for *_, p in got.values()) == 142
    for i in rules_for("2021/22").iif.indicators:
        assert i.status == "S" and not i.confirmed and i.source


def test_years_without_sourced_indicators_encode_none():
    assert rules_for("2019/20").iif is None
    assert rules_for("2020/21").iif.indicators == ()
    assert rules_for("2023/24").iif.indicators == ()
    # 2022/23: thresholds found, points not; the point value is not confirmed
    r = rules_for("2022/23").iif
    assert r.point_value is None and all(i.points is None for i in r.indicators)
    # the list-size adjustment's national average is not in any source
    for year in ("2020/21", "2021/22", "2024/25", "2025/26"):
        size = rules_for(year).iif.list_size
        assert size.national_average_list is None and not STATUSES[size.status]


@pytest.mark.parametrize(
    "achieved, points",
    [("70", 0), ("80", 0), ("83", 20), ("85.7", 38), ("86", 40), ("99", 40)],
)
def test_points_are_linear_between_the_thresholds(achieved, points):
    assert points_earned(_indicator("2021/22", "VI-01"), Decimal(achieved)) == Decimal(points)


def test_patients_needed_on_the_published_personalised_care_example():
    # Pulse Intelligence: 1,000 patients aged 65+, 600 vaccinated, 200 removed by personalised
    # care adjustments -> achievement 75% (600 / 800). Reaching VI-01's 86% takes 688 of 800.
    assert patients_needed(Decimal(86), Decimal(75), 800) == 88
    assert patients_needed(Decimal(86), Decimal(86), 800) == 0
    assert patients_needed(Decimal(86), Decimal(90), 800) == 0
    # a fractional target is rounded up: 86% of 801 is 688.86 -> 689 patients
    assert patients_needed(Decimal(86), Decimal(0), 801) == 689


def test_money_at_stake_and_earned_for_a_real_pcn(demo_ws):
    rules = rules_for("2021/22")
    with demo_ws.sessions() as session:
        pops = from_registry(session, rules)
    registered = pcn_population(pops, PCN, "registered", rules.start).value
    avg = Decimal(52000)
    result = iif_what_if(
        pops, rules, PCN, {"VI-01": Decimal(83)}, {"VI-01": 6000}, {"VI-02": Decimal("1.2")}, avg
    )
    size = registered / avg
    assert not result.list_size.estimate and result.list_size.value == size
    by_id = {i.indicator.id: i for i in result.indicators}
    assert by_id["VI-01"].at_stake == to_pence(40 * Decimal(200) * size)
    assert by_id["VI-01"].earned == to_pence(20 * Decimal(200) * size)
    assert by_id["VI-01"].needed == 180  # 86% of 6,000 = 5,160 less 83% = 4,980
    assert by_id["VI-02"].at_stake == to_pence(88 * Decimal(200) * size * Decimal("1.2"))
    assert by_id["VI-03"].prevalence.estimate  # assumed 1, labelled
    assert result.total_at_stake == sum(i.at_stake for i in result.indicators)


def test_without_a_national_average_the_workspace_mean_is_a_labelled_estimate(demo_ws):
    rules = rules_for("2021/22")
    with demo_ws.sessions() as session:
        pops = from_registry(session, rules)
    result = iif_what_if(pops, rules, PCN, national=pops)
    assert result.list_size.estimate and "ESTIMATE" in result.list_size.text
    bare = iif_what_if(pops, rules, PCN)
    assert bare.list_size.value is None
    assert all(i.at_stake is None for i in bare.indicators)  # not £0.00
    assert bare.total_at_stake is None


def test_unconfirmed_point_value_gives_no_money_but_patients_needed(demo_ws):
    rules = rules_for("2022/23")
    with demo_ws.sessions() as session:
        pops = from_registry(session, rules)
    result = iif_what_if(
        pops, rules, PCN, {"VI-02": Decimal(60)}, {"VI-02": 1000}, average_list=Decimal(50000)
    )
    vi02 = next(i for i in result.indicators if i.indicator.id == "VI-02")
    assert vi02.at_stake is None and vi02.earned is None
    assert vi02.needed == 300  # 90% of 1,000 less 60%
    assert any("point value" in n for n in result.notes)


def test_unknown_indicator_and_bad_pairs_are_refused(demo_ws):
    rules = rules_for("2021/22")
    with demo_ws.sessions() as session:
        pops = from_registry(session, rules)
    with pytest.raises(BadValue, match="no IIF indicator HI-99"):
        iif_what_if(pops, rules, PCN, {"HI-99": Decimal(50)})
    with pytest.raises(BadValue):
        parse_pairs(["VI-01"], "achievement")
    with pytest.raises(BadValue):
        parse_pairs(["VI-01=12.5"], "denominator", whole=True)
    assert parse_pairs(["VI-01=82.5%"], "achievement") == {"VI-01": Decimal("82.5")}


def test_caip_maximum_and_components_from_the_adjusted_population(tmp_path):
    rules = rules_for("2024/25")
    lists = tmp_path / "lists.csv"
    lists.write_text("pcn_code,registered,weighted,adjusted\nU00367,52000,51000,50000\n")
    pops = from_csv(lists, rules.start, rules.list_reference_date, {"U00367": "Havering South"})
    result = iif_what_if(pops, rules, PCN, average_list=Decimal(50000))
    caip = {c.id: c for c in result.caip}
    assert caip["capacity_access_support"].amount == Decimal("162400.00")  # £3.248 x 50,000
    assert not caip["capacity_access_support"].conditional
    assert caip["capacity_access_improvement"].amount == Decimal("69600.00")  # £1.392 x 50,000
    thirds = [c for c in result.caip if c.id.startswith("capacity_access_improvement.")]
    assert [c.amount for c in thirds] == [Decimal("23200.00")] * 3
    # 2025/26: risk stratification one third, modern general practice access two thirds
    r26 = rules_for("2025/26")
    pops26 = from_csv(lists, r26.start, r26.list_reference_date, {"U00367": "Havering South"})
    parts = [c.amount for c in iif_what_if(pops26, r26, PCN).caip if "." in c.id]
    assert parts == [Decimal("22916.67"), Decimal("45833.33")]  # of £68,750


def test_caip_without_adjusted_population_cannot_be_calculated(demo_ws):
    rules = rules_for("2023/24")
    with demo_ws.sessions() as session:
        pops = from_registry(session, rules)
    result = iif_what_if(pops, rules, PCN)
    assert result.caip and all(c.amount is None for c in result.caip)
    improvement = next(c for c in result.caip if c.id == "capacity_access_improvement")
    assert "PCN adjusted population not loaded" in improvement.formula
    assert improvement.status == "X"  # sources conflict on 2023/24's basis: unconfirmed
