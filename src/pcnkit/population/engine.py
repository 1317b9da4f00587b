"""The population store: patient-level Parquet tables opened through one engine interface.

A store is a folder with one sub-folder of Parquet files per table (``patients/*.parquet``,
``conditions/*.parquet``, and any others an extract or the synthetic generator writes). Each
table opens as an Ibis table expression, so measures are written once as Ibis expressions and
run unchanged on whichever backend holds the data:

* ``backend="duckdb"`` (the default): an embedded DuckDB connection per store.
* ``backend="spark"``: Apache Spark through Ibis's PySpark backend (issue 4). Every Spark store
  shares one lazily started, reused :class:`pyspark.sql.SparkSession` (:func:`spark_session`;
  master from ``PCNKIT_SPARK_MASTER``, default ``local[2]``, so nothing needs a network or a
  cluster). Each store registers its tables as temporary views under a prefix of its own, so
  two stores can be open in one session, and ``close()`` drops those views without stopping
  the shared session. It needs PySpark and a Java runtime (17 or later).

Nothing here fetches patient-level rows; callers aggregate and pass the aggregates through
:mod:`pcnkit.population.disclosure` before they leave.

Provenance comes from the files themselves: the synthetic generator writes
``pcnkit.synthetic=true``, a label and the ``as_of`` date into every file's schema metadata, and
the store reports the data as synthetic if any file of any table says so (or if the folder
holds ``SYNTHETIC.txt``), so a synthetic batch can never pass as real data.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from pcnkit.errors import PcnkitError

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    from pyspark.sql import SparkSession

BACKENDS = ("duckdb", "spark")
REQUIRED_TABLES = ("patients", "conditions")


SYNTHETIC_MARKER = "SYNTHETIC.txt"  # the synthetic generator's mark on every store it writes
TRUTH = "truth"  # the synthetic generator's true per-patient risks (validation only)

SPARK_MASTER_ENV = "PCNKIT_SPARK_MASTER"
SPARK_DEFAULT_MASTER = "local[2]"
SPARK_DRIVER_MEMORY_ENV = "PCNKIT_SPARK_DRIVER_MEMORY"
SPARK_DEFAULT_DRIVER_MEMORY = "2g"

_spark: SparkSession | None = None
_spark_lock = threading.Lock()


def _java_available() -> bool:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return True
    return shutil.which("java") is not None


def spark_session() -> SparkSession:
    """The process's shared SparkSession for population stores, started on first use and
    reused afterwards (starting Spark takes seconds). Master from ``PCNKIT_SPARK_MASTER``
    (default ``local[2]``), driver memory from ``PCNKIT_SPARK_DRIVER_MEMORY`` (default 2g; it
    only applies if this call starts the JVM), UTC session time zone, no web UI, few shuffle
    partitions, errors-only logging."""
    global _spark
    with _spark_lock:
        if _spark is not None and _spark.sparkContext._jsc is not None:
            return _spark
        try:
            from pyspark.sql import SparkSession
        except ImportError as e:
            raise PcnkitError(
                'the Spark population backend needs PySpark: pip install "pyspark>=4.0,<4.1" '
                "(and a Java 17+ runtime)"
            ) from e
        if not _java_available():
            raise PcnkitError(
                "the Spark population backend needs a Java runtime (17 or later): install one "
                "(e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME; "
                "or use backend='duckdb'"
            )
        # Python workers (if Spark ever needs them) run this interpreter, not whatever
        # `python3` is on PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        master = os.environ.get(SPARK_MASTER_ENV) or SPARK_DEFAULT_MASTER
        memory = os.environ.get(SPARK_DRIVER_MEMORY_ENV) or SPARK_DEFAULT_DRIVER_MEMORY
        builder = (
            SparkSession.builder.master(master)
            .appName("pcnkit")
            .config("spark.driver.memory", memory)
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "4" if master.startswith("local") else "200")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        )
        if master.startswith("local"):
            # Local mode stays on the loopback interface: no host-name lookups, no network.
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            builder = builder.config("spark.driver.host", "127.0.0.1").config(
                "spark.driver.bindAddress", "127.0.0.1"
            )
        try:
            session = builder.getOrCreate()
        except Exception as e:  # the JVM failed to start (no/old Java, no memory, ...)
            raise PcnkitError(
                f"could not start Spark (master {master}): {e}. The Spark population backend "
                "needs a working Java 17+ runtime (check `java -version` and JAVA_HOME); "
                "or use backend='duckdb'"
            ) from e
        session.sparkContext.setLogLevel("ERROR")
        _spark = session
        return session


class PopulationStore:
    """Parquet tables under `path`, opened as Ibis tables on one backend.

    `as_of` is the date the extract describes (ages are computed at it); by default it is read
    from the files' ``pcnkit.as_of`` metadata, which the synthetic generator writes.
    """

    def __init__(
        self, path: Path | str, *, backend: str = "duckdb", as_of: dt.date | None = None
    ) -> None:
        if backend not in BACKENDS:
            raise PcnkitError(f"unknown population backend '{backend}'; choose one of {BACKENDS}")
        self.path = Path(path)
        self.backend = backend
        for name in REQUIRED_TABLES:
            if not self._files(name):
                raise PcnkitError(
                    f"{self.path / name} holds no Parquet files; give a population store folder "
                    "with patients/ and conditions/ (e.g. from `generate` in "
                    "pcnkit.population.synthetic)"
                )
        # Table (view) names: unique per store, so stores sharing one Spark session don't
        # collide.
        self._prefix = f"pcnkit_{uuid.uuid4().hex[:12]}_"
        self._views: list[str] = []
        self._con = None
        if backend == "spark":
            import ibis

            self._con = ibis.pyspark.connect(spark_session())
        self._tables: dict[str, ir.Table] = {}
        self.metadata = self._read_metadata()
        self.synthetic = (self.path / SYNTHETIC_MARKER).exists() or any(
            m.get("pcnkit.synthetic") == "true" for m in self.metadata.values()
        )
        labels = sorted({m["pcnkit.label"] for m in self.metadata.values() if "pcnkit.label" in m})
        self.label: str | None = "; ".join(labels) or None
        self.as_of = as_of or self._as_of_from_metadata()

    @property
    def con(self):
        """The engine's Ibis connection. DuckDB's is made on first use, so reading only the
        store's metadata or its precomputed results (a population page's pack) costs no
        connection."""
        if self._con is None:
            import ibis

            self._con = ibis.duckdb.connect()
        return self._con

    # --- files and metadata ---------------------------------------------------------------

    def _files(self, name: str) -> list[Path]:
        folder = self.path / name
        return sorted(folder.glob("*.parquet")) if folder.is_dir() else []

    def _folders(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(p.name for p in self.path.iterdir() if p.is_dir() and self._files(p.name))

    def table_names(self) -> list[str]:
        """The tables measures may use (sub-folders with Parquet files). A synthetic store's
        `truth/` (the generating model's true risks) is deliberately not among them: a model
        that could read it would be validated against its own answer. Use `truth()`."""
        return [name for name in self._folders() if name != TRUTH]

    def _read_metadata(self) -> dict[str, dict[str, str]]:
        """Each file's pcnkit.* schema metadata (file footers only, no rows)."""
        import pyarrow.parquet as pq

        out: dict[str, dict[str, str]] = {}
        for name in self._folders():
            for file in self._files(name):
                raw = pq.read_schema(file).metadata or {}
                out[file.relative_to(self.path).as_posix()] = {
                    k.decode(): v.decode() for k, v in raw.items() if k.startswith(b"pcnkit.")
                }
        return out

    def _as_of_from_metadata(self) -> dt.date | None:
        dates = {m["pcnkit.as_of"] for m in self.metadata.values() if "pcnkit.as_of" in m}
        if len(dates) > 1:
            raise PcnkitError(
                f"the files in {self.path} describe different dates ({sorted(dates)}); "
                "a store must hold one extract"
            )
        return dt.date.fromisoformat(dates.pop()) if dates else None

    def require_as_of(self) -> dt.date:
        if self.as_of is None:
            raise PcnkitError(
                f"the population store {self.path} does not say what date it describes; "
                "pass as_of= to PopulationStore"
            )
        return self.as_of

    # --- tables ---------------------------------------------------------------------------

    def truth(self) -> ir.Table:
        """The synthetic generator's known truth, for validating a risk model only."""
        return self._open(TRUTH)

    def table(self, name: str) -> ir.Table:
        """One table (all the Parquet files of its folder) as an Ibis table expression."""
        if name == TRUTH:
            raise PcnkitError(
                "the synthetic 'truth' table is for validation only; read it with store.truth()"
            )
        return self._open(name)

    def _open(self, name: str) -> ir.Table:
        if name not in self._tables:
            if not self._files(name):
                raise PcnkitError(
                    f"the population store {self.path} has no table '{name}' "
                    f"(it has {', '.join(self._folders()) or 'none'})"
                )
            view = f"{self._prefix}{name}"
            if self.backend == "spark":
                # Spark reads the folder's Parquet files (the given list, not a glob, so stray
                # non-Parquet files are ignored).
                files = [p.as_posix() for p in self._files(name)]
                self.con._session.read.parquet(*files).createOrReplaceTempView(view)
                self._views.append(view)
                self._tables[name] = self.con.table(view)
            else:
                glob = (self.path / name / "*.parquet").as_posix()
                self._tables[name] = self.con.read_parquet(glob, table_name=view)
        return self._tables[name]

    @property
    def patients(self) -> ir.Table:
        return self.table("patients")

    @property
    def conditions(self) -> ir.Table:
        return self.table("conditions")

    def close(self) -> None:
        """Release the store. On Spark this drops the store's temporary views and leaves the
        shared session running (other stores may be using it)."""
        if self.backend == "spark":
            session = self.con._session
            if session.sparkContext._jsc is not None:
                for view in self._views:
                    session.catalog.dropTempView(view)
            self._views.clear()
            self._tables.clear()
        elif self._con is not None:
            self._con.disconnect()
            self._con = None
            self._tables.clear()

    def __enter__(self) -> PopulationStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def has_table(store, name: str) -> bool:
    """Whether a store (or any object with the store interface) has table `name`; stores
    without ``table_names`` have only the required tables."""
    names = getattr(store, "table_names", None)
    return callable(names) and name in names()


def age_at(patients: ir.Table, as_of: dt.date) -> ir.IntegerValue:
    """Whole years of age at `as_of`, from ``month_of_birth`` (stored as the first of the
    month, so a birthday counts from the first of the birth month). An Ibis expression."""
    import ibis

    born = patients.month_of_birth
    before_birthday = (born.month() > as_of.month) | (
        (born.month() == as_of.month) & (born.day() > as_of.day)
    )
    return (ibis.literal(as_of.year) - born.year() - ibis.ifelse(before_birthday, 1, 0)).cast(
        "int32"
    )
