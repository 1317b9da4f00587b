"""NHS England's online consultation workbooks: the practices reproduce each publication's own
England figures (Table 1), earlier months keep each publication's revision, and broken copies
are refused with the file, sheet, row and column."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pcnkit.assurance.importers import oc_submissions, telephony, workbook
from pcnkit.assurance.observations import ENGLAND, ObservationBatch
from pcnkit.errors import InputError

FOLDER = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "access"
OC = FOLDER / "online_consultation"
WORKBOOKS = sorted(OC.glob("oc_submissions_*.xlsx"))


@cache
def parsed(path: Path) -> ObservationBatch:
    return oc_submissions.parse(path, "sha")


def nation(batch: ObservationBatch, month: dt.date) -> dict[str, Decimal]:
    return {
        o.measure: o.value
        for o in batch.observations
        if o.org_kind == "nation" and o.period.start == month
    }


def practices(batch: ObservationBatch) -> dict[str, dict[str, Decimal]]:
    out: dict[str, dict[str, Decimal]] = {}
    for o in batch.observations:
        if o.org_kind == "practice":
            out.setdefault(o.org_code, {})[o.measure] = o.value
    return out


@pytest.mark.england
def test_all_23_published_workbooks_are_here():
    assert len(WORKBOOKS) == 23, WORKBOOKS


@pytest.mark.england
@pytest.mark.parametrize("path", WORKBOOKS, ids=lambda p: p.stem)
def test_practices_reproduce_the_workbooks_own_england_figures(path):
    """The issue's "done when": England's figures for the publication's month are the sum of
    its practices (Table 2) - by submission type, practices receiving submissions and their
    patients. All 23 workbooks agree exactly, so no reconciliation finding is raised."""
    batch = parsed(path)
    month = batch.extract_date
    england = nation(batch, month)
    rows = practices(batch)
    for measure in ("submissions", "clinical", "administrative", "other"):
        assert sum(p.get(measure, 0) for p in rows.values()) == england[measure], measure
    receiving = [p for p in rows.values() if p.get("submissions", 0) > 0]
    assert len(receiving) == england["practices_receiving"]
    assert (
        sum(p["registered_patients"] for p in receiving)
        == (england["patients_practices_receiving"])
    )
    # The published rate is per 1,000 patients at practices RECEIVING submissions (most
    # workbooks label it "known to have a system").
    rate = england["submissions"] / england["patients_practices_receiving"] * 1000
    assert abs(rate - england["rate_per_1000"]) < Decimal("0.000001")
    assert not [f for f in batch.findings if "but Table 1 gives" in f or "add up" in f]
    assert all(
        p["clinical"] + p["administrative"] + p["other"] == p["submissions"]
        for p in rows.values()
        if "submissions" in p
    )
    assert batch.description.endswith(f"General Practice, {month:%B %Y}")
    assert f"oc_submissions_{month:%Y-%m}" in path.name


@pytest.mark.england
def test_a_publication_keeps_its_own_figure_for_a_revised_month():
    """March 2025: 4,724,314 submissions in its own workbook, 5,196,526 in the latest ones -
    and, as each workbook re-publishes the month, every figure in between (as published)."""
    march = dt.date(2025, 3, 1)
    own = parsed(OC / "oc_submissions_2025-03.xlsx")
    assert own.extract_date == march
    published = {p.stem[-7:]: nation(parsed(p), march)["submissions"] for p in WORKBOOKS[11:]}
    assert published == {
        "2025-03": 4_724_314,
        "2025-04": 4_814_626,
        "2025-05": 4_748_174,
        "2025-06": 5_383_404,
        "2025-07": 5_293_107,
        "2025-08": 5_400_037,
        "2025-09": 5_199_780,
        "2025-10": 5_195_970,
        "2025-11": 5_195_970,
        "2025-12": 5_196_526,
        "2026-01": 5_196_526,
        "2026-02": 5_196_526,
    }
    # each keeps its own row in its own file
    assert {
        o.row for o in own.observations if o.measure == "submissions" and o.org_kind == "nation"
    } == {20}
    assert any("re-publishes England's figures" in f for f in parsed(WORKBOOKS[-1]).findings)


@pytest.mark.england
def test_february_2026_figures_as_published():
    batch = parsed(OC / "oc_submissions_2026-02.xlsx")
    feb = dt.date(2026, 2, 1)
    assert batch.extract_date == feb
    assert batch.publisher == "NHS England"
    a81001 = [o for o in batch.observations if o.org_code == "A81001"]
    assert {o.measure: o.value for o in a81001} == {
        "submissions": 157,
        "clinical": 133,
        "administrative": 24,
        "other": 0,
        "registered_patients": 3753,
        "participating": 1,
    }
    assert {(o.row, o.sheet, o.org_kind, o.period.start, o.period.end) for o in a81001} == {
        (13, "Table 2", "practice", feb, dt.date(2026, 2, 28))
    }
    england = nation(batch, feb)
    assert england["open_practices"] == 6208
    assert england["patients_open_practices"] == 63_794_229
    assert england["rate_per_1000"] == Decimal("137.1288823061356")
    # Table 1 months written as text with footnotes ('Feb-26 [10,11]') and as dates alike
    months = sorted({o.period.start for o in batch.observations if o.org_kind == "nation"})
    assert months[0] == dt.date(2024, 8, 1) and months[-1] == feb and len(months) == 19
    assert all(o.org_code == ENGLAND for o in batch.observations if o.org_kind == "nation")
    keys = Counter((o.org_code, o.measure, o.period) for o in batch.observations)
    assert max(keys.values()) == 1


@pytest.mark.england
def test_who_table_2_lists_is_said_in_plain_words():
    """April and May 2024 list only practices with submissions; from June 2024 every open
    practice is listed, zeros included."""
    april = parsed(OC / "oc_submissions_2024-04.xlsx")
    assert any("practices not listed had no system" in f for f in april.findings)
    assert all(p["submissions"] > 0 for p in practices(april).values())
    june = parsed(OC / "oc_submissions_2024-06.xlsx")
    assert any("lists every open practice" in f for f in june.findings)
    assert len(practices(june)) == nation(june, dt.date(2024, 6, 1))["open_practices"] == 6258
    # the participation flag suppressed ('*') from November 2024 to January 2025
    november = parsed(OC / "oc_submissions_2024-11.xlsx")
    assert any("suppressed the participation flag" in f for f in november.findings)
    assert not any("participating" in p for p in practices(november).values())


@pytest.mark.england
def test_recognised_by_content_not_by_name(tmp_path):
    copy = tmp_path / "download (3).xlsx"
    shutil.copy(OC / "oc_submissions_2024-05.xlsx", copy)
    names = workbook.sheet_names(copy)
    assert oc_submissions.sniff_sheets(names, copy)
    assert not telephony.sniff_sheets(names, copy)


def test_headings_months_and_footnotes():
    assert workbook.heading("PCN Code [2, 3]") == "PCN Code"
    assert workbook.heading("Submissions [7. 11]") == "Submissions"
    assert workbook.heading("GP Practice \n(ODS_CODE)") == "GP Practice (ODS_CODE)"
    assert workbook.heading("ICB Code  [2]") == "ICB Code"
    assert workbook.month_of("Feb-26 [10,11]") == dt.date(2026, 2, 1)
    assert workbook.month_of("Dec-24[8]") == dt.date(2024, 12, 1)
    assert workbook.month_of("Jun-25") == dt.date(2025, 6, 1)
    assert workbook.month_of(dt.datetime(2025, 9, 30)) == dt.date(2025, 9, 1)
    assert workbook.month_of("Source: NHS England") is None
    assert workbook.month_in_title("Table 2: Submissions ..., February 2026") == dt.date(2026, 2, 1)


# --- broken copies ---------------------------------------------------------------------------

SMALL = OC / "oc_submissions_2024-05.xlsx"


def broken(tmp_path: Path, edit) -> Path:
    book = load_workbook(SMALL)
    edit(book)
    out = tmp_path / "oc.xlsx"
    book.save(out)
    return out


def refused(path: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        oc_submissions.parse(path, "sha")
    return caught.value


@pytest.mark.england
def test_text_in_a_submissions_cell_is_located(tmp_path):
    def edit(book):
        book["Table 2"]["M20"] = "lots"

    error = refused(broken(tmp_path, edit))
    assert error.file.endswith("oc.xlsx [Table 2]")
    assert error.row == 20
    assert error.column == "Submissions (column M)"
    assert "'lots' where a count belongs" in str(error)


@pytest.mark.england
def test_a_negative_count_is_refused(tmp_path):
    def edit(book):
        book["Table 2"]["O25"] = -3

    error = refused(broken(tmp_path, edit))
    assert (error.row, error.column) == (25, "Administrative Submissions (column O)")
    assert "-3, which is not a count" in error.problem


@pytest.mark.england
def test_a_workbook_without_table_1_is_refused(tmp_path):
    def edit(book):
        del book["Table 1"]

    error = refused(broken(tmp_path, edit))
    assert "has no sheet 'Table 1'" in error.problem
    copy = tmp_path / "oc.xlsx"
    assert not oc_submissions.sniff_sheets(workbook.sheet_names(copy), copy)


@pytest.mark.england
def test_a_table_1_without_an_expected_row_is_refused_naming_it(tmp_path):
    def edit(book):
        sheet = book["Table 1"]
        row = next(c.row for c in sheet["B"] if c.value == "Administrative submissions")
        sheet.cell(row, 2).value = None

    error = refused(broken(tmp_path, edit))
    assert error.file.endswith("[Table 1]")
    assert "lacks the row 'Administrative submissions'" in error.problem


@pytest.mark.england
def test_a_gap_in_the_practice_rows_is_refused(tmp_path):
    """A blank row inside Table 2 would otherwise end the table early and lose practices."""

    def edit(book):
        sheet = book["Table 2"]
        for cell in sheet[100]:
            cell.value = None

    error = refused(broken(tmp_path, edit))
    assert error.row == 101 and "the table has a gap" in error.problem


@pytest.mark.england
def test_a_truncated_workbook_is_refused(tmp_path):
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(SMALL.read_bytes()[: SMALL.stat().st_size // 2])
    error = refused(cut)
    assert "looks truncated or damaged" in error.problem
    with pytest.raises(InputError, match="looks truncated or damaged"):
        workbook.sheet_names(cut)


# --- cells, without the published files ------------------------------------------------------


def sheet(*rows: tuple) -> workbook.Sheet:
    return workbook.Sheet(Path("oc.xlsx"), "Table 2", list(rows))


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("12a", "'12a' where a count belongs"),
        (True, "'True' where a count belongs"),
        (2.5, "2.5, which is not a count"),
        (-1, "-1, which is not a count"),
        (float("nan"), "nan, which is not a count"),
        (float("inf"), "inf, which is not a count"),
    ],
)
def test_a_count_cell_that_is_not_a_count_is_located(value, problem):
    with pytest.raises(InputError) as caught:
        workbook.count(sheet((None, None), ("A81001", value)), 2, 1, "Submissions")
    error = caught.value
    assert (error.file, error.row, error.column) == (
        "oc.xlsx [Table 2]",
        2,
        "Submissions (column B)",
    )
    assert problem in error.problem


def test_counts_are_exact_and_blank_is_not_zero():
    cells = sheet(("A81001", 157, 3.0, None, "  "))
    assert workbook.count(cells, 1, 1, "x") == Decimal(157)
    assert workbook.count(cells, 1, 2, "x") == Decimal(3)
    assert workbook.count(cells, 1, 3, "x") is None
    assert workbook.count(cells, 1, 4, "x") is None
    assert workbook.number(sheet((137.1288823061356,)), 1, 0, "rate") == Decimal(
        "137.1288823061356"
    )


def test_a_month_named_twice_in_a_header_is_refused():
    header = sheet((None, None, "Feb-26 [10,11]", dt.datetime(2026, 1, 1), "Jan-26 [9]"))
    with pytest.raises(InputError, match="names January 2026 twice") as caught:
        workbook.month_columns(header, 1, 2)
    assert caught.value.column == "column E"
    with pytest.raises(InputError, match="'Total' where a month belongs"):
        workbook.month_columns(sheet((None, None, "Feb-26", "Total")), 1, 2)


def test_a_table_is_found_by_its_title_below_return_to_contents():
    cells = sheet((), ("Return to Contents",), ("_",), ("Table 2: Submissions ..., May 2024",))
    assert cells.find_title("Table 2") == 4
    with pytest.raises(InputError, match="no title row starting 'Table 3:'"):
        cells.find_title("Table 3")


@pytest.mark.england
def test_a_supplier_that_did_not_report_leaves_its_practices_unknown_not_zero():
    """December 2024: NHS England received no eConsult data; every eConsult-only practice shows 0
    in Table 2. Those zeros are not figures: the practices keep their registered patients but
    have no submissions recorded, and a finding names the supplier."""
    batch = parsed(OC / "oc_submissions_2024-12.xlsx")
    rows = practices(batch)
    silent = [p for p in rows.values() if "submissions" not in p]
    assert len(silent) >= 1321  # the 1,321 eConsult-only practices (and smaller suppliers')
    assert all("registered_patients" in p for p in silent)
    assert any(f.startswith("ECONSULT HEALTH LIMITED: 1321 practices") for f in batch.findings)
    # a practice with no known system ("None/Unknown") is a true zero: it has no access
    assert sum(1 for p in rows.values() if p.get("submissions") == 0) > 0
