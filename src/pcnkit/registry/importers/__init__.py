"""Importers for NHS registry files: recognise each file's type from its content and parse it.

`parse_file` returns a validated Batch; `registry.actions.apply_batches` writes batches to the
database in one transaction. Order matters only in that coordinates attach to known practices,
so `TYPE_ORDER` applies organisation-defining files first.
"""

from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pcnkit.bulk import bulk
from pcnkit.errors import InputError
from pcnkit.registry.importers import (
    ccg_icb,
    definitions,
    epcn,
    epraccur,
    gp_reg,
    gpad_mapping,
    local_lists,
    nhs_choices,
    payments,
    qof_geography,
    qof_prevalence,
)
from pcnkit.registry.importers.base import Batch, ListBasis, decode, readable, sha256_of

TEXT_IMPORTERS = [
    epraccur,
    gp_reg,
    payments,
    qof_geography,
    gpad_mapping,
    ccg_icb,
    nhs_choices,
    definitions,
    local_lists,
    qof_prevalence,
]
TYPES = {m.file_type: m.description for m in [*TEXT_IMPORTERS, epcn]}
TYPE_ORDER = [
    "epraccur",
    "epcn",
    "qof-geographies",
    "nhs-payments",
    "gp-reg-pat-prac-all",
    "qof-prevalence",
    "gpad-practice-mapping",
    "ccg-icb-lookup",
    "definitions",
    "list-sizes",
    "nhs-choices-coordinates",
]

# Files that are not registry files but are common enough to name when one is given by mistake.
LOOKALIKES = [
    ({"AGE_GROUP_5", "NUMBER_OF_PATIENTS"}, "gp-reg-pat-prac-quin-age (list sizes by age band)"),
    ({"PRACTICE_CODE", "CCG_ODS_CODE"}, "a QOF organisation reference (pre-PCN)"),
    ({"Indicator ID", "Area Code"}, "an OHID Fingertips indicator file"),
]


def list_basis(file_type: str) -> ListBasis | None:
    """What a source's list figures are: a count on a date, or (NHS Payments) an average over a
    quarter, which is why those are often fractional. Read from the stored source's file type."""
    module = next((m for m in TEXT_IMPORTERS if m.file_type == file_type), None)
    return getattr(module, "list_basis", None)


@dataclass
class Sniffed:
    path: Path
    file_type: str | None
    looks_like: str
    text: str | None = None
    # set when a file in a folder could not even be recognised because it is damaged
    error: InputError | None = None


def _header(text: str) -> list[str]:
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = "¬" if "¬" in first else ","
    try:
        return [h.strip() for h in next(csv.reader([first], delimiter=delimiter), [])]
    except csv.Error:
        return [h.strip().strip('"') for h in first.split(delimiter)]


def sniff(path: Path) -> Sniffed:
    """Recognise a file's type from its content alone."""
    if zipfile.is_zipfile(path):
        names = epcn.sheet_names(path)
        if epcn.sniff_sheets(names):
            return Sniffed(path, epcn.file_type, epcn.description)
        return Sniffed(path, None, f"an Excel workbook with sheets {names}")
    raw = path.read_bytes()
    if raw[:4] == b"%PDF":
        return Sniffed(path, None, "a PDF document")
    if raw[:4] == b"PK\x03\x04":  # a zip (xlsx) that zipfile cannot open: cut short or damaged
        raise InputError(
            str(path),
            "starts like an Excel workbook (a zip archive) but cannot be opened as one, so it "
            "looks truncated or damaged",
            "Re-download the file.",
        )
    text = decode(path, raw)
    header = _header(text)
    for module in TEXT_IMPORTERS:
        if module.sniff(text, header):
            return Sniffed(path, module.file_type, module.description, text)
    for columns, label in LOOKALIKES:
        if columns <= set(header):
            return Sniffed(path, None, label)
    shown = ", ".join(header[:5])
    return Sniffed(path, None, f"a file pcnkit does not recognise (first columns: {shown})", text)


def parse_file(path: Path, expected: str | None = None, sniffed: Sniffed | None = None) -> Batch:
    """Parse one file, checking it is of the expected type when one is given."""
    with bulk():
        return _parse_file(path, expected, sniffed)


def _parse_file(path: Path, expected: str | None, sniffed: Sniffed | None) -> Batch:
    if not path.exists():
        raise InputError(str(path), "does not exist", "Check the path.")
    if expected and expected not in TYPES:
        raise InputError(
            str(path),
            f"'{expected}' is not a file type pcnkit reads",
            f"Use one of: {', '.join(TYPES)}.",
        )
    found = sniffed or sniff(path)
    if found.file_type is None or (expected and found.file_type != expected):
        wanted = TYPES[expected] if expected else "a registry file"
        raise InputError(
            str(path),
            f"was expected to be {wanted}, but it looks like {found.looks_like}",
            f"Check the file, or load it without --type to detect it ({', '.join(TYPES)}).",
        )
    sha = sha256_of(path)
    if found.file_type == epcn.file_type:
        return epcn.parse(path, sha)
    module = next(m for m in TEXT_IMPORTERS if m.file_type == found.file_type)
    text = found.text if found.text is not None else decode(path, path.read_bytes())
    batch = module.parse(path, readable(path, text), sha)
    batch.list_basis = getattr(module, "list_basis", None)
    return batch


def expand(paths: list[Path], skip_bad: bool = False) -> tuple[list[Sniffed], list[Sniffed]]:
    """Files to load, and files left out. A folder is walked: files that are not registry
    files (a README, a PDF, another publication) are left out and listed as ignored; a file
    that is damaged (empty, cut short, binary) is refused, as it would be if named alone,
    unless `skip_bad` (then it is left out with its `error`). A file named explicitly must be
    recognised."""
    chosen: list[Sniffed] = []
    left_out: list[Sniffed] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.name.startswith("."):
                    continue
                try:
                    found = sniff(child)
                except InputError as exc:
                    if not skip_bad:
                        raise
                    left_out.append(Sniffed(child, None, str(exc), error=exc))
                    continue
                (chosen if found.file_type else left_out).append(found)
        elif not path.exists():
            raise InputError(str(path), "does not exist", "Check the path.")
        else:
            try:
                chosen.append(sniff(path))
            except InputError as exc:
                if not skip_bad:
                    raise
                left_out.append(Sniffed(path, None, str(exc), error=exc))
    chosen.sort(key=lambda s: TYPE_ORDER.index(s.file_type) if s.file_type else -1)
    return chosen, left_out
