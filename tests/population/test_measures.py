"""Patient-level measures (pcnkit.population.measures), each checked against an independent
pure-Python computation on the raw Parquet for every patient, plus hand-made patients
(Ibis memtables) for the window, age and eFI category boundaries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from minimal_tables import CONDITIONS, HOSPITAL, MEDICATIONS, PATIENTS

from pcnkit.dates import add_months
from pcnkit.errors import PcnkitError
from pcnkit.population import codelists
from pcnkit.population import measures as m
from pcnkit.population.engine import PopulationStore
from pcnkit.population.synthetic import generate
from pcnkit.population.testpatients import MemoryStore

AS_OF = dt.date(2020, 1, 1)
EARLIER = dt.date(2019, 7, 15)  # hospital data spans 24 months: events on both sides


# --- the synthetic population -------------------------------------------------------------


@pytest.fixture(scope="module")
def out(bhr_specs, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("measures") / "out"
    generate(bhr_specs, folder, seed=5, as_of=AS_OF)
    return folder


@pytest.fixture(scope="module")
def store(out):
    with PopulationStore(out) as s:
        yield s


def _rows(out: Path, name: str) -> list[dict]:
    files = sorted((out / name).glob("*.parquet"))
    return pa.concat_tables(pq.read_table(p) for p in files).to_pylist()


@pytest.fixture(scope="module")
def raw(out) -> dict[str, list[dict]]:
    return {
        name: _rows(out, name)
        for name in ("patients", "conditions", "medications", "hospital", "events")
    }


def _by_pseudonym(expr) -> dict[str, dict]:
    rows = expr.to_pyarrow().to_pylist()
    out = {r["pseudonym"]: r for r in rows}
    assert len(out) == len(rows), "a measure returned more than one row for a patient"
    return out


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((born.month, born.day) > (on.month, on.day))


def _year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _in_12m(day: dt.date, as_of: dt.date) -> bool:
    return _year_before(as_of) <= day < as_of


def _groups(raw, as_of: dt.date | None) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for r in raw["conditions"]:
        if as_of is None or r["diagnosis_date"] is None or r["diagnosis_date"] <= as_of:
            out[r["pseudonym"]].add(r["qof_group"])
    return out


def _medicine_groups(raw, as_of: dt.date) -> dict[str, int]:
    out: dict[str, set[str]] = defaultdict(set)
    for r in raw["medications"]:
        if _in_12m(r["issue_date"], as_of):
            out[r["pseudonym"]].add(r["medicine_group"])
    return {p: len(g) for p, g in out.items()}


def _cms_expected(groups: set[str]) -> float:
    weights = {g.id: g.weights["general"] for g in codelists.load("cms_conditions").groups}
    conditions = {m.CMS_FROM_QOF[g] for g in groups if g in m.CMS_FROM_QOF}
    return float(sum((weights[c] for c in conditions), Decimal("0")))


def _event_deficits(raw, as_of: dt.date) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for r in raw["events"]:
        if r["concept"] in m.EFI_FROM_EVENTS and r["date"] <= as_of:
            out[r["pseudonym"]].add(r["concept"])
    return out


def _efi_expected(
    patient: dict, groups: set[str], n_medicines: int, as_of: dt.date, coded=frozenset()
):
    if _age(patient["month_of_birth"], as_of) < 65:
        return None, None, None
    k = len({m.EFI_FROM_QOF[g] for g in groups if g in m.EFI_FROM_QOF}) + len(coded)
    k += bool(patient["housebound"]) + bool(patient["care_home"]) + (n_medicines >= 5)
    category = "fit" if k <= 4 else "mild" if k <= 8 else "moderate" if k <= 12 else "severe"
    return k, k / 36, category


def test_the_population_is_big_enough(raw):
    assert len(raw["patients"]) > 10_000
    assert raw["medications"] and raw["hospital"]


@pytest.mark.parametrize("as_of", [None, AS_OF, EARLIER])
def test_ltc_count_every_patient(store, raw, as_of):
    got = _by_pseudonym(m.ltc_count(store, as_of))
    groups = _groups(raw, as_of)
    assert set(got) == {p["pseudonym"] for p in raw["patients"]}
    for p, row in got.items():
        assert row["ltc_count"] == len(groups.get(p, ())), p
    assert any(r["ltc_count"] == 0 for r in got.values())
    assert max(r["ltc_count"] for r in got.values()) >= 4


@pytest.mark.parametrize("as_of", [AS_OF, EARLIER])
def test_polypharmacy_every_patient(store, raw, as_of):
    got = _by_pseudonym(m.polypharmacy(store, as_of))
    counts = _medicine_groups(raw, as_of)
    assert set(got) == {p["pseudonym"] for p in raw["patients"]}
    for p, row in got.items():
        n = counts.get(p, 0)
        assert row["medicine_groups_12m"] == n, p
        assert row["polypharmacy_5plus"] is (n >= 5)
        assert row["polypharmacy_10plus"] is (n >= 10)
    assert any(r["polypharmacy_10plus"] for r in got.values())


def test_polypharmacy_defaults_to_the_store_date(store):
    default = m.polypharmacy(store).to_pyarrow().sort_by("pseudonym")
    explicit = m.polypharmacy(store, AS_OF).to_pyarrow().sort_by("pseudonym")
    assert default.equals(explicit)


@pytest.mark.parametrize("as_of", [AS_OF, EARLIER])
def test_prior_activity_every_patient(store, raw, as_of):
    got = _by_pseudonym(m.prior_activity(store, as_of))
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for r in raw["hospital"]:
        if _in_12m(r["date"], as_of):
            expected[r["pseudonym"], r["kind"]] += 1
    assert set(got) == {p["pseudonym"] for p in raw["patients"]}
    for p, row in got.items():
        assert row["emergency_admissions_12m"] == expected.get((p, "emergency_admission"), 0)
        assert row["ae_attendances_12m"] == expected.get((p, "ae"), 0)
    assert sum(r["emergency_admissions_12m"] for r in got.values()) > 0


@pytest.mark.parametrize("as_of", [None, EARLIER])
def test_cms_every_patient(store, raw, as_of):
    got = _by_pseudonym(m.cms(store, as_of))
    groups = _groups(raw, as_of)
    for p, row in got.items():
        assert row["cms_general"] == _cms_expected(groups.get(p, set())), p
    assert len(got) == len(raw["patients"])


@pytest.mark.parametrize("as_of", [AS_OF, EARLIER])
def test_efi_approx_every_patient(store, raw, as_of):
    got = _by_pseudonym(m.efi_approx(store, as_of))
    groups = _groups(raw, as_of)
    medicines = _medicine_groups(raw, as_of)
    coded = _event_deficits(raw, as_of)
    assert coded  # the synthetic store has an events table, and efi_approx reads it
    seen = set()
    for patient in raw["patients"]:
        p = patient["pseudonym"]
        k, score, category = _efi_expected(
            patient, groups.get(p, set()), medicines.get(p, 0), as_of, coded.get(p, set())
        )
        row = got[p]
        assert (row["efi_approx_deficits"], row["efi_approx_score"]) == (k, score), p
        assert row["efi_approx_category"] == category, p
        seen.add(category)
    assert len(got) == len(raw["patients"])
    assert {None, "fit", "mild", "moderate", "severe"} <= seen


def test_patient_measures_one_row_per_patient(store, raw):
    table = m.patient_measures(store, AS_OF)
    got = _by_pseudonym(table)
    assert len(got) == len(raw["patients"])
    assert set(table.columns) <= set(m.MEASURE_DEFINITIONS)
    parts = {}
    for part in (
        m.ltc_count(store, AS_OF),
        m.polypharmacy(store, AS_OF),
        m.prior_activity(store, AS_OF),
        m.cms(store, AS_OF),
        m.efi_approx(store, AS_OF),
    ):
        for p, row in _by_pseudonym(part).items():
            parts.setdefault(p, {}).update(row)
    for patient in raw["patients"]:
        p = patient["pseudonym"]
        row = got[p]
        assert row["age"] == _age(patient["month_of_birth"], AS_OF)
        assert row["imd_decile"] == patient["lsoa_imd_decile"]
        assert (row["practice"], row["sex"], row["ethnic_group"]) == (
            patient["practice"],
            patient["sex"],
            patient["ethnic_group"],
        )
        assert (row["care_home"], row["housebound"]) == (
            patient["care_home"],
            patient["housebound"],
        )
        assert {k: row[k] for k in parts[p]} == parts[p]


# --- the mapping tables -------------------------------------------------------------------


def test_cms_mapping_covers_the_code_lists():
    cms_ids = {g.id for g in codelists.load("cms_conditions").groups}
    qof = {c.code for c in codelists.load("qof_registers").codes}
    assert set(m.CMS_FROM_QOF) <= qof
    assert set(m.CMS_FROM_QOF.values()) <= cms_ids
    assert set(m.CMS_WITHOUT_QOF_SOURCE) == cms_ids - set(m.CMS_FROM_QOF.values())
    assert set(m.CMS_PARTIAL_SOURCES) <= set(m.CMS_FROM_QOF.values())
    assert set(m.QOF_NOT_IN_CMS) == qof - set(m.CMS_FROM_QOF)
    assert "PARTIAL" in m.cms.definition and "PARTIAL" in (m.cms.__doc__ or "")


def test_efi_mapping_covers_the_code_list():
    efi_ids = [g.id for g in codelists.load("efi_deficits").groups]
    assert len(efi_ids) == m.EFI_DEFICITS
    qof = {c.code for c in codelists.load("qof_registers").codes}
    assert set(m.EFI_FROM_QOF) <= qof
    assert set(m.EFI_FROM_QOF.values()) <= set(efi_ids)
    assert set(m.EFI_FROM_PATIENT_FLAGS.values()) <= set(efi_ids)
    assert len(m.efi_detectable_deficits()) == 15
    assert len(m.efi_undetectable_deficits()) == 21
    assert "falls" in m.efi_undetectable_deficits()
    # with an events table, the other 21 deficits come from coded events
    assert set(m.EFI_FROM_EVENTS) == set(m.efi_undetectable_deficits())
    assert len(m.efi_detectable_deficits(events=True)) == m.EFI_DEFICITS
    assert m.efi_undetectable_deficits(events=True) == ()
    assert "falls" in m.efi_approx.definition and "value rules" in m.efi_approx.definition
    assert "UNDERESTIMATES" in m.efi_approx.definition
    assert "underestimates" in (m.efi_approx.__doc__ or "").lower()


def test_window_12m():
    assert m.window_12m(AS_OF) == (dt.date(2019, 1, 1), AS_OF)


def test_cms_weight_variants():
    assert m.cms_weights("mortality")["dementia"] == Decimal("124.42")
    with pytest.raises(PcnkitError, match="no 'unplanned_admission' weight"):
        m.cms_weights("unplanned_admission")
    with pytest.raises(PcnkitError, match="unknown CMS weight variant"):
        m.cms_weights("nope")


# --- hand-made patients (embedded test cases with expected results) -----------------------

ALL_EFI_QOF = ["RA", "AF", "STIA", "CKD", "DM", "HF", "HYP", "CHD", "DEM", "OST", "PAD", "COPD"]
OLD = dt.date(1940, 1, 1)  # 80 at AS_OF

# pseudonym: (born, care_home, housebound, qof groups, distinct medicine groups in window,
#             expected deficits, expected category)
EFI_CASES = {
    "fit0": (OLD, False, False, [], 0, 0, "fit"),
    "fit4": (OLD, False, False, ALL_EFI_QOF[:4], 0, 4, "fit"),
    "mild5": (OLD, False, False, ALL_EFI_QOF[:4], 5, 5, "mild"),
    "mild8": (OLD, False, True, ALL_EFI_QOF[:7], 0, 8, "mild"),
    "mod9": (OLD, True, False, ALL_EFI_QOF[:8], 0, 9, "moderate"),
    # AST and COPD are one deficit (respiratory disease): 12 - 1 + 1 = 12
    "mod12": (OLD, False, False, [*ALL_EFI_QOF[:11], "AST"], 0, 12, "moderate"),
    "sev13": (OLD, False, False, [*ALL_EFI_QOF, "AST"], 9, 13, "severe"),
    "sev15": (OLD, True, True, [*ALL_EFI_QOF, "AST", "DEP", "LD"], 10, 15, "severe"),
    # non-eFI groups only: DEP, EP, MH, CAN, LD, OB, NDH, PC are no deficit
    "none": (OLD, False, False, ["DEP", "EP", "MH", "CAN", "LD", "OB", "NDH", "PC"], 4, 0, "fit"),
    # turns 65 in the month of AS_OF (month of birth is the 1st): included
    "age65": (dt.date(1955, 1, 1), False, True, [], 0, 1, "fit"),
    # 64 until next month: null
    "age64": (dt.date(1955, 2, 1), True, True, ALL_EFI_QOF, 12, None, None),
}


def _table(schema: pa.Schema, rows: list[tuple]) -> pa.Table:
    return pa.Table.from_pylist([dict(zip(schema.names, r, strict=True)) for r in rows], schema)


def _patient(pid: str, born: dt.date, care_home=False, housebound=False) -> tuple:
    return (pid, "P1", "F", born, dt.date(2000, 1, 1), 5, "white", care_home, housebound)


@pytest.fixture
def efi_store() -> MemoryStore:
    patients, conditions, meds = [], [], []
    for pid, (born, home, housebound, groups, n_meds, _k, _cat) in EFI_CASES.items():
        patients.append(_patient(pid, born, home, housebound))
        conditions += [(pid, g, dt.date(2010, 1, 1)) for g in groups]
        meds += [(pid, f"med{i}", 1, dt.date(2019, 6, 1)) for i in range(n_meds)]
    # diagnosed after the index date: not counted
    conditions.append(("fit4", "HF", AS_OF + dt.timedelta(days=1)))
    # a medicine issued before the window: not counted (mild5 stays at 5 groups)
    meds.append(("mild5", "old_med", 1, dt.date(2018, 12, 31)))
    return MemoryStore(
        {
            "patients": _table(PATIENTS, patients),
            "conditions": _table(CONDITIONS, conditions),
            "medications": _table(MEDICATIONS, meds),
            "hospital": _table(HOSPITAL, []),
        },
        AS_OF,
    )


def test_efi_approx_categories_at_the_cut_offs(efi_store):
    got = _by_pseudonym(m.efi_approx(efi_store))
    for pid, (*_, k, category) in EFI_CASES.items():
        row = got[pid]
        assert row["efi_approx_deficits"] == k, pid
        assert row["efi_approx_category"] == category, pid
        assert row["efi_approx_score"] == (None if k is None else k / 36), pid
    # the note's cut-offs: 4/36 = 0.111 fit, 5/36 = 0.139 mild, 12/36 = 0.333 moderate,
    # 13/36 = 0.361 severe
    assert got["fit4"]["efi_approx_score"] <= 0.12 < got["mild5"]["efi_approx_score"]
    assert got["mod12"]["efi_approx_score"] <= 0.36 < got["sev13"]["efi_approx_score"]


def test_cms_hand_made(efi_store):
    got = _by_pseudonym(m.cms(efi_store))
    # HYP 0.08 + RA 0.43 + AF 1.34 + STIA 0.80 + CKD 0.53 + DM 0.75 + HF 1.18 + CHD 0.49
    # + DEM 2.50 + COPD 1.46 (+ OST, PAD: no CMS condition) + AST 0.19
    assert got["sev13"]["cms_general"] == float(Decimal("9.75"))
    # DEP 0.50 + EP 0.92 + MH 0.64 + CAN 1.53; LD, OB, NDH, PC map to nothing
    assert got["none"]["cms_general"] == float(Decimal("3.59"))
    assert got["fit0"]["cms_general"] == 0.0
    # fit4's HF is diagnosed after as_of: counted without as_of, not with it
    # RA 0.43 + AF 1.34 + STIA 0.80 + CKD 0.53 (+ HF 1.18)
    assert got["fit4"]["cms_general"] == float(Decimal("4.28"))
    at = _by_pseudonym(m.cms(efi_store, AS_OF))
    assert at["fit4"]["cms_general"] == float(Decimal("3.10"))
    mortality = _by_pseudonym(m.cms(efi_store, variant="mortality"))
    assert mortality["fit0"]["cms_mortality"] == 0.0


def test_ltc_count_hand_made(efi_store):
    got = _by_pseudonym(m.ltc_count(efi_store))
    assert got["fit4"]["ltc_count"] == 5  # four groups + HF (no as_of: every row)
    assert _by_pseudonym(m.ltc_count(efi_store, AS_OF))["fit4"]["ltc_count"] == 4
    assert got["sev15"]["ltc_count"] == 15
    assert got["fit0"]["ltc_count"] == 0


def _window_store(as_of: dt.date) -> MemoryStore:
    start = add_months(as_of, -12)
    day = dt.timedelta(days=1)
    meds = [
        ("a", "on_start", 1, start),  # exactly 12 months before: counted
        ("a", "before_start", 1, start - day),  # not counted
        ("a", "on_as_of", 1, as_of),  # on as_of: not counted
        ("a", "last_day", 1, as_of - day),  # counted
        ("a", "last_day", 1, as_of - 2 * day),  # same group twice: one
        ("a", "after", 1, as_of + day),  # not counted
    ]
    hospital = [
        ("a", "emergency_admission", start),
        ("a", "emergency_admission", start - day),
        ("a", "emergency_admission", as_of),
        ("a", "emergency_admission", as_of - day),
        ("a", "emergency_admission", as_of - day),  # two on one day: both count
        ("a", "ae", start),
        ("a", "ae", as_of),
        ("b", "ae", start - day),
    ]
    return MemoryStore(
        {
            "patients": _table(PATIENTS, [_patient("a", OLD), _patient("b", OLD)]),
            "conditions": _table(CONDITIONS, []),
            "medications": _table(MEDICATIONS, meds),
            "hospital": _table(HOSPITAL, hospital),
        },
        as_of,
    )


@pytest.mark.parametrize("as_of", [AS_OF, dt.date(2020, 2, 29), dt.date(2021, 3, 1)])
def test_12_month_window_boundaries(as_of):
    store = _window_store(as_of)
    poly = _by_pseudonym(m.polypharmacy(store))
    assert poly["a"]["medicine_groups_12m"] == 2  # on_start, last_day
    assert poly["b"] == {
        "pseudonym": "b",
        "medicine_groups_12m": 0,
        "polypharmacy_5plus": False,
        "polypharmacy_10plus": False,
    }
    activity = _by_pseudonym(m.prior_activity(store))
    assert (activity["a"]["emergency_admissions_12m"], activity["a"]["ae_attendances_12m"]) == (
        3,
        1,
    )
    assert (activity["b"]["emergency_admissions_12m"], activity["b"]["ae_attendances_12m"]) == (
        0,
        0,
    )


def test_an_index_date_is_needed():
    store = _window_store(AS_OF)
    store.as_of = None
    with pytest.raises(PcnkitError, match="as_of"):
        m.polypharmacy(store)
    assert len(_by_pseudonym(m.polypharmacy(store, AS_OF))) == 2


def test_patient_measures_hand_made(efi_store):
    got = _by_pseudonym(m.patient_measures(efi_store))
    assert set(got) == set(EFI_CASES)
    row = got["sev15"]
    assert row["age"] == 80 and row["care_home"] and row["housebound"]
    assert row["medicine_groups_12m"] == 10 and row["polypharmacy_10plus"]
    assert row["efi_approx_category"] == "severe"
    assert got["age64"]["age"] == 64 and got["age64"]["efi_approx_deficits"] is None
    assert got["age65"]["age"] == 65


EVENTS = pa.schema(
    [
        ("pseudonym", pa.string()),
        ("concept", pa.string()),
        ("code", pa.string()),
        ("date", pa.date32()),
        ("value", pa.float64()),
    ]
)


def test_efi_approx_counts_coded_events(efi_store):
    """Each event deficit counts once, from its first event on or before as_of; an event after
    as_of does not count; non-eFI concepts and the flag/QOF deficits' ids do not count."""
    events = [
        # fit4 (4 QOF deficits) + falls on as_of (twice: once) + dizziness = 6: mild
        ("fit4", "falls", None, AS_OF, None),
        ("fit4", "falls", None, dt.date(2015, 3, 1), None),
        ("fit4", "dizziness", None, dt.date(2019, 12, 31), None),
        # after as_of: not counted
        ("fit4", "vision_problems", None, AS_OF + dt.timedelta(days=1), None),
        # not eFI deficits from events: not counted
        ("fit4", "fit_test", None, dt.date(2019, 6, 1), 12.0),
        ("fit4", "structured_medication_review", "1239511000000100", dt.date(2019, 6, 1), None),
        # a QOF deficit's id or a flag's id in events: not counted again (QOF/flags rule)
        ("fit0", "hypertension", None, dt.date(2019, 6, 1), None),
        ("fit0", "housebound", None, dt.date(2019, 6, 1), None),
        # 8 coded deficits on top of mod12's 12: 20, severe
        *[("mod12", d, None, dt.date(2010, 1, 1), None) for d in m.EFI_FROM_EVENTS[:8]],
        # under 65: still null
        ("age64", "falls", None, dt.date(2019, 6, 1), None),
        # mild5 (5 deficits): an event exactly on as_of counts, so 6
        ("mild5", "anaemia", None, AS_OF, None),
    ]
    tables = {name: t.to_pyarrow() for name, t in efi_store._tables.items()}
    tables["events"] = _table(EVENTS, events)
    store = MemoryStore(tables, AS_OF)
    got = _by_pseudonym(m.efi_approx(store))
    assert got["fit4"]["efi_approx_deficits"] == 6
    assert got["fit4"]["efi_approx_category"] == "mild"
    assert got["fit0"]["efi_approx_deficits"] == 0
    assert got["mod12"]["efi_approx_deficits"] == 20
    assert got["mod12"]["efi_approx_category"] == "severe"
    assert got["age64"]["efi_approx_deficits"] is None
    assert got["mild5"]["efi_approx_deficits"] == 6
    # the day before the falls on as_of: that one is not yet there, the 2015 one is
    before = _by_pseudonym(m.efi_approx(store, dt.date(2019, 12, 31)))
    assert before["fit4"]["efi_approx_deficits"] == 6
    assert before["mild5"]["efi_approx_deficits"] == 5
    assert (
        _by_pseudonym(m.efi_approx(store, dt.date(2019, 12, 30)))["fit4"]["efi_approx_deficits"]
        == 5
    )
    # a memtable store without table_names (or without events) ignores events: as before
    assert _by_pseudonym(m.efi_approx(efi_store))["fit4"]["efi_approx_deficits"] == 4
    no_events = MemoryStore({k: v for k, v in tables.items() if k != "events"}, AS_OF)
    assert _by_pseudonym(m.efi_approx(no_events))["fit4"]["efi_approx_deficits"] == 4
