"""Writing funding tables as CSV, JSON or Excel (money formatted as money in the workbook)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import IO

from pcnkit import spreadsheet
from pcnkit.funding.entitlements import Total
from pcnkit.funding.rules import STATUS_WORDS, YearRules
from pcnkit.funding.sources import public

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


def rules_title(rules: YearRules) -> str:
    """The rules by name, for people (not the rules file's name)."""
    title = f"Network Contract DES {rules.year} rules, version {rules.version}"
    return title + (f", scenario '{rules.scenario}'" if rules.scenario else "")


def cover(
    organisation: str,
    rules: YearRules,
    as_of: dt.date,
    total: Total,
    unconfirmed: list[tuple[str, str]],
    streams: set[str],
) -> list[tuple[str, object]]:
    """A workbook's first sheet: whose figures, for which year, as at when, on what rules and
    sources; a warning naming every figure that is not confirmed, and what the totals leave
    out. `unconfirmed` is (stream name, status) pairs; `streams` the stream ids shown."""
    rows: list[tuple[str, object]] = [
        ("Organisation", organisation),
        ("Contract year", rules.year),
        ("Figures as at", as_of),
        ("Rules", rules_title(rules)),
        *([("Rules review", rules.review.text())] if rules.review else []),
        ("Lists as at", rules.list_reference_date),
        ("Total entitlement", total.amount if total.amount is not None else "cannot be calculated"),
    ]
    if unconfirmed:
        rows.append(
            (
                "WARNING: figures not confirmed",
                "These streams use rates or rules that could not be confirmed: "
                + "; ".join(f"{name} ({STATUS_WORDS[status]})" for name, status in unconfirmed)
                + ". Check them before relying on them.",
            )
        )
    else:
        rows.append(("Confirmation", "Every stream's rate is confirmed by its sources."))
    if total.gaps:
        rows.append(
            (
                "INCOMPLETE",
                "The totals leave out what cannot be calculated: " + "; ".join(total.gaps) + ".",
            )
        )
    sources = sorted({public(s.source) for sid, s in rules.streams.items() if sid in streams})
    rows.append(("Sources", "; ".join(sources) or "–"))
    rows.append(
        ("Made by", "pcnkit. Money columns are numbers; the exact figures are in the CSV files.")
    )
    return rows
