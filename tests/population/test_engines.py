"""The population store on DuckDB and on Apache Spark: every measure gives identical results.

One small synthetic population (the first three BHR practices at 2%) and one hand-made store of
boundary cases (window edges, leap days, birthdays, nulls) are opened on both backends; each
definition in :data:`DEFINITIONS` is built on each store, executed, sorted and compared row by
row (floats to 1e-9). To check a new measure on both engines, add it to ``DEFINITIONS``.

Spark starts once for the whole test session (the engine's shared SparkSession)."""

from __future__ import annotations

import datetime as dt
import inspect
import math
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from minimal_tables import CONDITIONS, HOSPITAL, MEDICATIONS, PATIENTS

from pcnkit.dates import add_months
from pcnkit.errors import PcnkitError
from pcnkit.population import casefinding, features, risk, segments, stratify
from pcnkit.population import measures as m
from pcnkit.population.engine import PopulationStore, spark_session
from pcnkit.population.synthetic import generate

pytestmark = [
    pytest.mark.spark,
    # PySpark 4.0 and Ibis 12 convert Spark results through pandas, and pandas 3 warns about
    # their use of its deprecated options (noise, not our code).
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
]

AS_OF = dt.date(2020, 1, 1)
EARLIER = dt.date(2019, 7, 15)  # hospital data spans 24 months: events on both sides
FLOAT_TOLERANCE = 1e-9

# (name, store -> Ibis table). Names start with the measure function's name (see
# test_every_measure_is_compared).
DEFINITIONS: list[tuple[str, Callable]] = [
    ("ltc_count", lambda s: m.ltc_count(s)),
    ("ltc_count_as_of", lambda s: m.ltc_count(s, s.as_of)),
    ("ltc_count_earlier", lambda s: m.ltc_count(s, EARLIER)),
    ("polypharmacy", lambda s: m.polypharmacy(s)),
    ("polypharmacy_earlier", lambda s: m.polypharmacy(s, EARLIER)),
    ("prior_activity", lambda s: m.prior_activity(s)),
    ("prior_activity_earlier", lambda s: m.prior_activity(s, EARLIER)),
    ("cms", lambda s: m.cms(s)),
    ("cms_as_of", lambda s: m.cms(s, s.as_of)),
    ("cms_mortality", lambda s: m.cms(s, s.as_of, variant="mortality")),
    ("efi_approx", lambda s: m.efi_approx(s)),
    ("efi_approx_earlier", lambda s: m.efi_approx(s, EARLIER)),
    ("patient_measures", lambda s: m.patient_measures(s)),
    ("patient_measures_earlier", lambda s: m.patient_measures(s, EARLIER)),
]

# A fixed model and fixed thresholds, so the segment and list definitions are compared alone
# (the end-to-end test below compares the fitted ones too).
FIXED_MODEL = risk.LogisticModel(
    ("age_65-74", "age_75-84", "age_85+", "ltc_count", "prior_admissions", "care_home"),
    __import__("numpy").array([0.6, 0.9, 1.1, 0.25, 0.3, 0.7]),
    -2.7,
)
FIXED_THRESHOLDS = segments.Thresholds({b: 1.0 for b in range(0, 120, 10)}, 0.2)


def _scored(store):
    table = stratify.predictor_columns(features.patient_features(store))
    return table.mutate(predicted_risk=risk.score_expression(FIXED_MODEL, table))


def _tiered(store):
    return segments.assign_tiers(_scored(store), FIXED_THRESHOLDS)


def _list(definition):
    return lambda s: casefinding.all_members(definition, _tiered(s), s.as_of)


RULE_DEFINITIONS: list[tuple[str, Callable]] = [
    ("patient_features", lambda s: features.patient_features(s)),
    ("predicted_risk", _scored),
    ("tiers", _tiered),
    ("rising_risk_cohort", lambda s: segments.rising_risk_cohort(_tiered(s))),
    *[(f"list_{d.id}", _list(d)) for d in casefinding.LISTS],
]


# --- stores -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def population(bhr_specs, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("engines") / "out"
    specs = sorted(bhr_specs, key=lambda s: s.code)[:3]
    generate(specs, folder, seed=11, as_of=AS_OF)
    return folder


@pytest.fixture(scope="module")
def stores(population):
    duck = PopulationStore(population)
    spark = PopulationStore(population, backend="spark")
    yield duck, spark
    spark.close()
    duck.close()


def _write(folder: Path, name: str, table: pa.Table) -> None:
    (folder / name).mkdir(parents=True)
    pq.write_table(table, folder / name / "part-0.parquet")


def _rows(schema: pa.Schema, rows: list[tuple]) -> pa.Table:
    return pa.Table.from_pylist([dict(zip(schema.names, r, strict=True)) for r in rows], schema)


def _edge_store_folder(folder: Path, as_of: dt.date) -> Path:
    """Boundary cases around `as_of`: events on the window's first day, the day before it, on
    as_of and the day before; birthdays in as_of's month and the next; null flags, deciles and
    diagnosis dates; a patient with no rows anywhere; duplicate rows."""
    start = add_months(as_of, -12)
    day = dt.timedelta(days=1)
    year = as_of.year
    next_month = (as_of.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    patients = [
        (
            "a",
            "P1",
            "F",
            dt.date(year - 65, as_of.month, 1),
            dt.date(2000, 1, 1),
            1,
            "white",
            True,
            False,
        ),
        # 64 until the first of the month after as_of: no eFI
        (
            "b",
            "P1",
            "M",
            next_month.replace(year=next_month.year - 65),
            None,
            None,
            None,
            None,
            None,
        ),
        ("c", "P2", "F", dt.date(year - 90, 2, 1), dt.date(1990, 5, 1), 10, "asian", False, True),
        ("d", "P2", "M", dt.date(year - 20, 1, 1), dt.date(2019, 1, 1), 5, "black", None, True),
        ("e", "P3", "F", dt.date(year - 66, 12, 1), dt.date(2001, 1, 1), 3, "mixed", True, True),
    ]
    groups = [
        "AF",
        "AST",
        "CHD",
        "CKD",
        "COPD",
        "DEM",
        "DM",
        "HF",
        "HYP",
        "OST",
        "PAD",
        "RA",
        "STIA",
        "CAN",
        "DEP",
        "EP",
        "MH",
        "LD",
        "OB",
        "NDH",
        "PC",
    ]
    conditions = [("a", g, dt.date(2010, 1, 1)) for g in groups]
    conditions += [
        ("a", "HF", dt.date(2011, 1, 1)),  # the same group twice
        ("b", "HF", as_of),  # on as_of: counts
        ("b", "DM", as_of + day),  # after as_of: counts only without as_of
        ("b", "DEP", None),  # no date: counts
        ("c", "COPD", start),
        ("c", "AST", start - day),  # two groups, one CMS/eFI condition each
        ("e", "ZZZ", dt.date(2015, 6, 1)),  # maps to nothing
    ]
    meds = [("a", f"med{i}", 1, start + dt.timedelta(days=i)) for i in range(11)]
    meds += [
        ("c", "on_start", 2, start),
        ("c", "before_start", 2, start - day),
        ("c", "on_as_of", 2, as_of),
        ("c", "last_day", 2, as_of - day),
        ("c", "last_day", 2, as_of - day),
        ("c", "after", 2, as_of + day),
        ("e", "x1", 3, start),
        ("e", "x2", 3, start),
        ("e", "x3", 3, start),
        ("e", "x4", 3, as_of - day),
        ("e", "x5", 3, as_of - day),
    ]
    hospital = [
        ("a", "emergency_admission", start),
        ("a", "emergency_admission", start - day),
        ("a", "emergency_admission", as_of),
        ("a", "emergency_admission", as_of - day),
        ("a", "emergency_admission", as_of - day),
        ("a", "ae", start),
        ("a", "ae", as_of),
        ("b", "ae", start - day),
        ("c", "outpatient", as_of - day),
        ("e", "ae", as_of - day),
    ]
    _write(folder, "patients", _rows(PATIENTS, patients))
    _write(folder, "conditions", _rows(CONDITIONS, conditions))
    _write(folder, "medications", _rows(MEDICATIONS, meds))
    _write(folder, "hospital", _rows(HOSPITAL, hospital))
    return folder


@pytest.fixture(
    scope="module",
    # a leap day (the window starts on 28 February) and a year end (birthdays next month fall
    # in the next year)
    params=[dt.date(2020, 2, 29), dt.date(2019, 12, 31)],
    ids=str,
)
def edge_stores(request, tmp_path_factory):
    as_of = request.param
    folder = _edge_store_folder(tmp_path_factory.mktemp("edge") / "store", as_of)
    duck = PopulationStore(folder, as_of=as_of)
    spark = PopulationStore(folder, backend="spark", as_of=as_of)
    yield duck, spark
    spark.close()
    duck.close()


# --- comparing ----------------------------------------------------------------------------


def _sorted_rows(table: pa.Table) -> list[dict]:
    keys = ["pseudonym"] if "pseudonym" in table.column_names else []
    keys += [c for c in table.column_names if c not in keys]
    return table.sort_by([(c, "ascending") for c in keys]).to_pylist()


def _same_value(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE)
    return type(a) is type(b) and a == b


def compare(stores, expr_factory: Callable) -> list[dict]:
    """Build `expr_factory(store)` on each store, execute it, and assert that both give the
    same schema and the same rows (in any order); returns the rows."""
    duck, spark = stores
    want = expr_factory(duck).to_pyarrow()
    got = expr_factory(spark).to_pyarrow()
    assert got.schema.remove_metadata() == want.schema.remove_metadata()
    want_rows, got_rows = _sorted_rows(want), _sorted_rows(got)
    assert len(got_rows) == len(want_rows)
    for w, g in zip(want_rows, got_rows, strict=True):
        different = [c for c in w if not _same_value(w[c], g[c])]
        assert not different, f"DuckDB {w} != Spark {g} in {different}"
    return want_rows


@pytest.fixture
def assert_same(stores):
    """assert_same(expr_factory): compare one definition on the synthetic population."""
    return lambda expr_factory: compare(stores, expr_factory)


# --- the tests ----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "definition"), DEFINITIONS, ids=[n for n, _ in DEFINITIONS])
def test_same_on_both_engines(assert_same, stores, name, definition):
    rows = assert_same(definition)
    assert len(rows) == stores[0].patients.count().to_pyarrow().as_py() > 0


@pytest.mark.parametrize(("name", "definition"), DEFINITIONS, ids=[n for n, _ in DEFINITIONS])
def test_same_on_both_engines_at_the_edges(edge_stores, name, definition):
    rows = compare(edge_stores, definition)
    assert [r["pseudonym"] for r in rows] == ["a", "b", "c", "d", "e"]


def test_the_edge_cases_are_edges(edge_stores):
    rows = {r["pseudonym"]: r for r in compare(edge_stores, m.patient_measures)}
    assert (rows["a"]["age"], rows["b"]["age"]) == (65, 64)
    assert rows["a"]["efi_approx_category"] == "severe"
    assert rows["b"]["efi_approx_deficits"] is None
    assert rows["a"]["polypharmacy_10plus"] and rows["e"]["polypharmacy_5plus"]
    assert rows["c"]["medicine_groups_12m"] == 2  # on the window's first day and its last
    assert rows["a"]["emergency_admissions_12m"] == 3
    assert rows["a"]["ae_attendances_12m"] == 1
    assert rows["b"]["ltc_count"] == 2  # on as_of and undated; not the day after
    assert rows["b"]["care_home"] is False and rows["b"]["imd_decile"] is None


def test_the_population_exercises_the_measures(assert_same):
    rows = assert_same(lambda s: m.patient_measures(s))
    assert any(r["efi_approx_category"] is None for r in rows)
    assert any(r["efi_approx_category"] is not None for r in rows)
    assert any(r["ltc_count"] >= 2 for r in rows)
    assert any(r["medicine_groups_12m"] > 0 for r in rows)
    assert any(r["emergency_admissions_12m"] + r["ae_attendances_12m"] > 0 for r in rows)
    assert any(r["cms_general"] > 0 for r in rows)


@pytest.mark.parametrize(
    ("name", "definition"), RULE_DEFINITIONS, ids=[n for n, _ in RULE_DEFINITIONS]
)
def test_segments_cohort_and_lists_same_on_both_engines(assert_same, name, definition):
    assert_same(definition)


def test_every_list_is_compared():
    assert {f"list_{d.id}" for d in casefinding.LISTS} <= {n for n, _ in RULE_DEFINITIONS}


def test_stratify_end_to_end_same_on_both_engines(population, tmp_path):
    """The whole pipeline (model fitted on each engine's data, thresholds, tiers, cohort,
    lists, summary) on copies of one population gives the same results."""
    import shutil

    outputs = {}
    for backend in ("duckdb", "spark"):
        folder = tmp_path / backend
        shutil.copytree(population, folder)
        with PopulationStore(folder, backend=backend) as store:
            result = stratify.stratify(store)
        outputs[backend] = result
    duck, spark = outputs["duckdb"], outputs["spark"]
    assert duck.thresholds.cms_by_band == spark.thresholds.cms_by_band
    assert math.isclose(duck.thresholds.risk, spark.thresholds.risk, rel_tol=1e-9)
    for a, b in zip(duck.model.coefficients, spark.model.coefficients, strict=True):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    files = ["stratified/stratified.parquet", "cohort/rising_risk.parquet"]
    files += [f"lists/{d.id}.parquet" for d in casefinding.LISTS]
    for name in files:
        want = _sorted_rows(pq.read_table(duck.results / name))
        got = _sorted_rows(pq.read_table(spark.results / name))
        assert len(want) == len(got), name
        for w, g in zip(want, got, strict=True):
            different = [c for c in w if not _same_value(w[c], g[c])]
            assert not different, f"{name}: DuckDB {w} != Spark {g} in {different}"
    for key in ("patients", "tiers", "tier_rules", "rising_risk", "lists", "practices"):
        assert duck.summary[key] == spark.summary[key], key


def test_every_measure_is_compared():
    """Every public function of measures.py that takes a store is in DEFINITIONS."""
    measures = {
        name
        for name, f in inspect.getmembers(m, inspect.isfunction)
        if f.__module__ == m.__name__
        and not name.startswith("_")
        and next(iter(inspect.signature(f).parameters), None) == "store"
    }
    assert measures >= {"ltc_count", "polypharmacy", "cms", "efi_approx", "patient_measures"}
    covered = {n for n, _ in DEFINITIONS}
    missing = sorted(f for f in measures if not any(n.startswith(f) for n in covered))
    assert not missing, f"add {missing} to DEFINITIONS"


def test_the_stores_describe_the_same_data(stores):
    duck, spark = stores
    assert spark.backend == "spark"
    assert spark.as_of == duck.as_of == AS_OF
    assert spark.synthetic is duck.synthetic is True
    assert spark.label == duck.label
    assert spark.table_names() == duck.table_names()
    assert "truth" not in spark.table_names()
    for name in spark.table_names():
        assert spark.table(name).schema() == duck.table(name).schema(), name


def test_truth_stays_hidden_on_spark(stores):
    duck, spark = stores
    with pytest.raises(PcnkitError, match="validation only"):
        spark.table("truth")
    assert spark.truth().count().to_pyarrow().as_py() == duck.truth().count().to_pyarrow().as_py()


def test_two_spark_stores_share_a_session_without_colliding(population, tmp_path):
    other = _edge_store_folder(tmp_path / "edge", AS_OF)
    with (
        PopulationStore(population, backend="spark") as big,
        PopulationStore(other, backend="spark", as_of=AS_OF) as small,
    ):
        assert big.con._session is small.con._session is spark_session()
        n_big = big.patients.count().to_pyarrow().as_py()
        assert small.patients.count().to_pyarrow().as_py() == 5
        assert big.patients.count().to_pyarrow().as_py() == n_big > 5
    # closing dropped the stores' views and left the shared session running
    views = {t.name for t in spark_session().catalog.listTables()}
    assert not any(v.startswith(big._prefix) or v.startswith(small._prefix) for v in views)
    assert spark_session().range(3).count() == 3


def test_spark_refuses_a_bad_folder_before_starting(tmp_path):
    with pytest.raises(PcnkitError, match="holds no Parquet files"):
        PopulationStore(tmp_path, backend="spark")
    with pytest.raises(PcnkitError, match="unknown population backend"):
        PopulationStore(tmp_path, backend="oracle")


def test_spark_needs_java_and_pyspark(monkeypatch, population):
    import sys

    from pcnkit.population import engine

    monkeypatch.setattr(engine, "_spark", None)  # as if no session had started yet
    monkeypatch.setattr(engine, "_java_available", lambda: False)
    with pytest.raises(PcnkitError, match="needs a Java runtime"):
        PopulationStore(population, backend="spark")
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(PcnkitError, match="needs PySpark"):
        engine.spark_session()
