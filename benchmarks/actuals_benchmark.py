"""Funding against actuals benchmark on all England (issue 14 target, reported in its closing
note): import the four payment years and reconcile every England PCN x column x year.

    .venv/bin/python benchmarks/actuals_benchmark.py [--data ../shared/data] [--json out.json]

Loads every England registry file except the 2019/20-2022/23 payments files into an empty SQLite
workspace (untimed), then times (a) loading those four files (`registry load`: practices,
lists, memberships, actual payments and inferred payees) and (b) `against_actuals.reconcile`
for all England and the four years. Target: (a) + (b) under 20 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from pcnkit.funding.against_actuals import reconcile
from pcnkit.registry.actions import apply_batches
from pcnkit.registry.importers import expand, parse_file
from pcnkit.store import open_workspace
from pcnkit.store.models import ActualPayment

REPO = Path(__file__).resolve().parent.parent
YEARS = ("19-20", "20-21", "21-22", "22-23")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pcnkit-actuals-bench-"))
    ws = open_workspace(folder, url=f"sqlite:///{folder / 'pcnkit.db'}")
    payments = [args.data / "payments" / f"nhs_payments_gp_{y}.csv" for y in YEARS]
    chosen, _ = expand(
        [
            args.data / d
            for d in sorted(os.listdir(args.data))
            if (args.data / d).is_dir() and d != "format_samples"
        ]
    )
    rest = [s for s in chosen if s.path not in payments]
    with ws.transaction() as session:
        apply_batches(session, [parse_file(s.path, None, s) for s in rest])

    t0 = time.perf_counter()
    picked, _ = expand(payments)
    with ws.transaction() as session:
        apply_batches(session, [parse_file(s.path, None, s) for s in picked])
    t1 = time.perf_counter()
    with ws.sessions() as session:
        found = reconcile(session)
        stored = session.scalar(select(func.count()).select_from(ActualPayment))
    t2 = time.perf_counter()
    compared = sum(1 for c in found.comparisons if c.compared)
    results = {
        "import_s": round(t1 - t0, 2),
        "reconcile_s": round(t2 - t1, 2),
        "total_s": round(t2 - t0, 2),
        "target_s": 20,
        "actual_payments": stored,
        "comparisons": len(found.comparisons),
        "compared": compared,
        "years": found.years,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "load_average": os.getloadavg()[0],
    }
    summary = [
        {
            "year": s.year,
            "column": s.heading,
            "pcns": s.pcns,
            "within_1pct": s.within_1,
            "within_5pct": s.within_5,
            "explained": s.explained,
        }
        for s in found.summary()
    ]
    print(json.dumps(results, indent=2))
    for s in summary:
        if s["pcns"]:
            print(
                f"{s['year']} {s['column']:<30} {s['pcns']:>5} PCNs  within 1% "
                f"{s['within_1pct'] * 100 / s['pcns']:5.1f}%  within 5% "
                f"{s['within_5pct'] * 100 / s['pcns']:5.1f}%  explained "
                f"{s['explained'] * 100 / s['pcns']:5.1f}%"
            )
    if args.json:
        args.json.write_text(json.dumps({**results, "summary": summary}, indent=2))
    ws.dispose()
    return 0 if results["total_s"] < results["target_s"] else 1


if __name__ == "__main__":
    sys.exit(main())
