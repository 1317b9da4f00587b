"""Where a figure came from, kept as data from the importer to the page.

A figure's provenance — the file or publication (by the title a reader can look up), the row or
rows it was read from, the date it describes and, for a derived figure, the version of the
definition that made it — travels as a :class:`Provenance` value and is turned into words only
where it is shown (:meth:`Provenance.cite`), so no caller has to take a sentence apart again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Provenance:
    title: str  # the publication or file, as a reader can find it
    row: int | None = None  # the (first) row of the file the figure was read from
    last_row: int | None = None  # the last row, when the figure sums a range of rows
    as_of: dt.date | None = None  # the date the figure describes
    version: str | None = None  # the version of the definition that derived the figure

    @property
    def rows(self) -> str:
        """'row 12', 'rows 12-40' or '' when no row is known."""
        if self.row is None:
            return ""
        if self.last_row is not None and self.last_row != self.row:
            return f"rows {self.row}-{self.last_row}"
        return f"row {self.row}"

    def cite(self) -> str:
        """The provenance in words: 'NHS Payments to General Practice 2019/20, row 12'."""
        parts = [self.title]
        if self.rows:
            parts.append(self.rows)
        if self.version:
            parts.append(f"definition version {self.version}")
        return ", ".join(parts)

    def __str__(self) -> str:
        return self.cite()
