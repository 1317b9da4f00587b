"""Funding engine benchmark on all England (issue 3 targets, reported in the closing note).

    .venv/bin/python benchmarks/funding_benchmark.py [--data ../shared/data] [--json out.json]

Loads every England file into an empty SQLite workspace (not timed here; see
registry_benchmark.py), then times (a) entitlements and 12-month schedules for every PCN and
practice for all seven contract years (target < 2 s), and (b) a monthly payment run for England
(target < 1 s) and its repetition, which must write nothing.
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

from sqlalchemy import func, select

from pcnkit.funding import ledger
from pcnkit.funding.entitlements import entitlements
from pcnkit.funding.populations import from_registry
from pcnkit.funding.rules import known_years, rules_for
from pcnkit.funding.schedule import schedule_table
from pcnkit.registry.actions import apply_batches
from pcnkit.registry.importers import expand, parse_file
from pcnkit.store import open_workspace
from pcnkit.store.models import PaymentLine

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pcnkit-fund-bench-"))
    ws = open_workspace(folder, url=f"sqlite:///{folder / 'pcnkit.db'}")
    chosen, _ = expand(
        [
            args.data / d
            for d in sorted(os.listdir(args.data))
            if (args.data / d).is_dir() and d != "format_samples"
        ]
    )
    with ws.transaction() as session:
        apply_batches(session, [parse_file(s.path, None, s) for s in chosen])

    results: dict[str, object] = {"years": known_years()}
    with ws.sessions() as session:
        t0 = time.perf_counter()
        pops = {}
        for year in known_years():
            rules = rules_for(year)
            pops[year] = from_registry(session, rules)
        t1 = time.perf_counter()
        counts = {}
        for year in known_years():
            rules = rules_for(year)
            lines = entitlements(pops[year], rules)
            table = schedule_table(lines, rules)
            payments = sum(len(row) for row in table.values())
            counts[year] = {
                "pcns": len(pops[year].pcn_codes()),
                "lines": len(lines),
                "payments": payments,
            }
        t2 = time.perf_counter()
    results["populations_s"] = round(t1 - t0, 3)
    results["entitlements_and_schedules_s"] = round(t2 - t1, 3)
    results["counts"] = counts

    rules = rules_for("2019/20")
    lines = entitlements(pops["2019/20"], rules)
    with ws.transaction() as session:
        t3 = time.perf_counter()
        first = ledger.run_month(session, rules, lines, dt.date(2019, 7, 1), "benchmark")
        t4 = time.perf_counter()
    with ws.transaction() as session:
        t5 = time.perf_counter()
        again = ledger.run_month(session, rules, lines, dt.date(2019, 7, 1), "benchmark")
        t6 = time.perf_counter()
        stored = session.scalar(select(func.count()).select_from(PaymentLine))
    results["run_month_s"] = round(t4 - t3, 3)
    results["run_lines"] = len(first.lines)
    results["repeat_run_s"] = round(t6 - t5, 3)
    results["repeat_run_lines"] = len(again.lines)
    results["ledger_rows_after_repeat"] = stored
    results["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    results["load_average"] = os.getloadavg()[0]

    print(f"populations for 7 years (registry reads): {results['populations_s']} s")
    print(
        f"entitlements + schedules, 7 years, all England: "
        f"{results['entitlements_and_schedules_s']} s (target < 2 s)"
    )
    for year, c in counts.items():
        print(f"  {year}: {c['pcns']} PCNs, {c['lines']} lines, {c['payments']} payments")
    print(
        f"payment run July 2019, England: {results['run_month_s']} s, {len(first.lines)} lines "
        "(target < 1 s)"
    )
    print(f"repeated run: {results['repeat_run_s']} s, {len(again.lines)} lines written")
    print(f"peak RSS {results['peak_rss_mib']} MiB, load average {results['load_average']:.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
