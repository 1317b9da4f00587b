"""Indicator values: indicator × organisation × period, computed from observations and the
registry's membership at each period.

Every aggregate is the sum of its members' numerators over the sum of their denominators at the
period (never an average of rates); a member counts when both its numerator and denominator are
known, and the coverage (members counted out of members held) travels with the value. England's
value is NHS England's published national figure where the publication prints one, else the sum
over every organisation in the data; an England sum from figures covering too little of England
(one area's files) or resting on registered lists held for only some practices is not
calculated, and says why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from pcnkit.assurance.definitions import LIST_DATASET, Indicator, Quantity, load_all
from pcnkit.assurance.frame import Frame
from pcnkit.assurance.membership import Tree, pcn_rollup
from pcnkit.assurance.observations import ENGLAND
from pcnkit.registry import kinds

# A list "a year before" must be within a month of that date.
LAG_TOLERANCE_DAYS = 31
# England is summed from the data only when the workspace holds registered lists for at least
# this share of the practices the publication covers ...
ENGLAND_LIST_COVERAGE = 0.9
# ... and the figures themselves cover at least this share of England's practices (or PCNs), as
# far as the loaded publications say how many there are: PCNs without ARRS staff are absent
# from the PCN workforce census (1,105 of 1,263 in September 2022), so the bar is half.
ENGLAND_COVERAGE = 0.5

RESULT_COLUMNS = [
    "org",
    "kind",
    "start",
    "end",
    "numerator",
    "denominator",
    "value",
    "units",
    "unit_kind",
    "members",
    "basis",
    "source_ids",
    "row_min",
    "row_max",
    "reason",
]


@dataclass
class Assurance:
    """One workspace's assurance figures: observations and membership read once, each
    indicator's values computed on first use and kept."""

    frame: Frame
    tree: Tree
    _values: dict[str, pd.DataFrame] = field(default_factory=dict)
    _pairs: dict[dt.date, pd.DataFrame] = field(default_factory=dict)
    # each date's peer parents (`summary.peer_parents_on`), kept with the figures they rest on
    peers: dict[pd.Timestamp, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        session: Session,
        indicators: tuple[Indicator, ...] | None = None,
        snapshot: Path | None = None,
    ) -> Assurance:
        """Read the figures once (from `snapshot`, a workspace's Parquet copy, when given)."""
        chosen = indicators or load_all()
        from pcnkit.assurance import watchlist

        # the watch-list reads the same figures: one read serves both
        watched = set(watchlist.MEASURES.values())
        datasets = set().union(*(i.datasets for i in chosen)) | {d for d, _ in watched}
        measures = set().union(*(i.measures for i in chosen)) | watched
        return cls(Frame.load(session, datasets, measures, snapshot), Tree(session))

    def newest(self) -> dt.date | None:
        """The end of the newest period any publication held describes (lists aside)."""
        data = self.frame.data
        ends = data.loc[data["dataset"] != LIST_DATASET, "end"] if not data.empty else None
        if ends is None or ends.empty or pd.isna(ends.max()):
            return None
        return ends.max().date()

    def values(self, indicator: Indicator) -> pd.DataFrame:
        if indicator.id not in self._values:
            self._values[indicator.id] = compute(indicator, self.frame, self.ancestors)
        return self._values[indicator.id]

    def ancestors(self, dates: list[pd.Timestamp]) -> pd.DataFrame:
        """`Tree.ancestors` for these dates, each date worked out once and kept."""
        missing = [d for d in dates if d not in self._pairs]
        if missing:
            found = self.tree.ancestors(missing)
            for d in missing:
                self._pairs[d] = found[found["date"] == d]
        parts = [self._pairs[d] for d in dates]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def periods_of(indicator: Indicator, frame: Frame) -> pd.DataFrame:
    """The periods an indicator is computed for: those its period measure has figures for."""
    m = frame.measure(indicator.periods.dataset, indicator.periods.name)
    m = m[m["org_kind"] != kinds.NATION]
    if indicator.starts is not None:
        m = m[m["start"] >= pd.Timestamp(indicator.starts)]
    return m[["start", "end"]].drop_duplicates().sort_values("start").reset_index(drop=True)


def _rows(frame: Frame, measure, periods: pd.DataFrame) -> pd.DataFrame:
    m = frame.measure(measure.dataset, measure.name)
    m = m[m["org_kind"] != kinds.NATION]
    return m.merge(periods, on=["start", "end"])


def _lists_at(frame: Frame, periods: pd.DataFrame, lag_months: int, tolerance: int) -> pd.DataFrame:
    """Each practice's registered list nearest each period's end (shifted back `lag_months`),
    within `tolerance` days, the earlier list winning a tie."""
    lists = frame.measure("list-sizes", "registered")
    if lists.empty or periods.empty:
        return pd.DataFrame(
            columns=["org_code", "start", "end", "value", "source_id", "source_row"]
        )
    lists = lists[["org_code", "start", "value", "source_id", "source_row"]].rename(
        columns={"start": "list_date"}
    )
    targets = periods.copy()
    targets["target"] = targets["end"] - pd.DateOffset(months=lag_months)
    grid = targets.merge(pd.DataFrame({"org_code": lists["org_code"].unique()}), how="cross")
    grid = grid.sort_values("target")
    ordered = lists.sort_values("list_date")
    picks = []
    for direction in ("backward", "forward"):
        found = pd.merge_asof(
            grid,
            ordered,
            left_on="target",
            right_on="list_date",
            by="org_code",
            direction=direction,
            tolerance=pd.Timedelta(days=tolerance),
        ).dropna(subset=["value"])
        found["distance"] = (found["list_date"] - found["target"]).abs()
        found["order"] = 0 if direction == "backward" else 1
        picks.append(found)
    both = pd.concat(picks, ignore_index=True).sort_values(["distance", "order"])
    best = both.drop_duplicates(["org_code", "start", "end"], keep="first")
    return best[["org_code", "start", "end", "value", "source_id", "source_row"]]


def _condition(frame: Frame, where, periods: pd.DataFrame) -> pd.DataFrame:
    """Organisations meeting `where` at each period: org_code, start, end, met (1.0 / 0.0)."""
    rows = _rows(frame, where.measure, periods)
    if where.labels:
        met = rows["label"].isin(where.labels)
    elif where.above is not None:
        met = rows["value"] > float(where.above)
    else:
        met = pd.Series(True, index=rows.index)
    out = rows[["org_code", "start", "end"]].copy()
    out["met"] = met.astype(float).to_numpy()
    return out


def _pcn_level(frame: Frame, measure) -> bool:
    kinds_found = set(frame.measure(measure.dataset, measure.name)["org_kind"])
    return kinds.PCN in kinds_found and kinds.PRACTICE not in kinds_found


def _to_pcns(lists: pd.DataFrame, ancestors) -> pd.DataFrame:
    """Practices' lists summed into their PCN at each period's end (one row per PCN)."""
    dates = sorted(lists["end"].unique())
    pairs = ancestors([pd.Timestamp(d) for d in dates])
    pcns = pairs[(pairs["ancestor_kind"] == kinds.PCN) & (pairs["org"] != pairs["ancestor"])]
    joined = lists.merge(
        pcns[["date", "org", "ancestor"]].rename(columns={"org": "org_code", "date": "end"}),
        on=["org_code", "end"],
    )
    out = (
        joined.groupby(["ancestor", "start", "end"])
        .agg(
            value=("value", "sum"), source_id=("source_id", "min"), source_row=("source_row", "min")
        )
        .reset_index()
        .rename(columns={"ancestor": "org_code"})
    )
    out["org_kind"] = kinds.PCN
    return out


def unit_values(q: Quantity, frame: Frame, periods: pd.DataFrame, ancestors=None) -> pd.DataFrame:
    """The quantity for each organisation the data describes (practice or PCN), per period:
    org_code, org_kind, start, end, value, source_id, source_row."""
    cols = ["org_code", "org_kind", "start", "end", "value", "source_id", "source_row"]
    if q.kind == "sum":
        out = _rows(frame, q.measures[0], periods)[cols].dropna(subset=["value"])
        if q.where is not None:
            # only organisations meeting the condition add their figure (the others add 0)
            met = _condition(frame, q.where, periods)
            out = out.merge(met, on=["org_code", "start", "end"], how="left")
            out["value"] = out["value"] * out.pop("met").fillna(0.0)
    elif q.kind == "count":
        out = _rows(frame, q.measures[0], periods)[cols].copy()
        if q.where is not None:
            met = _condition(frame, q.where, periods)
            out = out.drop(columns="value").merge(met, on=["org_code", "start", "end"])
            out = out.rename(columns={"met": "value"})[cols]
        else:
            out["value"] = 1.0
    elif q.kind == "product":
        out = None
        for m in q.measures:
            part = _rows(frame, m, periods)[cols].dropna(subset=["value"])
            if out is None:
                out = part
            else:
                part = part[["org_code", "start", "end", "value"]].rename(columns={"value": "v"})
                out = out.merge(part, on=["org_code", "start", "end"])
                out["value"] = out["value"] * out.pop("v")
        out["value"] = out["value"] * float(q.scale)
    elif q.kind in ("patients", "growth"):
        now_tolerance = 0 if q.kind == "growth" else round(q.within_months * 30.5)
        lag = q.lag_months if q.kind == "patients" else 0
        tolerance = LAG_TOLERANCE_DAYS if lag else now_tolerance
        out = _lists_at(frame, periods, lag, tolerance)
        if q.kind == "growth":
            before = _lists_at(frame, periods, q.lag_months, LAG_TOLERANCE_DAYS)
            before = before[["org_code", "start", "end", "value"]].rename(columns={"value": "v"})
            out = out.merge(before, on=["org_code", "start", "end"])
            out["value"] = out["value"] - out.pop("v")
        out["org_kind"] = kinds.PRACTICE
        if q.where is not None:
            met = _condition(frame, q.where, periods)
            if _pcn_level(frame, q.where.measure) and ancestors is not None:
                # a PCN-level figure (the PCN workforce census): its member practices' lists
                out = _to_pcns(out, ancestors)
            out = out.merge(met, on=["org_code", "start", "end"], how="left")
            out["value"] = out["value"] * out.pop("met").fillna(0.0)
        out = out[cols]
    else:  # pragma: no cover - definitions refuse other kinds
        raise ValueError(q.kind)
    return out.reset_index(drop=True)


def compute(indicator: Indicator, frame: Frame, ancestors) -> pd.DataFrame:
    """Every value of the indicator: one row per organisation (at each of its levels that has
    members with figures) and period, plus England."""
    periods = periods_of(indicator, frame)
    if periods.empty:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    num = unit_values(indicator.numerator, frame, periods, ancestors)
    keys = ["org_code", "org_kind", "start", "end"]
    if indicator.denominator is not None:
        den = unit_values(indicator.denominator, frame, periods, ancestors)
        den = den[[*keys, "value"]].rename(columns={"value": "den"})
        units = num.merge(den, on=keys)
    else:
        units = num.assign(den=np.nan)
    units = units.rename(columns={"value": "num"})
    # a member that adds nothing to either sum (an unrated practice in "patients at practices
    # rated good", 0 of 0) is not counted as covered
    units["counted"] = ~((units["num"] == 0) & (units["den"] == 0))
    dates = sorted(periods["end"].unique())
    pairs = ancestors([pd.Timestamp(d) for d in dates])
    parts = []
    if not pairs.empty:
        practice_pairs = pairs
        pcn_pairs = None
        for kind, group in units.groupby("org_kind"):
            if kind == kinds.PCN:
                if pcn_pairs is None:
                    pcn_pairs = pcn_rollup(practice_pairs)
                use = pcn_pairs
            else:
                use = practice_pairs
            joined = group.merge(
                use.drop(columns="org_kind", errors="ignore").rename(
                    columns={"org": "org_code", "date": "end"}
                ),
                on=["org_code", "end"],
            )
            parts.append(joined)
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    out = []
    if not rows.empty:
        # England is answered by `_england` (published, or every organisation in the data)
        levels = [k for k in indicator.levels if k != kinds.NATION]
        rows = rows[rows["ancestor_kind"].isin(levels)]
        grouped = rows.groupby(["ancestor", "ancestor_kind", "start", "end"], sort=False)
        agg = grouped.agg(
            numerator=("num", "sum"),
            denominator=("den", "sum"),
            units=("counted", "sum"),
            unit_kind=("org_kind", "first"),
            row_min=("source_row", "min"),
            row_max=("source_row", "max"),
            source_min=("source_id", "min"),
            source_max=("source_id", "max"),
        ).reset_index()
        # one publication per period is the rule (a lambda per group cost seconds)
        agg["source_ids"] = [
            () if pd.isna(lo) else ((int(lo),) if lo == hi else (int(lo), int(hi)))
            for lo, hi in zip(agg.pop("source_min"), agg.pop("source_max"), strict=True)
        ]
        agg = agg.rename(columns={"ancestor": "org", "ancestor_kind": "kind"})
        members = _members(pairs)
        agg = agg.merge(members, on=["org", "end"], how="left")
        agg["basis"] = "sum"
        out.append(agg)
    england = _england(indicator, frame, periods, units)
    if england is not None:
        out.append(england)
    result = pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=RESULT_COLUMNS)
    if indicator.denominator is None:
        result["denominator"] = np.nan
        result["value"] = result["numerator"] * float(indicator.multiplier)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = result["numerator"] / result["denominator"]
        result["value"] = ratio.where(result["denominator"] > 0) * float(indicator.multiplier)
    if "reason" not in result:
        result["reason"] = None
    zero = result["value"].isna() & result["reason"].isna()
    result.loc[zero, "reason"] = "the denominator is zero"
    for col in RESULT_COLUMNS:
        if col not in result:
            result[col] = None
    return result[RESULT_COLUMNS].sort_values(["kind", "org", "start"]).reset_index(drop=True)


def _members(pairs: pd.DataFrame) -> pd.DataFrame:
    """Member practices of every organisation on each date."""
    practices = pairs[(pairs["org_kind"] == kinds.PRACTICE) & (pairs["org"] != pairs["ancestor"])]
    counted = practices.groupby(["ancestor", "date"])["org"].nunique().reset_index()
    counted.columns = ["org", "end", "members"]
    return counted


def _england_coverage(
    indicator: Indicator, frame: Frame, periods: pd.DataFrame, units: pd.DataFrame
) -> str | None:
    """Why England cannot be summed from these figures (None when it can): a workspace holding
    one area's files (the demo's BHR extract) must not present that area's sum as England's."""
    practices = units.loc[units["org_kind"] == kinds.PRACTICE, "org_code"].nunique()
    pcns = units.loc[units["org_kind"] == kinds.PCN, "org_code"].nunique()
    if practices and practices < ENGLAND_COVERAGE * frame.national_practices:
        return (
            f"the figures loaded cover {practices:,} of England's {frame.national_practices:,} "
            "practices, too few to stand for England; load the national file"
        )
    if pcns and pcns < ENGLAND_COVERAGE * frame.national_pcns:
        return (
            f"the figures loaded cover {pcns:,} of England's {frame.national_pcns:,} PCNs, "
            "too few to stand for England; load the national file"
        )
    uses_lists = any(
        q is not None and q.kind in ("patients", "growth")
        for q in (indicator.numerator, indicator.denominator)
    )
    if uses_lists:
        held = set(frame.measure("list-sizes", "registered")["org_code"])
        covered = set(_rows(frame, indicator.periods, periods)["org_code"])
        england = max(len(covered), frame.national_practices)
        if not covered or len(covered & held) < ENGLAND_LIST_COVERAGE * england:
            return (
                "this workspace holds registered lists for too few of England's practices to "
                "sum England; load the national Patients Registered at a GP Practice file"
            )
    return None


def _printed_national(indicator: Indicator, frame: Frame):
    """A sum-over-sum indicator whose publication prints England's own figures for both
    measures (telephony's National row) uses them, as the definition's `national` would."""
    num, den = indicator.numerator, indicator.denominator
    if num.kind != "sum" or (den is not None and den.kind != "sum"):
        return None
    measures = [num.measures[0], *(den.measures if den else [])]
    for m in measures:
        rows = frame.measure(m.dataset, m.name)
        if not (rows["org_code"] == ENGLAND).any():
            return None
    return (num.measures[0], den.measures[0] if den else None)


def _england(
    indicator: Indicator, frame: Frame, periods: pd.DataFrame, units: pd.DataFrame
) -> pd.DataFrame | None:
    if kinds.NATION not in indicator.levels:
        return None
    rows = []
    published = {}
    national = indicator.national or _printed_national(indicator, frame)
    if national:
        num_m, den_m = national
        num = frame.measure(num_m.dataset, num_m.name)
        num = num[num["org_code"] == ENGLAND].set_index(["start", "end"])
        den = None
        if den_m is not None:
            den = frame.measure(den_m.dataset, den_m.name)
            den = den[den["org_code"] == ENGLAND].set_index(["start", "end"])
        for key, r in num.iterrows():
            d = den.loc[key] if den is not None and key in den.index else None
            published[key] = (
                r["value"],
                None if d is None else d["value"],
                r["source_id"],
                r["source_row"],
            )
    problem = _england_coverage(indicator, frame, periods, units)
    sums = units.groupby(["start", "end"]).agg(
        numerator=("num", "sum"),
        denominator=("den", "sum"),
        units=("counted", "sum"),
        row_min=("source_row", "min"),
        row_max=("source_row", "max"),
    )
    keys = set(map(tuple, periods[["start", "end"]].to_numpy())) | set(published)
    for key in sorted(keys):
        start, end = key
        row = {"org": ENGLAND, "kind": kinds.NATION, "start": start, "end": end}
        if key in published:
            n, d, sid, srow = published[key]
            row.update(
                numerator=n,
                denominator=d,
                units=np.nan,
                members=np.nan,
                basis="published",
                source_ids=(int(sid),),
                row_min=srow,
                row_max=srow,
                reason=None,
            )
        elif key in sums.index and problem is None:
            s = sums.loc[key]
            row.update(
                numerator=s["numerator"],
                denominator=s["denominator"],
                units=s["units"],
                members=np.nan,
                basis="sum",
                source_ids=(),
                row_min=s["row_min"],
                row_max=s["row_max"],
                reason=None,
            )
        else:
            row.update(
                numerator=np.nan,
                denominator=np.nan,
                units=0,
                members=np.nan,
                basis="sum",
                source_ids=(),
                row_min=np.nan,
                row_max=np.nan,
                reason=problem or "no figures for this period",
            )
        rows.append(row)
    return pd.DataFrame(rows)
