"""Population benchmark: generate a synthetic BHR population, stratify it and build every PCN's
pack on DuckDB, then the same pipeline in plain pandas (and on Spark).

    .venv/bin/python benchmarks/population_benchmark.py [--patients 1000000] [--seed 2020]
        [--engine duckdb|spark|both] [--skip-pandas] [--workdir DIR]

Each stage runs in a fresh subprocess (this script with --stage), so each stage's peak RSS
(its own ``getrusage(RUSAGE_SELF).ru_maxrss``) is reported separately:

  (a) generate: the demo registry workspace (pcnkit.demo.build_demo), BHR's specs scaled so the
      total list is about --patients, then synthetic.generate;
  (b) duckdb: stratify.stratify on DuckDB, then pack.pack_for_pcn for every PCN in BHR
      (target: peak RSS < 4 GB);
  (c) pandas: benchmarks/pandas_pipeline.py on the same data with the DuckDB run's model,
      and whether its tiers, cohort and lists equal DuckDB's (the check is not timed);
  (d) spark (--engine spark/both): stratify.stratify on PopulationStore(backend="spark"), and
      whether its tiers and lists equal DuckDB's.

Results go to stdout as a table and to <workdir>/population-benchmark.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import procfs  # benchmarks/procfs.py, beside this script

AREA = "BHR"
AS_OF = dt.date(2020, 1, 1)
HERE = Path(__file__).resolve().parent


def _rss_mib(who: int = resource.RUSAGE_SELF) -> int:
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return round(resource.getrusage(who).ru_maxrss * 1024 / scale / 1024)


# --- stages (each in its own process) -----------------------------------------------------


def stage_generate(args) -> dict:
    from pcnkit.demo import build_demo, demo_data
    from pcnkit.population.synthetic import generate, specs_from_registry

    work = args.workdir
    t0 = time.perf_counter()
    ws = build_demo(work / "ws")
    t1 = time.perf_counter()
    qof = demo_data() / "PREVALENCE_1920.csv"
    with ws.sessions() as session:
        full = specs_from_registry(session, AREA, AS_OF, qof)
        total = sum(s.list_size for s in full)
        specs = specs_from_registry(session, AREA, AS_OF, qof, scale=args.patients / total)
    ws.dispose()
    pop = work / "pop"
    if pop.exists():
        shutil.rmtree(pop)
    t2 = time.perf_counter()
    options = {"batch_practices": args.batch_practices}
    if args.workers is not None:  # a library without the option (an older commit) runs too
        options["workers"] = args.workers
    report = generate(specs, pop, args.seed, as_of=AS_OF, **options)
    t3 = time.perf_counter()
    return {
        "demo_workspace_s": round(t1 - t0, 3),
        "specs_s": round(t2 - t1, 3),
        "generate_s": round(t3 - t2, 3),
        "practices": report.practices,
        "bhr_list_total": total,
        "scale": args.patients / total,
        "rows": {
            "patients": report.patients,
            "conditions": report.conditions,
            "medications": report.medications,
            "observations": report.observations,
            "hospital": report.hospital,
            "events": report.events,
        },
        "parquet_mib": round(sum(f.stat().st_size for f in pop.rglob("*.parquet")) / 2**20, 1),
    }


def stage_duckdb(args) -> dict:
    from pcnkit.population import pack, stratify
    from pcnkit.population.engine import PopulationStore
    from pcnkit.registry.queries import Hierarchy
    from pcnkit.store import open_workspace

    work = args.workdir
    with PopulationStore(work / "pop") as store:
        t0 = time.perf_counter()
        result = stratify.stratify(store)
        t1 = time.perf_counter()
        ws = open_workspace(work / "ws", url=f"sqlite:///{work / 'ws' / 'pcnkit.db'}")
        packs = {}
        with ws.sessions() as session:
            h = Hierarchy.at(session, AS_OF)
            pcns = [o.code for o in h.pcns_in(h.get(AREA))]
            each = []
            for code in pcns:
                started = time.perf_counter()
                made = pack.pack_for_pcn(session, store, code, AS_OF)
                each.append(time.perf_counter() - started)
                packs[code] = made.patients.marker
        ws.dispose()
        t2 = time.perf_counter()
    saved = work / "results-duckdb"
    if saved.exists():
        shutil.rmtree(saved)
    shutil.copytree(result.results, saved)
    (work / "model.json").write_text(json.dumps(result.model.to_dict()))
    return {
        "stratify_s": round(t1 - t0, 3),
        "stratify_steps_s": result.seconds,
        "packs_s": round(t2 - t1, 3),
        "pack_max_s": round(max(each), 3),
        "pack_mean_s": round(sum(each) / len(each), 3),
        "pcns": len(pcns),
        "total_s": round(t2 - t0, 3),
        "patients": result.summary["rows"],
        "tiers": result.summary["tiers"],
    }


def _same_as_duckdb(work: Path, tiers, cohort, lists) -> dict:
    """Compare (pseudonym -> (tier, rule)), the cohort in order and each list's people."""
    import pyarrow.parquet as pq

    ref = work / "results-duckdb"
    strat = pq.read_table(
        ref / "stratified" / "stratified.parquet", columns=["pseudonym", "tier_rule"]
    )
    expect = dict(zip(*(strat.column(c).to_pylist() for c in strat.column_names), strict=True))
    out = {"tiers": expect == tiers}
    if cohort is not None:
        c = pq.read_table(ref / "cohort" / "rising_risk.parquet").to_pandas()
        out["cohort"] = list(c.sort_values(["practice", "cohort_rank"])["pseudonym"]) == cohort
    for list_id, people in lists.items():
        table = pq.read_table(ref / "lists" / f"{list_id}.parquet", columns=["pseudonym"])
        out[f"list_{list_id}"] = set(table.column(0).to_pylist()) == people
    return out


def stage_pandas(args) -> dict:
    sys.path.insert(0, str(HERE))
    import pandas_pipeline

    from pcnkit.population.risk import model_from_dict

    work = args.workdir
    model = model_from_dict(json.loads((work / "model.json").read_text()))
    t0 = time.perf_counter()
    result = pandas_pipeline.run(work / "pop", AS_OF, model)
    t1 = time.perf_counter()
    tiers = result.stratified["tier_rule"].to_dict()
    cohort = list(result.cohort.sort_values(["practice", "cohort_rank"])["pseudonym"])
    lists = {k: set(v["pseudonym"]) for k, v in result.lists.items()}
    return {
        "pandas_s": round(t1 - t0, 3),
        "steps_s": result.seconds,
        "equal_to_duckdb": _same_as_duckdb(work, tiers, cohort, lists),
    }


def stage_spark(args) -> dict:
    import pyarrow.parquet as pq

    from pcnkit.population import casefinding, stratify
    from pcnkit.population.engine import PopulationStore

    work = args.workdir
    t0 = time.perf_counter()
    try:
        store = PopulationStore(work / "pop", backend="spark")
        t1 = time.perf_counter()
        result = stratify.stratify(store)
        t2 = time.perf_counter()
    except Exception as e:  # another engineer is building the Spark backend
        return {"available": False, "error": f"{type(e).__name__}: {e}"[:500]}
    strat = pq.read_table(
        result.results / "stratified" / "stratified.parquet", columns=["pseudonym", "tier_rule"]
    )
    tiers = dict(zip(*(strat.column(c).to_pylist() for c in strat.column_names), strict=True))
    lists = {
        d.id: set(
            pq.read_table(result.results / "lists" / f"{d.id}.parquet", columns=["pseudonym"])
            .column(0)
            .to_pylist()
        )
        for d in casefinding.LISTS
    }
    same = _same_as_duckdb(work, tiers, None, lists)
    jvm = _children_peak_mib()
    store.close()
    return {
        "available": True,
        "session_s": round(t1 - t0, 3),
        "stratify_s": round(t2 - t1, 3),
        "stratify_steps_s": result.seconds,
        "equal_to_duckdb": same,
        "jvm_peak_rss_mib": jvm,
    }


def _children_peak_mib() -> int | None:
    """The summed peak RSS (VmHWM) of this process's live descendants (Spark's JVM), Linux."""
    if not procfs.PROC.is_dir():
        return None
    links = procfs.parents()
    mine, found = {os.getpid()}, True
    while found:
        found = False
        for pid, ppid in links.items():
            if ppid in mine and pid not in mine:
                mine.add(pid)
                found = True
    return procfs.peak_rss_mib(mine - {os.getpid()})


STAGES = {
    "generate": stage_generate,
    "duckdb": stage_duckdb,
    "pandas": stage_pandas,
    "spark": stage_spark,
}


def run_stage(args) -> int:
    out = STAGES[args.stage](args)
    # every thread (DuckDB's too) and every worker process (the generator's)
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    out["cpu_s"] = round(sum(u.ru_utime + u.ru_stime for u in usage), 1)
    out["peak_rss_mib"] = _rss_mib()
    out["children_peak_rss_mib"] = _rss_mib(resource.RUSAGE_CHILDREN)
    (args.workdir / f"stage-{args.stage}.json").write_text(json.dumps(out, indent=2))
    return 0


# --- the driver ---------------------------------------------------------------------------


# issue 11's targets for 1,000,000 patients (times scale with --patients; peak memory does not
# shrink below its 1M figure)
TARGETS = {
    "generate_s": 30.0,
    "generate_goal_s": 20.0,
    "stratify_s": 15.0,
    "peak_mib": 2048,
    "pandas_ratio": 5,
    "pandas_ratio_goal": 10,
}


def _target(seconds: float, limit: float, what: str) -> str:
    return f"{what} target < {limit:.1f} s {'met' if seconds < limit else 'MISSED'}"


def _ratio(ratio: float | None) -> str:
    if ratio is None:
        return "n/a"
    if ratio >= TARGETS["pandas_ratio_goal"]:
        return "goal met"
    return "target met" if ratio >= TARGETS["pandas_ratio"] else "MISSED"


def _spawn(args, stage: str) -> dict:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--stage",
        stage,
        "--patients",
        str(args.patients),
        "--seed",
        str(args.seed),
        "--workdir",
        str(args.workdir),
        "--batch-practices",
        str(args.batch_practices),
        *(["--workers", str(args.workers)] if args.workers is not None else []),
    ]
    print(f"[{stage}] running ...", file=sys.stderr, flush=True)
    wall = time.perf_counter()
    done = subprocess.run(cmd, check=False)
    wall = round(time.perf_counter() - wall, 3)
    path = args.workdir / f"stage-{stage}.json"
    if done.returncode != 0 or not path.exists():
        return {"failed": True, "returncode": done.returncode, "process_s": wall}
    out = json.loads(path.read_text())
    out["process_s"] = wall
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--engine", choices=("duckdb", "spark", "both"), default="duckdb")
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--batch-practices", type=int, default=20)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--stage", choices=tuple(STAGES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.workdir is None:
        args.workdir = Path(tempfile.mkdtemp(prefix="pcnkit-pop-bench-"))
    args.workdir = args.workdir.resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.stage:
        return run_stage(args)

    results: dict[str, object] = {
        "patients_requested": args.patients,
        "seed": args.seed,
        "as_of": AS_OF.isoformat(),
        "area": AREA,
        "cpus": os.cpu_count(),
        "load_average_start": os.getloadavg()[0],
        "python": sys.version.split()[0],
    }
    stages = ["generate", "duckdb"]
    if not args.skip_pandas:
        stages.append("pandas")
    if args.engine in ("spark", "both"):
        stages.append("spark")
    for stage in stages:
        results[stage] = _spawn(args, stage)
        if results[stage].get("failed") and stage in ("generate", "duckdb"):
            break
    gen, duck = results["generate"], results.get("duckdb", {})
    pan, spark = results.get("pandas"), results.get("spark")
    if pan and not pan.get("failed") and duck.get("stratify_s"):
        pan["ratio_to_duckdb_stratify"] = round(pan["pandas_s"] / duck["stratify_s"], 2)
        # pandas is given the model: compare with DuckDB's stratify without the model fit too
        steps = duck["stratify_steps_s"]
        fit = steps.get("risk model", 0.0) + steps.get("training measures", 0.0)
        scoring = duck["stratify_s"] - fit
        pan["ratio_to_duckdb_without_fit"] = round(pan["pandas_s"] / scoring, 2)
    results["load_average_end"] = os.getloadavg()[0]
    (args.workdir / "population-benchmark.json").write_text(json.dumps(results, indent=2))

    rows = []
    scale = args.patients / 1_000_000  # the time targets are for 1M patients, scaled
    if not gen.get("failed"):
        r = gen["rows"]
        rows.append(
            (
                "(a) generate",
                f"{gen['generate_s']:.1f} s",
                f"{max(gen['peak_rss_mib'], gen.get('children_peak_rss_mib', 0))} MiB",
                f"{_target(gen['generate_s'], TARGETS['generate_s'] * scale, 'generate')}; "
                f"CPU {gen.get('cpu_s')} s; {r['patients']:,} patients, {r['events']:,} events, "
                f"{r['medications']:,} medications, {r['conditions']:,} conditions, "
                f"{r['hospital']:,} hospital, {r['observations']:,} observations; "
                f"{gen['parquet_mib']} MiB Parquet (demo workspace {gen['demo_workspace_s']} s)",
            )
        )
    if duck and not duck.get("failed"):
        peak_limit = TARGETS["peak_mib"] * max(1, scale)
        peak_ok = "met" if duck["peak_rss_mib"] < peak_limit else "MISSED"
        steps = ", ".join(f"{k} {v}" for k, v in duck["stratify_steps_s"].items())
        rows.append(
            (
                "(b) DuckDB stratify",
                f"{duck['stratify_s']:.1f} s",
                f"{duck['peak_rss_mib']} MiB",
                f"{_target(duck['stratify_s'], TARGETS['stratify_s'] * scale, 'stratify')}, "
                f"peak {peak_ok} (< {peak_limit:.0f} MiB); CPU {duck.get('cpu_s')} s; "
                f"{steps}",
            )
        )
        rows.append(
            (
                "    + packs",
                f"{duck['packs_s']:.1f} s",
                "",
                f"{duck['pcns']} PCNs, each {duck.get('pack_mean_s')} s on average, slowest "
                f"{duck.get('pack_max_s')} s: {_target(duck.get('pack_max_s', 99), 0.5, 'a pack')}"
                f"; total {duck['total_s']:.1f} s",
            )
        )
    if pan:
        if pan.get("failed"):
            rows.append(("(c) pandas", "failed", "", ""))
        else:
            rows.append(
                (
                    "(c) pandas",
                    f"{pan['pandas_s']:.1f} s",
                    f"{pan['peak_rss_mib']} MiB",
                    f"x{pan.get('ratio_to_duckdb_stratify')} DuckDB stratify "
                    f"(target x{TARGETS['pandas_ratio']}, goal x{TARGETS['pandas_ratio_goal']}: "
                    f"{_ratio(pan.get('ratio_to_duckdb_stratify'))}; "
                    f"x{pan.get('ratio_to_duckdb_without_fit')} without its model fit); "
                    f"CPU {pan.get('cpu_s')} s; equal: {all(pan['equal_to_duckdb'].values())}",
                )
            )
    if spark:
        if spark.get("failed") or not spark.get("available"):
            rows.append(("(d) Spark", "not available", "", str(spark.get("error", ""))[:100]))
        else:
            rows.append(
                (
                    "(d) Spark stratify",
                    f"{spark['stratify_s']:.1f} s",
                    f"{spark['peak_rss_mib']}+{spark.get('jvm_peak_rss_mib')} MiB JVM",
                    f"equal to DuckDB: {all(spark['equal_to_duckdb'].values())}",
                )
            )
    width = max(len(r[0]) for r in rows) if rows else 10
    print(f"\npopulation benchmark: {args.patients:,} patients requested, seed {args.seed}")
    print(f"{'stage':<{width}}  {'time':>10}  {'peak RSS':>15}  detail")
    for name, t, rss, detail in rows:
        print(f"{name:<{width}}  {t:>10}  {rss:>15}  {detail}")
    print(
        f"load average {results['load_average_start']:.2f} -> {results['load_average_end']:.2f} "
        f"on {results['cpus']} CPUs (CPU seconds are less sensitive to other processes than wall)"
    )
    print(f"JSON: {args.workdir / 'population-benchmark.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
