"""Writing funding tables as CSV, JSON or Excel (money formatted as money in the workbook)."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import IO

from pcnkit import spreadsheet

# Columns of the funding tables, shared by the CLI and the web application.
ENTITLEMENT_COLUMNS = [
    "pcn_code",
    "pcn_name",
    "payee_code",
    "payee_name",
    "practice_code",
    "practice_name",
    "stream",
    "stream_name",
    "basis",
    "population",
    "rate",
    "rate_period",
    "months",
    "first_month",
    "last_month",
    "amount",
    "missing",
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
    "payee_name",
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
RECONCILE_COLUMNS = [
    "as_at",
    "pcn_code",
    "payee_code",
    "payee_name",
    "practice_code",
    "stream",
    "stream_name",
    "entitlement",
    "due",
    "paid",
    "outstanding",
    "behind",
    "missing",
]
MONEY = {"amount", "official_amount", "difference"}
MONEY_COLUMNS = {
    "published",
    "calculated",
    "difference",
    "entitlement",
    "due",
    "paid",
    "outstanding",
    "behind",
}


def write_csv(rows: list[dict], columns: list[str], out: IO[str] = sys.stdout) -> None:
    """Rows as CSV through `pcnkit.spreadsheet` (text that could run as a formula is
    neutralised; money stays an exact decimal)."""
    spreadsheet.write_csv(out, columns, rows)


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
    path: Path | IO[bytes],
    sheets: dict[str, tuple[list[dict], list[str]]],
    money: set[str],
    cover: list[tuple[str, object]] | None = None,
    totals: set[str] | None = None,
) -> None:
    """One sheet per table, after an optional cover sheet; money columns are numbers with a £
    format, so sums work; sheets in `totals` end with a totals row."""
    spreadsheet.write_workbook(path, sheets, money, cover, totals)
