"""Writing funding tables as CSV, JSON or Excel (money formatted as money in the workbook)."""

from __future__ import annotations

import csv
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import IO

from openpyxl import Workbook
from openpyxl.styles import Font

MONEY_FORMAT = '"£"#,##0.00'

# Columns of the funding tables, shared by the CLI and the web application.
ENTITLEMENT_COLUMNS = [
    "pcn_code",
    "pcn_name",
    "payee_code",
    "practice_code",
    "stream",
    "basis",
    "population",
    "rate",
    "rate_period",
    "months",
    "first_month",
    "last_month",
    "amount",
    "rule_id",
    "rule_version",
    "confirmed",
    "status",
    "formula",
    "inputs",
    "source",
    "note",
    "official_rate",
    "official_amount",
    "difference",
]
PAYMENT_COLUMNS = [
    "payment_month",
    "payee_code",
    "pcn_code",
    "practice_code",
    "stream",
    "service_months",
    "amount",
    "rule_id",
    "confirmed",
]
ARRS_COLUMNS = [
    "pcn_code",
    "name",
    "role",
    "wte",
    "start",
    "end",
    "planned",
    "months",
    "annual_cost",
    "reimbursement_rate",
    "max_per_wte",
    "claimable",
    "capped",
    "wte_limited",
    "budget_cut",
    "rule_id",
    "confirmed",
    "formula",
    "note",
]
RECONCILE_COLUMNS = ["pcn_code", "payee_code", "stream", "entitlement", "paid", "outstanding"]
MONEY = {"amount", "official_amount", "difference"}
MONEY_COLUMNS = {"published", "calculated", "difference", "entitlement", "paid", "outstanding"}


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    return value


def write_csv(rows: list[dict], columns: list[str], out: IO[str] = sys.stdout) -> None:
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _plain(row.get(k)) for k in columns})


def write_json(payload: object, out: IO[str] = sys.stdout) -> None:
    json.dump(
        payload,
        out,
        indent=2,
        default=lambda v: (
            str(v)
            if isinstance(v, Decimal)
            else v.isoformat()
            if hasattr(v, "isoformat")
            else str(v)
        ),
    )
    out.write("\n")


def write_xlsx(
    path: Path, sheets: dict[str, tuple[list[dict], list[str]]], money: set[str]
) -> None:
    """One sheet per table; money columns are numbers with a £ format, so sums work."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, (rows, columns) in sheets.items():
        ws = workbook.create_sheet(title[:31])
        ws.append(columns)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([_cell(row.get(c)) for c in columns])
        for index, column in enumerate(columns, start=1):
            letter = ws.cell(row=1, column=index).column_letter
            width = max([len(column)] + [len(str(row.get(column, ""))) for row in rows[:200]])
            ws.column_dimensions[letter].width = min(60, width + 2)
            if column in money:
                for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = MONEY_FORMAT
        ws.freeze_panes = "A2"
    workbook.save(path)


def _cell(value):
    if isinstance(value, Decimal):
        return float(value)  # for display; the exact figures are in the CSV and JSON exports
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
