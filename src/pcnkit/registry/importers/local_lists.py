"""A user's own list sizes: `practice_code, as_of, registered[, weighted][, adjusted]`.

The way in for figures no national file carries at the date needed, such as the 1 January list
the Network Contract DES uses or an ICB's adjusted population. Practices must already be known.
"""

from __future__ import annotations

from pathlib import Path

from pcnkit.errors import InputError
from pcnkit.registry.importers.base import Batch, ListBasis, ListRecord, csv_rows, duplicate
from pcnkit.registry.plausible import PRACTICE_LISTS
from pcnkit.store.models import LIST_MEASURES

file_type = "list-sizes"
description = "list sizes (practice_code, as_of, registered, weighted, adjusted)"
# what its list figures are (see importers.list_basis)
list_basis = ListBasis(False, "as given (registered lists in whole patients)")


def sniff(text: str, header: list[str]) -> bool:
    names = {h.lower() for h in header}
    return {"practice_code", "as_of"} <= names and bool(names & set(LIST_MEASURES))


def parse(path: Path, text: str, sha: str) -> Batch:
    header, rows = csv_rows(path, text, exact=True)
    columns = {h.lower(): h for h in header}
    batch: Batch | None = None
    first_row: dict[tuple[str, object], int] = {}
    for r in rows:
        code = r.code(columns["practice_code"], "a practice code")
        as_of = r.date(columns["as_of"])
        if as_of is None:
            raise r.error(columns["as_of"], "is blank", "Give the date the list is as at.")
        if batch is None:
            batch = Batch(str(path), file_type, description, sha, as_of, "local")
        batch.extract_date = max(batch.extract_date, as_of)
        batch.rows += 1
        if (code, as_of) in first_row:
            raise duplicate(batch.file, code, r.number, first_row[(code, as_of)], "practice_code")
        first_row[(code, as_of)] = r.number
        for measure in LIST_MEASURES:
            if measure in columns:
                value = r.count(columns[measure], PRACTICE_LISTS[measure])
                if value is not None:
                    batch.list_sizes.append(ListRecord(code, measure, as_of, value, r.number))
    if batch is None or not batch.list_sizes:
        raise InputError(str(path), "holds no list sizes", "Fill in at least one measure.")
    return batch
