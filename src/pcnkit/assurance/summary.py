"""What a user asks of the assurance figures, answered once for the CLI, the web and packs.

`tiles(...)`: for one organisation at a date, each indicator's latest value on or before the
date, its trend with statistical process control, the target, England and the peers (same kind,
same parent at the date). `detail(...)`: one indicator for one organisation — the series, the
members that pull it down, and the peers for a funnel plot. `needs_attention(...)`: the tiles
a committee should look at first. Nothing here computes a value: `assurance.values` does.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass, field

import pandas as pd

from pcnkit import charts
from pcnkit.assurance import compare, spc
from pcnkit.assurance.definitions import Indicator, SpcSettings, Target, load_all
from pcnkit.assurance.observations import ENGLAND
from pcnkit.assurance.values import Assurance
from pcnkit.errors import BadValue
from pcnkit.provenance import Provenance
from pcnkit.registry import kinds
from pcnkit.registry.queries import Hierarchy

# Whose peers an organisation is compared with: the first of these parents it has at the date.
PEER_PARENTS = {
    kinds.PRACTICE: (kinds.PCN, kinds.SUB_ICB),
    kinds.PCN: (kinds.PLACE, kinds.FEDERATION, kinds.SUB_ICB),
    kinds.FEDERATION: (kinds.GROUPING, kinds.ICB),
    kinds.PLACE: (kinds.GROUPING, kinds.ICB),
    kinds.SUB_ICB: (kinds.ICB,),
    kinds.GROUPING: (kinds.ICB,),
    kinds.ICB: (kinds.REGION,),
}
# Statistical process control needs a run of points: with fewer than this a chart shows the
# values and says so, with no limits or signals (NHS England's Making Data Count asks for 15 or
# more, and pcnkit marks fewer than 12 as trial limits).
MIN_SPC_POINTS = 5
# A period whose value rests on fewer than this share of the members' figures is left out of
# the chart's limits and signals (and said so): August 2024's online consultation figure for
# BHR counted 41 of 113 practices, eConsult having sent no data.
MIN_COVERAGE = 0.75
COMPARE_UNITS = {"percent": "percent", "per_1000": "per_1000", "per_10000": "per_10000"}


@dataclass(frozen=True)
class Figure:
    """One value of an indicator for one organisation and period, with where it came from."""

    org: str
    start: dt.date
    end: dt.date
    value: float | None
    numerator: float | None
    denominator: float | None
    units: int | None  # members (or the organisation itself) whose figures were counted
    members: int | None  # member practices held at the period
    basis: str  # "sum" of members' figures or NHS England's "published" figure
    reason: str | None  # why there is no value
    provenance: tuple[Provenance, ...] = ()
    basis_kind: str | None = None  # what the units are: practices, or PCNs (a PCN census)


@dataclass
class Tile:
    indicator: Indicator
    org: str
    figure: Figure | None  # the latest on or before the date
    series: list[Figure]
    chart: spc.Chart | None
    england: Figure | None
    versus_england: compare.Comparison | None
    target: Target | None
    target_status: str | None  # compare.TARGETS key
    peer_parent: str | None
    peer_rank: compare.PeerRank | None
    peer_count: int
    reason: str | None  # why there is no figure at all
    attention: list[str] = field(default_factory=list)


@dataclass
class MemberRow:
    figure: Figure
    kind: str
    name: str
    versus_parent: compare.Comparison | None
    # how much the member moves the parent's value: (its value − the parent's) × its share of
    # the denominator; negative pulls a higher-is-better indicator down
    pull: float | None


@dataclass
class Detail:
    tile: Tile
    # a PCN's practices; an area's PCNs (its practices are in `practices`)
    members: list[MemberRow]
    peers: list[MemberRow]
    funnel: list[compare.FunnelPoint]
    # an area's practices, worst pull first (empty for a PCN or a practice)
    practices: list[MemberRow] = field(default_factory=list)


def _none(x) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _figure(row, assurance: Assurance, indicator: Indicator) -> Figure:
    sources = assurance.frame.sources
    provenance = tuple(
        Provenance(
            sources[i].title if i in sources else f"source {i}",
            None if pd.isna(row.row_min) else int(row.row_min),
            None if pd.isna(row.row_max) else int(row.row_max),
            row.end.date(),
            f"{indicator.id} v{indicator.version}",
        )
        for i in (row.source_ids or ())
    )
    return Figure(
        org=row.org,
        start=row.start.date(),
        end=row.end.date(),
        value=_none(row.value),
        numerator=_none(row.numerator),
        denominator=_none(row.denominator),
        units=None if pd.isna(row.units) else int(row.units),
        members=None if row.members is None or pd.isna(row.members) else int(row.members),
        basis=row.basis,
        reason=row.reason if isinstance(row.reason, str) else None,
        provenance=provenance,
        basis_kind=row.unit_kind if isinstance(row.unit_kind, str) else None,
    )


def series(assurance: Assurance, indicator: Indicator, org: str, as_of: dt.date) -> list[Figure]:
    """The organisation's values for every period ending on or before `as_of`, oldest first."""
    v = assurance.values(indicator)
    rows = v[(v["org"] == org) & (v["end"] <= pd.Timestamp(as_of))].sort_values("start")
    return [_figure(r, assurance, indicator) for r in rows.itertuples()]


def _at(assurance: Assurance, indicator: Indicator, end: pd.Timestamp) -> pd.DataFrame:
    v = assurance.values(indicator)
    return v[v["end"] == end]


def peer_parents_on(assurance: Assurance, end: pd.Timestamp) -> dict[str, str]:
    """Every organisation's peer parent on a date, from the membership at that date (kept on
    the Assurance, per date): peers are compared as they were organised when the figure was
    made."""
    found = assurance.peers.get(end)
    if found is None:
        pairs = assurance.ancestors([end])
        direct = pairs[pairs["org"] != pairs["ancestor"]]
        found = {}
        for kind, candidates in PEER_PARENTS.items():
            orgs = direct[direct["org_kind"] == kind]
            for parent_kind in reversed(candidates):  # the first candidate wins
                chosen = orgs[orgs["ancestor_kind"] == parent_kind].drop_duplicates("org")
                found.update(zip(chosen["org"], chosen["ancestor"], strict=True))
        assurance.peers[end] = found
    return found


def _chart(
    indicator: Indicator,
    points: list[Figure],
    target: Target | None,
    settings: SpcSettings | None = None,
) -> spc.Chart | None:
    if len(points) < MIN_SPC_POINTS:
        return None
    chosen = settings or indicator.spc
    thin = [p for p in points if thinly_covered(p)]
    chart = spc.xmr(
        [None if thinly_covered(p) else p.value for p in points],
        periods=[p.start for p in points],
        baseline=chosen.baseline,
        rebase_at=chosen.rebase,
        screen_moving_ranges=chosen.screen,
        polarity=indicator.polarity,
        target=None if target is None else float(target.value),
    )
    for p in thin:
        chart.notes.append(
            f"{period_words(p)}: only {p.units} of {p.members} member practices' figures are "
            "known (a supplier's data missing), so the point is left out of the limits and "
            "signals."
        )
    return chart


def thinly_covered(f: Figure) -> bool:
    """A period whose figure rests on too few of the members to stand for them (a supplier
    that sent no data leaves its practices unknown): shown, but not charted."""
    return bool(f.members) and f.units is not None and f.units < MIN_COVERAGE * f.members


def _membership_changes(points: list[Figure]) -> list[str]:
    """Where the series' membership changed (a practice joined or left), which a chart's step
    may be rather than a change in how the members did."""
    notes = []
    for before, after in itertools.pairwise(points):
        if before.members and after.members and before.members != after.members:
            notes.append(
                f"Membership changed by {period_words(after)}: {before.members} member practices "
                f"in {period_words(before)}, {after.members} then; a step here may be the "
                "change of members, not of performance."
            )
    return notes


def _why_nothing(assurance: Assurance, indicator: Indicator, org: str, as_of: dt.date) -> str:
    """Why an organisation has no figure at all: no publication by the date, no members at the
    latest period, or members without figures."""
    v = assurance.values(indicator)
    held = v[v["end"] <= pd.Timestamp(as_of)]
    if held.empty:
        return "no figures on or before this date in this workspace"
    end = held["end"].max()
    pairs = assurance.ancestors([end])
    members = pairs[(pairs["ancestor"] == org) & (pairs["org"] != org)]
    when = f"{end.day} {end:%B %Y}"
    if members.empty and pairs[pairs["org"] == org].empty:
        return f"not in the registry on {when}, the end of the latest period with figures"
    if members.empty and org not in set(pairs.loc[pairs["org_kind"] == kinds.PRACTICE, "org"]):
        return f"it had no member practices on {when}, the end of the latest period with figures"
    return "none of its figures (or its members') is in the publications held up to this date"


def tile(
    assurance: Assurance,
    h: Hierarchy,
    indicator: Indicator,
    org: str,
    as_of: dt.date,
    settings: SpcSettings | None = None,
) -> Tile:
    """The indicator for one organisation at a date (`settings` override the indicator's own
    SPC baseline, rebasing and screening, e.g. from `pcnkit kpi spc --baseline 12`)."""
    points = series(assurance, indicator, org, as_of)
    with_value = [p for p in points if p.value is not None]
    latest = with_value[-1] if with_value else (points[-1] if points else None)
    target = indicator.target_on(latest.end if latest else as_of)
    result = Tile(
        indicator, org, latest, points, None, None, None, target, None, None, None, 0, None
    )
    if latest is None:
        kind = h.by_code[org].kind if org in h.by_code else None
        if kind is not None and kind not in indicator.levels:
            result.reason = f"not published for a {kinds.KINDS[kind].label}"
        else:
            result.reason = _why_nothing(assurance, indicator, org, as_of)
        return result
    if latest.value is None:
        result.reason = latest.reason
        return result
    result.chart = _chart(indicator, with_value, target, settings)
    if result.chart is not None:
        result.chart.notes.extend(_membership_changes(with_value))
    if target is not None:
        result.target_status = compare.against_target(
            latest.value, float(target.value), indicator.polarity
        )
    end = pd.Timestamp(latest.end)
    same = _at(assurance, indicator, end)
    eng = same[same["org"] == ENGLAND]
    if not eng.empty and org != ENGLAND:
        result.england = _figure(next(eng.itertuples()), assurance, indicator)
        unit = COMPARE_UNITS.get(indicator.unit)
        if unit and result.england.value is not None:
            result.versus_england = _compare(indicator, latest, result.england.value)
    lookup = peer_parents_on(assurance, end)
    parent = lookup.get(org)
    if parent is not None:
        result.peer_parent = parent
        kind = same.loc[same["org"] == org, "kind"].iloc[0]
        peers = same[(same["org"].map(lookup) == parent) & (same["kind"] == kind)]
        ranking = compare.rank_peers(
            {p: _none(v) for p, v in zip(peers["org"], peers["value"], strict=True)},
            indicator.polarity,
        )
        result.peer_rank = ranking.ranks.get(org)
        result.peer_count = ranking.count
    result.attention = _attention(result)
    return result


def _compare(indicator: Indicator, figure: Figure, benchmark: float) -> compare.Comparison | None:
    """Fingertips' comparison, for indicators whose numerator counts events or people out of
    the denominator (not a growth or a weighted achievement, which have no such interval)."""
    unit = COMPARE_UNITS.get(indicator.unit)
    if unit is None or indicator.numerator.kind in ("growth", "product"):
        return None
    try:
        return compare.compare_to(
            figure.numerator, figure.denominator, benchmark, unit, indicator.polarity
        )
    except BadValue:
        return None


def _attention(t: Tile) -> list[str]:
    """Why a committee should look at this tile, in plain words (empty when nothing stands out)."""
    out = []
    if t.chart and t.chart.variation and t.chart.variation.code.startswith("concern"):
        out.append(t.chart.variation.label)
    if t.chart and t.chart.assurance and t.chart.assurance.code == "consistently_fail":
        out.append(t.chart.assurance.label)
    elif t.target_status == "not_met":
        out.append(compare.TARGETS["not_met"])
    if t.versus_england and t.versus_england.result == "worse":
        out.append("Significantly worse than England")
    return out


def tiles(
    assurance: Assurance, h: Hierarchy, org: str, as_of: dt.date, indicators=None
) -> list[Tile]:
    return [tile(assurance, h, i, org, as_of) for i in (indicators or load_all())]


def needs_attention(found: list[Tile]) -> list[Tile]:
    """Tiles with something to act on, most reasons first."""
    flagged = [t for t in found if t.attention]
    return sorted(flagged, key=lambda t: (-len(t.attention), t.indicator.title))


def _rows(
    assurance: Assurance,
    h: Hierarchy,
    indicator: Indicator,
    codes: list[str],
    end: pd.Timestamp,
    parent: Figure | None,
    keep_missing: bool = False,
) -> list[MemberRow]:
    """Each code's figure at the period against `parent`'s; with `keep_missing`, a member
    without a figure is listed with the reason rather than left out (so a coverage of "11 of
    13" names the two)."""
    same = _at(assurance, indicator, end).set_index("org")
    unit = COMPARE_UNITS.get(indicator.unit)
    out = []
    for code in codes:
        if code not in same.index:
            if keep_missing and parent is not None:
                org = h.by_code.get(code)
                missing = Figure(
                    code, parent.start, parent.end, None, None, None, None, None, "sum",
                    "no figure for this period in the publications held",
                )  # fmt: skip
                name = h.name(org) if org else code
                out.append(MemberRow(missing, org.kind if org else "", name, None, None))
            continue
        row = same.loc[[code]].reset_index().iloc[0]
        figure = _figure(row, assurance, indicator)
        versus = pull = None
        if parent is not None and parent.value is not None and figure.value is not None:
            if unit:
                versus = _compare(indicator, figure, parent.value)
            if parent.denominator and figure.denominator is not None:
                pull = (figure.value - parent.value) * figure.denominator / parent.denominator
        org = h.by_code.get(code)
        name = h.name(org) if org else code
        out.append(MemberRow(figure, org.kind if org else "", name, versus, pull))
    return out


def detail(
    assurance: Assurance, h: Hierarchy, indicator: Indicator, org: str, as_of: dt.date
) -> Detail:
    """One indicator for one organisation: members sorted by how much each pulls the value the
    wrong way (worst first), peers, and funnel limits around England (or the peers' parent)."""
    t = tile(assurance, h, indicator, org, as_of)
    if t.figure is None:
        return Detail(t, [], [], [])
    end = pd.Timestamp(t.figure.end)
    # members as they were at the figure's period, like the value itself
    pairs = assurance.ancestors([end])
    below = pairs[(pairs["ancestor"] == org) & (pairs["org"] != org)]
    practices = sorted(set(below.loc[below["org_kind"] == kinds.PRACTICE, "org"]))
    kind = h.by_code[org].kind if org in h.by_code else None
    sign = -1 if indicator.polarity == "lower" else 1

    def worst_first(rows: list[MemberRow]) -> list[MemberRow]:
        return sorted(rows, key=lambda m: (m.pull is None, sign * (m.pull or 0)))

    area_practices: list[MemberRow] = []
    if kind == kinds.PCN:
        members = worst_first(_rows(assurance, h, indicator, practices, end, t.figure, True))
    elif kind in (None, kinds.PRACTICE):
        members = []
    else:
        # the PCNs the area contains: all their member practices are in it then
        in_pcn = pairs[(pairs["ancestor_kind"] == kinds.PCN) & (pairs["org"] != pairs["ancestor"])]
        inside = in_pcn["org"].isin(practices)
        whole = inside.groupby(in_pcn["ancestor"]).all()
        pcns = set(whole[whole].index)
        members = worst_first(_rows(assurance, h, indicator, sorted(pcns), end, t.figure, True))
        area_practices = worst_first(_rows(assurance, h, indicator, practices, end, t.figure, True))
    peers: list[MemberRow] = []
    if t.peer_parent:
        same = _at(assurance, indicator, end)
        lookup = peer_parents_on(assurance, end)
        kind = same.loc[same["org"] == org, "kind"].iloc[0]
        chosen = same[(same["org"].map(lookup) == t.peer_parent) & (same["kind"] == kind)]
        peers = _rows(assurance, h, indicator, sorted(chosen["org"]), end, t.england)
    funnel: list[compare.FunnelPoint] = []
    unit = COMPARE_UNITS.get(indicator.unit)
    dens = [p.figure.denominator for p in peers if p.figure.denominator]
    if unit and t.england and t.england.value is not None and dens:
        funnel = compare.funnel_limits(
            t.england.value, compare.funnel_denominators(min(dens), max(dens)), unit
        )
    return Detail(t, members, peers, funnel, area_practices)


def _round(x: float | None, places: int = 2) -> float | None:
    return None if x is None else round(x, places)


def _month(d: dt.date) -> str:
    return f"{d:%B %Y}"


def period_words(f: Figure) -> str:
    """'February 2026', '2023/24', '30 September 2024' — the period as a reader says it."""
    if f.start == f.end:
        return f"{f.end.day} {f.end:%B %Y}"
    if f.start.day == 1 and f.start.month == f.end.month and f.start.year == f.end.year:
        return _month(f.start)
    if f.start.month == 4 and f.start.day == 1 and f.end == dt.date(f.start.year + 1, 3, 31):
        return f"{f.start.year}/{str(f.start.year + 1)[2:]}"
    return f"{f.start:%d %B %Y} to {f.end:%d %B %Y}"


def period_phrase(f: Figure) -> str:
    """The period after a value: 'in February 2026', 'on 1 April 2024', 'in 2023/24'."""
    return ("on " if f.start == f.end else "in ") + period_words(f)


TILE_COLUMNS = [
    "indicator",
    "title",
    "period",
    "value",
    "unit",
    "numerator",
    "denominator",
    "coverage",
    "variation",
    "assurance",
    "target",
    "target_status",
    "england",
    "versus_england",
    "peer_rank",
    "attention",
    "reason",
    "sources",
]


def tile_record(t: Tile) -> dict[str, object]:
    """One tile as a flat row (CSV, Excel, JSON): every figure with its words."""
    f = t.figure
    return {
        "indicator": t.indicator.id,
        "title": t.indicator.title,
        "period": period_words(f) if f else None,
        "value": _round(f.value) if f else None,
        "unit": t.indicator.unit_words,
        "numerator": _round(f.numerator) if f else None,
        "denominator": _round(f.denominator) if f else None,
        "coverage": coverage_words(f) if f else None,
        "variation": t.chart.variation.label if t.chart and t.chart.variation else None,
        "assurance": t.chart.assurance.label if t.chart and t.chart.assurance else None,
        "target": float(t.target.value) if t.target else None,
        "target_status": compare.TARGETS.get(t.target_status or "", None),
        "england": _round(t.england.value) if t.england else None,
        "versus_england": (
            t.versus_england.label.replace("the benchmark", "England") if t.versus_england else None
        ),
        "peer_rank": (
            f"{t.peer_rank.rank} of {t.peer_count}" if t.peer_rank and t.peer_rank.rank else None
        ),
        "attention": "; ".join(t.attention) or None,
        "reason": t.reason,
        "sources": "; ".join(p.cite() for p in f.provenance) if f else None,
    }


def coverage_words(f: Figure) -> str | None:
    """'14 of 17 member practices counted', or how England's figure was made."""
    if f.basis == "published":
        return "NHS England's published national figure"
    if f.units is None:
        return None
    if f.basis_kind == kinds.PCN:
        return f"{f.units} PCN{'' if f.units == 1 else 's'} counted (a PCN-level census)"
    if f.members:
        return f"{f.units} of {f.members} member practices counted"
    if f.units == 1:
        return "its own figure"
    return f"{f.units} organisations counted"


SERIES_COLUMNS = [
    "period",
    "start",
    "end",
    "value",
    "numerator",
    "denominator",
    "centre",
    "lower_limit",
    "upper_limit",
    "signal",
    "coverage",
]


def charted(t: Tile) -> list[tuple[Figure, spc.Point | None]]:
    """Each figure of the tile's series with its point on the chart (None when not charted:
    too few points, or a thinly covered period)."""
    points = {p.period: p for p in t.chart.points} if t.chart else {}
    return [(f, points.get(f.start)) for f in t.series]


def chart_points(chart: spc.Chart) -> list[charts.SpcPoint]:
    """The chart's points as `pcnkit.charts` draws them (the web page and the packs draw the
    same chart from here): each month's label, value, lines and how a signal reads."""
    return [
        charts.SpcPoint(
            f"{p.period:%b %Y}" if p.period else str(p.index + 1),
            p.value,
            p.centre,
            p.upper,
            p.lower,
            p.near_upper,
            p.near_lower,
            p.assessment if p.signal else None,
        )
        for p in chart.points
    ]


def chart_description(chart: spc.Chart) -> str:
    """What the chart shows, in words, for a reader who cannot see it."""
    signals = sum(1 for p in chart.points if p.signal)
    return (
        f"{len(chart.points)} periods; mean {charts._fmt(chart.segments[-1].mean or 0)}; "
        f"{signals} point(s) with a special-cause signal."
    )


def series_records(t: Tile) -> list[dict[str, object]]:
    """The tile's series with its SPC lines and signals in words, one row per period."""
    out = []
    for f, p in charted(t):
        out.append(
            {
                "period": period_words(f),
                "start": f.start,
                "end": f.end,
                "value": _round(f.value, 4),
                "numerator": _round(f.numerator),
                "denominator": _round(f.denominator),
                "centre": _round(p.centre, 4) if p else None,
                "lower_limit": _round(p.lower, 4) if p else None,
                "upper_limit": _round(p.upper, 4) if p else None,
                "signal": (f"{spc.RULES[p.signal]} ({p.assessment})" if p and p.signal else None),
                "coverage": f.reason or coverage_words(f),
            }
        )
    return out


MEMBER_COLUMNS = ["code", "name", "value", "numerator", "denominator", "versus", "pull"]


def member_records(rows: list[MemberRow]) -> list[dict[str, object]]:
    return [
        {
            "code": m.figure.org,
            "name": m.name,
            "value": _round(m.figure.value),
            "numerator": _round(m.figure.numerator),
            "denominator": _round(m.figure.denominator),
            "versus": m.versus_parent.label if m.versus_parent else None,
            "pull": _round(m.pull, 3),
        }
        for m in rows
    ]
