"""An assurance load is one unit: every file named (or found in a folder) is stored, or none is.

Each file's type is recognised from its content (a workbook by its sheets and table titles, a
CSV by its header), never its name. Files that are not assurance publications (a README, a
registry file, a PDF) found in a folder are listed as ignored; a file named on its own must be
recognised. A damaged file stops the load with its located error and stores nothing.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from pcnkit.assurance.importers import (
    cqc_ratings,
    gpad_appointments,
    oc_submissions,
    pcn_data_matrix,
    pcn_workforce,
    practice_workforce,
    qof_cvd,
    qof_registers,
    telephony,
)
from pcnkit.assurance.observations import ObservationBatch
from pcnkit.assurance.store import StoreReport, store_batches
from pcnkit.bulk import bulk
from pcnkit.errors import InputError
from pcnkit.registry.importers import _header
from pcnkit.registry.importers.base import decode, readable, sha256_of

WORKBOOK_IMPORTERS = [oc_submissions, telephony]
TEXT_IMPORTERS = [
    cqc_ratings,
    practice_workforce,
    pcn_workforce,
    qof_cvd,
    pcn_data_matrix,
    gpad_appointments,
    qof_registers,
]
IMPORTERS = [*WORKBOOK_IMPORTERS, *TEXT_IMPORTERS]


def datasets() -> dict[str, dict[str, str]]:
    """Every dataset pcnkit imports, with its measures in plain words."""
    return {m.dataset: dict(m.MEASURES) for m in IMPORTERS}


@dataclass
class Found:
    path: Path
    module: object | None
    looks_like: str
    text: str | None = None


def recognise(path: Path) -> Found:
    """The importer for a file, from its content alone."""
    if not path.exists():
        raise InputError(str(path), "does not exist", "Check the path.")
    raw = path.read_bytes()
    if zipfile.is_zipfile(path):
        try:
            import openpyxl

            names = openpyxl.load_workbook(path, read_only=True).sheetnames
        except Exception as exc:  # openpyxl raises many types for a damaged workbook
            raise InputError(
                str(path),
                f"is a zip archive but not a readable Excel workbook ({type(exc).__name__})",
                "Re-download the file.",
            ) from exc
        for module in WORKBOOK_IMPORTERS:
            if module.sniff_sheets(names, path):
                return Found(path, module, module.file_type)
        return Found(path, None, f"an Excel workbook with sheets {names}")
    if raw[:4] == b"PK\x03\x04":
        raise InputError(
            str(path),
            "starts like an Excel workbook (a zip archive) but cannot be opened as one, so it "
            "looks truncated or damaged",
            "Re-download the file.",
        )
    if raw[:4] == b"%PDF":
        return Found(path, None, "a PDF document")
    text = readable(path, decode(path, raw))
    header = _header(text)
    for module in TEXT_IMPORTERS:
        if module.sniff(text, header):
            return Found(path, module, module.file_type, text)
    shown = ", ".join(header[:5])
    return Found(path, None, f"a file pcnkit's assurance importers do not read ({shown})")


def expand(paths: list[Path]) -> tuple[list[Found], list[Found]]:
    """Files to load and files ignored; a folder is walked, a named file must be recognised."""
    chosen, ignored = [], []
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.name.startswith("."):
                    continue
                found = recognise(child)
                (chosen if found.module else ignored).append(found)
        else:
            found = recognise(path)
            if found.module is None:
                raise InputError(
                    str(path),
                    "is not an assurance publication pcnkit reads; it looks like "
                    + found.looks_like,
                    "Give one of: " + "; ".join(m.file_type for m in IMPORTERS) + ".",
                )
            chosen.append(found)
    return chosen, ignored


def parse(found: Found) -> ObservationBatch:
    sha = sha256_of(found.path)
    with bulk():
        if found.module in WORKBOOK_IMPORTERS:
            return found.module.parse(found.path, sha)
        return found.module.parse(found.path, found.text, sha)


@dataclass
class LoadResult:
    reports: list[StoreReport]
    ignored: list[Found] = field(default_factory=list)


def load_paths(
    transaction: Callable[[], AbstractContextManager[Session]],
    paths: list[Path],
    progress: Callable[[str, str], None] | None = None,
) -> LoadResult:
    """Read every file, then store them all in one transaction (`progress(stage, name)` as each
    file is read and stored)."""
    chosen, ignored = expand(paths)
    batches = []
    for found in chosen:
        if progress:
            progress("reading", found.path.name)
        batches.append(parse(found))
    with transaction() as session:
        reports = store_batches(
            session, batches, lambda b: progress("storing", Path(b.file).name) if progress else None
        )
    return LoadResult(reports, ignored)
