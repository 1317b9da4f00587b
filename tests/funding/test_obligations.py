"""Service obligations: the minutes a week each PCN must provide, from the rules files, with the
DES's published example and rounding, and a real PCN's list from the BHR demo registry."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from conftest import load
from pcnkit.demo import demo_data
from pcnkit.funding import obligations as obl
from pcnkit.funding.pcn_population import pcn_population
from pcnkit.funding.populations import from_csv, from_registry
from pcnkit.funding.rules import STATUSES, rules_for
from pcnkit.store.db import open_workspace

PCN = "U00367"  # Havering South, in the BHR demo registry


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("obligations")
    ws = open_workspace(folder, url=f"sqlite:///{folder / 'pcnkit.db'}")
    load(ws, demo_data())
    yield ws
    ws.dispose()


def test_des_example_50000_patients_is_25_hours_a_week():
    # Network Contract DES 2019/20 s4.6: "for a PCN with 50,000 registered patients this
    # equates to a minimum of 25 hours per week"
    o = rules_for("2019/20").obligations[0]
    assert o.id == "extended_hours" and o.minutes_per_1000 == 30
    assert obl.weekly_minutes(Decimal(50000), o) == (Decimal(1500), 1500)
    assert obl.hours_text(1500) == "25 h 00 min"


@pytest.mark.parametrize(
    "patients, minutes",
    [
        (49477, 1485),  # 1,484.31 minutes: nearest quarter hour is 24 h 45
        (10240, 300),  # 307.2 -> 300 (down)
        (10250, 315),  # 307.5 is half way: rounds up
        (10260, 315),  # 307.8 -> 315 (up)
    ],
)
def test_extended_hours_round_to_the_nearest_quarter_hour(patients, minutes):
    o = rules_for("2021/22").obligations[0]
    assert obl.weekly_minutes(Decimal(patients), o)[1] == minutes


def test_enhanced_access_is_60_minutes_per_1000_adjusted_rounded_up_as_an_assumption():
    o = rules_for("2023/24").obligations[0]
    assert (o.id, o.basis, o.minutes_per_1000) == ("enhanced_access", "adjusted", 60)
    assert obl.weekly_minutes(Decimal("50000.4"), o) == (Decimal("3000.0240"), 3001)
    assert obl.weekly_minutes(Decimal(50000), o)[1] == 3000
    # no rounding rule was found: pcnkit's assumption, labelled unconfirmed
    assert not STATUSES[o.rounding_status] and "assumption" in o.rounding_source


def test_the_rule_changes_in_october_2022():
    rules = rules_for("2022/23")
    assert [o.id for o in obl.in_force(rules, dt.date(2022, 9, 1))] == ["extended_hours"]
    assert [o.id for o in obl.in_force(rules, dt.date(2022, 10, 1))] == ["enhanced_access"]
    assert [o.id for o in obl.in_force(rules)] == ["extended_hours", "enhanced_access"]
    for year in ("2019/20", "2020/21", "2021/22"):
        assert [o.id for o in rules_for(year).obligations] == ["extended_hours"]
    for year in ("2023/24", "2024/25", "2025/26"):
        assert [o.id for o in rules_for(year).obligations] == ["enhanced_access"]


def test_every_obligation_has_a_source_and_status():
    for year in ("2019/20", "2022/23", "2025/26"):
        for o in rules_for(year).obligations:
            assert o.source and o.status in STATUSES and o.rounding_source


def test_2019_20_reads_the_list_at_1_april_2019(demo_ws):
    rules = rules_for("2019/20")
    o = rules.obligations[0]
    assert obl.population_date(rules, o) == dt.date(2019, 4, 1)
    with demo_ws.sessions() as session:
        pops_at = obl.load(session, rules, PCN)
        lines = obl.obligation_lines(pops_at, rules, pcns=[PCN])
        # the same list, read independently at 1 April 2019 in July 2019 (the DES start)
        pops = from_registry(session, replace(rules, list_reference_date=dt.date(2019, 4, 1)), PCN)
    (line,) = lines
    members = pops.members[dt.date(2019, 7, 1)][PCN]
    patients = sum(pops.practices[p].values["registered"] for p in members)
    assert line.population.value == patients > 30000
    exact = patients * 30 / Decimal(1000)
    assert line.exact_minutes == exact
    assert line.minutes % 15 == 0 and abs(line.minutes - exact) <= Decimal("7.5")
    assert "registered patients / 1,000 x 30 minutes" in line.formula
    assert line.reason == ""


def test_enhanced_access_without_adjusted_population_cannot_be_calculated(demo_ws):
    rules = rules_for("2023/24")
    with demo_ws.sessions() as session:
        lines = obl.obligation_lines(obl.load(session, rules, PCN), rules, pcns=[PCN])
    (line,) = lines
    assert line.minutes is None and line.exact_minutes is None
    assert line.reason == "cannot be calculated: PCN adjusted population not loaded"
    assert line.as_row()["minutes_per_week"] is None  # never 0


def test_enhanced_access_from_a_loaded_adjusted_population(tmp_path):
    rules = rules_for("2024/25")
    lists = tmp_path / "lists.csv"
    lists.write_text("pcn_code,registered,weighted,adjusted\nU00367,52000,51000,50250.5\n")
    pops = from_csv(lists, rules.start, rules.list_reference_date, {"U00367": "Havering South"})
    (line,) = obl.obligation_lines({rules.list_reference_date: pops}, rules)
    assert line.population.value == Decimal("50250.5")
    assert line.minutes == 3016  # 3,015.03 rounded up to the minute
    assert line.unconfirmed  # the rounding is pcnkit's assumption
    assert pcn_population(pops, "U00367", "adjusted", rules.start).value == Decimal("50250.5")
