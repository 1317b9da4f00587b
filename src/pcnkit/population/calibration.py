"""How closely a population's register prevalence matches the real QOF figures, per practice.

For each practice and QOF group: the real prevalence is the QOF file's REGISTER over its
PATIENT_LIST_SIZE (the group's own denominator: all ages, 17+, 18+, ...); the population's is
the distinct patients on that register over its patients in the same ages. The error is the
difference in percentage points. A synthetic population reproduces each register's count
exactly (scaled), so what remains comes from scaling and rounding, from the registry's list
differing from the QOF file's list, and from the assumed age structure's share of patients
within a group's denominator ages.

This compares a whole practice's synthetic figures with published ones; it releases nothing
below practice level and the QOF figures are themselves published, so no disclosure control is
applied beyond what QOF applies (none).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from statistics import mean

from ibis import _

from pcnkit.population.engine import PopulationStore, age_at
from pcnkit.population.qof import LIST_TYPE_AGES, read_prevalence


@dataclass(frozen=True)
class GroupError:
    practice: str
    group: str
    qof_register: int
    qof_denominator: int
    register: int
    denominator: int

    @property
    def qof_pct(self) -> float:
        return 100 * self.qof_register / self.qof_denominator if self.qof_denominator else 0.0

    @property
    def pct(self) -> float:
        return 100 * self.register / self.denominator if self.denominator else 0.0

    @property
    def error_points(self) -> float:
        return self.pct - self.qof_pct


@dataclass
class PrevalenceReport:
    rows: list[GroupError]
    source: str

    def summary(self) -> dict[str, float | int | str]:
        errors = [abs(r.error_points) for r in self.rows]
        return {
            "practices": len({r.practice for r in self.rows}),
            "practice_registers": len(self.rows),
            "mean_abs_error_points": round(mean(errors), 4) if errors else 0.0,
            "max_abs_error_points": round(max(errors), 4) if errors else 0.0,
            "within_0_1_points": sum(e <= 0.1 for e in errors),
            "source": self.source,
        }


def _qof(path: Path, practices: set[str]) -> dict[tuple[str, str], tuple[int, int, str]]:
    return {
        (r.practice, r.group): (r.register, r.list_size, r.list_type)
        for r in read_prevalence(path, practices, list_sizes=True)
    }


def prevalence_report(store: PopulationStore, qof_csv: Path) -> PrevalenceReport:
    """Per practice and group, the population's prevalence against the QOF file's."""
    patients = store.patients
    patients = patients.mutate(age=age_at(patients, store.require_as_of()))
    practices = {
        r["practice"] for r in patients.select("practice").distinct().to_pyarrow().to_pylist()
    }
    qof = _qof(qof_csv, practices)
    ages = {}
    for (_code, group), (_r, _s, list_type) in qof.items():
        ages.setdefault(group, LIST_TYPE_AGES.get(list_type, (0, None)))
    by_age = patients.group_by(["practice", "age"]).aggregate(n=_.count()).to_pyarrow().to_pylist()
    conditions = store.conditions.join(patients.select("pseudonym", "practice", "age"), "pseudonym")
    registers = (
        conditions.filter(conditions.qof_group.isin(sorted(ages)))
        .group_by(["practice", "qof_group", "age"])
        .aggregate(n=_.pseudonym.nunique())
        .to_pyarrow()
        .to_pylist()
    )

    def inside(group: str, age: int) -> bool:
        low, high = ages[group]
        return age >= low and (high is None or age <= high)

    denominators: dict[tuple[str, str], int] = {}
    for r in by_age:
        for group in ages:
            if inside(group, r["age"]):
                key = (r["practice"], group)
                denominators[key] = denominators.get(key, 0) + r["n"]
    counts: dict[tuple[str, str], int] = {}
    for r in registers:
        if inside(r["qof_group"], r["age"]):
            key = (r["practice"], r["qof_group"])
            counts[key] = counts.get(key, 0) + r["n"]
    rows = [
        GroupError(
            code, group, reg, size, counts.get((code, group), 0), denominators.get((code, group), 0)
        )
        for (code, group), (reg, size, _t) in sorted(qof.items())
    ]
    return PrevalenceReport(rows, f"NHS Digital QOF {Path(qof_csv).name}")
