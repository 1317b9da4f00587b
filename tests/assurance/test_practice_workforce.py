"""Practice workforce by year: the real HEEC file (counts, known figures, England totals),
missing figures never stored as 0, and broken copies."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
from decimal import Decimal
from pathlib import Path

import pytest

from pcnkit.assurance import importers
from pcnkit.assurance.importers import practice_workforce
from pcnkit.errors import InputError
from pcnkit.registry.importers.base import read_text, sha256_of

HEADER = (
    '"Practice.Code","Year","TOTAL_PATIENTS","TOTAL_GP_EXTGL_FTE","TOTAL_LOCUUM_TRN_FTE",'
    '"TOTAL_NURSES_FTE","TOTAL_DPC_FTE","TOTAL_ADMIN_FTE","IMD","IMD_quintile"'
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
    return practice_workforce.parse(path, read_text(path), sha256_of(path))


def write(tmp_path: Path, *lines: str, name: str = "workforce.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def values(batch, code: str, year: int) -> dict[str, Decimal]:
    day = dt.date(year, 9, 30)
    return {
        o.measure: o.value
        for o in batch.observations
        if o.org_code == code and o.period.first == day == o.period.last
    }


@pytest.fixture(scope="module")
def real(shared_data):
    return load(shared_data / "workforce" / "practice_workforce_fte_by_year_heec.csv")


def test_real_file_counts(real):
    assert real.rows == 62673
    assert len({o.org_code for o in real.observations}) == 7761
    # every cell but 2,402 NA cells and 544 zero patient figures (counted with awk)
    assert len(real.observations) == 62673 * 6 - (284 + 284 + 747 + 1007 + 80) - 544
    assert set(o.measure for o in real.observations) == set(practice_workforce.MEASURES)
    assert real.extract_date == dt.date(2024, 9, 30)


def test_real_file_known_practice_year(real):
    # "A81001","2023",4033.5,2,1.6,0.6,0.4,7.2 (row 9)
    assert values(real, "A81001", 2023) == {
        "patients": Decimal("4033.5"),
        "gp_fte": Decimal("2"),
        "gp_locum_trainee_fte": Decimal("1.6"),
        "nurse_fte": Decimal("0.6"),
        "dpc_fte": Decimal("0.4"),
        "admin_fte": Decimal("7.2"),
    }
    assert {o.row for o in real.observations if o.org_code == "A81001"} == set(range(2, 11))


def test_real_file_england_totals(real):
    def total(measure: str, year: int) -> Decimal:
        return sum(
            (
                o.value
                for o in real.observations
                if o.measure == measure and o.period.first.year == year
            ),
            Decimal(0),
        )

    # summed with python's Decimal over the CSV
    assert total("gp_fte", 2016) == Decimal("27372.5")
    assert total("patients", 2016) == 56902441
    assert total("gp_fte", 2024) == Decimal("26561.2")
    assert total("dpc_fte", 2024) == Decimal("16475.3")
    assert total("admin_fte", 2020) == Decimal("67201.0")


def test_real_file_missing_and_zero_patients_are_absent_not_zero(real):
    # "A81069","2017",0,0,0,0,0,0: no patient figure, FTE zeros kept
    row = values(real, "A81069", 2017)
    assert "patients" not in row and row["gp_fte"] == 0
    assert not any(o.value is None for o in real.observations)
    text = "\n".join(real.findings)
    assert "544 rows give 0 patients" in text
    assert "TOTAL_DPC_FTE 1007" in text
    assert "2021-2024 are averages of the monthly workforce files" in text


def test_na_and_blank_are_not_stored(tmp_path):
    path = write(
        tmp_path,
        HEADER,
        '"A81001","2019",4089,NA,,1,0.4,6.3,32.3,4',
    )
    batch = load(path)
    assert values(batch, "A81001", 2019) == {
        "patients": Decimal(4089),
        "nurse_fte": Decimal(1),
        "dpc_fte": Decimal("0.4"),
        "admin_fte": Decimal("6.3"),
    }


def test_non_numeric_fte_is_located(tmp_path):
    path = write(
        tmp_path,
        HEADER,
        '"A81001","2019",4089,2,1.1,1,0.4,6.3,32.3,4',
        '"A81002","2019",5000,2.5,0,two,0.4,6.3,32.3,4',
    )
    with pytest.raises(InputError) as e:
        load(path)
    assert (e.value.file, e.value.row, e.value.column) == (str(path), 3, "TOTAL_NURSES_FTE")
    assert "'two' is not a number" in str(e.value)


def test_negative_fte_and_duplicate_year_are_refused(tmp_path):
    negative = write(tmp_path, HEADER, '"A81001","2019",4089,-2,1.1,1,0.4,6.3,32.3,4')
    with pytest.raises(InputError) as e:
        load(negative)
    assert (e.value.row, e.value.column) == (2, "TOTAL_GP_EXTGL_FTE")
    twice = write(
        tmp_path,
        HEADER,
        '"A81001","2019",4089,2,1.1,1,0.4,6.3,32.3,4',
        '"A81001","2019",4089,2,1.1,1,0.4,6.3,32.3,4',
        name="twice.csv",
    )
    with pytest.raises(InputError, match=r"A81001 appears twice for 2019 \(rows 2 and 3\)"):
        load(twice)


def test_missing_column_is_named(tmp_path):
    path = write(
        tmp_path,
        HEADER.replace('"TOTAL_DPC_FTE",', ""),
        '"A81001","2019",4089,2,1.1,1,6.3,32.3,4',
    )
    with pytest.raises(InputError) as e:
        load(path)
    assert e.value.column == "TOTAL_DPC_FTE"


def test_truncated_and_empty_files_are_refused(tmp_path):
    truncated = write(
        tmp_path, HEADER, '"A81001","2019",4089,2,1.1,1,0.4,6.3,32.3,4', '"A81002","20'
    )
    with pytest.raises(InputError) as e:
        load(truncated)
    assert e.value.row == 3 and "truncated" in e.value.problem
    with pytest.raises(InputError, match="empty"):
        load(write(tmp_path, "", name="empty.csv"))


def test_sniff_recognises_the_header():
    header = [h.strip('"') for h in HEADER.split(",")]
    assert practice_workforce.sniff("", header)
    assert not practice_workforce.sniff("", ["Practice.Code", "Year", "latest_rating"])


def test_only_this_importer_claims_the_real_file(shared_data):
    """Of the assurance importers, only this one recognises the real file by its header."""
    text = read_text(shared_data / "workforce" / "practice_workforce_fte_by_year_heec.csv")
    header = [h.strip() for h in next(csv.reader(io.StringIO(text)))]
    names = [
        n
        for n in IMPORTERS
        if importlib.import_module(f"{importers.__name__}.{n}").sniff(text, header)
    ]
    assert names == ["practice_workforce"]
