"""Tiles, detail and the overview: what a page and a committee pack show, from the values."""

from __future__ import annotations

import datetime as dt

import pytest
from test_values import batch, indicator, month, obs, store, ws  # noqa: F401 - fixture

from pcnkit.assurance import summary
from pcnkit.assurance.observations import ENGLAND
from pcnkit.assurance.overview import overview
from pcnkit.assurance.values import Assurance
from pcnkit.registry.queries import Hierarchy

TARGETED = """\
unit: percent
polarity: higher
periods: test-data.hits
numerator: {words: hits, sum: test-data.hits}
denominator: {words: tries, sum: test-data.tries}
targets:
  - {value: 75, source: "A committee paper", from: 2023-01-01}
"""
# six months for four practices: A00002 falls away in the last month
HITS = {
    "A00001": [70] * 6,
    "A00002": [80, 80, 80, 80, 80, 20],
    "A00003": [50] * 6,
    "A00004": [90] * 6,
}
AS_OF = dt.date(2024, 12, 31)


@pytest.fixture
def loaded(ws, tmp_path):  # noqa: F811 - the fixture imported above
    ind = indicator(tmp_path, TARGETED)
    rows = []
    for m in range(6):
        p = month(2024, 4 + m)
        for code, hits in HITS.items():
            rows += [obs(code, "hits", p, hits[m], row=10 + m), obs(code, "tries", p, 100)]
        rows += [
            obs(ENGLAND, "hits", p, 6000, kind="nation"),
            obs(ENGLAND, "tries", p, 10000, kind="nation"),
        ]
    store(ws, batch(rows))
    session = ws.sessions()
    assurance = Assurance.load(session, (ind,))
    yield assurance, Hierarchy.at(session, AS_OF), ind
    session.close()


def test_a_tile_has_its_latest_value_trend_target_england_and_peers(loaded):
    assurance, h, ind = loaded
    t = summary.tile(assurance, h, ind, "A00002", AS_OF)
    assert (t.figure.start, t.figure.value) == (dt.date(2024, 9, 1), 20)
    assert [f.value for f in t.series] == [80, 80, 80, 80, 80, 20]
    assert t.chart is not None and len(t.chart.points) == 6
    assert t.target_status == "not_met"
    assert t.england.value == 60 and t.england.basis == "published"
    assert t.versus_england.result == "worse"
    # North PCN's practices in September: A00001 70, A00002 20, A00003 50 (joined in March)
    assert (t.peer_parent, t.peer_rank.rank, t.peer_count) == ("U00001", 3, 3)
    # its latest value misses the target; the chart says more: the target is beyond its limits
    assert "Consistently failing the target" in t.attention
    assert t.figure.provenance[0].rows == "row 15"


def test_a_figure_after_the_date_is_not_shown(loaded):
    assurance, h, ind = loaded
    t = summary.tile(assurance, h, ind, "A00002", dt.date(2024, 7, 31))
    assert t.figure.start == dt.date(2024, 7, 1) and t.figure.value == 80
    assert t.chart is None  # five points needed; four held by then
    early = summary.tile(assurance, h, ind, "A00002", dt.date(2024, 3, 31))
    assert early.figure is None and "no figures on or before this date" in early.reason


def test_detail_lists_the_member_pulling_the_pcn_down_first(loaded):
    assurance, h, ind = loaded
    d = summary.detail(assurance, h, ind, "U00001", AS_OF)
    assert d.tile.figure.value == pytest.approx((70 + 20 + 50) / 3)
    assert d.members[0].figure.org == "A00002"
    assert d.members[0].pull < 0 < d.members[-1].pull


def test_needs_attention_puts_the_most_reasons_first(loaded):
    assurance, h, ind = loaded
    tiles = [summary.tile(assurance, h, ind, code, AS_OF) for code in ("A00002", "A00004")]
    flagged = summary.needs_attention(tiles)
    assert [t.org for t in flagged] == ["A00002"]


def test_the_overview_agrees_with_each_tile(loaded):
    assurance, h, ind = loaded
    table = overview(assurance, AS_OF, (ind,))
    for row in table.itertuples():
        if row.org == ENGLAND:
            continue
        t = summary.tile(assurance, h, ind, row.org, AS_OF)
        assert row.value == pytest.approx(t.figure.value)
        if t.peer_rank:
            assert (row.peer_parent, row.peer_rank, row.peer_count) == (
                t.peer_parent,
                t.peer_rank.rank,
                t.peer_count,
            )
        assert row.variation == (t.chart.variation.code if t.chart else None)


def test_records_say_missing_figures_in_words(loaded):
    assurance, h, ind = loaded
    early = summary.tile(assurance, h, ind, "A00001", dt.date(2024, 1, 1))
    record = summary.tile_record(early)
    assert record["value"] is None and record["reason"]
    rows = summary.series_records(summary.tile(assurance, h, ind, "A00002", AS_OF))
    assert rows[-1]["period"] == "September 2024" and rows[-1]["value"] == 20


def test_spc_settings_fix_the_baseline_and_rebase(loaded):
    from pcnkit.assurance.definitions import SpcSettings

    assurance, h, ind = loaded
    fixed = summary.tile(assurance, h, ind, "A00002", AS_OF, SpcSettings(baseline=5))
    assert fixed.chart.segments[0].mean == 80  # the first five months only
    rebased = summary.tile(
        assurance, h, ind, "A00002", AS_OF, SpcSettings(rebase=(dt.date(2024, 9, 1),))
    )
    assert len(rebased.chart.segments) == 2


def test_an_indicator_file_sets_its_spc(tmp_path):
    from pcnkit.assurance.definitions import SpcSettings
    from pcnkit.errors import InputError

    ind = indicator(
        tmp_path, TARGETED + "spc: {baseline: 12, rebase: [2024-06-01], screen: false}\n"
    )
    assert ind.spc == SpcSettings(12, (dt.date(2024, 6, 1),), False)
    with pytest.raises(InputError, match=r"indicator\.spc\.rebase"):
        indicator(tmp_path, TARGETED + "spc: {rebase: [June 2024]}\n")


def test_an_areas_detail_lists_its_pcns_then_its_practices_once_each(loaded):
    assurance, h, ind = loaded
    d = summary.detail(assurance, h, ind, "PL-1", AS_OF)
    assert {m.figure.org for m in d.members} == {"U00001", "U00002"}
    assert d.practices[0].figure.org == "A00002"  # 20 of 100 pulls hardest
    assert sorted(m.figure.org for m in d.practices) == ["A00001", "A00002", "A00003", "A00004"]


def test_a_member_without_a_figure_is_named_with_the_reason(ws, tmp_path):  # noqa: F811
    ind = indicator(tmp_path, TARGETED)
    p = month(2024, 4)
    store(ws, batch([obs("A00001", "hits", p, 7), obs("A00001", "tries", p, 10)]))
    with ws.sessions() as session:
        assurance = Assurance.load(session, (ind,))
        d = summary.detail(assurance, Hierarchy.at(session, AS_OF), ind, "U00001", AS_OF)
    named = {m.figure.org: m.figure for m in d.members}
    assert set(named) == {"A00001", "A00002", "A00003"}
    assert named["A00002"].value is None
    assert named["A00002"].reason == "no figure for this period in the publications held"
    assert d.members[0].figure.org == "A00001"  # figures first, the missing after


def test_a_membership_change_is_noted_on_the_chart(loaded):
    """A00003 joined North PCN on 1 March 2024; a six-month series from April has no change,
    so the note appears only when members differ between points."""
    assurance, h, ind = loaded
    t = summary.tile(assurance, h, ind, "U00001", AS_OF)
    assert not [n for n in t.chart.notes if n.startswith("Membership changed")]
    assert summary._membership_changes(
        [
            summary.Figure(
                "X", dt.date(2024, 1, 1), dt.date(2024, 1, 31), 1, 1, 1, 2, 2, "sum", None
            ),
            summary.Figure(
                "X", dt.date(2024, 2, 1), dt.date(2024, 2, 29), 1, 1, 1, 3, 3, "sum", None
            ),
        ]
    ) == [
        "Membership changed by February 2024: 2 member practices in January 2024, 3 then; a "
        "step here may be the change of members, not of performance."
    ]


def test_a_thinly_covered_period_is_shown_but_not_charted():
    thin = summary.Figure(
        "X", dt.date(2024, 8, 1), dt.date(2024, 8, 31), 30, 3, 10, 41, 113, "sum", None
    )
    full = summary.Figure(
        "X", dt.date(2024, 9, 1), dt.date(2024, 9, 30), 90, 9, 10, 108, 113, "sum", None
    )
    assert summary.thinly_covered(thin) and not summary.thinly_covered(full)
