"""The figures indicators are computed from, read once from the workspace into one table.

Observations come from the assurance importers; `list-sizes.registered` comes from the registry's
counts of registered patients (never the payments files' quarter averages). A publication that
re-states earlier months (every online consultation workbook re-publishes its Table 1 series)
keeps its own rows in the database; here the newest publication's figure is used for each
organisation, measure and period, and the others stay traceable through `source_id`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Float, String, func, select, type_coerce
from sqlalchemy.orm import Session

from pcnkit.assurance.definitions import LIST_DATASET
from pcnkit.registry import kinds
from pcnkit.registry import sources as publications
from pcnkit.store.models import ListSize, Observation, Organisation, SourceFile

COLUMNS = [
    "dataset",
    "org_code",
    "org_kind",
    "measure",
    "start",
    "end",
    "value",
    "label",
    "source_id",
    "source_row",
]


@dataclass(frozen=True)
class Source:
    id: int
    title: str
    file: str
    extract_date: dt.date
    publisher: str


class Frame:
    """Every observation of some datasets (newest publication per figure), plus the sources."""

    def __init__(
        self, data: pd.DataFrame, sources: dict[int, Source], national_practices: int = 0
    ) -> None:
        self.data = data
        self.sources = sources
        # the most practices any loaded national publication describes: how many practices
        # England has, as far as this workspace knows
        self.national_practices = national_practices

    @classmethod
    def load(cls, session: Session, datasets: Iterable[str]) -> Frame:
        wanted = set(datasets)
        parts = []
        observed = wanted - {LIST_DATASET}
        if observed:
            statement = select(
                Observation.dataset,
                Observation.org_code,
                Observation.org_kind,
                Observation.measure,
                # read as plain text and float and handed to pandas as raw tuples: converting
                # 10^6 cells to date and Decimal objects one by one took most of the load
                type_coerce(Observation.start, String),
                type_coerce(Observation.end, String),
                type_coerce(Observation.value, Float),
                Observation.label,
                Observation.source_id,
                Observation.source_row,
            ).where(Observation.dataset.in_(sorted(observed)))
            rows = session.connection().execute(statement).cursor.fetchall()
            parts.append(pd.DataFrame.from_records(rows, columns=COLUMNS))
        if LIST_DATASET in wanted:
            parts.append(_registered_lists(session))
        data = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
        data["value"] = pd.to_numeric(data["value"], errors="coerce").astype(float)
        data["start"] = pd.to_datetime(data["start"].astype(str))
        data["end"] = pd.to_datetime(data["end"].astype(str))
        sources = _sources(session, set(data["source_id"].dropna().astype(int)))
        if not data.empty:
            data["published"] = data["source_id"].map(
                {i: s.extract_date for i, s in sources.items()}
            )
            data = data.sort_values(["published", "source_id"]).drop_duplicates(
                ["dataset", "org_code", "measure", "start", "end"], keep="last"
            )
        counts = session.execute(
            select(func.count(func.distinct(Observation.org_code)))
            .where(Observation.org_kind == kinds.PRACTICE)
            .group_by(Observation.dataset)
        ).scalars()
        return cls(data.reset_index(drop=True), sources, max(counts, default=0))

    def measure(self, dataset: str, measure: str) -> pd.DataFrame:
        d = self.data
        return d[(d["dataset"] == dataset) & (d["measure"] == measure)]


def _registered_lists(session: Session) -> pd.DataFrame:
    """Registered-patient counts as observations of `list-sizes.registered` (one day each)."""
    rows = session.execute(
        select(
            Organisation.code,
            ListSize.as_of,
            ListSize.value,
            ListSize.source_id,
            ListSize.source_row,
        )
        .join(Organisation, Organisation.id == ListSize.practice_id)
        .join(SourceFile, SourceFile.id == ListSize.source_id)
        .where(ListSize.measure == "registered", SourceFile.file_type.in_(publications.COUNTS))
    ).all()
    df = pd.DataFrame(rows, columns=["org_code", "start", "value", "source_id", "source_row"])
    df["end"] = df["start"]
    df["dataset"] = LIST_DATASET
    df["org_kind"] = kinds.PRACTICE
    df["measure"] = "registered"
    df["label"] = None
    return df[COLUMNS]


def _sources(session: Session, ids: set[int]) -> dict[int, Source]:
    if not ids:
        return {}
    out = {}
    for s in session.scalars(select(SourceFile).where(SourceFile.id.in_(sorted(ids)))):
        out[s.id] = Source(s.id, publications.title(s), s.name, s.extract_date, s.publisher)
    return out
