"""The figures indicators are computed from, read once from the workspace into one table.

Observations come from the assurance importers; `list-sizes.registered` comes from the registry's
counts of registered patients (never the payments files' quarter averages). A publication that
re-states earlier months (every online consultation workbook re-publishes its Table 1 series)
keeps its own rows in the database; here the newest publication's figure is used for each
organisation, measure and period, and the others stay traceable through `source_id`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Float, String, func, select, type_coerce
from sqlalchemy.orm import Session

from pcnkit.assurance.definitions import LIST_DATASET
from pcnkit.assurance.observations import ENGLAND
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
        self._groups: dict[tuple[str, str], pd.DataFrame] | None = None
        # the most PCNs any loaded publication describes
        self.national_pcns = 0

    @classmethod
    def load(
        cls,
        session: Session,
        datasets: Iterable[str],
        measures: Iterable[tuple[str, str]] | None = None,
        snapshot: Path | None = None,
    ) -> Frame:
        """Every observation of `datasets` (only `measures`, (dataset, measure) pairs, when
        given: a telephony workbook's call-duration bands are not read for indicators that
        do not use them). With `snapshot` (the workspace's `Layout.assurance_snapshot`), the
        observations are read from that Parquet copy while it matches the table, and the copy
        is rebuilt from the database when it does not."""
        wanted = set(datasets)
        parts = []
        observed = wanted - {LIST_DATASET}
        if observed:
            chosen = None if measures is None else set(measures)
            parts.append(_observed(session, observed, chosen, snapshot))
        if LIST_DATASET in wanted:
            parts.append(_registered_lists(session))
        data = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
        # one type per column whatever the source: registered lists alone give Python objects
        # where observations give strings, and pandas refuses to merge the two
        for column in ("dataset", "org_code", "org_kind", "measure"):
            data[column] = data[column].astype("str")
        data["value"] = pd.to_numeric(data["value"], errors="coerce").astype(float)
        # numbers, not Python objects: a group's min row on an object column runs row by row
        for column in ("source_id", "source_row"):
            data[column] = pd.to_numeric(data[column], errors="coerce").astype(float)
        data["start"] = pd.to_datetime(data["start"].astype(str))
        data["end"] = pd.to_datetime(data["end"].astype(str))
        sources = _sources(
            session,
            set(data["source_id"].dropna().astype(int)),
            dict(zip(data["source_id"], data["dataset"], strict=False)),
        )
        if not data.empty:
            data["published"] = data["source_id"].map(
                {i: s.extract_date for i, s in sources.items()}
            )
            data = data.sort_values(["published", "source_id"]).drop_duplicates(
                ["dataset", "org_code", "measure", "start", "end"], keep="last"
            )
        # how many practices England has, as far as the figures read say: the most any one
        # publication describes, or NHS England's own count of open practices
        practices = data[data["org_kind"] == kinds.PRACTICE].groupby("dataset")["org_code"]
        counts = list(practices.nunique()) if not data.empty else []
        opened = data[(data["org_code"] == ENGLAND) & (data["measure"] == "open_practices")]
        counts += [int(v) for v in opened["value"].dropna()]
        pcns = data[data["org_kind"] == kinds.PCN].groupby("dataset")["org_code"]
        frame = cls(data.reset_index(drop=True), sources, max(counts, default=0))
        frame.national_pcns = max(pcns.nunique(), default=0) if not data.empty else 0
        return frame

    def measure(self, dataset: str, measure: str) -> pd.DataFrame:
        """The rows of one measure (grouped once: filtering millions of rows per call was most
        of an indicator's time)."""
        if self._groups is None:
            self._groups = {
                key: group for key, group in self.data.groupby(["dataset", "measure"], sort=False)
            }
        found = self._groups.get((dataset, measure))
        return found if found is not None else self.data.iloc[0:0]


SNAPSHOT_STAMP = b"pcnkit-observations"


def _from_database(
    session: Session, observed: set[str] | None, chosen: set[tuple[str, str]] | None
) -> pd.DataFrame:
    """Observations straight from the table (all of them when `observed` is None)."""
    statement = select(
        Observation.dataset,
        Observation.org_code,
        Observation.org_kind,
        Observation.measure,
        # read as plain text and float and handed to pandas as raw tuples: turning 10^6
        # cells into date and Decimal objects one by one took most of the load
        type_coerce(Observation.start, String),
        type_coerce(Observation.end, String),
        type_coerce(Observation.value, Float),
        Observation.label,
        Observation.source_id,
        Observation.source_row,
    )
    if observed is None:
        rows = session.connection().execute(statement).cursor.fetchall()
        return pd.DataFrame.from_records(rows, columns=COLUMNS)
    parts = []
    for dataset in sorted(observed):
        one = statement.where(Observation.dataset == dataset)
        if chosen is not None:
            # dataset = ? AND measure IN (...): answered from ix_observation_lookup
            names = sorted(m for d, m in chosen if d == dataset)
            one = one.where(Observation.measure.in_(names))
        rows = session.connection().execute(one).cursor.fetchall()
        parts.append(pd.DataFrame.from_records(rows, columns=COLUMNS))
    return pd.concat(parts, ignore_index=True)


def _observed(
    session: Session,
    observed: set[str],
    chosen: set[tuple[str, str]] | None,
    snapshot: Path | None,
) -> pd.DataFrame:
    if snapshot is None:
        return _from_database(session, observed, chosen)
    count, highest = session.execute(select(func.count(), func.max(Observation.id))).one()
    stamp = f"{count}:{highest}".encode()
    data = None
    if snapshot.exists():
        try:
            if (pq.read_schema(snapshot).metadata or {}).get(SNAPSHOT_STAMP) == stamp:
                data = pq.read_table(
                    snapshot, filters=[("dataset", "in", sorted(observed))]
                ).to_pandas()
        except (OSError, pa.ArrowException):
            data = None  # a damaged copy is rebuilt, never trusted
    if data is None:
        everything = _from_database(session, None, None)
        for column in ("source_id", "source_row", "value"):
            everything[column] = pd.to_numeric(everything[column], errors="coerce").astype(float)
        for column in ("start", "end"):
            everything[column] = everything[column].astype(str)
        table = pa.Table.from_pandas(everything, preserve_index=False)
        table = table.replace_schema_metadata({SNAPSHOT_STAMP: stamp})
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        partial = snapshot.with_name(f".{snapshot.name}.{os.getpid()}.tmp")
        pq.write_table(table, partial)
        os.replace(partial, snapshot)  # another process reading sees the old or the new copy
        data = everything[everything["dataset"].isin(observed)]
    if chosen is not None:
        keys = data["dataset"] + "\x1f" + data["measure"]
        data = data[keys.isin({f"{d}\x1f{m}" for d, m in chosen})]
    return data.reset_index(drop=True)


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


def _sources(session: Session, ids: set[int], datasets: dict) -> dict[int, Source]:
    """Each source titled as the publication its figures came from: a file the registry read
    first (QOF prevalence) is titled by the dataset read from it here (the registers)."""
    if not ids:
        return {}
    out = {}
    for s in session.scalars(select(SourceFile).where(SourceFile.id.in_(sorted(ids)))):
        dataset = datasets.get(s.id)
        # registered lists are titled by their own file; a file the registry read first (QOF
        # prevalence) by the assurance dataset read from it
        observed = dataset in publications.TITLES and dataset != LIST_DATASET
        kind = dataset if observed else s.file_type
        named = SimpleNamespace(file_type=kind, extract_date=s.extract_date, publisher=s.publisher)
        out[s.id] = Source(s.id, publications.title(named), s.name, s.extract_date, s.publisher)
    return out
