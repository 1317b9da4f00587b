"""A payment: one amount paid to a payee in a payment month, for some service months of one
stream. Entitlement schedules (`schedule`) and ARRS claims (`arrs.schedule`, whose stream is the
staff role claimed for) both produce it, so a month's payments read the same whatever earned
them. What the ledger records is a `ledger.LedgerLine`: a payment as written, with its kind
(payment, restatement, correction) and reason."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import Decimal


@dataclass
class Payment:
    year: str
    payment_month: dt.date
    payee_code: str
    pcn_code: str
    practice_code: str | None
    stream: str  # an entitlement stream, or the ARRS role claimed for
    service_months: list[dt.date] = field(default_factory=list)
    amount: Decimal = Decimal(0)
    rule_id: str = ""
    confirmed: bool = True
    payee_name: str = ""

    def as_row(self) -> dict:
        row = asdict(self)
        row["payment_month"] = self.payment_month.strftime("%Y-%m")
        row["service_months"] = (
            f"{self.service_months[0]:%Y-%m}..{self.service_months[-1]:%Y-%m}"
            if len(self.service_months) > 1
            else f"{self.service_months[0]:%Y-%m}"
        )
        return row
