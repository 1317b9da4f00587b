"""PCN workforce (ARRS roles): the published totals of the two real cp1252 files, the sums per PCN
and role, headcount by person, and broken copies."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
from decimal import Decimal
from pathlib import Path

import pytest

from pcnkit.assurance import importers
from pcnkit.assurance.importers import pcn_workforce
from pcnkit.errors import InputError
from pcnkit.registry.importers.base import read_text, sha256_of

HEADER = (
    "Data_source,CENSUS_YEAR,CENSUS_MONTH,PCN_CODE,PCN_NAME,SUB_ICB_CODE,SUB_ICB_NAME,ICB_CODE,"
    "ICB_NAME,COMM_REGION_CODE,COMM_REGION_NAME,STAFF_GROUP,STAFF_ROLE,DETAILED_STAFF_ROLE,FTE,"
    "UNIQUE_IDENTIFIER"
)


def line(pcn: str, role: str, fte: str, person: str, year: str = "2022", month: str = "9") -> str:
    return (
        f"NWRS Staff,{year},{month},{pcn},A PCN,15A,Sub ICB,QU9,ICB,Y59,South East,"
        f"Other Direct Patient Care staff,{role},{role},{fte},{person}"
    )


IMPORTERS = (
    "cqc_ratings",
    "practice_workforce",
    "pcn_workforce",
    "qof_cvd",
    "pcn_data_matrix",
    "gpad_appointments",
)


def load(path: Path):
    return pcn_workforce.parse(path, read_text(path), sha256_of(path))


def write(tmp_path: Path, *lines: str, name: str = "pcn_workforce.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="cp1252")
    return path


def measures(batch, code: str) -> dict[str, Decimal]:
    return {o.measure: o.value for o in batch.observations if o.org_code == code}


def total(batch, measure: str) -> Decimal:
    return sum((o.value for o in batch.observations if o.measure == measure), Decimal(0))


@pytest.fixture(scope="module")
def march_2020(shared_data):
    return load(shared_data / "workforce" / "pcn_workforce_individual_2020-03.csv")


@pytest.fixture(scope="module")
def september_2022(shared_data):
    return load(shared_data / "workforce" / "pcn_workforce_individual_2022-09.csv")


def test_march_2020_published_totals(march_2020):
    # README: 534 rows, 188 PCNs, 344 FTE
    assert march_2020.rows == 534
    assert len({o.org_code for o in march_2020.observations}) == 188
    assert total(march_2020, "arrs_fte") == Decimal("343.886800001")
    assert round(total(march_2020, "arrs_fte")) == 344
    assert {o.period.first for o in march_2020.observations} == {dt.date(2020, 3, 31)}
    assert {o.org_kind for o in march_2020.observations} == {"pcn"}
    assert march_2020.extract_date == dt.date(2020, 3, 31)
    assert len(march_2020.observations) == 783


def test_september_2022_published_totals(september_2022):
    # README: 17,239 rows, 1,105 PCNs, 14,149 FTE
    assert september_2022.rows == 17239
    assert len({o.org_code for o in september_2022.observations}) == 1105
    assert round(total(september_2022, "arrs_fte")) == 14149
    assert total(september_2022, "arrs_fte") == Decimal("14149.271920166")
    assert {o.period.last for o in september_2022.observations} == {dt.date(2022, 9, 30)}
    assert len(september_2022.observations) == 9743
    assert september_2022.description.endswith("(NHS Digital), September 2022")


def test_roles_sum_to_the_total_and_match_hand_sums(march_2020, september_2022):
    for batch in (march_2020, september_2022):
        roles = sum(
            (o.value for o in batch.observations if o.measure.startswith("arrs_fte_")), Decimal(0)
        )
        assert roles == total(batch, "arrs_fte")
        assert {o.measure for o in batch.observations} <= set(pcn_workforce.MEASURES)
        assert not [f for f in batch.findings if "new to pcnkit" in f]
    # summed with python over the CSV
    assert total(march_2020, "arrs_fte_pharmacists") == Decimal("152.900000007")
    assert total(march_2020, "arrs_fte_social_prescribing_link_workers") == Decimal("112.324799999")
    assert total(september_2022, "arrs_fte_pharmacists") == Decimal("3422.425733369")
    assert total(september_2022, "arrs_fte_care_coordinators") == Decimal("1894.502133372")
    assert "arrs_fte_medical_clinical_director_gp" in measures(september_2022, "U68696")


def test_one_pcn_by_hand(march_2020, september_2022):
    # WOKINGHAM WEST PCN, March 2020: rows 2-4, a pharmacist (0.986666667), an SPLW (0.48) ...
    assert measures(march_2020, "U68696") == {
        "arrs_fte": Decimal("1.946666667"),
        "arrs_fte_pharmacists": Decimal("0.986666667"),
        "arrs_fte_social_prescribing_link_workers": Decimal("0.96"),
        "arrs_headcount": Decimal(3),
    }
    assert {o.row for o in march_2020.observations if o.org_code == "U68696"} == {2}
    # U55979 (September 2022): 19 rows from row 7542, 11 people, FTE 10.96 with the -0.027
    u55979 = [o for o in september_2022.observations if o.org_code == "U55979"]
    assert {o.row for o in u55979} == {7542}
    assert measures(september_2022, "U55979")["arrs_headcount"] == 11
    assert measures(september_2022, "U55979")["arrs_fte"] == Decimal("10.960000000")
    assert any("negative FTE (rows 15683)" in f for f in september_2022.findings)


def test_headcount_counts_people_once(tmp_path):
    path = write(
        tmp_path,
        HEADER,
        line("U00001", "Pharmacists", "0.5", "101"),
        line("U00001", "Pharmacy Technicians", "0.5", "101"),
        line("U00001", "Paramedics", "1", "102"),
        line("U00002", "Pharmacists", "1", "101"),
        line("U00002", "Pharmacists", "0.2", "103", year="2023", month="3"),
    )
    batch = load(path)
    sep = {
        (o.org_code, o.measure): o.value
        for o in batch.observations
        if o.period.first == dt.date(2022, 9, 30)
    }
    assert sep[("U00001", "arrs_headcount")] == 2
    assert sep[("U00001", "arrs_fte")] == Decimal("2.0")
    assert sep[("U00002", "arrs_headcount")] == 1
    march = [o for o in batch.observations if o.period.first == dt.date(2023, 3, 31)]
    assert {(o.org_code, o.measure, o.value, o.row) for o in march} == {
        ("U00002", "arrs_fte", Decimal("0.2"), 6),
        ("U00002", "arrs_fte_pharmacists", Decimal("0.2"), 6),
        ("U00002", "arrs_headcount", Decimal(1), 6),
    }
    assert batch.extract_date == dt.date(2023, 3, 31)
    assert batch.description.endswith(", September 2022 to March 2023")


def test_a_new_role_is_stored_and_reported(tmp_path):
    path = write(tmp_path, HEADER, line("U00001", "Mental Health Practitioners", "1", "1"))
    batch = load(path)
    assert measures(batch, "U00001")["arrs_fte_mental_health_practitioners"] == 1
    assert any("'Mental Health Practitioners' (first at row 2) is new" in f for f in batch.findings)


def test_non_numeric_fte_is_located(tmp_path):
    path = write(
        tmp_path,
        HEADER,
        line("U00001", "Pharmacists", "1", "1"),
        line("U00001", "Pharmacists", "full time", "2"),
    )
    with pytest.raises(InputError) as e:
        load(path)
    assert (e.value.file, e.value.row, e.value.column) == (str(path), 3, "FTE")
    assert "'full time' is not a number" in str(e.value)


@pytest.mark.parametrize(
    ("cells", "column"),
    [
        (line("U00001", "Pharmacists", "75", "2"), "FTE"),
        (line("U00001", "Pharmacists", "", "2"), "FTE"),
        (line("U00001", "Pharmacists", "1", "2", month="13"), "CENSUS_MONTH"),
        (line("U00001", "", "1", "2"), "STAFF_ROLE"),
        (line("U00001", "Pharmacists", "1", ""), "UNIQUE_IDENTIFIER"),
    ],
)
def test_bad_cells_are_located(tmp_path, cells, column):
    path = write(tmp_path, HEADER, line("U00001", "Pharmacists", "1", "1"), cells)
    with pytest.raises(InputError) as e:
        load(path)
    assert (e.value.row, e.value.column) == (3, column)


def test_missing_column_is_named(tmp_path):
    path = write(tmp_path, HEADER.replace("STAFF_ROLE,", "ROLE,"), line("U00001", "P", "1", "1"))
    with pytest.raises(InputError) as e:
        load(path)
    assert e.value.column == "STAFF_ROLE"


def test_truncated_and_empty_files_are_refused(tmp_path, shared_data):
    raw = (shared_data / "workforce" / "pcn_workforce_individual_2020-03.csv").read_bytes()
    cut = tmp_path / "cut.csv"
    cut.write_bytes(raw[: raw.index(b"\n", 2000) + 40])  # ends inside a row
    with pytest.raises(InputError) as e:
        load(cut)
    assert "truncated" in e.value.problem and e.value.row is not None
    with pytest.raises(InputError, match="empty"):
        load(write(tmp_path, "", name="empty.csv"))
    with pytest.raises(InputError, match="no data rows"):
        load(write(tmp_path, HEADER, name="header.csv"))


def test_sniff_recognises_the_header():
    assert pcn_workforce.sniff("", HEADER.split(","))
    assert not pcn_workforce.sniff("", ["PCN_CODE", "POPN_PERSON", "QOF_ACHV_AF006"])


def test_only_this_importer_claims_the_real_file(shared_data):
    """Of the assurance importers, only this one recognises the real file by its header."""
    text = read_text(shared_data / "workforce" / "pcn_workforce_individual_2022-09.csv")
    header = [h.strip() for h in next(csv.reader(io.StringIO(text)))]
    names = [
        n
        for n in IMPORTERS
        if importlib.import_module(f"{importers.__name__}.{n}").sniff(text, header)
    ]
    assert names == ["pcn_workforce"]
