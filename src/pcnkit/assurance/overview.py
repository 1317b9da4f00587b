"""Every indicator for every organisation at once: the latest value on or before a date, its
SPC signals, its rank among its peers and its comparison with England — the table a watch
across a whole ICS (or England) is built from, and what the assurance benchmark times.

Peers are as `summary.peer_parents_on` finds them (same kind, same parent of the first kind in
`summary.PEER_PARENTS` at the value's period); ranks are computed per peer group with pandas,
SPC per organisation's series with `spc.xmr`.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from pcnkit.assurance import compare, spc
from pcnkit.assurance.definitions import Indicator, load_all
from pcnkit.assurance.observations import ENGLAND
from pcnkit.assurance.summary import (
    COMPARE_UNITS,
    MIN_COVERAGE,
    MIN_SPC_POINTS,
    peer_parents_on,
)
from pcnkit.assurance.values import Assurance

COLUMNS = [
    "indicator",
    "org",
    "kind",
    "start",
    "end",
    "value",
    "numerator",
    "denominator",
    "variation",
    "assurance",
    "peer_parent",
    "peer_rank",
    "peer_count",
    "peer_quartile",
    "england",
    "versus_england",
]


def _peer_parents(assurance: Assurance, latest: pd.DataFrame) -> pd.Series:
    """Each organisation's peer parent at its latest period's end."""
    out = pd.Series(index=latest.index, dtype=object)
    for end, group in latest.groupby("end"):
        out[group.index] = group["org"].map(peer_parents_on(assurance, pd.Timestamp(end)))
    return out


def _ranks(latest: pd.DataFrame, polarity: str) -> pd.DataFrame:
    """Competition ranks (1 = best; highest first for 'neither') within each peer group at
    each period, with the quartile as `compare.rank_peers` gives it."""
    ranked = latest.dropna(subset=["value", "peer_parent"])
    ascending = polarity == "lower"
    # peers are compared at the same period (a closed practice's last value is not ranked
    # against this year's)
    groups = ranked.groupby(["peer_parent", "kind", "end"])["value"]
    rank = groups.rank(method="min", ascending=ascending)
    count = groups.transform("count")
    out = pd.DataFrame({"peer_rank": rank, "peer_count": count}, index=ranked.index)
    out["peer_quartile"] = ((out["peer_rank"] - 1) * 4 // out["peer_count"] + 1).astype(int)
    return out


def indicator_overview(assurance: Assurance, indicator: Indicator, as_of: dt.date) -> pd.DataFrame:
    v = assurance.values(indicator)
    v = v[v["end"] <= pd.Timestamp(as_of)]
    if v.empty:
        return pd.DataFrame(columns=COLUMNS)
    valued = v.dropna(subset=["value"]).sort_values("start")
    latest = valued.groupby("org", sort=False).tail(1).set_index("org", drop=False)
    latest = latest.copy()
    latest["peer_parent"] = _peer_parents(assurance, latest.reset_index(drop=True)).to_numpy()
    latest = latest.join(_ranks(latest, indicator.polarity))
    england = dict(
        zip(
            valued.loc[valued["org"] == ENGLAND, "end"],
            valued.loc[valued["org"] == ENGLAND, "value"],
            strict=True,
        )
    )
    target = {}
    variation, assurance_icon, versus = [], [], []
    unit = COMPARE_UNITS.get(indicator.unit)
    comparable = unit is not None and indicator.numerator.kind not in ("growth", "product")
    # each organisation's values in time order, split from one sorted array (iterating a
    # pandas groupby over thousands of organisations cost more than the charts themselves)
    ordered = valued.sort_values(["org", "start"])
    codes = ordered["org"].to_numpy()
    cuts = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    starts = np.concatenate([[0], cuts])
    # thinly covered periods are gaps in the chart, as `summary.thinly_covered` says
    thin = (ordered["members"].fillna(0) > 0) & (
        ordered["units"].astype(float) < MIN_COVERAGE * ordered["members"].astype(float)
    )
    charted = ordered["value"].to_numpy(dtype=float).copy()
    charted[thin.to_numpy()] = np.nan
    chunks = np.split(charted, cuts)
    series = {
        codes[i]: [None if np.isnan(v) else v for v in chunk]
        for i, chunk in zip(starts, chunks, strict=True)
    }
    rebase = indicator.spc.rebase
    if rebase:  # rebasing needs each point's period
        days = np.split(ordered["start"].dt.date.to_numpy(), cuts)
        periods = {codes[i]: list(d) for i, d in zip(starts, days, strict=True)}
    targets = {end: indicator.target_on(end.date()) for end in latest["end"].unique()}
    for row in latest.itertuples():
        t = targets[row.end]
        target[row.org] = t
        values = series[row.org]
        chart = (
            spc.xmr(
                values,
                periods=periods[row.org] if rebase else None,
                baseline=indicator.spc.baseline,
                rebase_at=rebase,
                screen_moving_ranges=indicator.spc.screen,
                polarity=indicator.polarity,
                target=None if t is None else float(t.value),
            )
            if len(values) >= MIN_SPC_POINTS
            else None
        )
        variation.append(chart.variation.code if chart and chart.variation else None)
        assurance_icon.append(chart.assurance.code if chart and chart.assurance else None)
        benchmark = england.get(row.end)
        result = None
        if (
            comparable
            and benchmark is not None
            and not math.isnan(benchmark)
            and row.org != ENGLAND
        ):
            try:
                result = compare.compare_to(
                    row.numerator, row.denominator, benchmark, unit, indicator.polarity
                ).result
            except ValueError:
                result = None
        versus.append(result)
    latest["variation"] = variation
    latest["assurance"] = assurance_icon
    latest["versus_england"] = versus
    latest["england"] = [england.get(e) for e in latest["end"]]
    latest["indicator"] = indicator.id
    return latest.reset_index(drop=True)[COLUMNS]


def overview(
    assurance: Assurance, as_of: dt.date, indicators: tuple[Indicator, ...] | None = None
) -> pd.DataFrame:
    """Every indicator × organisation: latest value, SPC icons, peer rank, England comparison."""
    parts = [indicator_overview(assurance, i, as_of) for i in (indicators or load_all())]
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
