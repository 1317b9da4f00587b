"""Importing a practice extract: a good one opens as a store and the measures run on it; every
bad one is refused with the file, row and column, no patient value in the message, and the store
folder left exactly as it was (absent, or byte-identical to the previous import)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pcnkit.errors import InputError, PcnkitError
from pcnkit.population import synthetic
from pcnkit.population.engine import PopulationStore
from pcnkit.population.extract import (
    COLUMNS,
    HOSPITAL_KINDS,
    OBSERVATION_CONCEPTS,
    ExtractError,
    import_extract,
    known_medicine_groups,
    qof_register_ids,
)
from pcnkit.population.measures import patient_measures

AS_OF = dt.date(2025, 1, 1)
PRACTICES = {"F82001", "F82002"}
ODS = re.compile(r"^[A-Z]\d{5}$")
P1, P2, P3 = "9f3ac1d2e4b5", "7b2e90aa11c4", "c55d0e8f3a21"


@pytest.fixture
def good(fixtures, tmp_path) -> Path:
    """A writable copy of the good extract."""
    folder = tmp_path / "extract"
    shutil.copytree(fixtures / "population" / "extract", folder)
    (folder / "README.md").unlink()
    return folder


def run(folder: Path, store: Path, **kw):
    return import_extract(folder, store, as_of=AS_OF, known_practices=PRACTICES, **kw)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def patient_values(folder: Path) -> set[str]:
    """Every cell of the extract long enough to recognise (pseudonyms, dates), except practice
    codes (organisations) and code list values, which the messages may name."""
    listed = {*qof_register_ids(), *known_medicine_groups(), *HOSPITAL_KINDS}
    listed |= set(OBSERVATION_CONCEPTS)
    values = set()
    for path in folder.glob("*.csv"):
        for line in path.read_bytes().decode("utf-8", "replace").splitlines()[1:]:
            values |= {v for v in line.split(",") if len(v) >= 6 and not ODS.match(v)} - listed
    return values


# --- a good extract --------------------------------------------------------------------------


def test_a_good_extract_imports_and_the_measures_run(good, tmp_path):
    store_dir = tmp_path / "store"
    progress = []
    report = run(good, store_dir, progress=lambda done, total: progress.append((done, total)))

    assert report.rows == {
        "patients": 3, "conditions": 3, "medications": 3, "observations": 2, "hospital": 3,
    }  # fmt: skip
    assert progress[-1] == (10, 10)
    assert report.warnings == []
    for table in report.rows:
        meta = pq.read_schema(store_dir / table / f"extract-{table}.parquet").metadata
        assert meta[b"pcnkit.as_of"] == b"2025-01-01"
        assert meta[b"pcnkit.source"] == f"{table}.csv".encode()
        assert meta[b"pcnkit.synthetic"] == b"false"
        assert meta[b"pcnkit.table"] == table.encode()

    with PopulationStore(store_dir) as store:
        assert store.as_of == AS_OF
        assert not store.synthetic
        rows = patient_measures(store).to_pyarrow().to_pylist()
    by = {r["pseudonym"]: r for r in rows}
    assert set(by) == {P1, P2, P3}
    first = by[P1]
    assert (first["sex"], first["age"], first["practice"], first["imd_decile"]) == (
        "F", 84, "F82001", 3,
    )  # fmt: skip
    assert (first["care_home"], first["housebound"]) == (True, False)
    assert first["ltc_count"] == 2  # HYP and dm (read as DM)
    assert first["medicine_groups_12m"] == 2  # the 2023 issue is outside the 12 months
    assert (first["emergency_admissions_12m"], first["ae_attendances_12m"]) == (1, 1)
    second = by[P2]
    assert (second["sex"], second["age"], second["ltc_count"]) == ("M", 44, 1)
    assert (second["medicine_groups_12m"], second["emergency_admissions_12m"]) == (0, 0)
    third = by[P3]
    assert (third["sex"], third["age"], third["ltc_count"], third["imd_decile"]) == (
        "M", 25, 0, None,
    )  # fmt: skip
    assert third["care_home"] is False  # blank flag: null, read as false by the measures


def test_encodings_date_spellings_parquet_and_extra_columns_are_accepted(good, tmp_path):
    patients = good / "patients.csv"
    text = patients.read_text()
    text = text.replace("pseudonym,practice", "pseudonym,notes,practice")
    text = text.replace("\n9f3ac1d2e4b5,", "\n9f3ac1d2e4b5,Caf\u00e9,")
    text = text.replace(f"\n{P2},", f"\n{P2},,").replace(f"\n{P3},", f"\n{P3},,")
    text = text.replace("2001-05-14", "14/05/2001").replace("2010-01-04", "20100104")
    text = text.replace("1980-07", "07/1980")
    patients.write_bytes(text.replace("\n7b2e", "\n\n7b2e").encode("latin-1"))  # + blank line
    conditions = good / "conditions.csv"
    conditions.write_bytes(b"\xef\xbb\xbf" + conditions.read_bytes())  # UTF-8 BOM
    hospital = good / "hospital.csv"
    table = pa.table(
        {
            "pseudonym": [P1, P1, P2],
            "kind": ["emergency_admission", "ae", "outpatient"],
            "date": pa.array([dt.date(2024, 9, 1), dt.date(2024, 9, 2), dt.date(2024, 2, 1)]),
        }
    )
    pq.write_table(table, good / "hospital.parquet")
    hospital.unlink()

    report = run(good, tmp_path / "store")

    assert report.warnings == [f"{patients}: ignored columns not used by pcnkit: notes"]
    assert report.sources["hospital"].endswith("hospital.parquet")
    with PopulationStore(tmp_path / "store") as store:
        got = store.patients.to_pyarrow().to_pylist()
        hosp = store.table("hospital").to_pyarrow().to_pylist()
    assert [p["registration_start"] for p in got] == [
        dt.date(2001, 5, 14), dt.date(2010, 1, 4), dt.date(2000, 2, 1),
    ]  # fmt: skip
    assert got[1]["month_of_birth"] == dt.date(1980, 7, 1)
    assert len(hosp) == 3


def test_a_dict_of_sources_and_new_optional_columns(good, tmp_path):
    patients = good / "patients.csv"
    text = patients.read_text().replace("housebound\n", "housebound,date_of_death\n")
    text = text.replace(",Y,N\n", ",Y,N,2024-12-01\n").replace("false,false\n", "false,false,\n")
    patients.write_text(text.replace(",Asian,,\n", ",Asian,,,\n"))
    events = good / "ev.csv"
    events.write_text(f"pseudonym,concept,code,date,value\n{P1},falls,XYZ1,2024-01-02,\n")

    report = import_extract(
        {"patients": patients, "conditions": good / "conditions.csv", "events": events},
        tmp_path / "store",
        as_of=AS_OF,
    )

    assert report.rows == {"patients": 3, "conditions": 3, "events": 1}
    died = pq.read_table(tmp_path / "store" / "patients").column("date_of_death").to_pylist()
    assert died == [dt.date(2024, 12, 1), None, None]
    schema = pq.read_schema(tmp_path / "store" / "patients" / "extract-patients.parquet")
    assert {"care_home_since", "registration_end"} <= set(schema.names)  # absent: nulls


def test_the_code_sets_come_from_the_code_lists_and_the_generator():
    assert "HYP" in qof_register_ids() and "CVDPP" not in qof_register_ids()
    groups = set(known_medicine_groups())
    assert {"anticoagulants", "z_drugs"} <= groups  # SMR code lists
    assert {m for meds in synthetic.CONDITION_MEDICINES.values() for m, _ in meds} <= groups
    assert {m for m, _s, _p in synthetic.BACKGROUND_MEDICINES} <= groups
    assert {c.name for c in COLUMNS["events"]} == {"pseudonym", "concept", "code", "date", "value"}


# --- bad extracts ------------------------------------------------------------------------


def edit(table: str, old: str, new: str):
    def change(folder: Path) -> None:
        path = folder / f"{table}.csv"
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new, 1))

    return change


def rewrite(table: str, data: bytes | None, suffix: str = ".csv"):
    def change(folder: Path) -> None:
        (folder / f"{table}.csv").unlink()
        (folder / f"{table}{suffix}").write_bytes(data or b"")

    return change


HEADER = b"pseudonym,practice,sex,month_of_birth,registration_start\n"

# (change, file, row, column, words in the message, injected value that must not be echoed)
BAD = {
    "not a date": (edit("conditions", "2012-06-30", "2012-06-31"), "conditions.csv", 3,
                   "diagnosis_date", "is not a date", "2012-06-31"),
    "not a month": (edit("patients", "1940-03", "1940-13"), "patients.csv", 2,
                    "month_of_birth", "is not a month of birth", "1940-13"),
    "future date": (edit("hospital", "2024-09-02", "2026-09-02"), "hospital.csv", 3, "date",
                    "is after the extract date 2025-01-01", "2026-09-02"),
    "registered before birth": (edit("patients", "2000-02-01", "1999-12-01"), "patients.csv", 4,
                                "registration_start", "before the patient's month of birth",
                                "1999-12-01"),
    "event before birth": (edit("conditions", "AST,2015-05-05", "AST,1970-05-05"),
                           "conditions.csv", 4, "diagnosis_date",
                           "before the patient's month of birth", "1970-05-05"),
    "not a number": (edit("observations", ",142,", ",14x2,"), "observations.csv", 2, "value",
                     "is not a number", "14x2"),
    "sex": (edit("patients", ",Male,", ",Unknown,"), "patients.csv", 3, "sex",
            "is not F or M", "Unknown"),
    "imd decile": (edit("patients", ",10,,", ",11,,"), "patients.csv", 3, "lsoa_imd_decile",
                   "is outside 1-10", None),
    "boolean": (edit("patients", ",Y,N", ",maybe,N"), "patients.csv", 2, "care_home",
                "is not true/false", "maybe"),
    "blank pseudonym": (edit("patients", f"\n{P3},", "\n,"), "patients.csv", 4, "pseudonym",
                        "is blank", None),
    "unknown practice": (edit("patients", "F82002", "F82999"), "patients.csv", 4, "practice",
                         "practice F82999 is not one of the known practices", None),
    "not a practice code": (edit("patients", "F82002", "Dr Who's"), "patients.csv", 4,
                            "practice", "is not an ODS practice code", "Dr Who's"),
    "duplicate pseudonym": (edit("patients", f"{P3},F82002", f"{P2},F82002"), "patients.csv", 4,
                            "pseudonym", "the pseudonym is the same as row 3's", None),
    "pseudonym not in patients": (edit("hospital", f"{P2},outpatient", "0aa0bb0cc0dd,outpatient"),
                                  "hospital.csv", 4, "pseudonym", "is not in the patients file",
                                  "0aa0bb0cc0dd"),
    "qof group": (edit("conditions", ",AST,", ",ASTHMA,"), "conditions.csv", 4, "qof_group",
                  "is not a known qof group", "ASTHMA"),
    "medicine group": (edit("medications", "metformin", "metformin_xr"), "medications.csv", 3,
                       "medicine_group", "is not a known medicine group", "metformin_xr"),
    "hospital kind": (edit("hospital", "outpatient", "gp_visit"), "hospital.csv", 4, "kind",
                      "is not a known hospital kind", "gp_visit"),
    "observation concept": (edit("observations", "diastolic_bp", "heart_rate"),
                            "observations.csv", 3, "concept",
                            "is not a known observation concept", "heart_rate"),
    "missing column": (edit("patients", "month_of_birth,", "birth_month,"), "patients.csv", 1,
                       "month_of_birth", "the columns found are pseudonym, practice, sex, "
                       "birth_month", None),
    "truncated": (lambda f: (f / "patients.csv").write_bytes((f / "patients.csv").read_bytes()
                  [:-25]), "patients.csv", 4, None, "looks truncated", None),
    "empty file": (rewrite("conditions", b""), "conditions.csv", None, None, "is empty", None),
    "header only": (rewrite("patients", HEADER), "patients.csv", None, None,
                    "holds a header but no rows", None),
    "utf-16": (lambda f: (f / "patients.csv").write_bytes(
                   (f / "patients.csv").read_text().encode("utf-16")),
               "patients.csv", None, None, "is UTF-16", None),
    "corrupt parquet": (rewrite("conditions", b"PAR1 not really parquet", ".parquet"),
                        "conditions.parquet", None, None, "cannot be read as Parquet", None),
    "no header": (lambda f: (f / "patients.csv").write_text(
                      "\n".join((f / "patients.csv").read_text().splitlines()[1:]) + "\n"),
                  "patients.csv", 1, "pseudonym", "is the header row missing?", None),
}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "file", "row", "column", "says", "injected"), list(BAD.values()), ids=list(BAD)
)
def test_bad_input_is_located_and_changes_nothing(
    good, tmp_path, change, file, row, column, says, injected
):
    store_dir = tmp_path / "store"
    run(good, store_dir)  # a previous good import
    before = snapshot(store_dir)
    secrets = patient_values(good)
    change(good)
    secrets |= patient_values(good)
    if injected:
        secrets.add(injected)

    for target in (store_dir, tmp_path / "new"):
        with pytest.raises(ExtractError) as err:
            run(good, target)
        message = str(err.value)
        matching = [
            p
            for p in err.value.problems
            if (p.file, p.row) == (str(good / file), row)
            and (column is None or column in (p.column or ""))
            and says in p.problem
        ]
        assert matching, message
        where = f"{good / file}" + (f", row {row}" if row else "")
        assert where in message
        assert not [s for s in secrets if s in message], message
        assert isinstance(err.value, InputError)  # callers that show InputError show it

    assert snapshot(store_dir) == before
    assert not (tmp_path / "new").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["extract", "store"]  # no staging left


def test_problems_across_files_are_collected_and_capped(good, tmp_path):
    patients = good / "patients.csv"
    rows = [f"{i:012x},F82001,X,1950-01,2001-01-01" for i in range(200)]
    patients.write_text(HEADER.decode() + "\n".join(rows) + "\n")
    edit("conditions", "2012-06-30", "2012-06-31")(good)

    with pytest.raises(ExtractError) as err:
        run(good, tmp_path / "store")

    problems = err.value.problems
    sex = [p for p in problems if p.column == "sex"]
    assert [p.row for p in sex[:5]] == [2, 3, 4, 5, 6]
    assert "195 more rows have the same problem" in sex[5].problem
    assert any(p.file == str(good / "conditions.csv") for p in problems)
    assert len(problems) <= 50
    assert str(err.value).startswith("the extract has")


def test_a_missing_required_table_and_an_unsafe_store_folder_are_refused(good, tmp_path):
    (good / "conditions.csv").unlink()
    with pytest.raises(ExtractError, match="has no conditions file"):
        run(good, tmp_path / "store")
    other = tmp_path / "documents"
    other.mkdir()
    (other / "letter.txt").write_text("keep me")
    with pytest.raises(PcnkitError, match="not a population store"):
        run(good, other)
    assert (other / "letter.txt").read_text() == "keep me"


def test_a_reimport_replaces_the_store(good, tmp_path):
    store_dir = tmp_path / "store"
    run(good, store_dir)
    (good / "observations.csv").unlink()
    run(good, store_dir)
    assert not (store_dir / "observations").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["extract", "store"]
