"""How closely the funding engine's entitlements agree with what NHS England actually paid.

For each contract year 2019/20 - 2022/23 and each PCN column of NHS Digital's "NHS Payments to
General Practice" mapped to entitlement streams (src/pcnkit/funding/payments_columns.yaml), it
compares, PCN by PCN, the sum paid through the PCN's practices with the engine's entitlement for
the mapped streams, and prints: PCNs compared (a non-zero actual and a calculated entitlement),
% within 1%, % within 5%, % within 1% or off by whole months (a cash-timing difference: the
files are cash accounts), % of those or whose members differ (the payments file lists other
practices under the PCN than the registry), % of those or within 1% of some of the column's
streams only (the rest paid outside practices), median actual / entitlement, £ paid and
£ entitled (over the PCNs compared). PCNs paid outside GP practices (about 300 a year, e.g. to
a federation) show £0 and are left out.

    PYTHONPATH=$PWD/src .venv/bin/python benchmarks/actuals_agreement.py -w ENGLAND_WORKSPACE
    ... --entitlements-dir /tmp/rules/before   # read entitlements_<yyyy-yy>.csv saved earlier
    ... --save-dir /tmp/rules/after            # keep the engine's CSVs for another run

Research tool (pandas): not part of the library.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
MAPPING = ROOT / "src" / "pcnkit" / "funding" / "payments_columns.yaml"
PAYMENTS = ROOT.parent / "shared" / "data" / "payments"
YEARS = {"2019/20": "19-20", "2020/21": "20-21", "2021/22": "21-22", "2022/23": "22-23"}


def actuals(year: str) -> pd.DataFrame:
    """Per PCN code: the sum of every PCN column in the year's payments file."""
    path = PAYMENTS / f"nhs_payments_gp_{YEARS[year]}.csv"
    df = pd.read_csv(path, encoding="utf-8-sig", dtype=str, encoding_errors="replace")
    df.columns = [c.strip() for c in df.columns]
    code = "PCN Code" if "PCN Code" in df.columns else "Code"
    cols = [c for c in df.columns if c.startswith("PCN ") and c not in ("PCN Code", "PCN Name")]
    for c in cols:
        df[c] = pd.to_numeric(df[c].str.replace(",", "").str.strip(), errors="coerce").fillna(0)
    df = df[df[code].notna() & (df[code].str.strip() != "")]
    groups = df.groupby(df[code].str.strip())
    out = groups[cols].sum()
    out["members"] = groups["Practice Code"].agg(lambda s: frozenset(s.str.strip()))
    return out


def engine_members(lines: pd.DataFrame) -> pd.Series:
    """Per PCN: every practice the engine counts in it at some month of the year."""
    mine = lines[lines["stream"] == "network_participation"]
    return mine.groupby("pcn_code")["practice_code"].agg(frozenset)


def engine(year: str, workspace: str, saved: Path | None, save: Path | None) -> pd.DataFrame:
    slug = year.replace("/", "-")
    if saved is not None:
        text = (saved / f"entitlements_{slug}.csv").read_text()
    else:
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        cmd = [sys.executable, "-m", "pcnkit", "funding", "entitlements", "--year", year]
        cmd += ["--area", "ENG", "--format", "csv", "-w", workspace]
        text = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
        if save is not None:
            save.mkdir(parents=True, exist_ok=True)
            (save / f"entitlements_{slug}.csv").write_text(text)
    df = pd.read_csv(io.StringIO(text), dtype={"amount": str})
    df["amount"] = pd.to_numeric(df["amount"], errors="coerce")
    return df


def _month(text: str) -> pd.Period:
    return pd.Period(str(text), freq="M")


def in_months(lines: pd.DataFrame, paid_months: dict | None) -> pd.DataFrame:
    """The lines' amounts for the months a column covers (`paid_months`), pro rata by month."""
    if not paid_months:
        return lines
    lo, hi = _month(paid_months["from"]), _month(paid_months["to"])
    out = lines.copy()
    first = out["first_month"].map(_month)
    last = out["last_month"].map(_month)
    start = first.where(first > lo, lo)
    end = last.where(last < hi, hi)
    inside = [(e - s).n + 1 if e >= s else 0 for s, e in zip(start, end, strict=True)]
    out["amount"] = out["amount"] * pd.Series(inside, index=out.index) / out["months"]
    return out


def compare(year: str, paid: pd.DataFrame, lines: pd.DataFrame, spec: dict) -> dict:
    streams = spec["streams"]
    mine = in_months(lines[lines["stream"].isin(streams)], spec.get("paid_months"))
    ent = mine.groupby("pcn_code")["amount"].sum(min_count=1)
    calculable = mine.groupby("pcn_code")["amount"].apply(lambda s: s.notna().any())
    ent = ent[calculable.reindex(ent.index, fill_value=False)]
    act = paid[spec["column"]] if spec["column"] in paid.columns else pd.Series(dtype=float)
    act = act[act.abs() > 0.005]
    both = pd.concat([act.rename("actual"), ent.rename("entitled")], axis=1, join="inner")
    both = both[both["entitled"].abs() > 0.005]
    ratio = both["actual"] / both["entitled"]
    dev = (ratio - 1).abs()
    # a cash-timing difference: a whole number of months more or fewer than entitled
    months = (
        12
        if not spec.get("paid_months")
        else len(
            pd.period_range(_month(spec["paid_months"]["from"]), _month(spec["paid_months"]["to"]))
        )
    )
    whole = ((ratio * months - (ratio * months).round()).abs() <= 0.01 * months) & (
        (ratio * months).round().between(1, 2 * months)
    )
    members = engine_members(lines).reindex(both.index)
    moved = pd.Series(
        [m != p for m, p in zip(members, paid["members"].reindex(both.index), strict=True)],
        index=both.index,
    )
    # ... or the column paid only some of its streams through practices (2020/21 PCN support
    # paid elsewhere in East of England): within 1% of a proper subset's entitlement
    per_stream = mine.groupby(["pcn_code", "stream"])["amount"].sum().unstack(fill_value=0)
    part = pd.Series(False, index=both.index)
    for k in range(1, len(streams)):
        for subset in itertools.combinations(streams, k):
            cols = [c for c in subset if c in per_stream.columns]
            sub = per_stream[cols].sum(axis=1).reindex(both.index)
            part |= ((both["actual"] / sub - 1).abs() <= 0.01).fillna(False)
    n = len(both)
    return {
        "year": year,
        "column": spec["column"],
        "streams": "+".join(streams),
        "paid_pcns": len(act),
        "compared": n,
        "within_1pct": round(100 * (dev <= 0.01).mean(), 1) if n else None,
        "within_5pct": round(100 * (dev <= 0.05).mean(), 1) if n else None,
        "1pct_or_timing": round(100 * ((dev <= 0.01) | whole).mean(), 1) if n else None,
        # ... or the payments file lists other practices under the PCN than the registry does
        "or_members": round(100 * ((dev <= 0.01) | whole | moved).mean(), 1) if n else None,
        "or_part": round(100 * ((dev <= 0.01) | whole | moved | part).mean(), 1) if n else None,
        "median_ratio": round(ratio.median(), 4) if n else None,
        "paid_m": round(both["actual"].sum() / 1e6, 2),
        "entitled_m": round(both["entitled"].sum() / 1e6, 2),
        "paid_all_m": round(act.sum() / 1e6, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-w", "--workspace", required=True, help="an England workspace")
    ap.add_argument("--entitlements-dir", type=Path, default=None)
    ap.add_argument("--save-dir", type=Path, default=None)
    ap.add_argument("--years", nargs="*", default=list(YEARS))
    ap.add_argument("--mapping", type=Path, default=MAPPING, help="payments columns YAML")
    args = ap.parse_args()
    mapping = yaml.safe_load(args.mapping.read_text())["years"]
    rows = []
    for year in args.years:
        paid = actuals(year)
        lines = engine(year, args.workspace, args.entitlements_dir, args.save_dir)
        for spec in mapping.get(year, []):
            if spec["kind"] != "entitlement":
                continue
            rows.append(compare(year, paid, lines, spec))
    out = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(out.to_string(index=False))


if __name__ == "__main__":
    main()
