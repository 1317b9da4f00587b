"""Registry benchmark: load all of England, answer as-of lookups, run the England check.

Run from the repository root:

    .venv/bin/python benchmarks/registry_benchmark.py [--data ../shared/data] [--json out.json]

It measures, on a fresh, empty SQLite workspace in a temporary folder:

(a) load: every registry file found under --data except the parser test fixtures in
    `format_samples/` (see EXCLUDED), read with `importers.expand` / `parse_file` and written
    with `actions.apply_batches` inside one `Workspace.transaction()`, exactly as
    `pcnkit registry load` does;
(b) lookup: one practice's PCN (`queries.parent_at(..., "pcn", date)`) plus its registered
    list (`queries.list_size_at`) as at a date, repeated over several practices and dates;
(c) check: `checks.run_checks(session, date(2019, 12, 1), "ENG")` for all of England;
(d) memory: the process's peak resident set size (getrusage ru_maxrss) and the tracemalloc
    peak of a second, traced load into another empty workspace (tracing slows Python down, so
    the timed load in (a) runs untraced).

Results go to stdout as a table (progress to stderr) and, with --json PATH, to a JSON file.
Nothing outside the temporary folder is written unless --keep or --json is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from sqlalchemy import func, select

import pcnkit
from pcnkit.registry import kinds, queries
from pcnkit.registry.actions import apply_batches
from pcnkit.registry.checks import run_checks
from pcnkit.registry.importers import expand, parse_file
from pcnkit.store import open_workspace
from pcnkit.store.models import ListSize, Membership, MembershipFact, Organisation, SourceFile

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data"

TARGETS = {"load_s": 30.0, "lookup_p95_ms": 5.0, "check_s": 5.0}
# Folders under --data that are not England data: format_samples/ holds a few edited rows per
# NHS format for parser tests (its epraccur sample is recognised and would otherwise load).
EXCLUDED = {"format_samples"}
CHECK_DATE = dt.date(2019, 12, 1)
CHECK_AREA = "ENG"
# Practices whose answers are known from the sources (F82614 is the Havering South example in
# docs/registry.md); more are drawn at random, with a fixed seed, from the loaded registry.
FIXED_PRACTICES = ["F82614", "F82008", "F82022", "A81001", "A81002"]
LOOKUP_DATES = [
    dt.date(2019, 7, 1),
    dt.date(2019, 12, 1),
    dt.date(2020, 3, 31),
    dt.date(2020, 4, 1),
    dt.date(2021, 1, 1),
    dt.date(2022, 5, 1),
    dt.date(2025, 8, 1),
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def peak_rss_mib() -> float:
    """The process's peak resident set size so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def new_workspace(folder: Path):
    """An empty SQLite workspace in `folder` (the URL is explicit, so PCNKIT_DATABASE_URL, which
    would point at a possibly non-empty PostgreSQL database, is ignored)."""
    if folder.exists() and any(folder.iterdir()):
        raise SystemExit(f"{folder} is not empty; the benchmark needs an empty workspace")
    return open_workspace(folder, url=f"sqlite:///{folder / 'pcnkit.db'}")


def data_folders(data: Path) -> list[Path]:
    """The folders of `data` to load: all but EXCLUDED (loose files at the top are notes)."""
    return sorted(p for p in data.iterdir() if p.is_dir() and p.name not in EXCLUDED)


def load(ws, data: Path) -> dict:
    """Load every registry file under `data` (but EXCLUDED), as `pcnkit registry load` does."""
    t0 = time.perf_counter()
    chosen, skipped = expand(data_folders(data))
    t1 = time.perf_counter()
    batches = [parse_file(found.path, None, found) for found in chosen]
    t2 = time.perf_counter()
    with ws.transaction() as session:
        reports = apply_batches(session, batches)
        t3 = time.perf_counter()
    t4 = time.perf_counter()
    return {
        "seconds": t4 - t0,
        "detect_s": t1 - t0,
        "parse_s": t2 - t1,
        "apply_s": t3 - t2,
        "commit_s": t4 - t3,
        "files": [
            {
                "file": str(Path(r.file).relative_to(data)),
                "type": r.file_type,
                "extract_date": r.extract_date.isoformat(),
                "rows": r.rows,
                "new_organisations": r.organisations_new,
                "membership_facts": r.facts,
                "list_sizes": r.list_sizes,
                "coordinates": r.coordinates,
                "status": r.status,
            }
            for r in reports
        ],
        "skipped": len(skipped),
        "excluded_folders": sorted(EXCLUDED),
    }


def registry_counts(ws) -> dict:
    with ws.sessions() as session:
        count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
        by_kind = dict(
            session.execute(
                select(Organisation.kind, func.count()).group_by(Organisation.kind)
            ).all()
        )
        return {
            "source_files": count(SourceFile),
            "organisations": count(Organisation),
            "organisations_by_kind": {k: by_kind[k] for k in sorted(by_kind)},
            "membership_facts": count(MembershipFact),
            "memberships": count(Membership),
            "list_sizes": count(ListSize),
        }


def lookups(ws, repeats: int, seed: int) -> dict:
    """Time parent_at(practice, 'pcn', date) + list_size_at(practice, date) pairs."""
    with ws.sessions() as session:
        codes = set(session.scalars(select(Organisation.code).where(
            Organisation.kind == kinds.PRACTICE)))  # fmt: skip
        fixed = [c for c in FIXED_PRACTICES if c in codes]
        others = sorted(codes - set(fixed))
        practices = fixed + random.Random(seed).sample(others, min(15, len(others)))
        grid = [(p, d) for p in practices for d in LOOKUP_DATES]
        random.Random(seed).shuffle(grid)

        def one(code: str, day: dt.date):
            placement = queries.parent_at(session, code, kinds.PCN, day)
            figure = queries.list_size_at(session, code, day)
            return placement, figure

        for code, day in grid[:10]:  # warm-up: first statements compiled and cached
            one(code, day)
        timings_ms: list[float] = []
        found = 0
        while len(timings_ms) < repeats:
            for code, day in grid:
                start = time.perf_counter()
                placement, figure = one(code, day)
                timings_ms.append((time.perf_counter() - start) * 1000)
                found += placement is not None
                if len(timings_ms) >= repeats:
                    break

        examples = []
        for day in LOOKUP_DATES:
            placement, figure = one("F82614", day) if "F82614" in codes else (None, None)
            examples.append(
                {
                    "practice": "F82614",
                    "as_of": day.isoformat(),
                    "pcn": placement.organisation.code if placement else None,
                    "pcn_name": placement.organisation.name if placement else None,
                    "pcn_from": str(placement.start) if placement else None,
                    "pcn_to": str(placement.end) if placement and placement.end else None,
                    "registered": str(figure.value) if figure else None,
                    "list_as_of": figure.as_of.isoformat() if figure else None,
                    "list_source": figure.source if figure else None,
                }
            )
    return {
        "n": len(timings_ms),
        "practices": len(practices),
        "dates": len(LOOKUP_DATES),
        "placed_in_a_pcn": found,
        "p50_ms": percentile(timings_ms, 50),
        "p95_ms": percentile(timings_ms, 95),
        "mean_ms": statistics.fmean(timings_ms),
        "max_ms": max(timings_ms),
        "examples": examples,
    }


def england_check(ws, runs: int) -> dict:
    """run_checks for all of England at CHECK_DATE, each run in a fresh session (as the CLI)."""
    seconds: list[float] = []
    result = None
    for _ in range(runs):
        with ws.sessions() as session:
            start = time.perf_counter()
            result = run_checks(session, CHECK_DATE, CHECK_AREA)
            seconds.append(time.perf_counter() - start)
    assert result is not None
    return {
        "area": result.area,
        "area_name": result.area_name,
        "as_of": result.as_of.isoformat(),
        "runs_s": seconds,
        "first_s": seconds[0],
        "median_s": statistics.median(seconds),
        "max_s": max(seconds),
        "pcns": len(result.pcns),
        "open_practices": result.practices,
        "findings": result.counts(),
        "findings_by_check": {
            check: sum(1 for f in result.findings if f.check == check)
            for check in sorted({f.check for f in result.findings})
        },
    }


def traced_load(folder: Path, data: Path) -> dict:
    """A second load into another empty workspace, with tracemalloc on, for its peak."""
    ws = new_workspace(folder)
    try:
        tracemalloc.start()
        tracemalloc.reset_peak()
        start = time.perf_counter()
        load(ws, data)
        seconds = time.perf_counter() - start
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        ws.dispose()
    return {"tracemalloc_peak_mib": peak / (1024 * 1024), "traced_load_s": seconds}


def environment(data: Path) -> dict:
    return {
        "when": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "pcnkit": getattr(pcnkit, "__version__", "unknown"),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "data": str(data.resolve()),
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def verdict(value: float, limit: float) -> str:
    return "ok" if value < limit else "OVER"


def print_results(results: dict) -> None:
    ld, lk, ck, mem = results["load"], results["lookup"], results["check"], results["memory"]
    t = TARGETS
    rows = [
        ("(a) load all England files", f"{ld['seconds']:.1f} s", f"< {t['load_s']:.0f} s",
         verdict(ld["seconds"], t["load_s"])),
        ("    detect / parse / apply / commit",
         f"{ld['detect_s']:.1f} / {ld['parse_s']:.1f} / {ld['apply_s']:.1f} / "
         f"{ld['commit_s']:.1f} s", "", ""),
        (f"(b) as-of lookup, p95 (n={lk['n']})", f"{lk['p95_ms']:.2f} ms",
         f"< {t['lookup_p95_ms']:.0f} ms", verdict(lk["p95_ms"], t["lookup_p95_ms"])),
        ("    p50 / mean / max", f"{lk['p50_ms']:.2f} / {lk['mean_ms']:.2f} / "
         f"{lk['max_ms']:.2f} ms", "", ""),
        (f"(c) England check {CHECK_DATE}, slowest of {len(ck['runs_s'])}",
         f"{ck['max_s']:.2f} s", f"< {t['check_s']:.0f} s", verdict(ck["max_s"], t["check_s"])),
        ("    first / median", f"{ck['first_s']:.2f} / {ck['median_s']:.2f} s", "", ""),
        ("    PCNs / open practices", f"{ck['pcns']:,} / {ck['open_practices']:,}", "", ""),
        ("(d) peak RSS after load+lookups+check", f"{mem['rss_after_check_mib']:.0f} MiB", "", ""),
        ("    peak RSS after load", f"{mem['rss_after_load_mib']:.0f} MiB", "", ""),
    ]  # fmt: skip
    if mem.get("tracemalloc_peak_mib") is not None:
        rows.append(("    tracemalloc peak, load phase",
                     f"{mem['tracemalloc_peak_mib']:.0f} MiB", "", ""))  # fmt: skip
        rows.append(("    (traced load took)", f"{mem['traced_load_s']:.1f} s", "", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    head = ("measure", "result", "target", "")
    widths = [max(w, len(h)) for w, h in zip(widths, head, strict=True)]

    def line(r):
        return "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()

    print(line(head))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))
    counts = results["registry"]
    print(
        f"\nregistry: {counts['source_files']} files, {counts['organisations']:,} organisations, "
        f"{counts['membership_facts']:,} membership facts -> {counts['memberships']:,} "
        f"memberships, {counts['list_sizes']:,} list sizes"
    )
    print(f"check findings: {ck['findings']}")
    print("F82614 (Havering South example):")
    for e in lk["examples"]:
        pcn = f"{e['pcn']} {e['pcn_from']}..{e['pcn_to'] or ''}" if e["pcn"] else "no PCN"
        lst = f"{e['registered']} (as at {e['list_as_of']}, {e['list_source']})" \
            if e["registered"] else "no list"  # fmt: skip
        print(f"  {e['as_of']}: {pcn}; registered {lst}")
    env = results["environment"]
    load_avg = env["load_average_at_start"]
    busy = f"; load average at start {load_avg[0]:.2f} on {env['cpus']} CPUs" if load_avg else ""
    print(f"\nPython {env['python']}, SQLite {env['sqlite']}, {env['platform']}{busy}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help=f"NHS data folder (default {DEFAULT_DATA})"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument(
        "--repeats", type=int, default=300, help="timed lookups (default 300; at least 200)"
    )
    parser.add_argument(
        "--check-runs", type=int, default=3, help="times to run the England check (default 3)"
    )
    parser.add_argument("--seed", type=int, default=2019, help="seed for the practice sample")
    parser.add_argument(
        "--no-tracemalloc", action="store_true", help="skip the second, traced load"
    )
    parser.add_argument(
        "--keep", type=Path, help="build the timed workspace in this new folder and keep it"
    )
    args = parser.parse_args(argv)
    if args.repeats < 200:
        parser.error("--repeats must be at least 200")
    if args.check_runs < 1:
        parser.error("--check-runs must be at least 1")
    data = args.data
    if not data.is_dir():
        parser.error(f"{data} is not a folder; pass --data PATH to the shared NHS data")

    results: dict = {"environment": environment(data), "targets": TARGETS}
    with tempfile.TemporaryDirectory(prefix="pcnkit-bench-") as tmp:
        folder = args.keep or Path(tmp) / "timed"
        log(f"creating an empty workspace in {folder}")
        start = time.perf_counter()
        ws = new_workspace(folder)
        results["workspace_create_s"] = time.perf_counter() - start
        try:
            log(f"(a) loading every registry file under {data} ...")
            results["load"] = load(ws, data)
            rss_after_load = peak_rss_mib()
            results["registry"] = registry_counts(ws)
            log(f"    loaded in {results['load']['seconds']:.1f} s")
            log(f"(b) {args.repeats} as-of lookups ...")
            results["lookup"] = lookups(ws, args.repeats, args.seed)
            log(f"(c) England check as at {CHECK_DATE} x{args.check_runs} ...")
            results["check"] = england_check(ws, args.check_runs)
            rss_after_check = peak_rss_mib()
        finally:
            ws.dispose()
        results["memory"] = {
            "rss_after_load_mib": rss_after_load,
            "rss_after_check_mib": rss_after_check,
            "tracemalloc_peak_mib": None,
            "traced_load_s": None,
        }
        if not args.no_tracemalloc:
            log("(d) second load with tracemalloc on, into another empty workspace ...")
            results["memory"].update(traced_load(Path(tmp) / "traced", data))
        results["memory"]["rss_final_mib"] = peak_rss_mib()

    results["passed"] = {
        "load": results["load"]["seconds"] < TARGETS["load_s"],
        "lookup": results["lookup"]["p95_ms"] < TARGETS["lookup_p95_ms"],
        "check": results["check"]["max_s"] < TARGETS["check_s"],
    }
    print_results(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
        log(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
