"""What an assurance importer returns: dated figures about organisations, each with its row.

An observation is one figure a publication gives for one organisation over one period (a
practice's clinical online consultation submissions in February 2026, its GP FTE in September
2023, its latest CQC rating as at April 2024). Importers only parse and validate; they return an
`ObservationBatch` (plain data) and never touch the database, so a bad file is refused before
anything is written. Indicators are computed from observations later (`assurance.values`); no
importer derives a rate.

Conventions every importer follows:
- `org_code` is the code the file gives (practice or PCN ODS code); `org_kind` says which kind it
  is ("practice", "pcn" or "nation"). England-wide rows a publication prints (Table 1 series, a
  "National" total row) are kept with `org_kind="nation"` and `org_code=ENGLAND`.
- `period` is a `dates.Period` with both ends inside it: a calendar month for monthly
  publications, a single day for a snapshot (a census date, a rating in force on a date).
- `measure` is a short snake_case name from the importer's own `MEASURES` mapping (measure ->
  plain words); `value` is a Decimal (counts exact, proportions as fractions 0-1 never percents
  unless the measure name ends in `_pct`), `label` holds a category (a CQC rating) instead.
- `row` is the 1-based row in the file (or sheet) the figure was read from; `sheet` names the
  sheet of a workbook.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from pcnkit.dates import Period

# The code England's own rows are stored under (NHS England's published national figures).
ENGLAND = "ENG"


@dataclass(frozen=True)
class ObservationRecord:
    org_code: str
    org_kind: str
    measure: str
    period: Period
    value: Decimal | None
    label: str | None = None
    row: int | None = None
    sheet: str | None = None


@dataclass
class ObservationBatch:
    """Everything one file says, validated, ready to be stored in one transaction.

    `dataset` names the publication family (e.g. "oc-submissions"); a file re-publishing earlier
    months (each OC workbook's Table 1) keeps its own figures: the newest publication is used by
    default and the others stay traceable. `extract_date` is the date the publication describes
    (its latest month's first day, or its census date)."""

    file: str
    file_type: str
    dataset: str
    description: str
    sha256: str
    extract_date: dt.date
    publisher: str
    rows: int = 0
    observations: list[ObservationRecord] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)

    def add(self, record: ObservationRecord) -> None:
        self.observations.append(record)
