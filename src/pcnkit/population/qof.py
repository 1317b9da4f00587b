"""NHS Digital's QOF prevalence file (PREVALENCE_yyyy.csv): practice registers and the ages each
register counts. One reader for the generator (registers to reproduce) and the calibration
report (registers and list sizes to compare against)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pcnkit.errors import InputError

# PATIENT_LIST_TYPE -> (min age, max age inclusive or None): the ages a register's
# denominator (and so its patients) can have, as in QOF's files.
LIST_TYPE_AGES: dict[str, tuple[int, int | None]] = {
    "TOTAL": (0, None),
    "06OV": (6, None),
    "16OV": (16, None),
    "17OV": (17, None),
    "18OV": (18, None),
    "50OV": (50, None),
    "30_74": (30, 74),
}
ACTION = "Give an NHS Digital QOF PREVALENCE_yyyy.csv."


@dataclass(frozen=True)
class Register:
    practice: str
    group: str
    register: int
    list_type: str
    list_size: int | None  # PATIENT_LIST_SIZE, when asked for


def read_prevalence(
    path: Path | str, practices: Iterable[str] | None = None, list_sizes: bool = False
) -> Iterator[Register]:
    """Each practice's register per QOF group (only `practices`, when given); a file without
    the columns, or with a count that is not a number, is an InputError naming file and row."""
    path = Path(path)
    wanted = {p.strip().upper() for p in practices} if practices is not None else None
    need = {"PRACTICE_CODE", "GROUP_CODE", "REGISTER", "PATIENT_LIST_TYPE"}
    if list_sizes:
        need.add("PATIENT_LIST_SIZE")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not need <= set(reader.fieldnames or ()):
            raise InputError(
                str(path),
                f"lacks the columns {sorted(need - set(reader.fieldnames or ()))}",
                ACTION,
            )
        for row in reader:
            code = row["PRACTICE_CODE"].strip().upper()
            if wanted is not None and code not in wanted:
                continue
            column = "REGISTER"
            try:
                register = int(row["REGISTER"])
                column = "PATIENT_LIST_SIZE"
                size = int(row["PATIENT_LIST_SIZE"]) if list_sizes else None
            except ValueError as e:
                problem = f"has a {column} that is not a count"
                raise InputError(str(path), problem, ACTION, reader.line_num, column) from e
            yield Register(
                code,
                row["GROUP_CODE"].strip().upper(),
                register,
                row["PATIENT_LIST_TYPE"].strip().upper(),
                size,
            )
