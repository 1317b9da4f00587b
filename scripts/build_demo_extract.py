"""Build the BHR demo extract shipped in src/pcnkit/data/demo from ../shared/data.

Each output keeps its source's exact format (header, delimiter, encoding, BOM, sheet layout),
cut down to Barking & Dagenham, Havering and Redbridge (CCGs 07L, 08F, 08N), so the demo loads
through the same importers as the national files.

    .venv/bin/python scripts/build_demo_extract.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import io
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
    for month in ("2021-01", "2022-05"):
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
    for name, rows in report.items():
        print(f"{name:32} {rows:5} rows")
    print(f"{len(practices)} practices, {len(pcns)} PCNs -> {out}")


if __name__ == "__main__":
    main()
