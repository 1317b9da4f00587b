"""Where a workspace keeps its files: the one place that names the folders and file names
inside a workspace, so the CLI, the web application and the demo never build them by hand."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATABASE = "pcnkit.db"  # the SQLite database (unless PCNKIT_DATABASE_URL points elsewhere)
POPULATION = "population"  # the population store: Parquet tables, then results/
FUNDING = "funding"  # funding inputs kept with the workspace: the ARRS staff rosters
ASSURANCE = "assurance"  # a columnar copy of the assurance observations (rebuilt when stale)


def year_slug(year: str) -> str:
    """A contract year as it appears in file names: '2019/20' -> '2019-20' (a slash cannot)."""
    return year.replace("/", "-")


@dataclass(frozen=True)
class Layout:
    """The paths inside one workspace folder (nothing is created by asking)."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / DATABASE

    @property
    def sqlite_url(self) -> str:
        return f"sqlite:///{self.database}"

    @property
    def population(self) -> Path:
        return self.root / POPULATION

    @property
    def funding(self) -> Path:
        return self.root / FUNDING

    @property
    def assurance_snapshot(self) -> Path:
        """The observations as one Parquet file, stamped with the table's row count and
        highest id: read in a second where the database takes twenty (assurance.frame)."""
        return self.root / ASSURANCE / "observations.parquet"

    def arrs_roster(self, year: str) -> Path:
        """A contract year's ARRS staff roster: funding/arrs-staff-2019-20.csv."""
        return self.funding / f"arrs-staff-{year_slug(year)}.csv"

    def arrs_roster_label(self, year: str) -> Path:
        """Words every figure from that roster must carry when its posts are not real staff
        (the demo's illustrative planning posts): funding/arrs-staff-2019-20.label.txt."""
        return self.funding / f"arrs-staff-{year_slug(year)}.label.txt"
