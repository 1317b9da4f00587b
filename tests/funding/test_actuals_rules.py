"""The rules reproduce what NHS England actually paid (issue 14): real PCNs' entitlements
against the PCN columns of NHS Payments to General Practice, and the stated estimate of the PCN
adjusted population, which a loaded list replaces."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from pcnkit.errors import InputError
from pcnkit.funding.entitlements import entitlements
from pcnkit.funding.populations import from_csv
from pcnkit.funding.rules import parse_rules, rules_file, rules_for

FIXTURES = Path(__file__).parents[1] / "fixtures" / "funding" / "actuals"
with (FIXTURES / "actuals.csv").open(newline="") as _f:
    PAID = {(r["year"], r["pcn_code"], r["column"]): Decimal(r["paid"]) for r in csv.DictReader(_f)}


def _lines(year: str, pcn: str, path: Path | None = None):
    rules = rules_for(year)
    path = path or FIXTURES / f"lists_{year.replace('/', '-')}_{pcn}.csv"
    return entitlements(from_csv(path, rules.start, rules.list_reference_date), rules)


def _owed(lines, streams, last: dt.date | None = None) -> Decimal:
    """The lines' amounts for `streams`, pro rata to months up to `last` (a column that holds
    only part of the year)."""
    out = Decimal(0)
    for x in lines:
        if x.stream not in streams:
            continue
        months = x.months
        if last is not None:
            months = max(
                0,
                min(
                    x.months,
                    (last.year - x.first_month.year) * 12 + last.month - x.first_month.month + 1,
                ),
            )
        out += x.exact * months / x.months
    return out


@pytest.mark.parametrize(
    ("year", "pcn", "column", "streams", "last"),
    [
        # core £1.50 per registered + PCN support £0.27 per weighted patient, April-September
        ("2020/21", "U05632", "PCN Support", {"core_pcn_funding", "pcn_support"}, None),
        # base CD £0.722 + the derived leadership and management / CD uplift £0.719
        (
            "2021/22",
            "U19124",
            "PCN Leadership",
            {"clinical_director", "leadership_management"},
            None,
        ),
        # CD £0.72963 + L&M £0.699 x the ESTIMATED adjusted population; the file holds April -
        # September 2022 only
        (
            "2022/23",
            "U05885",
            "PCN Leadership",
            {"clinical_director", "leadership_management"},
            dt.date(2022, 9, 1),
        ),
    ],
)
def test_a_real_pcn_is_owed_what_it_was_paid(year, pcn, column, streams, last):
    paid = PAID[(year, pcn, column)]
    owed = _owed(_lines(year, pcn), streams, last)
    assert abs(owed / paid - 1) <= Decimal("0.01"), (owed, paid)


def test_2022_23_leadership_on_the_old_rules_would_be_far_off():
    """Without the clinical director stream (not encoded before issue 14) the same PCN's
    entitlement is about half of what it was paid: the test above would fail."""
    lines = _lines("2022/23", "U05885")
    owed = _owed(lines, {"leadership_management"}, dt.date(2022, 9, 1))
    assert owed / PAID[("2022/23", "U05885", "PCN Leadership")] < Decimal("0.6")


def test_derived_rates_are_pinned_and_say_how_they_were_derived():
    lm = rules_for("2021/22").stream("leadership_management")
    assert (lm.rate, lm.status, lm.basis) == (Decimal("0.719"), "D", "registered")
    assert "NHS Payments to General Practice 2021/22" in lm.source and "620 PCNs" in lm.source
    cd = rules_for("2022/23").stream("clinical_director")
    assert (cd.rate, cd.status, cd.basis) == (Decimal("0.72963"), "D", "registered")
    assert "53 PCNs" in cd.source


def test_the_adjusted_population_estimate_is_data_with_a_source():
    est = rules_for("2022/23").estimates["adjusted"]
    assert (est.from_basis, est.ratio, est.status) == ("registered", Decimal("1.006"), "D")
    assert "663 PCNs" in est.source
    for year in ("2019/20", "2020/21", "2021/22", "2023/24"):
        assert "adjusted" not in rules_for(year).estimates


def test_every_line_that_uses_the_estimate_says_so():
    lines = [x for x in _lines("2022/23", "U05885") if x.basis == "adjusted"]
    assert {x.stream for x in lines} == {"leadership_management", "enhanced_access"}
    registered = Decimal(12162 + 5244 + 13608)
    for x in lines:
        assert x.amount is not None and not x.missing
        assert x.population == registered * Decimal("1.006")
        assert "ESTIMATED as registered list x 1.006" in x.inputs
        assert "ESTIMATE (derived by arithmetic from confirmed figures)" in x.note
        assert "load PCN adjusted population figures to replace" in x.note


def test_a_loaded_adjusted_list_wins_over_the_estimate(tmp_path):
    path = tmp_path / "lists.csv"
    path.write_text(
        "pcn_code,practice_code,registered,weighted,adjusted\n"
        "P1,A1,10000,9500,12000\n"
        "P1,A2,20000,21000,19000\n"
    )
    lines = [x for x in _lines("2022/23", "P1", path) if x.stream == "leadership_management"]
    assert [x.population for x in lines] == [Decimal(31000)]
    assert all("ESTIMATE" not in x.inputs + x.note for x in lines)
    # one practice's adjusted figure loaded: the other is estimated, and the line says so
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(
        "pcn_code,practice_code,registered,weighted\nP1,A1,10000,9500\nP1,A2,20000,21000\n"
    )
    rules = rules_for("2022/23")
    pops = from_csv(mixed, rules.start, rules.list_reference_date)
    pops.practices["A1"].values["adjusted"] = Decimal(12000)
    pops.practices["A1"].dates["adjusted"] = rules.list_reference_date
    pops.practices["A1"].sources["adjusted"] = pops.practices["A1"].sources["registered"]
    lm = [x for x in entitlements(pops, rules) if x.stream == "leadership_management"]
    assert [x.population for x in lm] == [Decimal(12000) + Decimal(20000) * Decimal("1.006")]
    assert "ESTIMATED" in lm[0].inputs and "ESTIMATE" in lm[0].note


def test_care_home_premium_stays_not_calculable():
    """Bed counts are not open data and no estimate is stated for them: not £0.00."""
    care = [x for x in _lines("2022/23", "U05885") if x.stream == "care_home_premium"]
    assert care and all(x.amount is None for x in care)


def test_an_estimate_from_an_unknown_basis_is_refused():
    text = rules_file("2022/23").read_text(encoding="utf-8")
    bad = text.replace("    from: registered\n    ratio:", "    from: beds_and_more\n    ratio:")
    assert bad != text
    with pytest.raises(InputError, match="beds_and_more"):
        parse_rules(bad, "2022-23.yaml")


MAPPING = Path(__file__).parents[2] / "src" / "pcnkit" / "funding" / "payments_columns.yaml"


def test_the_payments_columns_name_streams_the_rules_have():
    doc = yaml.safe_load(MAPPING.read_text(encoding="utf-8"))
    for year, columns in doc["years"].items():
        rules = rules_for(year)
        for spec in columns:
            assert set(spec) <= {
                "column",
                "kind",
                "level",
                "streams",
                "note",
                "source",
                "status",
                "paid_months",
            }, spec
            for sid in spec["streams"]:
                assert sid in rules.streams, (year, spec["column"], sid)
            if "paid_months" in spec:
                first = dt.date.fromisoformat(f"{spec['paid_months']['from']}-01")
                last = dt.date.fromisoformat(f"{spec['paid_months']['to']}-01")
                assert rules.start <= first <= last <= rules.end
    # 2022/23's network columns hold April - September only; 2021/22 leadership mixes streams
    lead = {c["column"]: c for c in doc["years"]["2022/23"]}["PCN Leadership"]
    assert lead["paid_months"] == {"from": "2022-04", "to": "2022-09"}
    lead21 = {c["column"]: c for c in doc["years"]["2021/22"]}["PCN Leadership"]
    assert lead21["streams"] == ["clinical_director", "leadership_management"]


def test_the_reconciler_reads_the_months_a_column_holds():
    from pcnkit.funding import columns
    from pcnkit.funding.against_actuals import _in_months

    lead = columns.column("2022/23", "PCN Leadership")
    assert lead.paid_months == (dt.date(2022, 4, 1), dt.date(2022, 9, 1))
    assert columns.column("2021/22", "PCN Leadership").paid_months is None
    lines = _lines("2022/23", "U05885")
    cd = next(x for x in lines if x.stream == "clinical_director")
    assert _in_months(cd, lead.paid_months) == cd.amount * 6 / 12
    ea = next(x for x in lines if x.stream == "enhanced_access")  # October - March: none
    assert _in_months(ea, lead.paid_months) == 0
