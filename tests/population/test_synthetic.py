"""The synthetic population generator on the BHR demo practices, scaled to 2% for speed."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import load
from pcnkit.demo import demo_data
from pcnkit.errors import PcnkitError
from pcnkit.population import synthetic
from pcnkit.population.synthetic import (
    PracticeSpec,
    generate,
    read_registers,
    specs_from_registry,
)

AS_OF = dt.date(2020, 1, 1)  # QOF 2019/20 lists are as at 1 January 2020
SCALE = 0.02
ANCHORS_CSV = (
    Path(__file__).resolve().parents[3] / "shared/domain/PHM-age-sex-prevalence-anchors.csv"
)


@pytest.fixture(scope="module")
def specs(bhr_specs) -> list[PracticeSpec]:
    return bhr_specs


@pytest.fixture(scope="module")
def generated(specs, tmp_path_factory):
    out = tmp_path_factory.mktemp("syn") / "out"
    report = generate(specs, out, seed=7, as_of=AS_OF)
    return out, report


def _table(out: Path, name: str):
    return pa.concat_tables(pq.read_table(p) for p in sorted((out / name).glob("*.parquet")))


def _bytes(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}


def _rows(out: Path, name: str) -> list[tuple]:
    if name == "conditions_pg":  # (pseudonym, qof_group) pairs
        table = _table(out, "conditions").select(["pseudonym", "qof_group"]).to_pylist()
        return sorted(tuple(r.values()) for r in table)
    table = _table(out, name).to_pylist()
    return sorted(tuple(r.values()) for r in table)


def test_specs_come_from_the_registry_and_the_qof_file(specs, sqlite_workspace):
    load(sqlite_workspace, demo_data())
    with sqlite_workspace.sessions() as session:
        full = specs_from_registry(session, "BHR", AS_OF, demo_data() / "PREVALENCE_1920.csv")
    assert len(full) == len(specs) > 100
    registers, ages = read_registers(demo_data() / "PREVALENCE_1920.csv")
    one = next(s for s in full if s.code == "F82001")
    assert one.registers == registers["F82001"]
    assert one.registers["HYP"] > 0
    assert ages["DM"] == (17, None) and ages["OST"] == (50, None)
    scaled = {s.code: s for s in specs}["F82001"]
    assert scaled.list_size == round(one.list_size * SCALE)
    assert scaled.registers["HYP"] == round(one.registers["HYP"] * SCALE)


def test_specs_warn_about_missing_registers_only_when_asked(sqlite_workspace, caplog):
    """The demo reads the specs twice (to scale them to --patients): only one reading warns."""
    load(sqlite_workspace, demo_data())
    qof = demo_data() / "PREVALENCE_1920.csv"
    with sqlite_workspace.sessions() as session:
        specs_from_registry(session, "BHR", AS_OF, qof, warn=False)
        assert "no QOF registers" not in caplog.text
        specs_from_registry(session, "BHR", AS_OF, qof)
    assert caplog.text.count("no QOF registers") == 1


def test_same_seed_gives_identical_bytes(specs, generated, tmp_path):
    out, _ = generated
    again = generate(specs, tmp_path / "again", seed=7, as_of=AS_OF)
    assert _bytes(out) == _bytes(tmp_path / "again")
    assert again.to_json() == generated[1].to_json()


def test_worker_processes_write_the_same_bytes_and_report(specs, generated, tmp_path):
    """Batches made by worker processes are byte-identical to one process's, and the report
    (counts, files in order, shortfalls) is the same."""
    some = specs[:9]
    one = generate(some, tmp_path / "one", seed=7, as_of=AS_OF, batch_practices=2, workers=1)
    seen = []
    two = generate(
        some,
        tmp_path / "two",
        seed=7,
        as_of=AS_OF,
        batch_practices=2,
        workers=2,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert _bytes(tmp_path / "one") == _bytes(tmp_path / "two")
    assert one.to_json() == two.to_json()
    assert len(two.files) == 5 * 7 and seen[-1] == (9, 9)


def test_a_different_seed_gives_a_different_population(specs, generated, tmp_path):
    out, _ = generated
    generate(specs, tmp_path / "other", seed=8, as_of=AS_OF)
    assert _bytes(out) != _bytes(tmp_path / "other")
    assert _rows(out, "patients") != _rows(tmp_path / "other", "patients")


def test_batch_size_and_order_do_not_change_the_rows(specs, generated, tmp_path):
    out, _ = generated
    some = list(reversed(specs[:12]))
    small = generate(some, tmp_path / "one", seed=7, as_of=AS_OF, batch_practices=1)
    big = generate(some, tmp_path / "all", seed=7, as_of=AS_OF, batch_practices=50)
    assert _rows(tmp_path / "one", "patients") == _rows(tmp_path / "all", "patients")
    assert _rows(tmp_path / "one", "conditions") == _rows(tmp_path / "all", "conditions")
    assert small.groups == big.groups
    # and a practice's rows do not depend on the other practices in the run
    codes = {s.code for s in some}
    whole = [r for r in _rows(out, "patients") if r[1] in codes]
    assert whole == _rows(tmp_path / "one", "patients")


def test_one_parquet_file_per_batch(specs, tmp_path):
    some = specs[:5]
    seen = []
    report = generate(
        some,
        tmp_path / "b",
        seed=1,
        as_of=AS_OF,
        batch_practices=1,
        progress=lambda done, total: seen.append((done, total)),
    )
    patients = sorted((tmp_path / "b" / "patients").glob("*.parquet"))
    conditions = sorted((tmp_path / "b" / "conditions").glob("*.parquet"))
    assert len(patients) == len(conditions) == 5
    assert len(report.files) == 5 * 7  # patients, conditions and the five activity tables
    assert seen == [(i, 5) for i in range(1, 6)]
    for path, spec in zip(patients, sorted(some, key=lambda s: s.code), strict=True):
        table = pq.read_table(path)
        assert set(table.column("practice").to_pylist()) == {spec.code}
        assert table.num_rows == spec.list_size
    with pytest.raises(PcnkitError, match="already holds"):
        generate(some, tmp_path / "b", seed=1, as_of=AS_OF)


def test_each_practice_reproduces_its_registers_exactly(specs, generated):
    out, report = generated
    patients = _table(out, "patients")
    practice_of = dict(
        zip(
            patients.column("pseudonym").to_pylist(),
            patients.column("practice").to_pylist(),
            strict=True,
        )
    )
    assert len(practice_of) == patients.num_rows == sum(s.list_size for s in specs)
    conditions = _table(out, "conditions")
    counts = Counter(
        (practice_of[p], g)
        for p, g in zip(
            conditions.column("pseudonym").to_pylist(),
            conditions.column("qof_group").to_pylist(),
            strict=True,
        )
    )
    for spec in specs:
        assert Counter(p for p in practice_of.values() if p == spec.code)[spec.code] == (
            spec.list_size
        )
        for group, target in spec.registers.items():
            assert counts[(spec.code, group)] == target, (spec.code, group)
    assert report.shortfalls == {}
    assert all(t.generated == t.target for t in report.groups.values())
    assert report.groups["HYP"].target == sum(s.registers.get("HYP", 0) for s in specs)
    # no one is on a register they are too young for
    ages = _ages(patients)
    for p, g in zip(
        conditions.column("pseudonym").to_pylist(),
        conditions.column("qof_group").to_pylist(),
        strict=True,
    ):
        if g == "DM":
            assert ages[p] >= 17
        if g == "OST":
            assert ages[p] >= 50


def _ages(patients) -> dict[str, int]:
    out = {}
    for p, born in zip(
        patients.column("pseudonym").to_pylist(),
        patients.column("month_of_birth").to_pylist(),
        strict=True,
    ):
        months = (AS_OF.year * 12 + AS_OF.month) - (born.year * 12 + born.month)
        out[p] = months // 12
    return out


def test_age_sex_and_other_fields_are_plausible(generated):
    out, _ = generated
    patients = _table(out, "patients")
    ages = list(_ages(patients).values())
    n = len(ages)
    assert 0.12 < sum(a >= 65 for a in ages) / n < 0.25
    assert 0.15 < sum(a < 16 for a in ages) / n < 0.25
    assert 0.47 < patients.column("sex").to_pylist().count("F") / n < 0.53
    assert all(b.day == 1 for b in patients.column("month_of_birth").to_pylist())
    births = patients.column("month_of_birth").to_pylist()
    regs = patients.column("registration_start").to_pylist()
    assert all(b <= r <= AS_OF for b, r in zip(births, regs, strict=True))
    deciles = Counter(patients.column("lsoa_imd_decile").to_pylist())
    assert set(deciles) <= set(range(1, 11)) and len(deciles) >= 8
    ethnic = Counter(patients.column("ethnic_group").to_pylist())
    assert set(ethnic) == {"white", "asian", "black", "mixed", "other"}
    assert 0.75 < ethnic["white"] / n < 0.87
    care = sum(patients.column("care_home").to_pylist())
    assert care > 0 and care / n < 0.02
    assert not any(
        c and h
        for c, h in zip(
            patients.column("care_home").to_pylist(),
            patients.column("housebound").to_pylist(),
            strict=True,
        )
    )
    assert len(set(patients.column("pseudonym").to_pylist())) == n


def test_hypertension_and_diabetes_rise_with_age(generated):
    out, _ = generated
    patients = _table(out, "patients")
    ages = _ages(patients)
    people = Counter()
    for a in ages.values():
        people[_band(a)] += 1
    cases: dict[str, Counter] = defaultdict(Counter)
    conditions = _table(out, "conditions")
    for p, g in zip(
        conditions.column("pseudonym").to_pylist(),
        conditions.column("qof_group").to_pylist(),
        strict=True,
    ):
        cases[g][_band(ages[p])] += 1
    for group in ("HYP", "DM"):
        rate = {b: cases[group][b] / people[b] for b in people}
        assert rate["18-44"] < rate["45-64"] < rate["65+"], (group, rate)
        assert rate["65+"] > 3 * rate["18-44"]


def _band(age: int) -> str:
    if age < 18:
        return "0-17"
    if age < 45:
        return "18-44"
    return "45-64" if age < 65 else "65+"


def test_everything_is_labelled_synthetic(generated):
    out, report = generated
    assert report.synthetic is True and "SYNTHETIC" in report.label
    assert "SYNTHETIC" in (out / "SYNTHETIC.txt").read_text()
    assert '"synthetic": true' in (out / "synthetic-report.json").read_text()
    files = sorted(out.rglob("*.parquet"))
    assert files and [p.relative_to(out).as_posix() for p in files] == sorted(report.files)
    for path in files:
        assert path.name.startswith("synthetic-")
        table = pq.read_table(path)
        assert table.schema.metadata[b"pcnkit.synthetic"] == b"true"
        assert set(table.column("synthetic").to_pylist()) <= {True}


def test_nothing_patient_level_is_printed(specs, tmp_path, capsys, caplog):
    generate(specs[:3], tmp_path / "quiet", seed=3, as_of=AS_OF)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert "SYN" not in caplog.text


def test_embedded_anchors_match_the_domain_csv():
    if not ANCHORS_CSV.exists():
        pytest.skip("the shared domain notes are not beside the repo")
    with ANCHORS_CSV.open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if "+" not in r["condition"]]
    assert rows
    for r in rows:
        group = r["condition"].upper()
        end = int(r["age_to_inclusive"]) if r["age_to_inclusive"] else None
        want = (int(r["age_from"]), end, float(r["prevalence_proportion"]))
        assert want in synthetic.ANCHORS[group][r["sex"]]
    assert sum(len(v) for g in synthetic.ANCHORS.values() for v in g.values()) == len(rows)


def test_a_leap_day_and_an_empty_practice_are_fine(tmp_path):
    specs = [PracticeSpec("Z00001", 40, {"DM": 3, "OST": 500}), PracticeSpec("Z00002", 0, {})]
    report = generate(specs, tmp_path / "leap", seed=1, as_of=dt.date(2024, 2, 29))
    assert report.patients == 40 and report.groups["DM"].generated == 3
    assert 0 < report.groups["OST"].generated < 500  # capped at the patients aged 50+
    assert report.shortfalls["Z00001"]["OST"] == 500 - report.groups["OST"].generated


def test_conditions_cluster_and_multimorbidity_rises_with_age(generated):
    """The latent frailty factor (docstring step 5): mean LTC groups at 85+ is about 2.0 at 2%
    of BHR (about 1.4 before the factor and the old-age tilt), and the 2+ share rises."""
    out, _ = generated
    ages = _ages(_table(out, "patients"))
    groups: dict[str, set] = defaultdict(set)
    for p, g in _rows(out, "conditions_pg"):
        groups[p].add(g)
    bands = ((18, 44), (45, 64), (65, 74), (75, 84), (85, 200))
    mean, multi = [], []
    for low, high in bands:
        people = [p for p, a in ages.items() if low <= a <= high]
        counts = [len(groups[p]) for p in people]
        mean.append(sum(counts) / len(counts))
        multi.append(sum(c >= 2 for c in counts) / len(counts))
    assert mean[-1] > 1.8
    assert mean == sorted(mean) and multi == sorted(multi)
    # clustering: among people 65+, the LTC count is more dispersed than independent draws
    # with the same per-person mean could give (variance > mean for a sum of Bernoullis)
    old = [len(groups[p]) for p, a in ages.items() if a >= 65]
    m = sum(old) / len(old)
    assert sum((c - m) ** 2 for c in old) / len(old) > m


def test_care_home_since_and_the_empty_patient_columns(generated):
    out, _ = generated
    patients = _table(out, "patients").to_pylist()
    residents = [p for p in patients if p["care_home"]]
    assert residents
    assert all(p["care_home_since"] is None for p in patients if not p["care_home"])
    assert all(p["month_of_birth"] <= p["care_home_since"] < AS_OF for p in residents)
    recent = sum((AS_OF - p["care_home_since"]).days <= 30 for p in residents)
    assert 0 < recent < 0.25 * len(residents)
    assert all(p["registration_end"] is None and p["date_of_death"] is None for p in patients)
    assert _table(out, "patients").schema.field("care_home_since").type == pa.date32()


_ORPHAN_SCRIPT = """
import concurrent.futures, multiprocessing, os, sys, time
from pcnkit.population import synthetic
pool = concurrent.futures.ProcessPoolExecutor(
    1, multiprocessing.get_context("spawn"),
    initializer=synthetic._exit_with, initargs=(os.getpid(),),
)
print(pool.submit(os.getpid).result(), flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


def test_generator_workers_end_when_their_parent_is_killed(tmp_path):
    """kill -9 of `population generate` must not leave its worker processes waiting forever."""
    import os
    import signal
    import subprocess
    import sys
    import time

    parent = subprocess.Popen(
        [sys.executable, "-c", _ORPHAN_SCRIPT], stdout=subprocess.PIPE, text=True
    )
    worker = int(parent.stdout.readline())
    assert _alive(worker)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    parent.stdout.close()
    for _ in range(300):  # the worker checks once a second; allow a slow machine
        if not _alive(worker):
            break
        time.sleep(0.1)
    assert not _alive(worker)


def test_generate_starts_its_workers_with_the_parent_watch(specs, tmp_path, monkeypatch):
    import concurrent.futures

    seen = {}
    real = concurrent.futures.ProcessPoolExecutor

    def pool(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", pool)
    generate(specs[:4], tmp_path / "out", seed=7, as_of=AS_OF, batch_practices=2, workers=2)
    assert seen["initializer"] is synthetic._exit_with
