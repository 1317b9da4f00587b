"""A registry load is one unit: every file named (or found in a folder) is stored, or none is.

`load_paths` is what `pcnkit registry load` runs. Files that are not registry files (a README,
PROVENANCE.tsv, a PDF, another publication) are ignored and listed. A damaged or refused file
stops the whole load with its located error and stores nothing, unless the caller asks to skip
bad files: then every bad file is left out, named with its error, and the rest is stored in one
transaction (the CLI exits 3 so that a script notices).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pcnkit.errors import InputError, PcnkitError
from pcnkit.registry.actions import LoadReport, apply_batches
from pcnkit.registry.importers import Sniffed, expand, parse_file
from pcnkit.registry.importers.base import Batch


@dataclass
class LoadResult:
    reports: list[LoadReport]
    # files that are not registry files, with what each looks like
    ignored: list[Sniffed] = field(default_factory=list)
    # bad files left out (only when skipping bad files), each with its located error
    skipped: list[InputError] = field(default_factory=list)

    @property
    def findings(self) -> list[str]:
        return [f for r in self.reports for f in r.findings]


def load_paths(
    transaction: Callable[[], AbstractContextManager[Session]],
    paths: list[Path],
    file_type: str | None = None,
    skip_bad: bool = False,
    progress: Callable[[str, str], None] | None = None,
) -> LoadResult:
    """Read every file, then store them all in one transaction. `progress(stage, name)` is
    called as each file is read ('reading') and stored ('storing')."""
    chosen, left_out = expand(paths, skip_bad)
    result = LoadResult([], [s for s in left_out if s.error is None])
    result.skipped = [s.error for s in left_out if s.error is not None]
    batches: list[Batch] = []
    for found in chosen:
        if progress:
            progress("reading", found.path.name)
        try:
            batches.append(parse_file(found.path, file_type, found))
        except InputError as exc:
            if not skip_bad:
                raise
            result.skipped.append(exc)

    def tick(batch: Batch) -> None:
        if progress:
            progress("storing", Path(batch.file).name)

    # A file refused while storing rolls the transaction back; when skipping bad files, the
    # load is tried again without it (each retry is again all or nothing).
    while True:
        try:
            with transaction() as session:
                result.reports = apply_batches(session, batches, tick)
            return result
        except IntegrityError as exc:
            if "sha256" not in str(exc.orig):
                raise
            raise PcnkitError(
                "Another load stored the same file while this one ran, so nothing of this load "
                "was stored (each file is kept once). Run it again: the file shows as already "
                "loaded and the rest is stored."
            ) from exc
        except InputError as exc:
            if not skip_bad or exc.batch_file is None:
                raise
            result.skipped.append(exc)
            batches = [b for b in batches if b.file != exc.batch_file]
