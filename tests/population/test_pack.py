"""The population health pack on a small synthetic BHR population (5% scale), checked against
counts made directly from the Parquet files with pyarrow."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from conftest import load
from pcnkit.demo import demo_data
from pcnkit.errors import PcnkitError
from pcnkit.population.disclosure import (
    SafeCount,
    safe_count,
    safe_percent,
    safe_total,
)
from pcnkit.population.engine import PopulationStore, age_at
from pcnkit.population.pack import (
    AGE_BANDS,
    ENGLAND_2019_20,
    pack_for_area,
    pack_for_pcn,
    population_pack,
)
from pcnkit.population.synthetic import generate, specs_from_registry
from pcnkit.registry import kinds
from pcnkit.registry.queries import members_at

AS_OF = dt.date(2020, 1, 1)  # the synthetic extract's date (QOF 2019/20 lists)
PCN_DATE = dt.date(2019, 12, 1)
HAVERING_SOUTH = "U00367"
SCALE = 0.05
ENGLAND_CSV = Path(__file__).resolve().parents[3] / "shared/domain/PHM-qof-prevalence-england.csv"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The BHR demo registry, the specs at 5% and a synthetic population generated from them."""
    from pcnkit.store import open_workspace

    folder = tmp_path_factory.mktemp("pack")
    ws = open_workspace(folder / "ws", url=f"sqlite:///{folder / 'only.db'}")
    load(ws, demo_data())
    with ws.sessions() as session:
        specs = specs_from_registry(
            session, "BHR", AS_OF, demo_data() / "PREVALENCE_1920.csv", scale=SCALE
        )
    out = folder / "population"
    generate(specs, out, seed=11, as_of=AS_OF)
    store = PopulationStore(out)
    yield ws, specs, out, store
    store.close()
    ws.dispose()


def _table(out: Path, name: str):
    return pa.concat_tables(pq.read_table(p) for p in sorted((out / name).glob("*.parquet")))


def _scoped_patients(out: Path, codes: list[str]):
    patients = _table(out, "patients")
    return patients.filter(pc.is_in(patients["practice"], value_set=pa.array(codes)))


def _raw_registers(out: Path, codes: list[str]) -> Counter:
    ids = _scoped_patients(out, codes)["pseudonym"]
    conditions = _table(out, "conditions")
    conditions = conditions.filter(pc.is_in(conditions["pseudonym"], value_set=ids))
    pairs = set(
        zip(conditions["pseudonym"].to_pylist(), conditions["qof_group"].to_pylist(), strict=True)
    )
    return Counter(group for _, group in pairs)


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _cells(pack):
    for table in pack.tables.values():
        for row in [*table.rows, table.totals]:
            yield from (v for v in row.values() if isinstance(v, SafeCount))


def test_age_at_counts_whole_years_from_the_first_of_the_birth_month():
    t = ibis.memtable(
        {"month_of_birth": [dt.date(2000, 1, 1), dt.date(2000, 2, 1), dt.date(2019, 12, 1)]}
    )
    for on, expected in (
        (dt.date(2020, 1, 1), [20, 19, 0]),
        (dt.date(2020, 1, 31), [20, 19, 0]),
        (dt.date(2019, 12, 31), [19, 19, 0]),
        (dt.date(2020, 2, 1), [20, 20, 0]),
    ):
        got = t.select(age=age_at(t, on)).to_pyarrow()["age"].to_pylist()
        assert got == expected, on


def test_the_store_opens_the_parquet_folders_and_reads_their_label(world):
    _, specs, out, store = world
    assert {"conditions", "patients"} <= set(store.table_names())
    assert store.synthetic is True
    assert "SYNTHETIC" in (store.label or "")
    assert store.as_of == AS_OF
    n = store.patients.count().to_pyarrow().as_py()
    assert n == sum(s.list_size for s in specs) == _table(out, "patients").num_rows
    with pytest.raises(PcnkitError, match="no table 'no_such_table'"):
        store.table("no_such_table")


def test_an_unknown_backend_and_a_bad_folder_are_refused(tmp_path, world):
    _, _, out, _ = world
    with pytest.raises(PcnkitError, match="unknown population backend"):
        PopulationStore(out, backend="oracle")
    with pytest.raises(PcnkitError, match="holds no Parquet files"):
        PopulationStore(tmp_path)


def test_a_store_without_the_synthetic_label_is_not_flagged(tmp_path, world):
    _, _, out, _ = world
    for name in ("patients", "conditions"):
        (tmp_path / name).mkdir()
        table = _table(out, name).slice(0, 50)
        pq.write_table(table.replace_schema_metadata(None), tmp_path / name / "part.parquet")
    store = PopulationStore(tmp_path)
    assert store.synthetic is False and store.label is None and store.as_of is None
    with pytest.raises(PcnkitError, match="pass as_of"):
        population_pack(store, "F82001", as_of=AS_OF)
    dated = PopulationStore(tmp_path, as_of=AS_OF)
    pack = population_pack(dated, _table(out, "patients")["practice"][0].as_py(), as_of=AS_OF)
    assert pack.synthetic is False
    assert "SYNTHETIC" not in pack.tables["age_sex"].source


def test_the_pyramid_is_built_from_safe_cells_of_the_true_counts(world):
    _, specs, out, store = world
    codes = [s.code for s in specs[:6]]
    pack = population_pack(store, codes, as_of=AS_OF)
    patients = _scoped_patients(out, codes)
    raw = Counter()
    for born, sex in zip(
        patients["month_of_birth"].to_pylist(), patients["sex"].to_pylist(), strict=True
    ):
        raw[(min(_age(born, AS_OF) // 5, 18), sex)] += 1
    table = pack.tables["age_sex"]
    assert [r["age_band"] for r in table.rows] == list(AGE_BANDS)
    for i, row in enumerate(table.rows):
        assert row["female"] == safe_count(raw[(i, "F")])
        assert row["male"] == safe_count(raw[(i, "M")])
        assert row["other"] == SafeCount(0)
        assert row["total"] == safe_total([row["female"], row["male"], row["other"]])
    every_cell = [r[f] for r in table.rows for f in ("female", "male", "other")]
    assert pack.patients == table.totals["total"] == safe_total(every_cell)
    assert pack.patients == safe_total(r["total"] for r in table.rows)
    assert pack.patients.value % 5 == 0
    assert abs(pack.patients.value - patients.num_rows) <= 2.5 * len(every_cell)
    for row in table.rows:
        assert row["total_pct"] == safe_percent(row["total"], pack.patients)


def test_registers_are_the_safe_raw_counts_and_rates_use_the_safe_figures(world):
    _, specs, out, store = world
    codes = [s.code for s in specs[:6]]
    pack = population_pack(store, codes, as_of=AS_OF)
    raw = _raw_registers(out, codes)
    rows = {r["qof_group"]: r for r in pack.tables["prevalence"].rows}
    assert set(raw) <= set(rows)
    for group, row in rows.items():
        assert row["register"] == safe_count(raw.get(group, 0)), group
        assert row["pct"] == safe_percent(row["register"], row["denominator"])
    # an age-restricted denominator counts only the eligible ages (DM: 17 and over)
    patients = _scoped_patients(out, codes)
    adults = sum(_age(b, AS_OF) >= 17 for b in patients["month_of_birth"].to_pylist())
    assert rows["DM"]["denominator_ages"] == "17OV"
    assert rows["DM"]["denominator"] == safe_count(adults)
    assert rows["HYP"]["denominator"] == pack.patients
    assert str(rows["HYP"]["england_pct"]) == "14.10"


def test_small_counts_are_redacted_everywhere(world):
    _, specs, out, store = world
    smallest = min(specs, key=lambda s: s.list_size)
    pack = population_pack(store, smallest.code, as_of=AS_OF)
    raw = _raw_registers(out, [smallest.code])
    small = [g for g, n in raw.items() if 1 <= n <= 7]
    assert small, "the smallest practice should have some registers of 1-7"
    rows = {r["qof_group"]: r for r in pack.tables["prevalence"].rows}
    for group in small:
        assert rows[group]["register"].redacted
        assert rows[group]["pct"] is None
        assert rows[group]["register"].marker == "[REDACTED]"
    for cell in _cells(pack):
        assert cell.value is None or cell.value % 5 == 0
    shown = pack.to_dict()["tables"]["prevalence"]["rows"]
    assert "[REDACTED]" in {r["register"] for r in shown}


def test_hypertension_prevalence_is_close_to_the_registers_it_was_generated_from(world):
    _, specs, _, store = world
    scope = specs[:20]
    target = 100 * sum(s.registers.get("HYP", 0) for s in scope) / sum(s.list_size for s in scope)
    pack = population_pack(store, [s.code for s in scope], as_of=AS_OF)
    hyp = next(r for r in pack.tables["prevalence"].rows if r["qof_group"] == "HYP")
    assert float(hyp["pct"]) == pytest.approx(target, abs=0.3)


def test_a_pcn_pack_covers_exactly_its_member_practices_on_the_date(world):
    ws, _, out, store = world
    with ws.sessions() as session:
        expected = sorted(
            p.organisation.code
            for p in members_at(session, HAVERING_SOUTH, PCN_DATE, kinds.PRACTICE)
        )
        pack = pack_for_pcn(session, store, HAVERING_SOUTH, PCN_DATE)
        same = pack_for_area(session, store, HAVERING_SOUTH, PCN_DATE)
        with pytest.raises(PcnkitError, match="not a PCN"):
            pack_for_pcn(session, store, "BHR", PCN_DATE)
    assert expected and pack.practices == expected
    assert pack.practices_without_patients == []
    assert pack.scope == HAVERING_SOUTH and pack.as_of == PCN_DATE
    assert pack.population_as_of == AS_OF
    raw = _raw_registers(out, expected)
    hyp = next(r for r in pack.tables["prevalence"].rows if r["qof_group"] == "HYP")
    assert hyp["register"] == safe_count(raw["HYP"])
    assert same.to_dict() == pack.to_dict()


def test_the_other_tables_add_up(world):
    _, specs, out, store = world
    codes = [s.code for s in specs[:10]]
    pack = population_pack(store, codes, as_of=AS_OF)
    patients = _scoped_patients(out, codes)
    ltc = pack.tables["ltc_count"]
    assert [r["qof_groups"] for r in ltc.rows] == ["0", "1", "2", "3", "4+"]
    per_patient = Counter()
    ids = set(patients["pseudonym"].to_pylist())
    conditions = _table(out, "conditions")
    for pid, _group in set(
        zip(conditions["pseudonym"].to_pylist(), conditions["qof_group"].to_pylist(), strict=True)
    ):
        if pid in ids:
            per_patient[pid] += 1
    raw_ltc = Counter(min(per_patient[p], 4) for p in ids)
    for i, row in enumerate(ltc.rows):
        assert row["patients"] == safe_count(raw_ltc[i])
    deciles = Counter(patients["lsoa_imd_decile"].to_pylist())
    dep = pack.tables["deprivation"]
    assert [r["imd_decile"] for r in dep.rows] == [*range(1, 11), "unknown"]
    for row in dep.rows[:10]:
        assert row["patients"] == safe_count(deciles[row["imd_decile"]])
    settings = {r["setting"]: r["patients"] for r in pack.tables["care_settings"].rows}
    assert settings["care_home"] == safe_count(sum(patients["care_home"].to_pylist()))
    assert settings["housebound"] == safe_count(sum(patients["housebound"].to_pylist()))
    for table in pack.tables.values():
        assert table.source and table.definition and table.title


def test_the_pack_is_flagged_synthetic_and_is_deterministic(world):
    _, specs, out, store = world
    codes = [s.code for s in specs[:8]]
    first = population_pack(store, codes, as_of=AS_OF, scope="eight")
    assert first.synthetic is True
    assert "SYNTHETIC" in (first.label or "")
    assert all("SYNTHETIC" in t.source for t in first.tables.values())
    again = population_pack(PopulationStore(out), list(reversed(codes)), as_of=AS_OF, scope="eight")
    assert again.to_dict() == first.to_dict()
    assert again == first


def test_the_england_table_is_a_faithful_copy_of_the_research_file():
    if not ENGLAND_CSV.exists():
        pytest.skip("the shared research file is not next to the repository")
    with ENGLAND_CSV.open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["year"] == "2019-20"]
    assert {
        r["qof_group"]: (r["denominator_age_group"], int(r["register"]), int(r["denominator"]))
        for r in rows
    } == ENGLAND_2019_20


def test_the_synthetic_truth_is_kept_out_of_ordinary_tables(tmp_path):
    """A risk model must not be able to read the generating model's answer by accident."""
    for name in ("patients", "conditions", "truth"):
        (tmp_path / name).mkdir()
        pq.write_table(pa.table({"pseudonym": ["x"]}), tmp_path / name / "f.parquet")
    store = PopulationStore(tmp_path, as_of=dt.date(2020, 1, 1))
    assert store.table_names() == ["conditions", "patients"]
    with pytest.raises(PcnkitError, match="validation only"):
        store.table("truth")
    assert store.truth().count().execute() == 1
