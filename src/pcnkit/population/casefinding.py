"""Case-finding lists for the Network Contract DES service specifications, each row with the
criteria the person meets, and every list split by IMD quintile and ethnic group.

Each list is a definition file (``population/casefinding_lists/<id>.yaml``) that people can
read, review and export (:func:`export_definitions`, ``pcnkit population definitions``): what it
is for in plain words, the DES service specification it serves, its criteria in a small
declarative form this module evaluates (:func:`evaluate`), its embedded test patients, and who
wrote and reviewed it (``authored_by``, ``reviewed``, ``next_review``, as OpenPrescribing's
measures do). Loaded, a list is a :class:`CaseFindingList`: ``required`` criteria (all must
hold) and ``any_of`` criteria (at least one must hold, when there are any). ``criteria_met``
on each row names every criterion of the list that holds for the person, so a clinician sees
why they are there. The definitions are ours, built on the sources in population-health.md
section 4 (cited on each list); each carries embedded test patients
(:mod:`pcnkit.population.testpatients`) that the test suite checks.

Lists are direct-care outputs (population-health.md 5.2 rule 6): :func:`case_finding_list`
returns rows only for a stated practice or PCN scope (a non-empty list of practice codes).
:func:`inequalities` gives the disclosure-controlled split for any scope.

What the data cannot show is stated on each list (``limits``), e.g. bank holidays are not
known, so "7 working days" counts Monday to Friday.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ibis import _

from pcnkit import spreadsheet
from pcnkit.dates import parse_iso
from pcnkit.errors import PcnkitError
from pcnkit.population import disclosure, sources
from pcnkit.population.disclosure import safe_count, safe_total
from pcnkit.population.features import labels_that_hold
from pcnkit.population.testpatients import TestPatient
from pcnkit.yamlfile import read_yaml

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir


def working_days_before(day: dt.date, n: int) -> dt.date:
    """The date `n` working days (Monday-Friday; bank holidays not known) before `day`."""
    out = day
    while n > 0:
        out -= dt.timedelta(days=1)
        if out.weekday() < 5:
            n -= 1
    return out


# --- the definition language ---------------------------------------------------------------
# A criterion's ``when`` is data, so a definition can be listed, reviewed and exported. It is one
# of: a column name (a yes/no feature, e.g. ``care_home``); ``{not: C}``; ``{all: [C, ...]}``;
# ``{any: [C, ...]}``; or a test of one feature column: ``{field: age, at_least: 65}``,
# ``{field: age, at_most: 17}``, ``{field: efi_approx_category, one_of: [severe]}`` (no value
# is not one of them) or ``{field: care_home_since, within_working_days: 7}`` (on or after the
# day that many working days before the index date).

_TESTS = ("at_least", "at_most", "one_of", "within_working_days")
_VALUES = {
    "at_least": "a number",
    "at_most": "a number",
    "one_of": "a list of values",
    "within_working_days": "a whole number of days",
}


def _check_when(when: Any, where: str) -> None:
    """Refuse a condition the engine cannot evaluate, naming the definition file."""
    if isinstance(when, str) and when:
        return
    if isinstance(when, dict):
        if set(when) == {"not"}:
            return _check_when(when["not"], where)
        if len(when) == 1 and set(when) <= {"all", "any"}:
            parts = next(iter(when.values()))
            if isinstance(parts, list) and parts:
                for part in parts:
                    _check_when(part, where)
                return
        tests = set(when) - {"field"}
        if "field" in when and len(tests) == 1 and tests <= set(_TESTS):
            test = tests.pop()
            value = when[test]
            if test == "one_of" and isinstance(value, list) and value:
                return
            if test == "within_working_days" and type(value) is int and value >= 0:
                return
            if test in ("at_least", "at_most") and type(value) in (int, float):
                return
            raise PcnkitError(f"{where}: {test} needs {_VALUES[test]}, not '{value}' (in '{when}')")
    raise PcnkitError(
        f"{where}: '{when}' is not a condition; write a column name, {{not: ...}}, "
        f"{{all: [...]}}, {{any: [...]}} or {{field: ..., one of {', '.join(_TESTS)}: ...}}"
    )


def evaluate(when: Any, t: ir.Table, as_of: dt.date):
    """The Ibis condition for `when` on the features table `t` at the index date `as_of`."""
    if isinstance(when, str):
        return t[when]
    if "not" in when:
        return ~evaluate(when["not"], t, as_of)
    if "all" in when or "any" in when:
        parts = [evaluate(w, t, as_of) for w in when.get("all") or when["any"]]
        out = parts[0]
        for part in parts[1:]:
            out = (out & part) if "all" in when else (out | part)
        return out
    column = t[when["field"]]
    if "at_least" in when:
        return column >= when["at_least"]
    if "at_most" in when:
        return column <= when["at_most"]
    if "one_of" in when:
        return column.isin(list(when["one_of"])).fill_null(False)
    return column >= working_days_before(as_of, int(when["within_working_days"]))


def rule_text(when: Any) -> str:
    """`when` in one line for reading and exporting: 'age >= 65 and med_nsaids and not
    med_ppis'."""
    if isinstance(when, str):
        return when
    if "not" in when:
        inner = rule_text(when["not"])
        return f"not {inner}" if isinstance(when["not"], str) else f"not ({inner})"
    if "all" in when or "any" in when:
        word = " and " if "all" in when else " or "
        parts = when.get("all") or when["any"]
        return word.join(
            rule_text(w)
            if isinstance(w, str) or "field" in w or "not" in w
            else f"({rule_text(w)})"
            for w in parts
        )
    name = when["field"]
    if "at_least" in when:
        return f"{name} >= {when['at_least']}"
    if "at_most" in when:
        return f"{name} <= {when['at_most']}"
    if "one_of" in when:
        return f"{name} in ({', '.join(str(v) for v in when['one_of'])})"
    return (
        f"{name} on or after the day {when['within_working_days']} working days before the "
        "index date"
    )


@dataclass(frozen=True)
class Criterion:
    id: str
    label: str
    when: Any  # the condition as the definition file writes it (see the language above)

    def condition(self, t: ir.Table, as_of: dt.date):
        return evaluate(self.when, t, as_of)

    @property
    def rule(self) -> str:
        return rule_text(self.when)


@dataclass(frozen=True)
class Review:
    date: dt.date
    by: str


@dataclass(frozen=True)
class CaseFindingList:
    id: str
    name: str
    specification: str
    source: str
    required: tuple[Criterion, ...]
    any_of: tuple[Criterion, ...]
    detail: tuple[str, ...]  # extra columns shown on each row
    limits: str
    test_patients: tuple[TestPatient, ...]
    description: str = ""
    version: int = 1
    authored_by: str = ""
    authored: dt.date | None = None
    reviewed: Review | None = None  # None: no review is recorded yet
    next_review: dt.date | None = None

    @property
    def title(self) -> str:
        return self.name

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return (*self.required, *self.any_of)

    def selects(self, t: ir.Table, as_of: dt.date):
        import ibis

        condition = ibis.literal(True)
        for c in self.required:
            condition = condition & c.condition(t, as_of).fill_null(False)
        if self.any_of:
            some = ibis.literal(False)
            for c in self.any_of:
                some = some | c.condition(t, as_of).fill_null(False)
            condition = condition & some
        return condition

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "specification": self.specification,
            "source": self.source,
            "all_of": [c.label for c in self.required],
            "any_of": [c.label for c in self.any_of],
            "limits": self.limits,
        }


# --- reading the definition files ---------------------------------------------------------


def definitions_folder() -> Path:
    """Where the case-finding definitions live: one YAML file per list, in the package."""
    return Path(str(resources.files("pcnkit") / "population" / "casefinding_lists"))


def _date(value: Any, what: str, where: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return parse_iso(value)
    except ValueError as exc:
        raise PcnkitError(f"{where}: {what}: {exc}") from None


def _criteria(items: Any, where: str) -> tuple[Criterion, ...]:
    out = []
    for item in items or ():
        if not isinstance(item, dict) or not {"id", "label", "when"} <= set(item):
            raise PcnkitError(f"{where}: every criterion needs an id, a label and a when")
        _check_when(item["when"], f"{where}, criterion {item['id']}")
        out.append(Criterion(str(item["id"]), str(item["label"]), item["when"]))
    return tuple(out)


def _test_patient(item: dict, where: str) -> TestPatient:
    fields = dict(item)
    expect = fields.pop("expect", None)
    if expect not in ("in", "out"):
        raise PcnkitError(f"{where}: test patient {item.get('name')}: expect is 'in' or 'out'")
    for key in ("conditions", "medicines", "criteria"):
        if key in fields:
            fields[key] = tuple(fields[key])
    for key in ("hospital", "events", "bp"):
        if key in fields:
            fields[key] = tuple(tuple(x) for x in fields[key])
    return TestPatient(expect=expect == "in", **fields)


def load_file(path: Path) -> CaseFindingList:
    """One case-finding definition from its YAML file (errors name the file)."""
    where = str(path)
    doc = read_yaml(path)  # a syntax error names the file and line, as every YAML file's does
    if doc is not None and not isinstance(doc, dict):
        raise PcnkitError(f"{where}: is not a mapping of a definition's fields")
    missing = [k for k in _REQUIRED_KEYS if k not in (doc or {})]
    if missing:
        raise PcnkitError(f"{where}: missing {', '.join(missing)}")
    try:
        cited = "; ".join(getattr(sources, key) for key in doc["sources"])
    except (AttributeError, TypeError):
        raise PcnkitError(
            f"{where}: sources name entries of pcnkit.population.sources, e.g. [SMR, PINCER]"
        ) from None
    reviewed = doc.get("reviewed")
    if reviewed is not None:
        if not isinstance(reviewed, dict) or set(reviewed) != {"date", "by"}:
            raise PcnkitError(f"{where}: reviewed is {{date: YYYY-MM-DD, by: name}} or null")
        reviewed = Review(_date(reviewed["date"], "reviewed date", where), str(reviewed["by"]))
    definition = CaseFindingList(
        id=str(doc["id"]),
        name=str(doc["title"]),
        specification=str(doc["specification"]),
        source=cited,
        required=_criteria(doc["all_of"], where),
        any_of=_criteria(doc.get("any_of"), where),
        detail=tuple(doc.get("detail_columns") or ()),
        limits=str(doc["limits"]),
        test_patients=tuple(_test_patient(t, where) for t in doc.get("test_patients") or ()),
        description=str(doc["description"]),
        version=int(doc.get("version", 1)),
        authored_by=str(doc["authored_by"]),
        authored=_date(doc.get("authored"), "authored", where),
        reviewed=reviewed,
        next_review=_date(doc.get("next_review"), "next_review", where),
    )
    if definition.id != path.stem:
        raise PcnkitError(f"{where}: the id '{definition.id}' is not the file's name")
    return definition


_REQUIRED_KEYS = (
    "id",
    "title",
    "description",
    "specification",
    "sources",
    "authored_by",
    "reviewed",
    "next_review",
    "limits",
    "all_of",
)
# The order lists appear in (pages, packs, exports); every file in the folder must be named here.
LIST_ORDER = ("smr", "ehch", "proactive_care", "cvd_hypertension", "cancer_lgi_no_fit")


def load_all() -> tuple[CaseFindingList, ...]:
    found = {p.stem for p in definitions_folder().glob("*.yaml")}
    if found != set(LIST_ORDER):
        raise PcnkitError(
            f"case-finding definitions {sorted(found)} do not match the known lists "
            f"{sorted(LIST_ORDER)}"
        )
    return tuple(load_file(definitions_folder() / f"{i}.yaml") for i in LIST_ORDER)


LISTS: tuple[CaseFindingList, ...] = load_all()
LIST_BY_ID = {c.id: c for c in LISTS}
SMR, EHCH, PROACTIVE, CVD, CANCER = LISTS
# the EHCH window, for the pandas reference pipeline (benchmarks/pandas_pipeline.py)
EHCH_WORKING_DAYS: int = next(
    c.when["all"][0]["within_working_days"]
    for c in EHCH.criteria
    if c.id == "new_admission_no_assessment"
)
ROW_COLUMNS = ("pseudonym", "practice", "age", "sex", "ethnic_group", "imd_quintile")


def get(list_id: str) -> CaseFindingList:
    try:
        return LIST_BY_ID[list_id]
    except KeyError:
        raise PcnkitError(
            f"unknown case-finding list '{list_id}'; choose one of {', '.join(LIST_BY_ID)}"
        ) from None


# --- listing and exporting the definitions ------------------------------------------------

EXPORT_COLUMNS = (
    "list_id",
    "list_title",
    "version",
    "specification",
    "description",
    "sources",
    "authored_by",
    "reviewed_on",
    "reviewed_by",
    "next_review",
    "criterion_group",
    "criterion_id",
    "criterion_label",
    "criterion_rule",
)


def definition_record(definition: CaseFindingList) -> dict[str, Any]:
    """A definition as plain data (JSON-ready): what it is for, who wrote and reviewed it,
    and each criterion with its label and its rule in words."""
    d = definition

    def criteria(group: tuple[Criterion, ...]) -> list[dict[str, Any]]:
        return [{"id": c.id, "label": c.label, "rule": c.rule, "when": c.when} for c in group]

    return {
        "id": d.id,
        "title": d.title,
        "version": d.version,
        "description": d.description,
        "specification": d.specification,
        "sources": d.source,
        "limits": d.limits,
        "authored_by": d.authored_by,
        "authored": d.authored.isoformat() if d.authored else None,
        "reviewed": (
            {"date": d.reviewed.date.isoformat(), "by": d.reviewed.by} if d.reviewed else None
        ),
        "next_review": d.next_review.isoformat() if d.next_review else None,
        "all_of": criteria(d.required),
        "any_of": criteria(d.any_of),
        "detail_columns": list(d.detail),
        "test_patients": len(d.test_patients),
    }


def export_definitions(fmt: str = "csv", definitions: Iterable[CaseFindingList] = ()) -> str:
    """Every case-finding definition (or the ones given) as CSV — one row per criterion, the
    list's metadata repeated — or as JSON (one object per list)."""
    chosen = list(definitions) or list(LISTS)
    if fmt == "json":
        return json.dumps([definition_record(d) for d in chosen], indent=2) + "\n"
    if fmt != "csv":
        raise PcnkitError(f"'{fmt}' is not an export format; choose csv or json")
    # Definitions are edited YAML files: their text goes through `spreadsheet` like every other
    # CSV pcnkit writes, so a label such as "=HYPERLINK(...)" cannot run in Excel.
    rows = []
    for d in chosen:
        record = definition_record(d)
        for group in ("all_of", "any_of"):
            for c in record[group]:
                rows.append(
                    {
                        "list_id": d.id,
                        "list_title": d.title,
                        "version": d.version,
                        "specification": d.specification,
                        "description": d.description,
                        "sources": d.source,
                        "authored_by": d.authored_by,
                        "reviewed_on": record["reviewed"]["date"] if d.reviewed else "",
                        "reviewed_by": d.reviewed.by if d.reviewed else "",
                        "next_review": record["next_review"] or "",
                        "criterion_group": group,
                        "criterion_id": c["id"],
                        "criterion_label": c["label"],
                        "criterion_rule": c["rule"],
                    }
                )
    out = io.StringIO()
    spreadsheet.write_csv(out, EXPORT_COLUMNS, rows)
    return out.getvalue()


def criteria_met(definition: CaseFindingList, t: ir.Table, as_of: dt.date):
    """The labels of the list's criteria that hold, '; '-separated."""
    return labels_that_hold((c.condition(t, as_of), c.label) for c in definition.criteria)


def criteria_ids(definition: CaseFindingList, t: ir.Table, as_of: dt.date):
    """The ids of the list's criteria that hold, ','-separated (for machines and tests)."""
    return labels_that_hold(((c.condition(t, as_of), c.id) for c in definition.criteria), ",")


def all_members(definition: CaseFindingList, features: ir.Table, as_of: dt.date) -> ir.Table:
    """Everyone on the list in `features` (any scope): the row columns, ``criteria_met``,
    ``criteria_ids``, ``predicted_risk`` when present and the list's detail columns."""
    rows = features.filter(definition.selects(features, as_of))
    extra = [c for c in ("predicted_risk", *definition.detail) if c in rows.columns]
    return rows.select(
        *ROW_COLUMNS,
        criteria_met=criteria_met(definition, rows, as_of),
        criteria_ids=criteria_ids(definition, rows, as_of),
        **{c: rows[c] for c in extra},
    )


def case_finding_list(
    definition: CaseFindingList | str,
    features: ir.Table,
    as_of: dt.date,
    practices: Iterable[str],
) -> ir.Table:
    """The list for a stated scope of practices (a direct-care output: never for 'everyone').
    Ordered by practice, then predicted risk (highest first) when known, then pseudonym."""
    definition = get(definition) if isinstance(definition, str) else definition
    codes = sorted({p.strip().upper() for p in practices})
    if not codes:
        raise PcnkitError(
            "a case-finding list is a direct-care output: name the practice or PCN it is for"
        )
    scoped = features.filter(features.practice.isin(codes))
    rows = all_members(definition, scoped, as_of)
    order = ["practice"]
    if "predicted_risk" in rows.columns:
        order.append(rows.predicted_risk.desc())
    return rows.order_by([*order, "pseudonym"])


def inequalities(members: ir.Table, features: ir.Table, by: str) -> list[dict[str, object]]:
    """The list split by ``imd_quintile`` or ``ethnic_group``: for each group, people on the
    list, registered patients and the rate per 1,000, all through disclosure control (rates
    from the safe counts; suppressed when either count is redacted)."""
    if by not in ("imd_quintile", "ethnic_group"):
        raise PcnkitError("split a list by 'imd_quintile' or 'ethnic_group'")
    on = {
        r[by]: r["n"] for r in members.group_by(by).aggregate(n=_.count()).to_pyarrow().to_pylist()
    }
    reg = {
        r[by]: r["n"] for r in features.group_by(by).aggregate(n=_.count()).to_pyarrow().to_pylist()
    }
    return inequality_rows(on, reg, by)


def inequality_rows(on: dict, reg: dict, by: str) -> list[dict[str, object]]:
    """`inequalities` from raw counts by group: people on the list (`on`) and registered
    patients (`reg`)."""
    groups = sorted(set(reg) | set(on), key=lambda g: (g is None, str(g)))
    rows = []
    for g in groups:
        listed = safe_count(on.get(g, 0), f"list count for {by} {g}")
        registered = safe_count(reg.get(g, 0), f"registered count for {by} {g}")
        rows.append(
            {
                by: g,
                "on_list": listed,
                "registered": registered,
                "per_1000": disclosure.safe_rate(listed, registered, per=1000),
            }
        )
    total_on = safe_total(r["on_list"] for r in rows)
    total_reg = safe_total(r["registered"] for r in rows)
    rows.append(
        {
            by: "total",
            "on_list": total_on,
            "registered": total_reg,
            "per_1000": disclosure.safe_rate(total_on, total_reg, per=1000),
        }
    )
    return rows


def check_test_patients(as_of: dt.date) -> list[str]:
    """Run every list's embedded test patients; return the failures (none = pass)."""
    from pcnkit.population import features
    from pcnkit.population.testpatients import build_store

    failures = []
    for definition in LISTS:
        store = build_store(list(definition.test_patients), as_of)
        table = features.patient_features(store, as_of)
        rows = all_members(definition, table, as_of).to_pyarrow().to_pylist()
        got = {r["pseudonym"]: set(r["criteria_ids"].split(",")) for r in rows}
        for case in definition.test_patients:
            if (case.name in got) != case.expect:
                failures.append(
                    f"{definition.id}/{case.name}: expected {'in' if case.expect else 'out'}"
                )
            elif case.expect and not set(case.criteria) <= got[case.name]:
                missing = sorted(set(case.criteria) - got[case.name])
                failures.append(f"{definition.id}/{case.name}: criteria not met: {missing}")
    return failures
