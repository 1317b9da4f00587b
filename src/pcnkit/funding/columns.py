"""The PCN columns of NHS Digital's "NHS Payments to General Practice", and which Network
Contract DES streams each pays, year by year (`payments_columns.yaml`): the one place pcnkit
says how a published payment maps to the engine's entitlements and which columns reveal the
nominated payee. Data, not code, so a corrected reading is a change to the file and its note.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from pcnkit.dates import financial_year_start, year_label
from pcnkit.errors import InputError
from pcnkit.yamlfile import Fields, read_yaml

KINDS = ("entitlement", "arrs", "iif", "incomplete")
LEVELS = ("network", "practice")
KIND_WORDS = {
    "entitlement": "Compared with the engine's entitlement",
    "arrs": "ARRS reimbursement, set against the ARRS budget under ARRS utilisation rather "
    "than an entitlement",
    "iif": "Investment and Impact Fund achievement, which pcnkit does not calculate",
    "incomplete": "The payments file does not hold this column's months for most PCNs",
}


@dataclass(frozen=True)
class PaymentColumn:
    year: str
    column: str
    kind: str
    level: str
    streams: tuple[str, ...]
    note: str = ""
    source: str = ""
    status: str = ""
    # first and last month the column holds, when the file holds less than the whole year
    paid_months: tuple[dt.date, dt.date] | None = None

    @property
    def network(self) -> bool:
        """Paid to the PCN's nominated payee, so the practice receiving it is the payee."""
        return self.level == "network"


def mapping_file() -> Path:
    return Path(str(resources.files("pcnkit") / "funding" / "payments_columns.yaml"))


@cache
def all_columns() -> dict[str, tuple[PaymentColumn, ...]]:
    """Every year's columns, keyed by contract year label ("2020/21")."""
    return parse(mapping_file())


def parse(path: Path) -> dict[str, tuple[PaymentColumn, ...]]:
    name = str(path)
    doc = read_yaml(path)
    top = Fields(name, doc, "mapping")
    if top.get("pcnkit") != "payments-columns":
        raise InputError(name, "does not start with 'pcnkit: payments-columns'", "Add it.", row=1)
    years = top.get("years")
    if not isinstance(years, dict):
        raise top.fail("years", "is not a mapping of year to columns")
    out: dict[str, tuple[PaymentColumn, ...]] = {}
    for year, entries in years.items():
        try:
            label = year_label(financial_year_start(str(year)))
        except ValueError as exc:
            raise top.fail("years", f"'{year}' is not a contract year like 2020/21") from exc
        cols = []
        for i, data in enumerate(entries or []):
            f = Fields(name, data, f"years.{year}[{i}]")
            streams = f.get("streams", [])
            if not isinstance(streams, list):
                raise f.fail("streams", "is not a list of stream ids")
            cols.append(
                PaymentColumn(
                    label,
                    str(f.get("column")),
                    f.choice("kind", KINDS),
                    f.choice("level", LEVELS),
                    tuple(str(s) for s in streams),
                    str(f.get("note", "")),
                    str(f.get("source", "")),
                    str(f.get("status", "")),
                    _paid_months(f, label),
                )
            )
        out[label] = tuple(cols)
    return out


def _paid_months(f: Fields, label: str) -> tuple[dt.date, dt.date] | None:
    """`paid_months: {from: YYYY-MM, to: YYYY-MM}`, inside the contract year."""
    data = f.get("paid_months", None)
    if data is None:
        return None
    start = financial_year_start(label)
    try:
        first, last = (dt.date.fromisoformat(f"{data[k]}-01") for k in ("from", "to"))
    except (KeyError, TypeError, ValueError) as exc:
        raise f.fail("paid_months", "must be {from: YYYY-MM, to: YYYY-MM}") from exc
    if not (start <= first <= last <= dt.date(start.year + 1, 3, 1)):
        raise f.fail("paid_months", f"months fall outside {label}")
    return first, last


def columns_for(year: str) -> tuple[PaymentColumn, ...]:
    """The year's PCN columns; none for a year the files do not cover."""
    return all_columns().get(year, ())


def payee_headings(year: str) -> set[str]:
    """The columns whose receiving practice is the PCN's nominated payee: network-level
    entitlements. Not ARRS reimbursement (it may go to the practice employing the staff) nor the
    IIF: a practice receiving only those is not thereby the payee."""
    return {c.column for c in columns_for(year) if c.network and c.kind not in ("arrs", "iif")}


def column(year: str, name: str) -> PaymentColumn | None:
    return next((c for c in columns_for(year) if c.column == name), None)
