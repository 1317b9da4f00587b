"""Build the BHR demo extract shipped in src/pcnkit/data/demo from ../shared/data.

Each output keeps its source's exact format (header, delimiter, encoding, BOM, sheet layout),
cut down to Barking & Dagenham, Havering and Redbridge (CCGs 07L, 08F, 08N), so the demo loads
through the same importers as the national files. Registry files go to the top level; the
assurance publications to `assurance/`, which only the assurance load reads (workbooks keep
every sheet, England's tables whole and their practice tables cut to BHR's practices).

    .venv/bin/python scripts/build_demo_extract.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import copy
import csv
import datetime as dt
import io
import re
import shutil
from pathlib import Path

from openpyxl import Workbook, load_workbook

REPO = Path(__file__).resolve().parent.parent
BHR_CCGS = {"07L", "08F", "08N"}
NEL_CCG = "A3A8R"  # North East London CCG (April 2021), then sub-ICB location


def read(path: Path) -> tuple[str, str]:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            raw.decode(enc)
            return raw.decode("utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else enc), enc
        except UnicodeDecodeError:
            continue
    raise AssertionError


def write_csv(src: Path, dst: Path, keep, delimiter=",", header=True) -> int:
    raw = src.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text, enc = read(src)
    newline = "\r\n" if "\r\n" in text[:2000] else "\n"
    lines = text.splitlines()
    out = [lines[0]] if header else []
    body = lines[1:] if header else lines
    cols = next(csv.reader(io.StringIO(lines[0]), delimiter=delimiter)) if header else None
    kept = 0
    for line in body:
        row = next(csv.reader(io.StringIO(line), delimiter=delimiter), [])
        record = dict(zip(cols, row, strict=False)) if cols else row
        if row and keep(record):
            out.append(line)
            kept += 1
    data = newline.join(out) + newline
    encoded = data.encode("utf-8" if enc == "utf-8-sig" else enc)
    dst.write_bytes((b"\xef\xbb\xbf" if bom else b"") + encoded)
    return kept


def write_epcn(src: Path, dst: Path, pcns: set[str], practices: set[str]) -> int:
    wb = load_workbook(src)
    partner_sheet = wb.worksheets[1]
    pcns = pcns | {r[4] for r in partner_sheet.iter_rows(values_only=True) if r[0] in practices}
    out = Workbook()
    out.remove(out.active)
    kept = 0
    for ws in wb.worksheets:
        target = out.create_sheet(ws.title)
        for i, row in enumerate(ws.iter_rows(values_only=True)):
            if i == 0 or row[0] in pcns or (row[0] in practices or row[4] in pcns):
                if (
                    i
                    and "Partner" in ws.title
                    and isinstance(row[5], str)
                    and row[5].startswith("=")
                ):
                    r = target.max_row + 1  # keep the VLOOKUP formula, pointing at its new row
                    row = (
                        *row[:5],
                        f"=VLOOKUP(E{r},'{wb.worksheets[0].title}'!A:B,2,FALSE)",
                        *row[6:10],
                        f"=G{r}=C{r}" if isinstance(row[10], str) else row[10],
                    )
                target.append(list(row))
                kept += 1
    out.save(dst)
    return kept


PRACTICE_CODE = re.compile(r"[A-Z][0-9]{5}$")
# header of a practice table: its code column ("GP Code" in online consultation Table 2,
# "GP Practice \n(ODS_CODE)" in telephony Tables 3 to 5)
CODE_HEADERS = ("GP Code", "GP Practice")


def cut_practice_sheet(ws, practices: set[str]) -> tuple[int, int]:
    """Drop, in place, the rows of practices outside the demo from a practice table, keeping
    every other row (titles, "Return to Contents", header rows, the Total/National row, notes)
    with its values and styles; (rows kept, rows dropped)."""
    code_col = header_row = None
    for row in ws.iter_rows(max_row=min(ws.max_row, 40)):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(CODE_HEADERS):
                code_col, header_row = cell.column, cell.row
                break
        if code_col:
            break
    if code_col is None:
        raise SystemExit(f"{ws.parent} {ws.title}: no practice code header")
    width = ws.max_column
    write = header_row + 1
    kept = dropped = 0
    for r in range(header_row + 1, ws.max_row + 1):
        code = ws.cell(r, code_col).value
        # a data row: a month in column A, or a practice code (one telephony row has the
        # copyright line over its month); "Unassigned" call rows are not a practice's
        is_data = isinstance(ws.cell(r, 1).value, dt.datetime) or (
            isinstance(code, str) and PRACTICE_CODE.match(code.strip())
        )
        if is_data and not (isinstance(code, str) and code.strip() in practices):
            dropped += 1
            continue
        kept += bool(is_data)
        if write != r:
            for c in range(1, width + 1):
                src, dst = ws.cell(r, c), ws.cell(write, c)
                dst.value = src.value
                dst._style = copy.copy(src._style)
            if r in ws.row_dimensions:
                ws.row_dimensions[write].height = ws.row_dimensions[r].height
        write += 1
    if write <= ws.max_row:
        ws.delete_rows(write, ws.max_row - write + 1)
    clear_blank_rows(ws)
    return kept, dropped


def clear_blank_rows(ws) -> None:
    """Drop the formatting of rows that hold no value (thousands of them in the national
    workbooks, between a table and its notes), leaving every value where it was."""
    rows_with_values = {c.row for c in ws._cells.values() if c.value is not None}
    for key in [k for k in ws._cells if k[0] not in rows_with_values]:
        del ws._cells[key]
    for row in [r for r in ws.row_dimensions if r not in rows_with_values]:
        del ws.row_dimensions[row]


def restore_merged_values(wb, src: Path) -> None:
    """Put back the values openpyxl drops from inside merged cells (the telephony title sheets
    hold their licence text there), unmerging the range that hid them."""
    source = load_workbook(src, read_only=True)
    for ws in wb.worksheets:
        for row in source[ws.title].iter_rows():
            for cell in row:
                value = getattr(cell, "value", None)
                if value in (None, "") or ws.cell(cell.row, cell.column).value is not None:
                    continue
                for merged in list(ws.merged_cells.ranges):
                    if (cell.row, cell.column) in merged.cells:
                        ws.unmerge_cells(merged.coord)
                ws.cell(cell.row, cell.column).value = value
    source.close()


def write_workbook(
    src: Path, dst: Path, practice_sheets: tuple[str, ...], national: tuple[str, ...], practices
) -> str:
    """The workbook with its practice tables cut to the demo's practices; every other sheet
    (England Table 1, the national tables) keeps every value in its cell, the national tables
    losing only the formatting of their empty rows."""
    wb = load_workbook(src)
    restore_merged_values(wb, src)
    counts = []
    for name in practice_sheets:
        if name in wb.sheetnames:
            kept, dropped = cut_practice_sheet(wb[name], practices)
            counts.append(f"{name}: {kept} kept, {dropped} dropped")
    for name in national:
        if name in wb.sheetnames:
            clear_blank_rows(wb[name])
    wb.save(dst)
    return "; ".join(counts)


def assurance(d: Path, out: Path, practices: set[str], pcns: set[str]) -> dict[str, object]:
    """The assurance publications, in `out` (a subfolder the registry load never reads)."""
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, object] = {}
    in_bhr = lambda code: code in practices  # noqa: E731
    for src in sorted((d / "access" / "online_consultation").glob("oc_submissions_*.xlsx")):
        report[src.name] = write_workbook(
            src, out / src.name, ("Table 2",), ("Table 3",), practices
        )
    for src in sorted((d / "access" / "telephony").glob("cloud_telephony_*.xlsx")):
        sheets = ("Table 3", "Table 4", "Table 5")
        report[src.name] = write_workbook(src, out / src.name, sheets, ("Table 2",), practices)
    cqc = d / "cqc" / "cqc_ratings_practice_2016-2024_heec.csv"
    shutil.copyfile(cqc, out / cqc.name)  # whole: England is the comparison
    report[cqc.name] = "all England"
    report["practice workforce"] = write_csv(
        d / "workforce" / "practice_workforce_fte_by_year_heec.csv",
        out / "practice_workforce_fte_by_year_heec.csv",
        lambda r: in_bhr(r["Practice.Code"]),
    )
    # March 2020 (188 PCNs in England) has no BHR PCN: left out rather than shipped empty
    for month in ("2022-09",):
        name = f"pcn_workforce_individual_{month}.csv"
        report[name] = write_csv(
            d / "workforce" / name, out / name, lambda r: r["PCN_CODE"] in pcns
        )
    report["qof cvd"] = write_csv(
        d / "qof" / "heec_qof_cvd_achievement_prevalence_practice.csv",
        out / "heec_qof_cvd_achievement_prevalence_practice.csv",
        lambda r: in_bhr(r["Practice.Code"]),
    )
    report["pcn data matrix"] = write_csv(
        d / "pcn" / "pcn_data_matrix_2023_blackwellrd.csv",
        out / "pcn_data_matrix_2023_blackwellrd.csv",
        lambda r: r["PCN_CODE"] in pcns,
    )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "src" / "pcnkit" / "data" / "demo")
    args = parser.parse_args()
    d, out = args.data, args.out
    out.mkdir(parents=True, exist_ok=True)

    epraccur = d / "ods" / "epraccur_2019-11.csv"
    text, _ = read(epraccur)
    practices = {r[0] for r in csv.reader(io.StringIO(text)) if r[14] in BHR_CCGS and r[25] == "4"}
    pcns: set[str] = set()
    wb = load_workbook(d / "pcn" / "ePCN_2019-12_psychty.xlsx", read_only=True)
    for row in wb.worksheets[0].iter_rows(values_only=True):
        if row[2] in BHR_CCGS:
            pcns.add(row[0])
    for row in wb.worksheets[1].iter_rows(values_only=True):
        if row[4] in pcns:
            practices.add(row[0])
    wb = load_workbook(d / "pcn" / "ePCN_2022-05_psychty.xlsx", read_only=True)
    for row in wb.worksheets[1].iter_rows(values_only=True):
        if row[4] in pcns:
            practices.add(row[0])
    gpad = d / "pcn" / "gpad_practice_mapping_2025-08.csv"
    for row in csv.DictReader(io.StringIO(read(gpad)[0])):
        if row["PCN_CODE"] in pcns:
            practices.add(row["GP_CODE"])

    in_bhr = lambda code: code in practices  # noqa: E731
    report = {}
    report["epraccur"] = write_csv(
        epraccur, out / "epraccur_2019-11.csv", lambda r: in_bhr(r[0]), header=False
    )
    for name in ("ePCN_2019-12_psychty.xlsx", "ePCN_2022-05_psychty.xlsx"):
        report[name] = write_epcn(d / "pcn" / name, out / name, pcns, practices)
    report["qof 1920"] = write_csv(
        d / "qof" / "MAPPING_NHS_GEOGRAPHIES_1920.csv",
        out / "MAPPING_NHS_GEOGRAPHIES_1920.csv",
        lambda r: in_bhr(r["PRACTICE_CODE"]),
    )
    for year in ("18-19", "19-20", "20-21", "21-22", "22-23"):
        report[year] = write_csv(
            d / "payments" / f"nhs_payments_gp_{year}.csv",
            out / f"nhs_payments_gp_{year}.csv",
            lambda r: in_bhr(r["Practice Code"]),
        )
    for month in ("2021-01", "2022-05", "2025-10", "2025-11", "2025-12", "2026-01", "2026-03"):
        report[month] = write_csv(
            d / "list_sizes" / f"gp-reg-pat-prac-all_{month}.csv",
            out / f"gp-reg-pat-prac-all_{month}.csv",
            lambda r: in_bhr(r["CODE"]),
        )
    for name in ("PREVALENCE_1819_v2.csv", "PREVALENCE_1920.csv", "PREVALENCE_2021_v2.csv"):
        report[name] = write_csv(d / "qof" / name, out / name, lambda r: in_bhr(r["PRACTICE_CODE"]))
    report["gpad"] = write_csv(
        gpad, out / "gpad_practice_mapping_2025-08.csv", lambda r: in_bhr(r["GP_CODE"])
    )
    report["ccg-icb"] = write_csv(
        d / "lookups" / "ccg_to_icb_2022_heec.csv",
        out / "ccg_to_icb_2022_heec.csv",
        lambda r: r["CCG Code"] in BHR_CCGS | {NEL_CCG},
    )
    report["coords"] = write_csv(
        d / "coords" / "nhs_choices_GP_2014-02.csv",
        out / "nhs_choices_GP_2014-02.csv",
        lambda r: in_bhr(r.get("OrganisationCode", "")),
        delimiter="¬",
    )
    # The PCNs of the demo's practices at every date the extract covers (2019 codes, and any
    # later PCN they joined), for the PCN-level assurance files.
    later_pcns = set(pcns)
    for row in (
        load_workbook(d / "pcn" / "ePCN_2022-05_psychty.xlsx", read_only=True)
        .worksheets[1]
        .iter_rows(values_only=True)
    ):
        if row[0] in practices:
            later_pcns.add(row[4])
    for row in csv.DictReader(io.StringIO(read(gpad)[0])):
        if row["GP_CODE"] in practices:
            later_pcns.add(row["PCN_CODE"])
    later_pcns.discard("U")  # "U": no PCN (unallocated practices), not one of BHR's
    report.update(assurance(d, out / "assurance", practices, later_pcns))
    for name, rows in report.items():
        print(f"{name:40} {rows}")
    print(f"{len(practices)} practices, {len(pcns)} PCNs ({len(later_pcns)} at any date) -> {out}")


if __name__ == "__main__":
    main()
