"""NHS England's cloud based telephony workbooks: the national Total rows are the practices plus
the Unassigned accounts, known practice figures read from the right band columns, and broken
copies refused with the file, sheet, row and column."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter, defaultdict
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pcnkit.assurance.importers import oc_submissions, telephony, workbook
from pcnkit.assurance.observations import ENGLAND, ObservationBatch
from pcnkit.errors import InputError

TEL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "access" / "telephony"
WORKBOOKS = sorted(TEL.glob("cloud_telephony_*.xlsx"))
# Table 3's count columns (0-based): inbound, answered, ended in IVR, call-back requested,
# missed, call-back made, as NHS England laid them out.
TABLE3 = {
    "inbound": 11,
    "answered": 13,
    "ended_ivr": 15,
    "callback_requested": 17,
    "missed": 20,
    "callback_made": 23,
}


@cache
def parsed(path: Path) -> ObservationBatch:
    return telephony.parse(path, "sha")


def unassigned_in_table_3(path: Path) -> dict[str, int]:
    """The Unassigned accounts' calls, read straight from the sheet (independently of the
    importer)."""
    book = load_workbook(path, read_only=True)
    out: dict[str, int] = defaultdict(int)
    for values in book["Table 3"].iter_rows(values_only=True):
        if len(values) > 23 and values[1] == "Unassigned":
            for measure, column in TABLE3.items():
                out[measure] += values[column] or 0
    book.close()
    return out


@pytest.mark.england
def test_all_5_published_workbooks_are_here():
    assert len(WORKBOOKS) == 5, WORKBOOKS


@pytest.mark.england
@pytest.mark.parametrize("path", WORKBOOKS, ids=lambda p: p.stem)
def test_the_national_row_is_the_practices_plus_the_unassigned_accounts(path):
    batch = parsed(path)
    month = batch.extract_date
    national = {
        o.measure: o
        for o in batch.observations
        if o.org_kind == "nation" and o.period.start == month
    }
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for o in batch.observations:
        if o.org_kind == "practice":
            totals[o.measure] += o.value
    unassigned = unassigned_in_table_3(path)
    for measure in TABLE3:
        assert national[measure].sheet == "Table 3"
        assert totals[measure] + unassigned[measure] == national[measure].value, measure
    # the band columns (Tables 4 and 5) add up too: the importer raises no finding
    assert not [f for f in batch.findings if "add up to" in f or "differs" in f]
    assert not [f for f in batch.findings if "Table 1 gives" in f]
    assert any("'Unassigned'" in f for f in batch.findings)
    keys = Counter((o.org_code, o.measure, o.period) for o in batch.observations)
    assert max(keys.values()) == 1
    assert all(o.org_code == ENGLAND for o in national.values())


@pytest.mark.england
def test_february_2026_practice_and_england_figures():
    batch = parsed(TEL / "cloud_telephony_2026-02.xlsx")
    feb = dt.date(2026, 2, 1)
    assert batch.extract_date == feb
    assert batch.description == (
        "NHS England, Cloud Based Telephony data in General Practice, February 2026"
    )
    e81050 = {o.measure: o for o in batch.observations if o.org_code == "E81050"}
    assert {m: o.value for m, o in e81050.items()} == {
        "inbound": 6032,
        "answered": 3955,
        "ended_ivr": 1441,
        "callback_requested": 245,
        "missed": 391,
        "callback_made": 245,
        "answered_wait_lt1": 1857,
        "answered_wait_1to2": 607,
        "answered_wait_2to5": 889,
        "answered_wait_gt5": 602,
        "answered_duration_lt1": 813,
        "answered_duration_1to2": 1544,
        "answered_duration_2to5": 1313,
        "answered_duration_gt5": 285,
        "missed_wait_lt1": 139,
        "missed_wait_1to2": 56,
        "missed_wait_2to5": 96,
        "missed_wait_gt5": 100,
    }
    assert (e81050["inbound"].sheet, e81050["inbound"].row) == ("Table 3", 15)
    assert (e81050["missed_wait_gt5"].sheet, e81050["missed_wait_gt5"].row) == ("Table 5", 14)
    england = {
        o.measure: o.value
        for o in batch.observations
        if o.org_kind == "nation" and o.period.start == feb
    }
    assert england["inbound"] == 29_211_036
    assert england["answered_wait_gt5"] == 3_401_187
    assert england["missed_wait_lt1"] == 1_632_876
    assert england["practices_included"] == 5112
    assert england["working_days"] == 20


@pytest.mark.england
def test_a_practice_row_whose_month_cell_was_overwritten_is_still_read():
    """October 2025's Table 3: M83616's Month cell holds NHS England's copyright line."""
    batch = parsed(TEL / "cloud_telephony_2025-10.xlsx")
    m83616 = {
        o.measure: (o.value, o.row)
        for o in batch.observations
        if o.org_code == "M83616" and o.sheet == "Table 3"
    }
    assert m83616["inbound"] == (4231, 2124)
    assert any("Table 3 row 2124 (M83616)" in f for f in batch.findings)


@pytest.mark.england
def test_table_1_months_written_as_month_end_dates():
    """October 2025's Table 1 heads some months with their last day (30 September 2025)."""
    batch = parsed(TEL / "cloud_telephony_2025-10.xlsx")
    months = sorted({o.period.start for o in batch.observations if o.org_kind == "nation"})
    assert months == [dt.date(2024 + (9 + i) // 12, (9 + i) % 12 + 1, 1) for i in range(13)]
    september = {
        o.measure: o.value
        for o in batch.observations
        if o.org_kind == "nation" and o.period.start == dt.date(2025, 9, 1)
    }
    assert september["inbound"] == 29_267_533
    assert september["practices_included"] == 4438


@pytest.mark.england
def test_recognised_by_content_not_by_name(tmp_path):
    copy = tmp_path / "calls.xlsx"
    shutil.copy(WORKBOOKS[0], copy)
    names = workbook.sheet_names(copy)
    assert telephony.sniff_sheets(names, copy)
    assert not oc_submissions.sniff_sheets(names, copy)


# --- broken copies ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def book():
    """One editable copy of a workbook; each test edits it, saves it and restores the edit.
    Its pictures (NHS England's logo) are dropped: with Pillow installed (WeasyPrint needs it)
    openpyxl reads them, and can write a picture read from a file once only."""
    book = load_workbook(TEL / "cloud_telephony_2025-10.xlsx")
    for sheet in book.worksheets:
        sheet._images = []
    return book


def refused(book, tmp_path: Path, sheet: str, cell: str, value) -> InputError:
    original = book[sheet][cell].value
    book[sheet][cell] = value
    out = tmp_path / "tel.xlsx"
    try:
        book.save(out)
    finally:
        book[sheet][cell] = original
    with pytest.raises(InputError) as caught:
        telephony.parse(out, "sha")
    return caught.value


@pytest.mark.england
def test_text_in_an_answered_cell_is_located(book, tmp_path):
    error = refused(book, tmp_path, "Table 3", "N20", "n/a")
    assert error.file.endswith("tel.xlsx [Table 3]")
    assert (error.row, error.column) == (20, "Answered (column N)")
    assert "'n/a' where a count belongs" in error.problem


@pytest.mark.england
def test_a_negative_wait_band_count_is_refused(book, tmp_path):
    error = refused(book, tmp_path, "Table 5", "P30", -1)
    assert error.file.endswith("[Table 5]")
    assert (error.row, error.column) == (30, "Less than 1 minute (column P)")
    assert "not a count" in error.problem


@pytest.mark.england
def test_a_table_without_its_total_row_is_refused(book, tmp_path):
    error = refused(book, tmp_path, "Table 4", "A12", None)
    assert error.file.endswith("[Table 4]")
    assert "has no Total row" in error.problem


@pytest.mark.england
def test_a_workbook_without_table_4_is_refused(book, tmp_path):
    book["Table 4"].title = "Table 4 (old)"
    out = tmp_path / "tel.xlsx"
    try:
        book.save(out)
    finally:
        book["Table 4 (old)"].title = "Table 4"
    with pytest.raises(InputError, match="has no sheet 'Table 4'"):
        telephony.parse(out, "sha")


@pytest.mark.england
def test_a_truncated_workbook_is_refused(tmp_path):
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(WORKBOOKS[0].read_bytes()[:-5000])
    with pytest.raises(InputError, match="looks truncated or damaged"):
        telephony.parse(cut, "sha")
