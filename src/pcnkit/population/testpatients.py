"""Embedded test patients: small hand-made populations that every definition carries.

Each segment rule (``segments.py``) and case-finding list (its definition file,
``casefinding_lists/<id>.yaml``) ships with :class:`TestPatient` cases: a person described
in a few words ("72, NSAID without a PPI"), the rows that describe them, and whether the
definition must put them IN or leave them OUT. The test suite builds a :class:`MemoryStore`
from the cases and checks every expectation, so a change that breaks a definition fails with
the case's name. Users can run the same checks on their own installation
(``check_definition``).

Everything here is invented and contains no real person. Dates are given as days before the
index date so a case means the same at any ``as_of``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pcnkit.dates import add_months, month_start

TEST_PRACTICE = "T00001"

PATIENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("pseudonym", "string"),
    ("practice", "string"),
    ("sex", "string"),
    ("month_of_birth", "date32"),
    ("registration_start", "date32"),
    ("lsoa_imd_decile", "int8"),
    ("ethnic_group", "string"),
    ("care_home", "bool"),
    ("housebound", "bool"),
    ("care_home_since", "date32"),
)
TABLE_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "conditions": (("pseudonym", "string"), ("qof_group", "string"), ("diagnosis_date", "date32")),
    "medications": (
        ("pseudonym", "string"),
        ("medicine_group", "string"),
        ("bnf_chapter", "int8"),
        ("issue_date", "date32"),
    ),
    "observations": (
        ("pseudonym", "string"),
        ("concept", "string"),
        ("value", "float64"),
        ("date", "date32"),
    ),
    "hospital": (("pseudonym", "string"), ("kind", "string"), ("date", "date32")),
    "events": (
        ("pseudonym", "string"),
        ("concept", "string"),
        ("code", "string"),
        ("date", "date32"),
        ("value", "float64"),
    ),
}


@dataclass(frozen=True)
class TestPatient:
    """One hand-made person and the answer a definition must give for them.

    `conditions`: QOF groups (diagnosed 5 years before the index date). `medicines`: medicine
    groups issued 30 days before (a repeat). `hospital`: (kind, days before). `events`:
    (concept, days before[, value]). `bp`: (systolic, diastolic, days before). `patient`:
    overrides of the default patient (a 70-year-old white woman, IMD decile 5, at home); a
    date given as ``"days:N"`` means N days before the index date.
    `expect`: True when the person must be on the list (or in the tier named by `tier`).
    """

    __test__ = False  # not a pytest test class

    name: str
    expect: bool
    age: int = 70
    conditions: tuple[str, ...] = ()
    medicines: tuple[str, ...] = ()
    hospital: tuple[tuple[str, int], ...] = ()
    events: tuple[tuple[Any, ...], ...] = ()
    bp: tuple[tuple[float, float, int], ...] = ()
    patient: dict[str, Any] = field(default_factory=dict)
    criteria: tuple[str, ...] = ()  # criteria ids that must be among those met (when in)
    tier: str | None = None  # for segment cases: the tier expected
    rule: str | None = None  # for segment cases: the rule expected


def _birth(as_of: dt.date, age: int) -> dt.date:
    """A first-of-month birth date giving whole `age` years at `as_of` (born the month
    before as_of's month, `age` years earlier, so the birthday has passed)."""
    return add_months(month_start(as_of), -1 - 12 * age)


class MemoryStore:
    """The population store's interface over in-memory tables (Ibis memtables)."""

    def __init__(self, tables: dict[str, Any], as_of: dt.date) -> None:
        import ibis

        self.as_of = as_of
        self.synthetic = True
        self.label = "TEST PATIENTS (invented)"
        self._tables = {name: ibis.memtable(t) for name, t in tables.items()}

    @property
    def patients(self):
        return self._tables["patients"]

    @property
    def conditions(self):
        return self._tables["conditions"]

    def table(self, name: str):
        return self._tables[name]

    def table_names(self) -> list[str]:
        return sorted(self._tables)

    def require_as_of(self) -> dt.date:
        return self.as_of


def build_store(cases: list[TestPatient], as_of: dt.date) -> MemoryStore:
    """A MemoryStore holding every case (pseudonym = the case's name)."""
    import pyarrow as pa

    rows: dict[str, list[dict[str, Any]]] = {"patients": [], **{t: [] for t in TABLE_COLUMNS}}
    days = dt.timedelta
    for case in cases:
        pid = case.name
        patient = {
            "pseudonym": pid,
            "practice": TEST_PRACTICE,
            "sex": "F",
            "month_of_birth": _birth(as_of, case.age),
            "registration_start": dt.date(2000, 1, 1),
            "lsoa_imd_decile": 5,
            "ethnic_group": "white",
            "care_home": False,
            "housebound": False,
            "care_home_since": None,
        }
        for key, value in case.patient.items():
            if isinstance(value, str) and value.startswith("days:"):
                value = as_of - days(int(value.removeprefix("days:")))
            patient[key] = value
        rows["patients"].append(patient)
        for group in case.conditions:
            rows["conditions"].append(
                {"pseudonym": pid, "qof_group": group, "diagnosis_date": as_of - days(1826)}
            )
        for medicine in case.medicines:
            for before in (30, 90):
                rows["medications"].append(
                    {
                        "pseudonym": pid,
                        "medicine_group": medicine,
                        "bnf_chapter": 1,
                        "issue_date": as_of - days(before),
                    }
                )
        for kind, before in case.hospital:
            rows["hospital"].append({"pseudonym": pid, "kind": kind, "date": as_of - days(before)})
        for event in case.events:
            concept, before, *value = event
            rows["events"].append(
                {
                    "pseudonym": pid,
                    "concept": concept,
                    "code": None,
                    "date": as_of - days(before),
                    "value": float(value[0]) if value else None,
                }
            )
        for systolic, diastolic, before in case.bp:
            for concept, value in (("systolic_bp", systolic), ("diastolic_bp", diastolic)):
                rows["observations"].append(
                    {
                        "pseudonym": pid,
                        "concept": concept,
                        "value": float(value),
                        "date": as_of - days(before),
                    }
                )
    tables = {"patients": pa.Table.from_pylist(rows["patients"], _schema(PATIENT_COLUMNS))}
    for name, columns in TABLE_COLUMNS.items():
        tables[name] = pa.Table.from_pylist(rows[name], _schema(columns))
    return MemoryStore(tables, as_of)


def _schema(columns: tuple[tuple[str, str], ...]):
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "date32": pa.date32(),
        "int8": pa.int8(),
        "bool": pa.bool_(),
        "float64": pa.float64(),
    }
    return pa.schema([(name, types[kind]) for name, kind in columns])
