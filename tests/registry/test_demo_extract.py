"""The demo's assurance extract (src/pcnkit/data/demo/assurance) against the national files it
was cut from: England tables identical cell for cell, practice tables holding exactly BHR's
rows as published, and a registry load of the demo that never reads the assurance folder."""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from conftest import SHARED_DATA, load
from pcnkit.demo import ASSURANCE_FOLDER, build_demo, demo_data
from pcnkit.registry import queries
from pcnkit.registry.importers import expand
from pcnkit.registry.summary import area_summary
from pcnkit.store import open_workspace
from pcnkit.store.models import Membership, Organisation

DEMO = demo_data()
ASSURANCE = DEMO / ASSURANCE_FOLDER
OC = sorted(ASSURANCE.glob("oc_submissions_*.xlsx"))
TELEPHONY = sorted(ASSURANCE.glob("cloud_telephony_*.xlsx"))
PRACTICE_CODE = re.compile(r"[A-Z][0-9]{5}$")


@contextmanager
def book(path: Path):
    """A workbook read-only, closed after use (read-only mode keeps its file open)."""
    wb = load_workbook(path, read_only=True)
    try:
        yield wb
    finally:
        wb.close()


def partners(path: Path) -> list[tuple]:
    """An ePCN workbook's practice rows (its second sheet, below the header)."""
    with book(path) as wb:
        return list(wb.worksheets[1].iter_rows(values_only=True))[1:]


def bhr_practices() -> set[str]:
    """The demo's practices, from its own registry files (ODS, both ePCNs, GP appointments
    mapping), independently of the script that cut the extract."""
    with open(DEMO / "epraccur_2019-11.csv", encoding="utf-8") as f:
        codes = {r[0] for r in csv.reader(f)}
    with open(DEMO / "gpad_practice_mapping_2025-08.csv", encoding="utf-8-sig") as f:
        codes |= {r["GP_CODE"] for r in csv.DictReader(f)}
    for name in ("ePCN_2019-12_psychty.xlsx", "ePCN_2022-05_psychty.xlsx"):
        codes |= {r[0] for r in partners(DEMO / name)}
    return codes


BHR = bhr_practices()


def bhr_pcns() -> set[str]:
    """The PCNs the demo's practices belonged to at any date of its registry files."""
    pcns = set()
    for name in ("ePCN_2019-12_psychty.xlsx", "ePCN_2022-05_psychty.xlsx"):
        pcns |= {r[4] for r in partners(DEMO / name) if r[0] in BHR}
    with open(DEMO / "gpad_practice_mapping_2025-08.csv", encoding="utf-8-sig") as f:
        pcns |= {r["PCN_CODE"] for r in csv.DictReader(f)}
    return pcns - {"U"}  # "U": no PCN


def source(path: Path) -> Path:
    folder = "online_consultation" if path.name.startswith("oc_") else "telephony"
    found = SHARED_DATA / "access" / folder / path.name
    if not found.exists():
        pytest.skip(f"{found} is not here")
    return found


def cells(ws) -> dict[tuple[int, int], tuple[type, object]]:
    """Every value of a sheet with its type (1 and 1.0, or a date and its text, differ). An
    empty string is blank: openpyxl, which wrote the extract, cannot write one."""
    return {
        (c.row, c.column): (type(c.value), c.value)
        for row in ws.iter_rows()
        for c in row
        if getattr(c, "value", None) not in (None, "")
    }


def rows(ws) -> list[tuple]:
    """The sheet's rows that hold a value, trailing blanks dropped (an empty string is blank,
    as in `cells`)."""
    out = []
    for row in ws.iter_rows(values_only=True):
        values = [None if v == "" else v for v in row]
        while values and values[-1] is None:
            values.pop()
        if values:
            out.append(tuple(values))
    return out


def split(sheet_rows: list[tuple], code_col: int) -> tuple[list[tuple], list[tuple]]:
    """(data rows, the rest): a data row has a month in column A or a practice code."""
    data, rest = [], []
    for r in sheet_rows:
        code = r[code_col] if len(r) > code_col else None
        is_data = isinstance(r[0], dt.datetime) or (
            isinstance(code, str) and PRACTICE_CODE.match(code.strip())
        )
        (data if is_data else rest).append(r)
    return data, rest


def test_the_extract_holds_every_monthly_workbook():
    months = [p.stem[-7:] for p in OC]
    assert len(months) == 23 and months[0] == "2024-04" and months[-1] == "2026-02"
    assert [p.stem[-7:] for p in TELEPHONY] == [
        "2025-10",
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]


@pytest.mark.parametrize("path", OC, ids=lambda p: p.stem)
def test_online_consultation_table_1_is_the_england_series_cell_for_cell(path):
    with book(source(path)) as src, book(path) as out:
        assert out.sheetnames == src.sheetnames
        for name in ("Title sheet", "Data Quality", "Table 1"):
            assert cells(out[name]) == cells(src[name]), name
        if "Table 3" in src.sheetnames:  # weekday x time band, England
            assert cells(out["Table 3"]) == cells(src["Table 3"])


@pytest.mark.parametrize("path", OC, ids=lambda p: p.stem)
def test_online_consultation_table_2_holds_exactly_bhrs_practice_rows(path):
    with book(source(path)) as src, book(path) as out:
        src_data, src_rest = split(rows(src["Table 2"]), 1)
        out_data, out_rest = split(rows(out["Table 2"]), 1)
    assert out_data == [r for r in src_data if r[1] in BHR]
    assert out_rest == src_rest  # title, Return to Contents, header with its markers, notes
    assert {r[5] for r in out_data} == {"A3A8R"}  # all in North East London's sub-ICB
    assert 90 <= len(out_data) <= 120
    assert isinstance(out_data[0][0], dt.datetime) and isinstance(out_data[0][12], int)


def test_online_consultation_february_2026_keeps_the_published_england_figures():
    with book(ASSURANCE / "oc_submissions_2026-02.xlsx") as wb:
        t1 = rows(wb["Table 1"])
    header = next(r for r in t1 if len(r) > 2 and r[2] == "Feb-26 [10,11]")
    assert header[5] == dt.datetime(2025, 11, 1)  # months as dates and as text, as published
    open_practices = next(r for r in t1 if len(r) > 1 and r[1] == "Open active practices")
    assert open_practices[2:4] == (6208, 6209)


@pytest.mark.parametrize("path", TELEPHONY, ids=lambda p: p.stem)
def test_telephony_keeps_england_tables_and_cuts_practice_tables_to_bhr(path):
    with book(source(path)) as src, book(path) as out:
        assert out.sheetnames == src.sheetnames
        for name in ("Title sheet", "Data Quality", "Table 1", "Table 2"):
            assert cells(out[name]) == cells(src[name]), name
        for name in ("Table 3", "Table 4", "Table 5"):
            src_data, src_rest = split(rows(src[name]), 1)
            out_data, out_rest = split(rows(out[name]), 1)
            assert out_data == [r for r in src_data if r[1] in BHR], name
            # both header rows, the Total/National row and the notes, as published
            assert out_rest == src_rest, name
            assert any(r[0] == "Total" for r in out_rest), name
            assert 90 <= len(out_data) <= 110


def test_telephony_national_row_is_the_published_england_total():
    with book(ASSURANCE / "cloud_telephony_2026-02.xlsx") as wb:
        t4 = rows(wb["Table 4"])
    national = next(r for r in t4 if r[:2] == ("Total", "National"))
    assert national[11:14] == (29211036, 16124647, 0.552)
    header = next(r for r in t4 if r[0] == "Month [1]")
    assert header[1] == "GP Practice \n(ODS_CODE)" and header[7] == "ICB Code  [2]"


@pytest.mark.parametrize(
    "name, folder, key, encoding",
    [
        ("practice_workforce_fte_by_year_heec.csv", "workforce", "Practice.Code", "utf-8"),
        ("heec_qof_cvd_achievement_prevalence_practice.csv", "qof", "Practice.Code", "utf-8"),
        ("pcn_workforce_individual_2022-09.csv", "workforce", "PCN_CODE", "cp1252"),
        ("pcn_data_matrix_2023_blackwellrd.csv", "pcn", "PCN_CODE", "utf-8"),
    ],
)
def test_csv_cuts_are_the_source_lines_of_bhr(name, folder, key, encoding):
    src_path = SHARED_DATA / folder / name
    src = src_path.read_bytes().splitlines(keepends=True)
    out = (ASSURANCE / name).read_bytes().splitlines(keepends=True)
    assert out[0] == src[0]
    assert set(out[1:]) <= set(src[1:])  # byte-identical lines, encoding and line ends kept
    reader = csv.DictReader(line.decode(encoding) for line in out)
    keys = [r[key] for r in reader]
    if key == "Practice.Code":
        assert set(keys) <= BHR and len(set(keys)) > 100
    else:
        assert set(keys) <= bhr_pcns() and len(set(keys)) >= 9


def test_cp1252_survives_in_the_pcn_workforce_cut():
    raw = (ASSURANCE / "pcn_workforce_individual_2022-09.csv").read_bytes()
    assert b"Clinical Director \x96 Medical" in raw  # an en dash in cp1252, as published


def test_cqc_ratings_ship_whole_for_the_england_comparison():
    assert (ASSURANCE / "cqc_ratings_practice_2016-2024_heec.csv").read_bytes() == (
        SHARED_DATA / "cqc" / "cqc_ratings_practice_2016-2024_heec.csv"
    ).read_bytes()


def test_the_extract_stays_small():
    shipped = sum(p.stat().st_size for p in ASSURANCE.iterdir())
    assert shipped < 3_000_000


# --- the registry never reads the assurance folder ----------------------------------------


def test_no_assurance_file_is_a_registry_file():
    chosen, ignored = expand([DEMO])
    assert not [s.path.name for s in chosen if s.path.parent != DEMO]
    assert {s.path.name for s in ignored if s.path.parent == ASSURANCE} == {
        p.name for p in ASSURANCE.iterdir()
    }


def _counts(ws) -> tuple[int, int]:
    with ws.sessions() as s:
        return (
            s.scalar(select(func.count()).select_from(Organisation)),
            s.scalar(select(func.count()).select_from(Membership)),
        )


def test_the_demo_registry_is_the_same_without_the_assurance_folder(tmp_path):
    top = tmp_path / "top"
    top.mkdir()
    for p in DEMO.iterdir():
        if p.is_file():
            shutil.copy(p, top / p.name)
    alone = open_workspace(tmp_path / "alone", url=f"sqlite:///{tmp_path / 'alone.db'}")
    load(alone, top)
    demo = build_demo(tmp_path / "demo")
    try:
        assert _counts(demo) == _counts(alone)
        with demo.sessions() as s:
            # 118 open practices when the 2019/20 registers were taken, as before
            summary = area_summary(s, "BHR", dt.date(2020, 1, 1))
            assert summary.practices == 118
            # the March 2026 lists (sub-ICB layout) load through the same importer
            figure = queries.list_size_at(s, "F82002", dt.date(2026, 3, 1))
    finally:
        alone.dispose()
        demo.dispose()
    with open(DEMO / "gp-reg-pat-prac-all_2026-03.csv", encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["CODE"] == "F82002")
    assert figure.value == Decimal(row["NUMBER_OF_PATIENTS"])
    assert figure.as_of == dt.date(2026, 3, 1)
