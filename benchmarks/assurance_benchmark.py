"""Assurance benchmark on all England (issue 12 targets, reported in the closing note).

    .venv/bin/python benchmarks/assurance_benchmark.py [--data ../shared/data] [--json out.json]
    .venv/bin/python benchmarks/assurance_benchmark.py --workspace DIR   # reuse a loaded one

Without --workspace it loads every England registry file and every assurance publication in
`--data` into an empty SQLite workspace (the assurance load is timed), then times, in a fresh
process state: reading the figures (`Assurance.load`), every shipped indicator for every
organisation at every level and period, the overview (every organisation's latest value with
SPC and peer rank and England comparison), and the watch-list for every practice in England.
The figures are read from the workspace's Parquet copy of the observations (built first, and
not timed), or with --cold from the database.
Target: < 30 s for the computation (goal < 10 s). Peak memory is the process's maximum RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from pcnkit.assurance import definitions, watchlist
from pcnkit.assurance.loading import load_paths
from pcnkit.assurance.overview import overview
from pcnkit.assurance.values import Assurance
from pcnkit.registry.actions import apply_batches
from pcnkit.registry.importers import expand, parse_file
from pcnkit.store import open_workspace

REPO = Path(__file__).resolve().parent.parent
ASSURANCE_FOLDERS = ("access", "cqc", "workforce", "qof", "pcn")


def _peak_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--workspace", type=Path, help="an England workspace already loaded")
    parser.add_argument("--as-of", default="2026-03-31")
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--cold", action="store_true", help="read from the database, not the Parquet copy"
    )
    args = parser.parse_args()
    results: dict[str, object] = {}
    if args.workspace:
        folder = args.workspace
    else:
        folder = Path(tempfile.mkdtemp(prefix="pcnkit-assurance-bench-"))
        ws = open_workspace(folder, url=f"sqlite:///{folder / 'pcnkit.db'}")
        chosen, _ = expand(
            [
                args.data / d
                for d in sorted(os.listdir(args.data))
                if (args.data / d).is_dir() and d != "format_samples"
            ]
        )
        print(f"registry: {len(chosen)} files", file=sys.stderr)
        with ws.transaction() as session:
            apply_batches(session, [parse_file(s.path, None, s) for s in chosen])
        t0 = time.perf_counter()
        loaded = load_paths(ws.transaction, [args.data / d for d in ASSURANCE_FOLDERS])
        results["assurance_load_s"] = round(time.perf_counter() - t0, 1)
        results["assurance_files"] = len(loaded.reports)
        results["observations"] = sum(r.observations for r in loaded.reports)
        results["load_peak_mb"] = _peak_mb()
        ws.dispose()
    ws = open_workspace(folder, url=f"sqlite:///{folder / 'pcnkit.db'}")
    as_of = dt.date.fromisoformat(args.as_of)
    indicators = definitions.load_all()
    snapshot = ws.layout.assurance_snapshot
    with ws.sessions() as session:
        if not args.cold:
            Assurance.load(session, snapshot=snapshot)  # builds the Parquet copy if stale
        t0 = time.perf_counter()
        assurance = Assurance.load(session, snapshot=None if args.cold else snapshot)
        t1 = time.perf_counter()
        rows = sum(len(assurance.values(i)) for i in indicators)
        t2 = time.perf_counter()
        table = overview(assurance, as_of, indicators)
        t3 = time.perf_counter()
        entries = watchlist.watchlist(assurance.frame, None, as_of)
        t4 = time.perf_counter()
    results.update(
        {
            "workspace": str(folder),  # kept: pass it to --workspace to time again
            "indicators": len(indicators),
            "figures_read": len(assurance.frame.data),
            "read_s": round(t1 - t0, 1),
            "values": rows,
            "values_s": round(t2 - t1, 1),
            "overview_rows": len(table),
            "overview_s": round(t3 - t2, 1),
            "watchlist_practices": len(entries),
            "watchlist_flagged": sum(1 for e in entries if e.flags),
            "watchlist_s": round(t4 - t3, 1),
            "compute_total_s": round(t4 - t0, 1),
            "peak_mb": _peak_mb(),
            "load_average": os.getloadavg()[0],
        }
    )
    for key, value in results.items():
        print(f"{key:24} {value}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
