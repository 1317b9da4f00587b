"""The vulnerable-practice watch-list: each criterion's threshold crossed and not crossed, figures
dated after the date never used, ties at a relative threshold, the absolute fallback, missing
data listed as not assessed, the ranking, the rules file, and the real CQC ratings file."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
from decimal import Decimal

import pandas as pd
import pytest

from pcnkit.assurance import watchlist as wl
from pcnkit.assurance.frame import COLUMNS, Frame, Source
from pcnkit.errors import InputError

D = dt.date
SOURCES = {
    1: Source(1, "CQC latest overall ratings of GP practices", "cqc.csv", D(2024, 4, 1), "CQC"),
    2: Source(2, "GP workforce, practice level", "workforce.csv", D(2024, 9, 30), "NHS Digital"),
    3: Source(3, "Cloud based telephony", "cloud_telephony.xlsx", D(2026, 2, 1), "NHS England"),
    4: Source(4, "QOF CVD achievement", "QOF.csv", D(2024, 3, 31), "NHS Digital"),
    5: Source(5, "Patients registered at a GP practice", "lists.csv", D(2026, 3, 1), "NHS Digital"),
}
SOURCE_OF = {
    "cqc-ratings": 1,
    "practice-workforce": 2,
    "cloud-telephony": 3,
    "qof-cvd": 4,
    "list-sizes": 5,
}


class Figures:
    """Hand-made observations, built into a Frame as `Frame.load` would give them."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, name, org, start, end=None, value=None, label=None, row=None):
        dataset, measure = wl.MEASURES[name]
        self.rows.append(
            {
                "dataset": dataset,
                "org_code": org,
                "org_kind": "practice",
                "measure": measure,
                "start": pd.Timestamp(start),
                "end": pd.Timestamp(end or start),
                "value": None if value is None else float(value),
                "label": label,
                "source_id": SOURCE_OF[dataset],
                "source_row": row if row is not None else len(self.rows) + 2,
            }
        )
        return self

    def rating(self, org, rating, year, day=D(2024, 4, 1), row=None):
        self.add("cqc_rating", org, day, label=rating, row=row)
        return self.add("cqc_rating_year", org, day, value=year, row=row)

    def census(self, org, year, patients, gp_fte, row=None):
        day = D(year, 9, 30)
        self.add("workforce_patients", org, day, value=patients, row=row)
        return self.add("gp_fte", org, day, value=gp_fte, row=row)

    def calls(self, org, month, inbound, missed, row=None):
        start = D(month.year, month.month, 1)
        end = (pd.Timestamp(start) + pd.offsets.MonthEnd(0)).date()
        self.add("calls_inbound", org, start, end, value=inbound, row=row)
        return self.add("calls_missed", org, start, end, value=missed, row=row)

    def qof(self, org, groups: dict[str, tuple[float, float, float]], row=None):
        """groups: af -> (achievement %, prevalence %, list size), QOF year 2023/24."""
        for g, (achievement, prevalence, size) in groups.items():
            for name, value in (
                (f"qof_achievement_{g}", achievement),
                (f"qof_prevalence_{g}", prevalence),
                (f"qof_list_{g}", size),
            ):
                self.add(name, org, D(2023, 4, 1), D(2024, 3, 31), value=value, row=row)
        return self

    def registered(self, org, day, value, row=None):
        return self.add("registered", org, day, value=value, row=row)

    def frame(self) -> Frame:
        return Frame(pd.DataFrame(self.rows, columns=COLUMNS), SOURCES)


def flags(entries, code: str) -> dict[str, wl.Flag]:
    return {e.practice: f for e in entries for f in e.flags if f.code == code}


def entry(entries, practice: str) -> wl.WatchEntry:
    return next(e for e in entries if e.practice == practice)


def only(rules: wl.Rules, *codes: str, **changes) -> wl.Rules:
    """The shipped rules restricted to some criteria (and with other settings changed)."""
    kept = tuple(r for r in rules.criteria if r.code in codes)
    return dataclasses.replace(rules, criteria=kept, **changes)


RULES = wl.load_rules()


# --- the rules file ---------------------------------------------------------------------------


def test_shipped_rules_cite_their_source_and_only_the_cqc_threshold_is_nhs_englands():
    codes = [r.code for r in RULES.criteria]
    assert codes == [
        "cqc_requires_improvement",
        "high_patients_per_gp",
        "falling_gp_fte",
        "poor_telephony_access",
        "low_qof",
        "rapid_list_change",
    ]
    confirmed = {r.code for r in RULES.criteria if r.confirmed}
    assert confirmed == {"cqc_requires_improvement"}
    for rule in RULES.criteria:
        assert rule.source in RULES.sources and rule.why
    assert "7 December 2015" in RULES.sources["nhse_2015"]["title"]
    assert RULES.rule("low_qof").number("below") == Decimal(85)
    assert RULES.minimum_practices == 1000
    assert any("list closure" in x for x in RULES.not_assessable)
    # severity: CQC Inadequate first, then Requires improvement, then the rest in file order
    ranks = RULES.rule("cqc_requires_improvement").params["severity_by_rating"]
    assert ranks == {"Inadequate": 1, "Requires improvement": 2}
    assert [r.severity for r in RULES.criteria[1:]] == [3, 4, 5, 6, 7]


def test_a_bad_rules_file_is_refused_naming_the_key(tmp_path):
    text = (wl.resources.files("pcnkit.assurance") / wl.RULES_FILE).read_text(encoding="utf-8")
    bad = tmp_path / "rules.yaml"
    bad.write_text(
        text.replace("worst_share: 0.10\n    at_least: 4500", "worst_share: 10\n    at_least: 4500")
    )
    with pytest.raises(InputError) as caught:
        wl.load_rules(bad)
    assert caught.value.column == "rules.criteria[1].worst_share"
    assert "fraction 0-1" in str(caught.value)
    bad.write_text(text.replace("code: low_qof", "code: low_qoff"))
    with pytest.raises(InputError, match="'low_qoff' is not one of"):
        wl.load_rules(bad)
    bad.write_text(text.replace("confirmed: true", "confirmed: yes please"))
    with pytest.raises(InputError, match="not true or false"):
        wl.load_rules(bad)


# --- CQC --------------------------------------------------------------------------------------


def test_cqc_requires_improvement_and_inadequate_are_flagged_with_their_row():
    f = (
        Figures()
        .rating("P1", "Inadequate", 2019, row=1234)
        .rating("P2", "Requires improvement", 2023, row=88)
        .rating("P3", "Good", 2022)
        .rating("P4", "Outstanding", 2017)
        .frame()
    )
    rules = only(RULES, "cqc_requires_improvement")
    entries = wl.watchlist(f, ["P1", "P2", "P3", "P4", "P5"], D(2024, 4, 1), rules)
    found = flags(entries, "cqc_requires_improvement")
    assert set(found) == {"P1", "P2"}
    p2 = found["P2"]
    assert p2.evidence.startswith("Rated Requires improvement by the CQC (latest rating, 2023).")
    assert "CQC latest overall ratings of GP practices, row 88" in p2.evidence
    assert "cqc.csv" not in p2.evidence  # the publication's title, never a file name
    assert (p2.source_id, p2.source_row) == (1, 88)
    assert p2.period == wl.Period(D(2024, 4, 1), D(2024, 4, 1))
    assert p2.confirmed and "pcnkit" not in p2.threshold and "pcnkit" not in p2.evidence
    assert p2.threshold == "rated Inadequate or Requires improvement"
    assert [x.label or x.value for x in p2.figures] == ["Requires improvement", Decimal("2023.0")]
    assert (found["P1"].severity, p2.severity) == (1, 2)
    assert found["P1"].evidence.startswith("Rated Inadequate by the CQC (latest rating, 2019).")
    assert entry(entries, "P3").clear == ["CQC rated Requires improvement or Inadequate"]
    assert entry(entries, "P5").not_assessed == [
        "not assessed: CQC rated Requires improvement or Inadequate "
        "(no CQC rating held up to 1 April 2024)"
    ]


def test_a_rating_dated_after_the_date_is_not_used():
    f = (
        Figures()
        .rating("P1", "Requires improvement", 2021, day=D(2022, 4, 1))
        .rating("P1", "Good", 2023, day=D(2024, 4, 1))
        .frame()
    )
    rules = only(RULES, "cqc_requires_improvement")
    before = wl.watchlist(f, ["P1"], D(2024, 3, 31), rules)
    assert (
        before[0]
        .flags[0]
        .evidence.startswith("Rated Requires improvement by the CQC (latest rating, 2021).")
    )
    after = wl.watchlist(f, ["P1"], D(2024, 4, 1), rules)
    assert after[0].flags == [] and after[0].clear
    earliest = wl.watchlist(f, ["P1"], D(2022, 3, 31), rules)
    assert earliest[0].flags == [] and earliest[0].not_assessed


# --- patients per GP FTE ----------------------------------------------------------------------


def test_patients_per_gp_fte_absolute_threshold_when_too_few_practices_for_a_national_view():
    f = (
        Figures()
        .census("P1", 2024, 9000, 2)  # 4,500: at the threshold
        .census("P2", 2024, 4499, 1)  # just under
        .census("P3", 2024, 5000, 0)  # patients and no GP FTE at all
        .census("P4", 2024, 0, 0)  # no patients, no GPs: nothing to judge
        .census("P2", 2025, 9000, 1)  # after the date: not used
        .frame()
    )
    rules = only(RULES, "high_patients_per_gp")
    entries = wl.watchlist(f, None, D(2025, 3, 31), rules)
    found = flags(entries, "high_patients_per_gp")
    assert set(found) == {"P1", "P3"}
    p1 = found["P1"]
    assert p1.value == Decimal("4500.0") and p1.basis == "absolute"
    assert p1.evidence.startswith(
        "4,500 patients per GP FTE in the workforce census of 30 September 2024 "
        "(9,000 patients, 2 GP FTE excluding locums and trainees)."
    )
    assert "fewer than the 1,000 a national comparison needs" in p1.evidence
    assert "This threshold is pcnkit's, not NHS England's." in p1.evidence
    assert p1.threshold == (
        "at or above 4,500 patients per GP FTE (pcnkit's threshold, not NHS England's)"
    )
    assert not p1.confirmed
    assert found["P3"].evidence.startswith("No GP FTE (excluding locums and trainees) recorded")
    assert entry(entries, "P4").not_assessed[0].startswith("not assessed: High patients per GP FTE")
    # a year on, P2's 2025 census (9,000 patients per GP FTE) is used; the others keep 2024's
    later = flags(wl.watchlist(f, None, D(2025, 9, 30), rules), "high_patients_per_gp")
    assert set(later) == {"P1", "P2", "P3"}
    assert later["P2"].period.end == D(2025, 9, 30) and later["P1"].period.end == D(2024, 9, 30)


def test_worst_ten_percent_is_against_practices_at_the_same_period_and_ties_are_judged_alike():
    f = Figures()
    # 100 practices at the 2024 census: 8 distinct worst, then 4 tied at 3,000, then 88 at 2,000
    for i in range(8):
        f.census(f"W{i}", 2024, 4000 + i, 1)
    for i in range(4):
        f.census(f"T{i}", 2024, 3000, 1)
    for i in range(88):
        f.census(f"N{i:02d}", 2024, 2000, 1)
    # another census with very different figures must not move the 2024 comparison
    for i in range(50):
        f.census(f"X{i:02d}", 2023, 9000, 1)
    rules = only(RULES, "high_patients_per_gp", minimum_practices=100)
    entries = wl.watchlist(f.frame(), None, D(2024, 12, 31), rules)
    found = flags(entries, "high_patients_per_gp")
    # 8 worse than the tied four: 8 < 10% of 100, so all four are in, 12 flagged in all
    in_2024 = {p for p in found if not p.startswith("X")}
    assert in_2024 == {f"W{i}" for i in range(8)} | {f"T{i}" for i in range(4)}
    t0 = found["T0"]
    assert t0.basis == "relative" and t0.value == Decimal("3000.0")
    assert "In the worst 10% of the 100 practices with figures for 30 September 2024" in t0.evidence
    assert "(8 had more patients per GP FTE)" in t0.evidence
    assert t0.threshold == (
        "worst 10% of practices at the same period (pcnkit's threshold, not NHS England's)"
    )
    # the 2023-only practices are judged against the 50 of 2023 (below the minimum: absolute)
    x = found["X00"]
    assert x.basis == "absolute" and "only 50 practices for 30 September 2023" in x.evidence
    # with 12 tied at 3,000 instead, 8 worse is still under 10: all twelve are in (ties alike)
    g = Figures()
    for i in range(8):
        g.census(f"W{i}", 2024, 4000 + i, 1)
    for i in range(12):
        g.census(f"T{i:02d}", 2024, 3000, 1)
    for i in range(80):
        g.census(f"N{i:02d}", 2024, 2000, 1)
    tied = flags(wl.watchlist(g.frame(), None, D(2024, 12, 31), rules), "high_patients_per_gp")
    assert len(tied) == 20
    # and with 10 distinct practices worse, the tied ones are out
    h = Figures()
    for i in range(10):
        h.census(f"W{i}", 2024, 4000 + i, 1)
    for i in range(90):
        h.census(f"N{i:02d}", 2024, 3000, 1)
    assert (
        len(flags(wl.watchlist(h.frame(), None, D(2024, 12, 31), rules), "high_patients_per_gp"))
        == 10
    )


def test_a_figure_too_old_for_the_date_is_not_assessed_and_says_so():
    f = Figures().census("P1", 2016, 9000, 1).census("P2", 2024, 9000, 1).frame()
    rules = only(RULES, "high_patients_per_gp")
    entries = wl.watchlist(f, None, D(2026, 9, 30), rules)
    assert set(flags(entries, "high_patients_per_gp")) == {"P2"}
    assert entry(entries, "P1").not_assessed == [
        "not assessed: High patients per GP FTE (the latest GP FTE and patients from the "
        "workforce census held is for 30 September 2016, more than 24 months before "
        "30 September 2026)"
    ]
    # a month later P2's census is too old as well
    later = wl.watchlist(f, None, D(2026, 10, 1), rules)
    assert not any(e.flags for e in later)


# --- falling GP FTE ---------------------------------------------------------------------------


def test_falling_gp_fte_needs_a_fifth_and_half_an_fte_over_a_year():
    f = (
        Figures()
        .census("P1", 2023, 6000, 5.0, row=2)
        .census("P1", 2024, 6000, 3.5, row=4)  # 30%, 1.5 FTE: flagged
        .census("P2", 2023, 900, 0.6)
        .census("P2", 2024, 900, 0.4)  # 33% but 0.2 FTE: not
        .census("P3", 2023, 6000, 5.0)
        .census("P3", 2024, 6000, 4.1)  # 18%: not
        .census("P4", 2023, 6000, 4.0)
        .census("P4", 2024, 6000, 3.2)  # exactly 20% and 0.8 FTE: flagged
        .census("P5", 2024, 6000, 1.0)  # no census a year before
        .census("P6", 2022, 6000, 8.0)
        .census("P6", 2023, 6000, 4.0)  # fell in 2023, recovered in 2024
        .census("P6", 2024, 6000, 8.0)
        .frame()
    )
    rules = only(RULES, "falling_gp_fte")
    entries = wl.watchlist(f, None, D(2024, 10, 1), rules)
    found = flags(entries, "falling_gp_fte")
    assert set(found) == {"P1", "P4"}
    p1 = found["P1"]
    assert p1.evidence.startswith(
        "GP FTE (excluding locums and trainees) fell from 5 on 30 September 2023 to 3.5 on "
        "30 September 2024: down 30% (1.5 FTE)."
    )
    # both censuses cited, the file once
    assert p1.evidence.endswith(
        "Source: GP workforce, practice level, rows 2 and 4."
    )
    assert p1.value == Decimal("0.3")
    assert p1.period == wl.Period(D(2023, 9, 30), D(2024, 9, 30))
    assert [x.period.end for x in p1.figures] == [D(2023, 9, 30), D(2024, 9, 30)]
    assert "pcnkit's threshold" in p1.threshold
    assert entry(entries, "P5").not_assessed == [
        "not assessed: Falling GP FTE (no GP FTE held for the census a year before "
        "30 September 2024)"
    ]
    # at a date before the 2024 census, P6's 2022-2023 fall is the latest: flagged then
    earlier = flags(wl.watchlist(f, None, D(2024, 9, 29), rules), "falling_gp_fte")
    assert set(earlier) == {"P6"}


# --- telephony --------------------------------------------------------------------------------


def test_missed_calls_over_a_fifth_with_enough_calls_and_a_later_month_unused():
    f = (
        Figures()
        .calls("P1", D(2026, 2, 1), 100, 20, row=40)  # exactly 20%: flagged
        .calls("P2", D(2026, 2, 1), 1000, 199)  # 19.9%: not
        .calls("P3", D(2026, 2, 1), 50, 40)  # too few calls to judge
        .calls("P2", D(2026, 3, 1), 1000, 600)  # March: after the date
        .frame()
    )
    rules = only(RULES, "poor_telephony_access")
    entries = wl.watchlist(f, ["P1", "P2", "P3", "P4"], D(2026, 3, 30), rules)
    found = flags(entries, "poor_telephony_access")
    assert set(found) == {"P1"}
    p1 = found["P1"]
    assert p1.evidence.startswith(
        "20.0% of inbound calls missed in February 2026 (20 of 100; cloud based telephony)."
    )
    assert "Cloud based telephony, row 40" in p1.evidence
    assert p1.period == wl.Period(D(2026, 2, 1), D(2026, 2, 28))
    assert p1.threshold.startswith("at or above 20% of inbound calls missed")
    assert entry(entries, "P3").not_assessed == [
        "not assessed: Poor telephony access (50 inbound calls in February 2026, fewer than "
        "the 100 the criterion needs)"
    ]
    assert (
        entry(entries, "P4")
        .not_assessed[0]
        .endswith("(no cloud telephony call figures held up to 30 March 2026)")
    )
    assert set(flags(wl.watchlist(f, None, D(2026, 3, 31), rules), "poor_telephony_access")) == {
        "P1",
        "P2",
    }


# --- QOF --------------------------------------------------------------------------------------


def test_low_qof_weights_each_group_by_its_register_not_an_average_of_rates():
    f = (
        Figures()
        # weights: AF 2% of 1,000 = 20, HYP 10% of 1,000 = 100
        .qof("P1", {"af": (70, 2, 1000), "hyp": (90, 10, 1000)})  # 86.7: not
        .qof("P2", {"af": (70, 2, 1000), "hyp": (80, 10, 1000)})  # 78.3: flagged
        .qof("P3", {"af": (50, 2, 1000), "hyp": (95, 10, 1000)})  # 87.5 (mean 72.5): not
        .frame()
    )
    rules = only(RULES, "low_qof")
    entries = wl.watchlist(f, None, D(2024, 3, 31), rules)
    found = flags(entries, "low_qof")
    assert set(found) == {"P2"}
    p2 = found["P2"]
    assert p2.value == Decimal("78.33")
    assert p2.evidence.startswith(
        "QOF cardiovascular achievement 78.3% in 2023/24 (the groups held, AF, HYP, weighted "
        "by estimated register)."
    )
    assert p2.threshold == "below 85% achievement (pcnkit's threshold, not NHS England's)"
    assert [x.measure for x in p2.figures] == ["achievement_pct_af", "achievement_pct_hyp"]
    # the QOF year ends on 31 March 2024: the day before, it has not ended and is not used
    before = wl.watchlist(f, ["P2"], D(2024, 3, 30), rules)
    assert before[0].flags == []
    assert before[0].not_assessed == [
        "not assessed: Low QOF achievement "
        "(no QOF cardiovascular achievement held up to 30 March 2024)"
    ]


def test_low_qof_relative_lowest_tenth_with_ties_replaces_the_fixed_85():
    f = Figures()
    f.qof("L0", {"af": (60, 2, 1000)})
    f.qof("L1", {"af": (70, 2, 1000)})
    f.qof("L2", {"af": (70, 2, 1000)})  # tied with L1: one practice achieved less than both
    for i in range(17):
        f.qof(f"M{i:02d}", {"af": (84, 2, 1000)})  # below 85, but not the lowest tenth
    rules = only(RULES, "low_qof", minimum_practices=20)
    found = flags(wl.watchlist(f.frame(), None, D(2024, 6, 30), rules), "low_qof")
    assert set(found) == {"L0", "L1", "L2"}
    assert "In the worst 10% of the 20 practices with figures for 2023/24" in found["L1"].evidence
    assert "(1 achieved less)" in found["L1"].evidence
    assert found["L1"].basis == "relative"
    # with the national minimum of 1,000 the fixed 85% applies to all twenty
    fixed = flags(wl.watchlist(f.frame(), None, D(2024, 6, 30), only(RULES, "low_qof")), "low_qof")
    assert len(fixed) == 20 and {g.basis for g in fixed.values()} == {"absolute"}


# --- list change ------------------------------------------------------------------------------


def test_rapid_list_change_either_way_over_a_year():
    f = (
        Figures()
        .registered("P1", D(2025, 3, 1), 1000)
        .registered("P1", D(2026, 3, 1), 1100)  # +10%: flagged
        .registered("P2", D(2025, 3, 1), 1000)
        .registered("P2", D(2026, 3, 1), 901)  # -9.9%: not
        .registered("P3", D(2025, 2, 1), 1000)  # nearer a year before than 1 April
        .registered("P3", D(2025, 4, 1), 900)
        .registered("P3", D(2026, 3, 1), 850)  # -15% on February 2025: flagged
        .registered("P4", D(2026, 3, 1), 5000)  # nothing a year before
        .registered("P5", D(2024, 3, 1), 5000)  # more than a month from a year before
        .registered("P5", D(2025, 12, 1), 9000)
        .frame()
    )
    rules = only(RULES, "rapid_list_change")
    entries = wl.watchlist(f, None, D(2026, 3, 31), rules)
    found = flags(entries, "rapid_list_change")
    assert set(found) == {"P1", "P3"}
    assert found["P1"].evidence.startswith(
        "Registered list grew 10.0% in a year: 1,000 on 1 March 2025, 1,100 on 1 March 2026."
    )
    assert found["P3"].evidence.startswith(
        "Registered list fell 15.0% in a year: 1,000 on 1 February 2025"
    )
    assert found["P3"].value == Decimal("-0.15")
    assert entry(entries, "P4").not_assessed == [
        "not assessed: Rapid list change (no registered list held for a year before 1 March 2026)"
    ]
    assert entry(entries, "P5").not_assessed
    # at an earlier date P1's 2026 list is not used: only one list, not assessed
    earlier = wl.watchlist(f, ["P1"], D(2026, 2, 28), rules)
    assert earlier[0].flags == [] and earlier[0].not_assessed


# --- the whole list ---------------------------------------------------------------------------


def test_ranking_by_number_of_flags_then_severity_then_code():
    f = Figures()
    f.rating("A", "Requires improvement", 2023)  # 1 flag, severity 2
    f.rating("B", "Inadequate", 2018)  # 1 flag, severity 1
    f.rating("C", "Good", 2023).census("C", 2024, 9000, 1)  # patients per GP (3)
    f.registered("C", D(2024, 3, 1), 1000).registered("C", D(2025, 3, 1), 1200)  # list (7)
    f.rating("D", "Good", 2023).census("D", 2024, 9000, 1)  # patients per GP (3)
    f.calls("D", D(2025, 3, 1), 200, 100)  # telephony (5)
    f.rating("E", "Requires improvement", 2020)  # ties with A: code order
    f.rating("F", "Good", 2023)  # no flags
    entries = wl.watchlist(f.frame(), None, D(2025, 3, 31))
    assert [e.practice for e in entries] == ["D", "C", "B", "A", "E", "F"]
    assert [e.score for e in entries] == [2, 2, 1, 1, 1, 0]
    assert entries[0].severities == (3, 5)
    assert entries[1].severities == (3, 7)
    # every figure behind every flag ends on or before the date
    assert all(x.period.end <= D(2025, 3, 31) for e in entries for g in e.flags for x in g.figures)
    # F has nothing flagged: CQC was assessed, the rest were not (and say so)
    f_entry = entries[-1]
    assert f_entry.clear == ["CQC rated Requires improvement or Inadequate"]
    assert len(f_entry.not_assessed) == 5
    assert all(x.startswith("not assessed: ") for x in f_entry.not_assessed)


def test_the_download_table_has_a_row_per_flag_and_per_criterion_not_assessed():
    f = Figures().rating("A", "Inadequate", 2019, row=7).rating("B", "Good", 2020)
    rules = only(RULES, "cqc_requires_improvement", "low_qof")
    t = wl.table(wl.watchlist(f.frame(), ["A", "B", "C"], D(2024, 4, 1), rules))
    assert list(t.columns) == wl.TABLE_COLUMNS
    assert t[["rank", "practice", "status"]].values.tolist() == [
        [1, "A", "flag"],
        [1, "A", "not assessed"],
        [2, "B", "not assessed"],
        [3, "C", "not assessed"],
        [3, "C", "not assessed"],
    ]
    first = t.iloc[0]
    assert (first["code"], first["severity"], first["source_row"]) == (
        "cqc_requires_improvement",
        1,
        7,
    )
    assert first["period_end"] == D(2024, 4, 1) and bool(first["confirmed"])


def test_a_flag_lists_its_flags_most_severe_first():
    f = Figures().rating("P1", "Requires improvement", 2023).census("P1", 2024, 9000, 1)
    f.registered("P1", D(2024, 3, 1), 1000).registered("P1", D(2025, 3, 1), 1200)
    (e,) = wl.watchlist(f.frame(), None, D(2025, 3, 31))
    assert [g.code for g in e.flags] == [
        "cqc_requires_improvement",
        "high_patients_per_gp",
        "rapid_list_change",
    ]


def test_a_practice_with_no_figures_is_listed_not_assessed_on_every_criterion():
    (e,) = wl.watchlist(Figures().frame(), ["Z99999"], D(2025, 3, 31))
    assert e.flags == [] and e.score == 0 and e.clear == []
    assert [x.split(" (")[0] for x in e.not_assessed] == [
        f"not assessed: {r.label}" for r in RULES.criteria
    ]


# --- the real CQC file --------------------------------------------------------------------------


@pytest.mark.skipif(
    importlib.util.find_spec("pcnkit.assurance.importers.cqc_ratings") is None,
    reason="the CQC ratings importer is not on this branch yet",
)
def test_real_cqc_ratings_flag_every_requires_improvement_and_inadequate_practice(shared_data):
    from pcnkit.assurance.importers import cqc_ratings
    from pcnkit.registry.importers.base import read_text, sha256_of

    path = shared_data / "cqc" / "cqc_ratings_practice_2016-2024_heec.csv"
    batch = cqc_ratings.parse(path, read_text(path), sha256_of(path))
    rows = [
        {
            "dataset": batch.dataset,
            "org_code": o.org_code,
            "org_kind": o.org_kind,
            "measure": o.measure,
            "start": pd.Timestamp(o.period.start),
            "end": pd.Timestamp(o.period.end),
            "value": None if o.value is None else float(o.value),
            "label": o.label,
            "source_id": 1,
            "source_row": o.row,
        }
        for o in batch.observations
    ]
    frame = Frame(pd.DataFrame(rows, columns=COLUMNS), SOURCES)
    rules = only(RULES, "cqc_requires_improvement")
    ratings = {o.org_code: o for o in batch.observations if o.measure == "overall_rating"}
    poor = {c for c, o in ratings.items() if o.label in ("Requires improvement", "Inadequate")}
    inadequate = {c for c, o in ratings.items() if o.label == "Inadequate"}
    entries = wl.watchlist(frame, None, D(2024, 4, 1), rules)
    found = flags(entries, "cqc_requires_improvement")
    assert set(found) == poor
    # the file has 292 Requires improvement and 57 Inadequate rows (data README), some of them
    # branch sites or a practice's second row: 344 practices, 55 of them Inadequate
    assert (len(poor), len(inadequate)) == (344, 55)
    # Inadequate practices lead the list
    assert {e.practice for e in entries[: len(inadequate)]} == inadequate
    # each flag names the file's own row: that row of the CSV holds the practice and rating
    lines = path.read_text(encoding="utf-8").splitlines()
    for code in sorted(poor)[:20]:
        flag = found[code]
        line = lines[flag.source_row - 1]
        assert line.startswith(f'"{code}",') and f'"{flag.figures[0].label}"' in line
        assert f", row {flag.source_row}" in flag.evidence
        year = int(flag.figures[1].value)
        assert f"(latest rating, {year})" in flag.evidence and f'"{code}",{year},' in line
    # the day before the ratings' date nothing is flagged and every practice is not assessed
    before = wl.watchlist(frame, None, D(2024, 3, 31), rules)
    assert not any(e.flags for e in before) and all(e.not_assessed for e in before)
