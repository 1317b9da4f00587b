"""QOF CVD achievement and prevalence: the real HEEC file (counts, known figures, England list),
NA stored as absent, the inferred year, and broken copies."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
from decimal import Decimal
from pathlib import Path

import pytest

from pcnkit.assurance import importers
from pcnkit.assurance.importers import qof_cvd
from pcnkit.errors import InputError
from pcnkit.registry.importers.base import read_text, sha256_of

GROUPS = ("AF", "BP", "CHD", "CHOL", "HF", "HYP", "LVSD", "PAD", "STIA")
HEADER = ",".join(
    ['""', '"Practice.Code"']
    + [f'"{kind}_{g}"' for kind in ("Achievement", "Prevalence", "List.Size") for g in GROUPS]
)


def cells(code: str, achievement: str = "90", prevalence: str = "2.5", size: str = "5000") -> str:
    return ",".join(['"1"', f'"{code}"'] + [achievement] * 9 + [prevalence] * 9 + [size] * 9)


IMPORTERS = (
    "cqc_ratings",
    "practice_workforce",
    "pcn_workforce",
    "qof_cvd",
    "pcn_data_matrix",
    "gpad_appointments",
)


def load(path: Path):
    return qof_cvd.parse(path, read_text(path), sha256_of(path))


def write(tmp_path: Path, *lines: str, name: str = "QOF.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def practice(batch, code: str) -> dict[str, Decimal]:
    return {o.measure: o.value for o in batch.observations if o.org_code == code}


@pytest.fixture(scope="module")
def real(shared_data):
    return load(shared_data / "qof" / "heec_qof_cvd_achievement_prevalence_practice.csv")


def test_real_file_counts_and_year(real):
    assert real.rows == 6268
    assert len({o.org_code for o in real.observations}) == 6267
    # 27 columns x 6,267 practices less the NA cells (4 columns wholly NA, 5 practices partly)
    assert len(real.observations) == 144081
    assert {o.period for o in real.observations} == {
        qof_cvd.PERIOD
    } and qof_cvd.PERIOD.first == dt.date(2023, 4, 1)
    assert qof_cvd.PERIOD.last == dt.date(2024, 3, 31) == real.extract_date
    assert "taken as 2023/24" in qof_cvd.description
    assert any("does not state its QOF year; taken as 2023/24" in f for f in real.findings)


def test_real_file_known_practice(real):
    # row 3029: "A81001",100,100,100,100,100,93.92,NA,100,100,2.8028028028028,NA,... 3996
    a81001 = practice(real, "A81001")
    assert a81001["achievement_pct_hyp"] == Decimal("93.92")
    assert a81001["achievement_pct_af"] == 100
    assert a81001["prevalence_pct_af"] == Decimal("2.8028028028028")
    assert a81001["list_size_af"] == 3996 and a81001["list_size_bp"] == 1831
    assert "achievement_pct_lvsd" not in a81001 and "prevalence_pct_bp" not in a81001
    assert {o.row for o in real.observations if o.org_code == "A81001"} == {3029}


def test_real_file_na_is_absent_and_wholly_empty_columns_are_reported(real):
    # C82018 (row 1195) has NA for CHD, HYP, STIA and most prevalences
    c82018 = practice(real, "C82018")
    assert set(c82018) == {
        "achievement_pct_af",
        "achievement_pct_bp",
        "achievement_pct_chol",
        "achievement_pct_hf",
        "achievement_pct_pad",
        "prevalence_pct_lvsd",
        "list_size_bp",
        "list_size_chol",
    }
    measures = {o.measure for o in real.observations}
    assert not measures & {"achievement_pct_lvsd", "prevalence_pct_bp", "list_size_lvsd"}
    assert measures <= set(qof_cvd.MEASURES)
    text = "\n".join(real.findings)
    assert "Prevalence_BP, Prevalence_CHOL, Achievement_LVSD, List.Size_LVSD" in text
    assert "no practice code and no figures, not stored: 6269" in text


def test_real_file_england_list(real):
    # the AF list summed over the practices (python Decimal over the CSV): 61.7 million
    lists = [o.value for o in real.observations if o.measure == "list_size_af"]
    assert sum(lists) == 61727998 and len(lists) == 6263
    assert all(0 <= o.value <= 100 for o in real.observations if "_pct_" in o.measure)


def test_non_numeric_and_out_of_range_values_are_located(tmp_path):
    path = write(tmp_path, HEADER, cells("A81001"), cells("A81002", achievement="high"))
    with pytest.raises(InputError) as e:
        load(path)
    assert (e.value.file, e.value.row, e.value.column) == (str(path), 3, "Achievement_AF")
    assert "'high' is not a number" in str(e.value)
    path = write(tmp_path, HEADER, cells("A81001", prevalence="250"), name="range.csv")
    with pytest.raises(InputError) as e:
        load(path)
    assert (e.value.row, e.value.column) == (2, "Prevalence_AF")


def test_duplicate_practice_and_code_missing_with_figures_are_refused(tmp_path):
    twice = write(tmp_path, HEADER, cells("A81001"), cells("A81001"))
    with pytest.raises(InputError, match=r"A81001 appears twice \(rows 2 and 3\)"):
        load(twice)
    nameless = write(tmp_path, HEADER, cells("A81001"), cells("NA"), name="nameless.csv")
    with pytest.raises(InputError) as e:
        load(nameless)
    assert (e.value.row, e.value.column) == (3, "Practice.Code")


def test_missing_column_is_named(tmp_path):
    path = write(tmp_path, HEADER.replace('"Achievement_CHD"', '"Achievement_CHD2"'), cells("A"))
    with pytest.raises(InputError) as e:
        load(path)
    assert e.value.column == "Achievement_CHD"


def test_truncated_and_empty_files_are_refused(tmp_path):
    truncated = write(tmp_path, HEADER, cells("A81001"), cells("A81002")[:40])
    with pytest.raises(InputError) as e:
        load(truncated)
    assert e.value.row == 3 and "truncated" in e.value.problem
    with pytest.raises(InputError, match="empty"):
        load(write(tmp_path, "", name="empty.csv"))


def test_sniff_recognises_the_header():
    header = [h.strip('"') for h in HEADER.split(",")]
    assert qof_cvd.sniff("", header)
    assert not qof_cvd.sniff("", ["Practice.Code", "Year", "TOTAL_PATIENTS"])


def test_only_this_importer_claims_the_real_file(shared_data):
    """Of the assurance importers, only this one recognises the real file by its header."""
    text = read_text(shared_data / "qof" / "heec_qof_cvd_achievement_prevalence_practice.csv")
    header = [h.strip() for h in next(csv.reader(io.StringIO(text)))]
    names = [
        n
        for n in IMPORTERS
        if importlib.import_module(f"{importers.__name__}.{n}").sniff(text, header)
    ]
    assert names == ["qof_cvd"]
