"""Writing assurance batches: every file of a load is stored, or none is.

A file already loaded (same SHA-256) is skipped, so loading a folder twice is harmless; a file
the registry has read for other figures (QOF's prevalence file gives it list sizes) keeps its one
source row and gains its observations. A file that fails while being stored rolls the whole load
back, leaving stored data exactly as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from pcnkit.assurance.observations import ObservationBatch
from pcnkit.bulk import bulk
from pcnkit.store.models import Observation, SourceFile

CHUNK = 5000


@dataclass
class StoreReport:
    file: str
    file_type: str
    description: str
    extract_date: dt.date
    rows: int
    observations: int = 0
    status: str = "loaded"
    findings: list[str] = field(default_factory=list)


def store_batches(
    session: Session,
    batches: Iterable[ObservationBatch],
    progress: Callable[[ObservationBatch], None] | None = None,
) -> list[StoreReport]:
    """Write batches in order inside the caller's transaction."""
    known = dict(session.execute(select(SourceFile.sha256, SourceFile.id)).all())
    reports = []
    with bulk():
        for batch in batches:
            report = StoreReport(
                batch.file, batch.file_type, batch.description, batch.extract_date, batch.rows
            )
            report.findings = list(batch.findings)
            reports.append(report)
            source_id = known.get(batch.sha256)
            if source_id is None:
                source_id = _source(session, batch)
                known[batch.sha256] = source_id
            elif _holds(session, source_id, batch.dataset):
                report.status = "already loaded: skipped"
                if progress:
                    progress(batch)
                continue
            else:
                # the registry read this file for its list sizes; its figures are new here
                report.status = "loaded (the registry already holds this file's list sizes)"
            report.observations = _write(session, batch, source_id)
            if progress:
                progress(batch)
    return reports


def _holds(session: Session, source_id: int, dataset: str) -> bool:
    found = select(Observation.id).where(
        Observation.source_id == source_id, Observation.dataset == dataset
    )
    return session.execute(found.limit(1)).first() is not None


def _source(session: Session, batch: ObservationBatch) -> int:
    source = SourceFile(
        name=batch.file,
        file_type=batch.file_type,
        sha256=batch.sha256,
        extract_date=batch.extract_date,
        loaded_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        rows=batch.rows,
        publisher=batch.publisher,
    )
    session.add(source)
    session.flush()
    return source.id


def _write(session: Session, batch: ObservationBatch, source_id: int) -> int:
    table = Observation.__table__
    rows = [
        {
            "source_id": source_id,
            "dataset": batch.dataset,
            "org_code": o.org_code,
            "org_kind": o.org_kind,
            "measure": o.measure,
            "start": o.period.start,
            "end": o.period.end,
            "value": o.value,
            "label": o.label,
            "source_row": o.row,
            "sheet": o.sheet,
        }
        for o in batch.observations
    ]
    for i in range(0, len(rows), CHUNK):
        session.execute(table.insert(), rows[i : i + CHUNK])
    return len(rows)
