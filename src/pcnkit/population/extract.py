"""Import a practice system's pseudonymised patient-level extract into a population store.

An extract is one file per table (CSV or Parquet): ``patients`` and ``conditions`` are required,
``medications``, ``observations``, ``hospital`` and ``events`` optional. Their columns are the
synthetic generator's (:mod:`pcnkit.population.synthetic`), given here as data in
:data:`COLUMNS`: add a column there and it is read, checked and written everywhere.

:func:`import_extract` validates every file completely before writing anything, collects up to
:data:`MAX_PROBLEMS` problems across all files and raises ONE :class:`ExtractError` listing them.
Only when every file is clean does it write Parquet into a temporary sibling folder and swap that
in for ``store_dir``, so a failed import leaves an existing store exactly as it was (a re-import
replaces the whole store). The Parquet files carry ``pcnkit.as_of``, ``pcnkit.source`` (the file
name), ``pcnkit.synthetic=false`` and ``pcnkit.table`` in their schema metadata, and open with
:class:`pcnkit.population.engine.PopulationStore`.

What the checks accept
----------------------
* CSV in UTF-8 (with or without a byte-order mark), else Windows-1252/Latin-1. UTF-16 (or any
  file with NUL bytes) is refused with a message saying how to re-save it.
* Dates: ``YYYY-MM-DD`` (an ISO time after it is ignored), ``YYYYMMDD`` or ``DD/MM/YYYY``.
  ``month_of_birth`` also takes ``YYYY-MM`` or ``MM/YYYY`` and is stored as the first of the
  month. No date may be after ``as_of``; no patient's date may be before their month of birth.
* ``sex``: F or M, or Female/Male (any case). Other values (unknown, indeterminate) are refused:
  the measures and the reference populations are by F/M only.
* Booleans: true/false, 1/0, Y/N, yes/no (any case); a blank optional flag is stored as null.
* Codes are compared case-insensitively and stored in the code list's case: ``qof_group`` must be
  a ``qof_registers`` id, ``medicine_group`` one of :func:`known_medicine_groups`,
  ``hospital.kind`` one of :data:`HOSPITAL_KINDS`, ``observations.concept`` one of
  :data:`OBSERVATION_CONCEPTS`; ``events.concept`` an eFI deficit id or a concept the rules
  read (:func:`known_event_concepts`). The optional SNOMED ``code`` is free text.

Patient data never appears in a message
---------------------------------------
Problems name the file, the row, the column and the kind of problem, never a cell's value: not a
pseudonym, a date or a code. Two deliberate exceptions, neither about a person: a practice code
(an organisation) is echoed when it looks like an ODS code, and an allowed code list is listed in
full. An unknown code is NOT echoed, since a wrong column could hold anything. Header names are
echoed only when they look like names (letters, underscores and spaces), because a file without a
header row would otherwise echo its first patient. Nothing here logs rows.

Rows are numbered as a spreadsheet shows a CSV: the header is row 1, the first patient row 2.
In a Parquet file the row is the 1-based record number.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pcnkit.errors import InputError, PcnkitError
from pcnkit.population.swap import replace_folder


@dataclass(frozen=True)
class Column:
    """One column of an extract table.

    `kind` says how cells are read (see :func:`_convert`); `required` that the column must be in
    the file; `blank` that a cell may be empty (stored as null); `low`/`high` bound an integer;
    `codes` names the allowed set in :data:`CODE_SETS`."""

    name: str
    kind: str  # pseudonym, practice, text, sex, date, month, int, float, bool, code
    required: bool = True
    blank: bool = False
    low: int | None = None
    high: int | None = None
    codes: str | None = None


# The extract's tables and columns (the synthetic generator's, plus the extract-only patient
# dates and the events table; new columns go here and nowhere else).
COLUMNS: dict[str, tuple[Column, ...]] = {
    "patients": (
        Column("pseudonym", "pseudonym"),
        Column("practice", "practice"),
        Column("sex", "sex"),
        Column("month_of_birth", "month"),
        Column("registration_start", "date"),
        Column("lsoa_imd_decile", "int", required=False, blank=True, low=1, high=10),
        Column("ethnic_group", "text", required=False, blank=True),
        Column("care_home", "bool", required=False, blank=True),
        Column("housebound", "bool", required=False, blank=True),
        Column("care_home_since", "date", required=False, blank=True),
        Column("registration_end", "date", required=False, blank=True),
        Column("date_of_death", "date", required=False, blank=True),
    ),
    "conditions": (
        Column("pseudonym", "pseudonym"),
        Column("qof_group", "code", codes="qof_group"),
        Column("diagnosis_date", "date", blank=True),
    ),
    "medications": (
        Column("pseudonym", "pseudonym"),
        Column("medicine_group", "code", codes="medicine_group"),
        Column("bnf_chapter", "int", required=False, blank=True, low=1, high=23),
        Column("issue_date", "date"),
    ),
    "observations": (
        Column("pseudonym", "pseudonym"),
        Column("concept", "code", codes="observation_concept"),
        Column("value", "float"),
        Column("date", "date"),
    ),
    "hospital": (
        Column("pseudonym", "pseudonym"),
        Column("kind", "code", codes="hospital_kind"),
        Column("date", "date"),
    ),
    "events": (
        Column("pseudonym", "pseudonym"),
        Column("concept", "code", codes="event_concept"),
        Column("code", "text", required=False, blank=True),
        Column("date", "date"),
        Column("value", "float", required=False, blank=True),
    ),
}
REQUIRED_TABLES = ("patients", "conditions")
FORMATS = (".csv", ".parquet")

# Arrow type each kind is stored as (integers: the generator's int8).
ARROW_TYPES = {
    "pseudonym": "string",
    "practice": "string",
    "text": "string",
    "sex": "string",
    "code": "string",
    "date": "date32",
    "month": "date32",
    "int": "int8",
    "float": "float64",
    "bool": "bool",
}
WHAT = {
    "pseudonym": "a pseudonym",
    "practice": "a practice ODS code",
    "text": "a value",
    "sex": "F or M",
    "date": "a date (YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY)",
    "month": "a month of birth (YYYY-MM or a date)",
    "int": "a whole number",
    "float": "a number",
    "bool": "true/false, 1/0 or Y/N",
    "code": "a code",
}

SEX_VALUES = {"F": "F", "M": "M", "FEMALE": "F", "MALE": "M"}
TRUE_VALUES = ("true", "1", "y", "yes", "t")
FALSE_VALUES = ("false", "0", "n", "no", "f")
HOSPITAL_KINDS = ("ae", "emergency_admission", "outpatient")
# Observation concept -> unit its value is in.
OBSERVATION_CONCEPTS = {
    "systolic_bp": "mmHg",
    "diastolic_bp": "mmHg",
    "egfr": "mL/min/1.73m2",
    "bmi": "kg/m2",
}

MAX_PROBLEMS = 50  # problems listed in one ExtractError
ROWS_PER_CHECK = 5  # rows listed for one check of one column before "and N more rows"

_ODS = re.compile(r"^[A-Z0-9]{3,12}$")
_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z_ ]{0,63}$")


@cache
def qof_register_ids() -> tuple[str, ...]:
    """The QOF register group ids (the ``qof_registers`` code list)."""
    from pcnkit.population import codelists

    return tuple(sorted(c.code for c in codelists.load("qof_registers").codes))


@cache
def known_medicine_groups() -> tuple[str, ...]:
    """Every medicine group id an extract may use: the SMR code lists' groups plus the groups
    the synthetic generator prescribes (``CONDITION_MEDICINES``, ``BACKGROUND_MEDICINES``)."""
    from pcnkit.population import codelists, synthetic

    groups = {
        g.id
        for list_id in ("smr_high_risk_medicines", "smr_addictive_medicines")
        for g in codelists.load(list_id).groups
    }
    groups |= {m for meds in synthetic.CONDITION_MEDICINES.values() for m, _p in meds}
    groups |= {m for m, _sex, _p in synthetic.BACKGROUND_MEDICINES}
    return tuple(sorted(groups))


@cache
def known_event_concepts() -> tuple[str, ...]:
    """Every event concept an extract may use: the eFI deficit ids (the ``efi_deficits`` code
    list) and the concepts the case-finding rules read (``features``)."""
    from pcnkit.population import codelists, features

    concepts = {g.id for g in codelists.load("efi_deficits").groups}
    concepts |= {features.FALLS, features.SMR, features.CARE_HOME_ASSESSMENT, features.PCSP}
    concepts |= {features.LGI_REFERRAL, features.FIT, "lives_in_care_home"}
    return tuple(sorted(concepts))


# Code set name -> (allowed codes, stored in upper case?).
CODE_SETS: dict[str, tuple[Callable[[], tuple[str, ...]], bool]] = {
    "qof_group": (qof_register_ids, True),
    "medicine_group": (known_medicine_groups, False),
    "hospital_kind": (lambda: HOSPITAL_KINDS, False),
    "observation_concept": (lambda: tuple(OBSERVATION_CONCEPTS), False),
    "event_concept": (known_event_concepts, False),
}


class ExtractError(InputError):
    """Every problem found in an extract (up to MAX_PROBLEMS); nothing was written.

    It is an InputError for the first problem, so callers that handle InputError show it;
    `problems` holds them all and str() lists each."""

    def __init__(self, problems: list[InputError], more: int = 0) -> None:
        first = problems[0]
        super().__init__(first.file, first.problem, first.action, first.row, first.column)
        self.problems = problems
        self.more = more

    def __str__(self) -> str:
        n = len(self.problems) + self.more
        lines = [f"the extract has {n} problem{'s' if n != 1 else ''}; nothing was imported:"]
        lines += [f"- {InputError.__str__(p)}" for p in self.problems]
        if self.more:
            lines.append(f"- ... and {self.more} more problems not listed")
        return "\n".join(lines)


@dataclass
class ExtractReport:
    store_dir: Path
    as_of: dt.date
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows written
    sources: dict[str, str] = field(default_factory=dict)  # table -> source file
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


# --- problems -----------------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.items: list[InputError] = []
        self.more = 0

    def add(self, file, problem, action, row=None, column=None) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(InputError(str(file), problem, action, row=row, column=column))
        else:
            self.more += 1

    def rows(self, file, lines, mask, column, problem, action) -> None:
        """One problem per failing row (nulls in `mask` are not failures), up to
        ROWS_PER_CHECK, then one saying how many more rows have it."""
        import pyarrow.compute as pc

        failing = pc.indices_nonzero(pc.fill_null(mask, False)).to_numpy()
        for i in failing[:ROWS_PER_CHECK]:
            self.add(file, problem, action, row=int(lines[i]), column=column)
        if len(failing) > ROWS_PER_CHECK:
            self.add(
                file,
                f"{len(failing) - ROWS_PER_CHECK} more rows have the same problem ({problem})",
                action,
                column=column,
            )


def _names(names) -> str:
    """Header names safe to show: a name that does not look like one may be a patient's data
    (a file without a header row)."""
    shown = [n for n in names if _SAFE_NAME.match(n)]
    hidden = len(names) - len(shown)
    text = ", ".join(shown) if shown else "none that look like column names"
    if hidden:
        text += f" (and {hidden} not shown as they look like data: is the header row missing?)"
    return text


# --- reading ------------------------------------------------------------------------------


@dataclass
class _Loaded:
    table: str
    path: Path
    columns: dict  # column -> trimmed string array (blank = "")
    lines: object  # numpy array: row number of each table row
    n: int
    typed: dict = field(default_factory=dict)


def _read_csv(path: Path, problems: _Problems):
    """(header names, string table, row numbers) or None after reporting why not."""
    import csv
    import io

    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pcsv

    raw = path.read_bytes()
    if not raw.strip():
        problems.add(path, "the file is empty", "Check that the export completed.")
        return None
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in raw[:4096]:
        problems.add(
            path,
            "the file is UTF-16 (or binary), not a text CSV",
            "Save it as 'CSV UTF-8' (in Excel: Save As > CSV UTF-8), or export it again.",
        )
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        for encoding in ("cp1252", "latin-1"):
            try:
                raw = raw.decode(encoding).encode("utf-8")
                break
            except UnicodeDecodeError:
                continue
    first = raw.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    try:
        header = [h.strip().lower() for h in next(csv.reader(io.StringIO(first)))]
    except (csv.Error, StopIteration):
        header = []
    if not any(header):
        problems.add(path, "the first row is not a header row", "Export with column names.", row=1)
        return None
    bad: list[tuple[int | None, int, int]] = []

    def invalid(row) -> str:
        bad.append((row.number, row.expected_columns, row.actual_columns))
        return "skip"

    try:
        table = pcsv.read_csv(
            io.BytesIO(raw),
            read_options=pcsv.ReadOptions(
                column_names=[f"c{i}" for i in range(len(header))],
                skip_rows=1,
                use_threads=False,  # row numbers of bad rows are only known single-threaded
                block_size=1 << 24,
            ),
            parse_options=pcsv.ParseOptions(invalid_row_handler=invalid, ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(
                column_types={f"c{i}": pa.string() for i in range(len(header))},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):  # the message may quote a row: not shown
        problems.add(
            path,
            "cannot be read as CSV; the file looks truncated or corrupt",
            "Export the whole file again.",
        )
        return None
    for number, expected, actual in bad:
        problems.add(
            path,
            f"has {actual} of the {expected} fields every row needs, so the file looks "
            "truncated or the row is broken",
            "Export the whole file again, or correct the row.",
            row=number,
        )
    lines = np.arange(table.num_rows, dtype=np.int64) + 2
    for number, _e, _a in sorted((b for b in bad if b[0] is not None), key=lambda b: b[0]):
        lines[lines >= number] += 1
    return header, table, lines


def _read_parquet(path: Path, problems: _Problems):
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.stat().st_size == 0:
        problems.add(path, "the file is empty", "Check that the export completed.")
        return None
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError):
        problems.add(
            path,
            "cannot be read as Parquet; the file looks truncated or corrupt",
            "Export the whole file again.",
        )
        return None
    header = [n.strip().lower() for n in table.column_names]
    arrays = []
    for column in table.columns:
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.date32())
        try:
            arrays.append(column.cast(pa.string()))
        except pa.ArrowException:
            arrays.append(pa.nulls(len(column), pa.string()))  # unreadable type: reported blank
    table = pa.table(arrays, names=[f"c{i}" for i in range(len(header))])
    return header, table, np.arange(table.num_rows, dtype=np.int64) + 1


def _load(table: str, path: Path, problems: _Problems, warnings: list[str]) -> _Loaded | None:
    import pyarrow.compute as pc

    if not path.is_file():
        problems.add(path, "is not a file", "Check the path.")
        return None
    reader = _read_parquet if path.suffix.lower() == ".parquet" else _read_csv
    read = reader(path, problems)
    if read is None:
        return None
    header, data, lines = read
    spec = COLUMNS[table]
    header_row = 1 if reader is _read_csv else None
    duplicated = sorted({n for n in header if header.count(n) > 1 and n})
    if duplicated:
        problems.add(
            path,
            f"the header names {_names(duplicated)} more than once",
            "Give every column a different name.",
            row=header_row,
        )
        return None
    missing = [c.name for c in spec if c.required and c.name not in header]
    if missing:
        problems.add(
            path,
            f"is missing the required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}; the columns found are {_names(header)}",
            f"Export the {table} table with the columns {', '.join(c.name for c in spec)}.",
            row=header_row,
            column=", ".join(missing),
        )
        return None
    known = {c.name for c in spec}
    extra = [n for n in header if n and n not in known]
    if extra:
        warnings.append(f"{path}: ignored columns not used by pcnkit: {_names(extra)}")
    columns = {}
    for i, name in enumerate(header):
        if name in known:
            columns[name] = pc.utf8_trim_whitespace(pc.fill_null(data.column(i), ""))
    if data.num_rows:  # rows where every cell is blank are empty lines: dropped
        blank = None
        for i in range(data.num_columns):
            cell = pc.equal(pc.utf8_trim_whitespace(pc.fill_null(data.column(i), "")), "")
            blank = cell if blank is None else pc.and_(blank, cell)
        if pc.any(blank).as_py():
            keep = pc.invert(blank)
            columns = {k: v.filter(keep) for k, v in columns.items()}
            lines = lines[keep.to_numpy(zero_copy_only=False)]
    n = len(lines)
    if n == 0:
        if table in REQUIRED_TABLES:
            problems.add(
                path,
                "holds a header but no rows",
                f"Export the {table} table again; a practice extract cannot have no {table}.",
            )
            return None
        warnings.append(f"{path}: holds no rows")
    return _Loaded(table, path, columns, lines, n)


# --- converting ---------------------------------------------------------------------------

_DATE_PATTERNS = (
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$",
    r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$",
    r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})$",
)
_MONTH_PATTERNS = (
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})$",
    r"^(?P<m>\d{1,2})/(?P<y>\d{4})$",
)


def _try_cast(values):
    """`values` as date32 when every non-null one is a real YYYY-MM-DD date, else None."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return pc.cast(values, pa.date32())
    except pa.ArrowException:
        return None


def _dates(values, filled, month: bool):
    """A date32 array: null where blank or not a real date. For a month, the first of it.

    The fast path is Arrow's own YYYY-MM-DD cast; only a column it refuses is taken apart
    with regular expressions (slower, but still column-wise)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    given = pc.if_else(filled, values, None)
    if month:
        out = _try_cast(pc.binary_join_element_wise(given, "01", "-"))  # YYYY-MM
        if out is not None:
            return out
    out = _try_cast(given)
    if out is None:
        parts: dict[str, list] = {"y": [], "m": [], "d": []}
        for pattern in _DATE_PATTERNS + (_MONTH_PATTERNS if month else ()):
            found = pc.extract_regex(given, pattern)
            for key in parts:
                if f"(?P<{key}>" in pattern:
                    parts[key].append(pc.struct_field(found, key))
                else:  # a month-only pattern: the 1st, when it matched
                    parts[key].append(pc.if_else(pc.is_valid(found), "1", None))
        y, m, d = (pc.cast(pc.coalesce(*parts[k]), pa.int32()) for k in ("y", "m", "d"))
        text = pc.binary_join_element_wise(
            pc.cast(y, pa.string()),
            pc.utf8_lpad(pc.cast(m, pa.string()), width=2, padding="0"),
            pc.utf8_lpad(pc.cast(d, pa.string()), width=2, padding="0"),
            "-",
        )
        stamp = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
        # strptime rolls 30 February on to 1 March: a real date keeps its month and day
        real = pc.and_(pc.equal(pc.month(stamp), m), pc.equal(pc.day(stamp), d))
        out = pc.if_else(pc.fill_null(real, False), pc.cast(stamp, pa.date32()), None)
    return pc.floor_temporal(out, unit="month") if month else out


def _convert(loaded: _Loaded, col: Column, as_of: dt.date, known_practices, problems) -> None:
    """Check one column and store its typed array in loaded.typed."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = loaded.columns[col.name]
    file, lines, name = loaded.path, loaded.lines, col.name
    blank = pc.equal(values, "")
    filled = pc.invert(blank)
    if not col.blank:
        problems.rows(
            file, lines, blank, name, f"is blank; expected {WHAT[col.kind]}", "Fill it in."
        )
    kind = col.kind

    def invalid(ok, problem, action):
        """Rows that are filled in but not `ok`."""
        problems.rows(file, lines, pc.and_(filled, pc.invert(pc.fill_null(ok, False))), name,
                      problem, action)  # fmt: skip

    if kind in ("pseudonym", "text"):
        typed = pc.if_else(filled, values, None)
    elif kind == "practice":
        upper = pc.utf8_upper(values)
        invalid(
            pc.match_substring_regex(upper, _ODS.pattern),
            "is not an ODS practice code",
            "Give the practice's ODS code (e.g. F82001).",
        )
        typed = pc.if_else(filled, upper, None)
        if known_practices is not None:
            known = pa.array(sorted({p.upper() for p in known_practices}), pa.string())
            unknown = pc.and_(filled, pc.invert(pc.is_in(upper, value_set=known)))
            unknown = pc.and_(unknown, pc.match_substring_regex(upper, _ODS.pattern))
            failing = pc.indices_nonzero(unknown).to_numpy()
            if len(failing):
                codes = pc.take(upper, pa.array(failing))
                by_code: dict[str, list[int]] = {}
                for i, code in zip(failing, codes.to_pylist(), strict=True):
                    by_code.setdefault(code, []).append(int(lines[i]))
                for code, rows in sorted(by_code.items(), key=lambda kv: kv[1][0]):
                    also = f" (and {len(rows) - 1} more rows)" if len(rows) > 1 else ""
                    problems.add(
                        file,
                        f"practice {code} is not one of the known practices{also}",
                        "Check the practice code, or load the practice into the registry.",
                        row=rows[0],
                        column=name,
                    )
    elif kind == "sex":
        upper = pc.utf8_upper(values)
        keys = pa.array(list(SEX_VALUES))
        index = pc.index_in(upper, value_set=keys)
        invalid(pc.is_valid(index), "is not F or M (or Female/Male)", "Correct the sex.")
        typed = pc.take(pa.array(list(SEX_VALUES.values())), index)
    elif kind in ("date", "month"):
        typed = _dates(values, filled, kind == "month")
        invalid(pc.is_valid(typed), f"is not {WHAT[kind]}", "Correct the date.")
        problems.rows(
            file,
            lines,
            pc.greater(typed, pa.scalar(as_of, pa.date32())),
            name,
            f"is after the extract date {as_of.isoformat()}",
            "Correct the date, or check as_of.",
        )
    elif kind == "int":
        number = pc.match_substring_regex(values, r"^[+-]?\d{1,9}(\.0*)?$")
        invalid(number, f"is not {WHAT[kind]}", "Correct the value.")
        whole = pc.if_else(number, values, None)
        whole = pc.cast(pc.cast(whole, pa.float64()), pa.int64())
        in_range = pc.and_(
            pc.greater_equal(whole, col.low if col.low is not None else -(2**62)),
            pc.less_equal(whole, col.high if col.high is not None else 2**62),
        )
        problems.rows(
            file,
            lines,
            pc.invert(in_range),
            name,
            f"is outside {col.low}-{col.high}",
            "Correct the value.",
        )
        typed = pc.cast(pc.if_else(pc.fill_null(in_range, False), whole, None), ARROW_TYPES[kind])
    elif kind == "float":
        number = pc.match_substring_regex(values, r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?$")
        invalid(number, f"is not {WHAT[kind]}", "Correct the value.")
        typed = pc.cast(pc.if_else(number, values, None), pa.float64())
        finite = pc.is_finite(typed)
        problems.rows(file, lines, pc.invert(finite), name, "is too large", "Correct the value.")
        typed = pc.if_else(pc.fill_null(finite, False), typed, None)
    elif kind == "bool":
        lower = pc.utf8_lower(values)
        is_true = pc.is_in(lower, value_set=pa.array(TRUE_VALUES))
        is_false = pc.is_in(lower, value_set=pa.array(FALSE_VALUES))
        invalid(pc.or_(is_true, is_false), f"is not {WHAT[kind]}", "Correct the flag.")
        typed = pc.if_else(pc.or_(is_true, is_false), is_true, None)
    elif kind == "code":
        allowed, upper = CODE_SETS[col.codes]  # type: ignore[index]
        codes = allowed()
        cased = pc.utf8_upper(values) if upper else pc.utf8_lower(values)
        ok = pc.is_in(cased, value_set=pa.array(codes))
        invalid(
            ok,
            f"is not a known {col.codes.replace('_', ' ')}",  # type: ignore[union-attr]
            f"Use one of: {', '.join(codes)}.",
        )
        typed = pc.if_else(pc.and_(filled, ok), cased, None)
    else:  # pragma: no cover - a COLUMNS entry with a kind this function does not know
        raise PcnkitError(f"extract column {name} has unknown kind {kind}")
    loaded.typed[name] = typed


def _cross_checks(loaded: dict[str, _Loaded], problems: _Problems) -> None:
    """Duplicate patients, rows for patients not in the patients file, dates before birth,
    registration ending before it starts."""
    import pyarrow as pa
    import pyarrow.compute as pc

    patients = loaded.get("patients")
    if patients is None or "pseudonym" not in patients.typed:
        return
    pseudonym = patients.typed["pseudonym"]
    counts = pc.value_counts(pseudonym.drop_null())
    dups = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    if len(dups):
        rows = pc.indices_nonzero(pc.is_in(pseudonym, value_set=dups)).to_numpy()
        first_row: dict[str, int] = {}
        listed = 0
        for i, key in zip(rows, pc.take(pseudonym, pa.array(rows)).to_pylist(), strict=True):
            if key not in first_row:
                first_row[key] = int(patients.lines[i])
            elif listed < ROWS_PER_CHECK:
                problems.add(
                    patients.path,
                    f"the pseudonym is the same as row {first_row[key]}'s",
                    "Give each patient one row.",
                    row=int(patients.lines[i]),
                    column="pseudonym",
                )
                listed += 1
        if len(rows) - len(dups) > listed:
            problems.add(
                patients.path,
                f"{len(rows) - len(dups) - listed} more rows repeat an earlier row's pseudonym",
                "Give each patient one row.",
                column="pseudonym",
            )
    birth = patients.typed.get("month_of_birth")
    for table in loaded.values():
        own = table is patients
        if own:
            index = None
        else:
            index = pc.index_in(table.typed["pseudonym"], value_set=pseudonym)
            problems.rows(
                table.path,
                table.lines,
                pc.and_(table.typed["pseudonym"].is_valid(), index.is_null()),
                "pseudonym",
                "the pseudonym is not in the patients file",
                "Export all tables from the same extract run, or remove the row.",
            )
        if birth is None:
            continue
        born = birth if own else pc.take(birth, index)
        for col in COLUMNS[table.table]:
            if col.kind == "date" and col.name in table.typed:
                problems.rows(
                    table.path,
                    table.lines,
                    pc.less(table.typed[col.name], born),
                    col.name,
                    "is before the patient's month of birth",
                    "Correct the date.",
                )
    start, end = patients.typed.get("registration_start"), patients.typed.get("registration_end")
    if start is not None and end is not None:
        problems.rows(
            patients.path,
            patients.lines,
            pc.less(end, start),
            "registration_end",
            "is before registration_start",
            "Correct the dates.",
        )


# --- sources and writing ------------------------------------------------------------------


def _sources(sources: dict[str, Path] | Path, problems: _Problems, warnings) -> dict[str, Path]:
    if isinstance(sources, dict):
        found = {}
        for table, path in sources.items():
            if table not in COLUMNS:
                raise PcnkitError(f"'{table}' is not an extract table; use {', '.join(COLUMNS)}")
            found[table] = Path(path)
    else:
        folder = Path(sources)
        if not folder.is_dir():
            raise PcnkitError(f"{folder} is not a folder of extract files")
        found = {}
        for path in sorted(folder.iterdir()):
            stem, suffix = path.stem.lower(), path.suffix.lower()
            if not path.is_file() or path.name.startswith("."):
                continue
            if stem in COLUMNS and suffix in FORMATS:
                if stem in found:
                    problems.add(
                        path,
                        f"the {stem} table is given twice ({found[stem].name} and {path.name})",
                        "Keep one file per table.",
                    )
                found[stem] = path
            else:
                warnings.append(f"{path}: not an extract table file; ignored")
    for table in REQUIRED_TABLES:
        if table not in found:
            where = sources if not isinstance(sources, dict) else "the extract"
            problems.add(
                where,
                f"has no {table} file ({table}.csv or {table}.parquet)",
                f"Add the {table} table; an extract needs {' and '.join(REQUIRED_TABLES)}.",
            )
    return found


def _check_store_dir(store_dir: Path, sources: dict[str, Path]) -> None:
    target = store_dir.resolve()
    for path in sources.values():
        if target in path.resolve().parents:
            raise PcnkitError(
                f"{path} is inside the store folder {store_dir}, which an import replaces; "
                "keep the extract files elsewhere"
            )
    if store_dir.exists():
        if not store_dir.is_dir():
            raise PcnkitError(f"{store_dir} is a file, not a population store folder")
        if any(store_dir.iterdir()) and not any((store_dir / "patients").glob("*.parquet")):
            raise PcnkitError(
                f"{store_dir} is not empty and is not a population store; choose an empty folder "
                "or an existing store to replace"
            )


def _write(loaded: _Loaded, folder: Path, as_of: dt.date) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    fields, arrays = [], []
    for col in COLUMNS[loaded.table]:
        kind = (
            pa.bool_()
            if ARROW_TYPES[col.kind] == "bool"
            else pa.type_for_alias(ARROW_TYPES[col.kind])
        )
        array = loaded.typed.get(col.name)
        arrays.append(pa.nulls(loaded.n, kind) if array is None else array.cast(kind))
        fields.append(pa.field(col.name, kind))
    fields.append(pa.field("synthetic", pa.bool_()))
    arrays.append(pa.array([False] * loaded.n, pa.bool_()))
    schema = pa.schema(
        fields,
        metadata={
            "pcnkit.as_of": as_of.isoformat(),
            "pcnkit.source": loaded.path.name,
            "pcnkit.synthetic": "false",
            "pcnkit.table": loaded.table,
        },
    )
    (folder / loaded.table).mkdir(parents=True)
    pq.write_table(
        pa.Table.from_arrays(arrays, schema=schema),
        folder / loaded.table / f"extract-{loaded.table}.parquet",
        compression="zstd",
    )


def import_extract(
    sources: dict[str, Path] | Path,
    store_dir: Path,
    *,
    as_of: dt.date,
    known_practices: set[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ExtractReport:
    """Validate an extract (a folder of ``<table>.csv``/``<table>.parquet`` files, or a dict
    table -> file) and write it as the population store `store_dir`, all or nothing.

    `as_of` is the date the extract describes (no date may be after it). With
    `known_practices`, every patient's practice must be one of them. Raises
    :class:`ExtractError` listing every problem found (up to MAX_PROBLEMS), leaving `store_dir`
    untouched; otherwise replaces `store_dir` whole. `progress(done, total)` is called after
    each table is checked and after each is written."""
    started = time.perf_counter()
    store_dir = Path(store_dir)
    problems, warnings = _Problems(), []
    paths = _sources(sources, problems, warnings)
    _check_store_dir(store_dir, paths)
    ordered = [t for t in COLUMNS if t in paths]
    total, done = 2 * len(ordered), 0
    loaded: dict[str, _Loaded] = {}
    for table in ordered:
        item = _load(table, paths[table], problems, warnings)
        if item is not None:
            for col in COLUMNS[table]:
                if col.name in item.columns:
                    _convert(item, col, as_of, known_practices, problems)
            loaded[table] = item
        done += 1
        if progress is not None:
            progress(done, total)
    if "patients" in loaded:
        _cross_checks(loaded, problems)
    if problems.items:
        raise ExtractError(problems.items, problems.more)
    store_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = store_dir.parent / f".{store_dir.name}.importing-{uuid.uuid4().hex[:8]}"
    report = ExtractReport(store_dir, as_of, warnings=warnings)
    try:
        staging.mkdir()
        for table in ordered:
            _write(loaded[table], staging, as_of)
            report.rows[table] = loaded[table].n
            report.sources[table] = str(paths[table])
            done += 1
            if progress is not None:
                progress(done, total)
        replace_folder(staging, store_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    report.seconds = time.perf_counter() - started
    return report
