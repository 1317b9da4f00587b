"""PCN data matrix: the real file is PCN rows of QOF achievement fractions (no numerators or
denominators), its no-PCN row is left out, and broken copies are refused."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
from decimal import Decimal
from pathlib import Path

import pytest

from pcnkit.assurance import importers
from pcnkit.assurance.importers import pcn_data_matrix
from pcnkit.errors import InputError
from pcnkit.registry.importers.base import read_text, sha256_of

HEADER = "PRACTICE_CODE,PCN_CODE,PCN_NAME,POPN_PERSON,QOF_ACHV_AF006,QOF_ACHV_DM012,QOF_PREV_AF"

IMPORTERS = (
    "cqc_ratings",
    "practice_workforce",
    "pcn_workforce",
    "qof_cvd",
    "pcn_data_matrix",
    "gpad_appointments",
)


def load(path: Path):
    return pcn_data_matrix.parse(path, read_text(path), sha256_of(path))


def write(tmp_path: Path, *lines: str, name: str = "pcn_data_matrix.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def org(batch, code: str) -> dict[str, Decimal]:
    return {o.measure: o.value for o in batch.observations if o.org_code == code}


@pytest.fixture(scope="module")
def path(shared_data):
    return shared_data / "pcn" / "pcn_data_matrix_2023_blackwellrd.csv"


@pytest.fixture(scope="module")
def real(path):
    return load(path)


def test_the_real_file_has_no_practices_and_no_numerators(path):
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["PRACTICE_CODE"] for r in rows} == {"NA"}
    assert not [c for c in rows[0] if ("NUM" in c and "QOF" in c) or "DENOM" in c]


def test_real_file_counts(real):
    assert real.rows == 1264
    assert {o.org_kind for o in real.observations} == {"pcn"}
    assert len({o.org_code for o in real.observations}) == 1263
    # 1 + 49 achievement + 21 prevalence columns x 1,263 PCNs, less 31 NA cells
    assert len(real.observations) == 89642
    assert {o.measure for o in real.observations} == set(pcn_data_matrix.MEASURES)
    assert len(pcn_data_matrix.MEASURES) == 71
    assert {o.period for o in real.observations} == {pcn_data_matrix.PERIOD}
    assert pcn_data_matrix.PERIOD.first == dt.date(2022, 4, 1)
    assert real.extract_date == dt.date(2023, 3, 31)
    assert any("taken as QOF 2022/23" in f for f in real.findings)


def test_real_file_known_pcns_and_england(real):
    # WEST MERTON PCN, row 3: POPN_PERSON 32133, QOF_ACHV_AF006 0.874172185
    u00070 = org(real, "U00070")
    assert u00070["patients"] == 32133
    assert u00070["qof_achv_af006"] == Decimal("0.874172185")
    assert u00070["qof_prev_af"] == Decimal("0.012112013")
    assert {o.row for o in real.observations if o.org_code == "U00070"} == {3}
    # CAMBRIDGE NORTH VILLAGES PCN (row 126) has NA for AF006 and AF007: absent, not 0
    u09738 = org(real, "U09738")
    assert u09738["patients"] == 50047
    assert "qof_achv_af006" not in u09738 and "qof_achv_af007" not in u09738
    # achievement figures are fractions
    achievement = [o.value for o in real.observations if o.measure.startswith("qof_achv_")]
    assert max(achievement) <= 1 and min(achievement) >= 0
    # England in PCNs (python over the CSV, less the no-PCN row's 407,565)
    assert sum(o.value for o in real.observations if o.measure == "patients") == 61557345


def test_the_no_pcn_row_is_reported_not_stored(real):
    assert "U" not in {o.org_code for o in real.observations}
    assert any("row 2 is for no PCN" in f and "407565" in f for f in real.findings)


def test_practice_rows_are_stored_for_the_practice(tmp_path):
    path = write(
        tmp_path,
        HEADER,
        "NA,U00001,A PCN,20000,0.9,0.75,0.02",
        "F82006,U00001,A PCN,12000,0.8,NA,0.03",
    )
    batch = load(path)
    assert {(o.org_code, o.org_kind) for o in batch.observations} == {
        ("U00001", "pcn"),
        ("F82006", "practice"),
    }
    assert org(batch, "F82006") == {
        "patients": Decimal(12000),
        "qof_achv_af006": Decimal("0.8"),
        "qof_prev_af": Decimal("0.03"),
    }


def test_percentages_and_text_are_refused(tmp_path):
    percent = write(tmp_path, HEADER, "NA,U00001,A PCN,20000,87.4,0.75,0.02")
    with pytest.raises(InputError) as e:
        load(percent)
    assert (e.value.row, e.value.column) == (2, "QOF_ACHV_AF006")
    text = write(tmp_path, HEADER, "NA,U00001,A PCN,many,0.9,0.75,0.02", name="text.csv")
    with pytest.raises(InputError) as e:
        load(text)
    assert (e.value.file, e.value.row, e.value.column) == (str(text), 2, "POPN_PERSON")
    assert "'many' is not a number" in str(e.value)


def test_duplicate_pcn_is_refused(tmp_path):
    path = write(
        tmp_path, HEADER, "NA,U00001,A PCN,20000,0.9,0.75,0.02", "NA,U00001,A PCN,1,0.9,0.7,0.02"
    )
    with pytest.raises(InputError, match=r"U00001 appears twice \(rows 2 and 3\)"):
        load(path)


def test_missing_columns_are_named(tmp_path):
    path = write(tmp_path, HEADER.replace("POPN_PERSON", "POPULATION"), "NA,U1,A,1,0.9,0.7,0.2")
    with pytest.raises(InputError) as e:
        load(path)
    assert e.value.column == "POPN_PERSON"
    path = write(tmp_path, "PCN_CODE,POPN_PERSON,QOF_PREV_AF", "U00001,100,0.2", name="no_achv.csv")
    with pytest.raises(InputError, match="no QOF_ACHV_"):
        load(path)


def test_truncated_and_empty_files_are_refused(tmp_path, path):
    raw = path.read_bytes()
    cut = tmp_path / "cut.csv"
    cut.write_bytes(raw[: raw.index(b"\n", 20000) + 300])
    with pytest.raises(InputError) as e:
        load(cut)
    assert "truncated" in e.value.problem and e.value.row is not None
    with pytest.raises(InputError, match="empty"):
        load(write(tmp_path, "", name="empty.csv"))


def test_sniff_recognises_the_header():
    assert pcn_data_matrix.sniff("", HEADER.split(","))
    assert not pcn_data_matrix.sniff("", ["PCN_CODE", "STAFF_ROLE", "FTE"])


def test_only_this_importer_claims_the_real_file(shared_data):
    """Of the assurance importers, only this one recognises the real file by its header."""
    text = read_text(shared_data / "pcn" / "pcn_data_matrix_2023_blackwellrd.csv")
    header = [h.strip() for h in next(csv.reader(io.StringIO(text)))]
    names = [
        n
        for n in IMPORTERS
        if importlib.import_module(f"{importers.__name__}.{n}").sniff(text, header)
    ]
    assert names == ["pcn_data_matrix"]
